/*
 * fuzz.h: what every fuzz target shares.  A target defines
 * LLVMFuzzerTestOneInput(data, size) and includes this header last.
 *
 * Built with clang -fsanitize=fuzzer, libFuzzer supplies main().  Built
 * with -DFUZZ_STANDALONE (any compiler, no libFuzzer), the main() below
 * runs every file named on the command line through the target, or
 * standard input when none is named; a directory stands for the files in
 * it, so "fuzz_x tests/fuzz/corpus/x" replays a kept corpus.  A crash, an
 * abort from FUZZ_ASSERT, or a sanitizer report is the failure; main()
 * returns 0 after the last input and prints how many ran.
 */
#ifndef OTS_FUZZ_H
#define OTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* An invariant of the code under test: abort (a finding) when false. */
#define FUZZ_ASSERT(c) do {						\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
		    __FILE__, __LINE__, #c);				\
		abort();						\
	}								\
} while (0)

#ifdef OTS_FORM_H
#include <string.h>

/*
 * What form.h promises of a form after any parser call, successful or
 * not: a bounded list of distinct, non-empty names, each value
 * NUL-terminated at its length and valid UTF-8 without NUL.  Requires
 * form.h and util.h before this header.
 */
static inline void
fuzz_form_check(const struct form *fm)
{
	const char *fname;
	size_t i, j, len;

	FUZZ_ASSERT(fm->n <= FORM_FIELDS_MAX);
	FUZZ_ASSERT(fm->src <= fm->n);
	for (i = 0; i < fm->n; i++) {
		len = strlen(fm->f[i].name);
		FUZZ_ASSERT(len > 0 && len <= FORM_NAME_MAX);
		FUZZ_ASSERT(util_utf8_valid(fm->f[i].name, len));
		FUZZ_ASSERT(fm->f[i].val != NULL);
		for (j = 0; j < i; j++)
			FUZZ_ASSERT(strcmp(fm->f[i].name, fm->f[j].name) != 0);
		if (fm->f[i].filename != NULL) {
			/* a file part, which form_file gives with its name */
			FUZZ_ASSERT(strlen(fm->f[i].filename) <=
			    FORM_FILENAME_MAX);
			FUZZ_ASSERT(form_file(fm, fm->f[i].name, &len, &fname)
			    == fm->f[i].val && len == fm->f[i].len &&
			    fname == fm->f[i].filename);
		}
		if (fm->f[i].binary) {
			/* borrowed bytes, which form_get does not give */
			FUZZ_ASSERT(fm->f[i].filename != NULL);
			FUZZ_ASSERT(form_get(fm, fm->f[i].name, NULL) == NULL);
			continue;
		}
		FUZZ_ASSERT(fm->f[i].val[fm->f[i].len] == '\0');
		FUZZ_ASSERT(util_utf8_valid(fm->f[i].val, fm->f[i].len));
		FUZZ_ASSERT(form_get(fm, fm->f[i].name, &len) ==
		    fm->f[i].val && len == fm->f[i].len);
	}
}
#endif /* OTS_FORM_H */

#ifdef FUZZ_STANDALONE
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#define FUZZ_INPUT_MAX	(1 << 20)	/* larger inputs are cut */

static size_t fuzz_ran;

/* Run one input read from f; 0, or -1 on a read error. */
static int
fuzz_run_stream(FILE *f, const char *name)
{
	uint8_t *data, *tmp;
	size_t len;

	if ((data = malloc(FUZZ_INPUT_MAX)) == NULL) {
		perror("malloc");
		return -1;
	}
	len = fread(data, 1, FUZZ_INPUT_MAX, f);
	if (ferror(f)) {
		fprintf(stderr, "%s: read error\n", name);
		free(data);
		return -1;
	}
	/* a buffer of exactly len bytes, so that an overread is caught */
	if ((tmp = realloc(data, len > 0 ? len : 1)) != NULL)
		data = tmp;
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	fuzz_ran++;
	return 0;
}

static int
fuzz_run_path(const char *path)
{
	struct dirent **ents;
	struct stat sb;
	char sub[4096];
	FILE *f;
	int i, n, rc = 0;

	if (stat(path, &sb) == -1) {
		perror(path);
		return -1;
	}
	if (S_ISDIR(sb.st_mode)) {
		/* sorted, so that a replay is the same every time */
		if ((n = scandir(path, &ents, NULL, alphasort)) == -1) {
			perror(path);
			return -1;
		}
		for (i = 0; i < n; i++) {
			if (ents[i]->d_name[0] != '.' && rc == 0) {
				if (snprintf(sub, sizeof(sub), "%s/%s", path,
				    ents[i]->d_name) >= (int)sizeof(sub))
					rc = -1;
				else
					rc = fuzz_run_path(sub);
			}
			free(ents[i]);
		}
		free(ents);
		return rc;
	}
	if ((f = fopen(path, "rb")) == NULL) {
		perror(path);
		return -1;
	}
	rc = fuzz_run_stream(f, path);
	fclose(f);
	return rc;
}

int
main(int argc, char *argv[])
{
	int i;

	if (argc < 2) {
		if (fuzz_run_stream(stdin, "<stdin>") == -1)
			return 2;
	} else
		for (i = 1; i < argc; i++)
			if (fuzz_run_path(argv[i]) == -1)
				return 2;
	fprintf(stderr, "%s: %zu inputs ran\n", argv[0], fuzz_ran);
	return 0;
}
#endif /* FUZZ_STANDALONE */

#endif /* OTS_FUZZ_H */
