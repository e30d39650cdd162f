/*
 * wipeshim.so: finds secrets left in freed heap memory (tests/integration/
 * t_wipe.py; docs: security.md, "every buffer that held plaintext, a
 * passphrase or a key wiped before free").
 *
 * Preloaded (LD_PRELOAD) into the ots processes a test starts.  It stands
 * between the program and glibc's malloc, calloc, realloc, reallocarray and
 * free, and looks at every block the moment the program lets it go:
 *
 *   OTS_WIPE_CANARIES  comma-separated byte strings (at most 1024, each of
 *                      4 to 255 bytes), read once when the library loads.
 *                      Every block handed to free or realloc is searched,
 *                      over its whole usable size (malloc_usable_size, not
 *                      just what was asked for), for each of them, whole or
 *                      any run of at least OTS_WIPE_MIN bytes of one
 *                      (default 16; all of a shorter canary): a buffer
 *                      reused for a shorter string still holds the rest of
 *                      a secret.  A block holding one is a "hit": one line
 *                      per (block, canary) goes to the report.
 *   OTS_WIPE_REPORT    the report file (opened once, O_APPEND; default:
 *                      standard error).  With it set, the library also
 *                      writes a "start" line when it loads and an "exit"
 *                      line with its counters when the process exits: a
 *                      test knows the library ran, and when a process has
 *                      freed all it will.
 *   OTS_WIPE_JOURNAL   a directory: every freed block (up to
 *                      OTS_WIPE_JOURNAL_MAX bytes, default 1 MiB; larger
 *                      ones are recorded without their bytes) is appended
 *                      to DIR/journal.PID, a header line like a hit's and
 *                      the bytes, so that a test can search it afterwards
 *                      for values it learns only from a response (a
 *                      generated password is freed by the very request
 *                      that answers it: no canary list could have named
 *                      it in time).
 *
 * Report lines, one per hit (a single write(2): lines of processes that
 * share the report do not mix):
 *
 *   wipeshim hit pid=P seq=Q op=free|realloc canary=N len=L match=M size=S
 *       off=O count=C ra=0xADDR frames=OBJ+0xADDR,...
 *
 * Q numbers the blocks a process let go (lines of one block share it), N
 * is the canary's 1-based position in OTS_WIPE_CANARIES, L its length, M
 * the longest run of it found (L: whole), S the usable size, O the offset
 * of the first run, C the number of runs.  ra is
 * __builtin_return_address(0) of the hook: the code that called free or
 * realloc.  frames is the call stack (backtrace(3), this library's own
 * frames left out), each return address as the object holding it and the
 * address in that object's own terms (load bias removed, found with
 * dl_iterate_phdr(3)): what addr2line -e OBJ wants, with no copy of
 * /proc/self/maps.  tests/integration/wipereport.py names function, file
 * and line.
 *
 * Choices:
 * - realloc counts as freeing the old contents, whether or not the block
 *   moves: whether it moves depends on the heap's layout, which the program
 *   does not control, so a secret in a block that is realloc'd is left
 *   behind by chance; only never reallocating such a buffer (allocate,
 *   copy, wipe, free) is safe.  The old block is searched before glibc
 *   sees it.
 * - Each copy is reported once, at the free or realloc that let it go: a
 *   block with a hit (and, with a journal, every block) is zeroed before it
 *   goes back to glibc, and a realloc of such a block is done here as
 *   malloc, copy, zero, free, so that stale bytes in a reused chunk are
 *   never reported again against whoever frees the chunk next.
 * - Only freed blocks are looked at, not blocks still allocated at exit.
 *   posix_memalign, aligned_alloc, memalign and valloc are not wrapped:
 *   their blocks are freed through free and looked at there.  Memory that
 *   is not from malloc (mmap, sodium_malloc) is not looked at.
 *
 * Safety: nothing in a hook allocates or opens a file.  Reports are
 * formatted by hand and written with write(2); a thread-local flag sends
 * any allocation made while a hook is busy straight to glibc, unlooked at.
 * The real functions are found with dlsym(RTLD_NEXT) (glibc 2.36 exports no
 * __libc_malloc); dlsym may itself call calloc, so what is allocated while
 * it runs comes from a small static arena, never passed to glibc's free.
 * The settings are read by a constructor (the environment is there by
 * then; nothing before it handles a secret), which also opens the files
 * and makes the first backtrace (it loads libgcc_s), before any sandbox;
 * they never change after.  Without canaries or a journal the hooks only
 * forward.  The search costs one pass over the block whatever the number of
 * canaries.  A process that forks keeps writing its parent's journal (ots
 * does not fork).  Built by `make check` with plain $(CC), like
 * fakeclock.so: a sanitizer build brings its own allocator, and valgrind
 * its own, so neither can use this one; t_wipe.py skips there.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <link.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CANARIES_MAX	1024
#define CANARY_LEN_MAX	255
#define PIECES_MAX	(CANARIES_MAX * 32)
#define FRAMES_MAX	24
#define ARENA_SIZE	(64 * 1024)
#define LINE_MAX_	4096

typedef void *(*malloc_fn)(size_t);
typedef void *(*calloc_fn)(size_t, size_t);
typedef void *(*realloc_fn)(void *, size_t);
typedef void (*free_fn)(void *);

static malloc_fn real_malloc;
static calloc_fn real_calloc;
static realloc_fn real_realloc;
static free_fn real_free;

/* 0 not resolved, 1 resolving, 2 ready */
static atomic_int state;
static __thread int busy __attribute__((tls_model("initial-exec")));

/* The bootstrap arena: what dlsym allocates while the real functions are
 * being looked up.  Bump allocation, never freed; a header keeps the size
 * for realloc. */
static _Alignas(16) unsigned char arena[ARENA_SIZE];
static atomic_size_t arena_used;

/* Settings, written once by the constructor. */
static struct {
	const unsigned char	*s;
	size_t			 len;
} canary[CANARIES_MAX];
static unsigned char canary_buf[CANARIES_MAX * (CANARY_LEN_MAX + 1)];
static int ncanary;
static size_t min_match = 16;
/* the canaries' pieces, listed by the hash of their first 4 bytes */
static struct {
	int		c;	/* the canary */
	unsigned char	o, k;	/* offset and length in it */
} piece[PIECES_MAX];
static int piece_head[65536];
static int piece_next[PIECES_MAX];
static int npiece;
/* scan()'s results, one block at a time (scan_lock) */
static size_t run_cnt[CANARIES_MAX], run_first[CANARIES_MAX];
static size_t run_best[CANARIES_MAX];
static size_t run_end[CANARIES_MAX];
static atomic_flag scan_lock = ATOMIC_FLAG_INIT;
static int report_fd = 2;
static int journal_fd = -1;
static size_t journal_max = 1 << 20;
static atomic_int armed;	/* settings read: look at freed blocks */
static const char *self;	/* this library's name, to leave its frames out */
static char exe[512];		/* the main program, unnamed in its link map */

/* Counters for the exit line. */
static atomic_ulong n_free, n_realloc, n_hits, n_journal, n_seq;
static atomic_ullong n_bytes;

static void
resolve(void)
{
	int expect = 0;

	if (atomic_compare_exchange_strong(&state, &expect, 1)) {
		busy++;
		real_malloc = (malloc_fn)dlsym(RTLD_NEXT, "malloc");
		real_calloc = (calloc_fn)dlsym(RTLD_NEXT, "calloc");
		real_realloc = (realloc_fn)dlsym(RTLD_NEXT, "realloc");
		real_free = (free_fn)dlsym(RTLD_NEXT, "free");
		busy--;
		if (real_malloc == NULL || real_calloc == NULL ||
		    real_realloc == NULL || real_free == NULL) {
			static const char m[] = "wipeshim: dlsym failed\n";
			(void)!write(2, m, sizeof(m) - 1);
			_exit(127);
		}
		atomic_store(&state, 2);
		return;
	}
	/* another thread is resolving; this one waits (a recursive call from
	 * dlsym on the resolving thread never gets here: see ready()) */
	while (atomic_load(&state) != 2)
		;
}

/* 1 when the real functions may be called, 0 while this thread resolves. */
static int
ready(void)
{
	if (atomic_load_explicit(&state, memory_order_acquire) == 2)
		return 1;
	if (atomic_load(&state) == 1 && busy)
		return 0;
	resolve();
	return 1;
}

static void *
arena_alloc(size_t n)
{
	size_t need = 16 + ((n + 15) & ~(size_t)15), off;
	unsigned char *p;

	if (n > ARENA_SIZE)
		return NULL;
	off = atomic_fetch_add(&arena_used, need);
	if (off + need > ARENA_SIZE)
		return NULL;
	p = arena + off;
	memcpy(p, &n, sizeof(n));
	return p + 16;
}

static int
in_arena(const void *p)
{
	return (const unsigned char *)p >= arena &&
	    (const unsigned char *)p < arena + ARENA_SIZE;
}

static size_t
arena_size(const void *p)
{
	size_t n;

	memcpy(&n, (const unsigned char *)p - 16, sizeof(n));
	return n;
}

/* -- formatting without malloc */

struct line {
	char	b[LINE_MAX_];
	size_t	n;
};

static void
put(struct line *l, const char *s)
{
	size_t k = strlen(s);

	if (k > sizeof(l->b) - 1 - l->n)
		k = sizeof(l->b) - 1 - l->n;
	memcpy(l->b + l->n, s, k);
	l->n += k;
}

static void
putn(struct line *l, const void *s, size_t k)
{
	if (k > sizeof(l->b) - 1 - l->n)
		k = sizeof(l->b) - 1 - l->n;
	memcpy(l->b + l->n, s, k);
	l->n += k;
}

static void
putu(struct line *l, unsigned long long v)
{
	char d[24];
	int i = sizeof(d);

	do
		d[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	putn(l, d + i, sizeof(d) - (size_t)i);
}

static void
putx(struct line *l, unsigned long long v)
{
	char d[20];
	int i = sizeof(d);

	do
		d[--i] = "0123456789abcdef"[v & 15];
	while ((v >>= 4) != 0);
	put(l, "0x");
	putn(l, d + i, sizeof(d) - (size_t)i);
}

static void
writeall(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, c, n)) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		c += w;
		n -= (size_t)w;
	}
}

/* The common head of a hit line and a journal record. */
static void
head(struct line *l, const char *what, const char *op, unsigned long seq)
{
	put(l, "wipeshim ");
	put(l, what);
	put(l, " pid=");
	putu(l, (unsigned long long)getpid());
	put(l, " seq=");
	putu(l, seq);
	put(l, " op=");
	put(l, op);
}

/* The objects holding a stack's return addresses (dl_iterate_phdr). */
struct where {
	void		*fr[FRAMES_MAX];
	const char	*obj[FRAMES_MAX];
	uintptr_t	 bias[FRAMES_MAX];
	int		 n;
};

static int
locate(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct where *w = arg;
	uintptr_t a, lo;
	int i, k;

	(void)size;
	for (i = 0; i < w->n; i++) {
		if (w->obj[i] != NULL)
			continue;
		a = (uintptr_t)w->fr[i];
		for (k = 0; k < info->dlpi_phnum; k++) {
			if (info->dlpi_phdr[k].p_type != PT_LOAD)
				continue;
			lo = info->dlpi_addr + info->dlpi_phdr[k].p_vaddr;
			if (a >= lo && a - lo < info->dlpi_phdr[k].p_memsz) {
				w->obj[i] = info->dlpi_name[0] == '/' ?
				    info->dlpi_name : info->dlpi_name[0] ?
				    info->dlpi_name : exe;
				w->bias[i] = info->dlpi_addr;
				break;
			}
		}
	}
	return 0;
}

/* " ra=... frames=...": who let the block go. */
static void
stack(struct line *l, void *ra)
{
	struct where w;
	int i, first = 1;

	put(l, " ra=");
	putx(l, (uintptr_t)ra);
	put(l, " frames=");
	w.n = backtrace(w.fr, FRAMES_MAX);
	for (i = 0; i < w.n; i++)
		w.obj[i] = NULL;
	dl_iterate_phdr(locate, &w);
	for (i = 0; i < w.n; i++) {
		if (w.obj[i] != NULL && self != NULL &&
		    strcmp(w.obj[i], self) == 0)
			continue;	/* this library */
		if (!first)
			put(l, ",");
		first = 0;
		if (w.obj[i] == NULL) {
			put(l, "?+");
			putx(l, (uintptr_t)w.fr[i]);
			continue;
		}
		put(l, w.obj[i]);
		put(l, "+");
		putx(l, (uintptr_t)w.fr[i] - w.bias[i]);
	}
}

/* The hash bucket of the 4 bytes at p. */
static unsigned
bucket(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return (v * 2654435761u) >> 16;
}

/*
 * Find every canary in p[0..n), whole or in part, in one pass.  A part
 * counts when it is at least min_match bytes long (a whole canary when it
 * is shorter): a buffer reused for a shorter string still holds the rest of
 * a secret.  Any such run contains one of the canary's pieces (min_match/2
 * bytes at multiples of min_match/2), found through the hash of their
 * first 4 bytes, and is then grown both ways along the canary.
 * run_cnt[c], run_first[c] and run_best[c] get the number of runs of
 * canary c, the offset of the first and the longest length (static: the
 * caller holds scan_lock).
 */
static void
scan(const unsigned char *p, size_t n)
{
	size_t *end = run_end, i, l, r, o, k, len, m;
	const unsigned char *cs;
	int c, j;

	for (c = 0; c < ncanary; c++)
		run_cnt[c] = run_best[c] = end[c] = 0;
	for (i = 0; i + 4 <= n; i++)
		for (j = piece_head[bucket(p + i)]; j >= 0; j = piece_next[j]) {
			c = piece[j].c;
			o = piece[j].o;
			k = piece[j].k;
			cs = canary[c].s;
			len = canary[c].len;
			if (i < end[c] || k > n - i || memcmp(p + i, cs + o, k))
				continue;
			for (l = 0; l < o && l < i && p[i - l - 1] ==
			    cs[o - l - 1]; l++)
				;
			for (r = 0; o + k + r < len && i + k + r < n &&
			    p[i + k + r] == cs[o + k + r]; r++)
				;
			m = l + k + r;
			if (m < (len < min_match ? len : min_match))
				continue;
			if (run_cnt[c]++ == 0)
				run_first[c] = i - l;
			if (m > run_best[c])
				run_best[c] = m;
			end[c] = i + k + r;
		}
}

/*
 * Look at block p as it is let go (op "free" or "realloc"; ra the caller):
 * report each canary it holds, journal it.  Returns 1 when it must be
 * zeroed before glibc gets it back.  Runs with busy set; one block at a
 * time in the process (scan_lock).
 */
static int
inspect(unsigned char *p, const char *op, void *ra)
{
	size_t size = malloc_usable_size(p), data;
	unsigned long seq = atomic_fetch_add(&n_seq, 1);
	static struct line l, st;	/* under scan_lock */
	int c, hit = 0;

	atomic_fetch_add(&n_bytes, size);
	while (atomic_flag_test_and_set(&scan_lock))
		;
	scan(p, size);
	st.n = 0;
	for (c = 0; c < ncanary; c++) {
		if (run_cnt[c] == 0)
			continue;
		if (!hit)
			stack(&st, ra);
		hit = 1;
		atomic_fetch_add(&n_hits, 1);
		l.n = 0;
		head(&l, "hit", op, seq);
		put(&l, " canary=");
		putu(&l, (unsigned long long)c + 1);
		put(&l, " len=");
		putu(&l, canary[c].len);
		put(&l, " match=");
		putu(&l, run_best[c]);
		put(&l, " size=");
		putu(&l, size);
		put(&l, " off=");
		putu(&l, run_first[c]);
		put(&l, " count=");
		putu(&l, run_cnt[c]);
		putn(&l, st.b, st.n);
		l.b[l.n++] = '\n';
		writeall(report_fd, l.b, l.n);
	}
	if (journal_fd != -1) {
		if (!hit)
			stack(&st, ra);
		data = size <= journal_max ? size : 0;
		l.n = 0;
		head(&l, "block", op, seq);
		put(&l, " size=");
		putu(&l, size);
		put(&l, " data=");
		putu(&l, data);
		putn(&l, st.b, st.n);
		l.b[l.n++] = '\n';
		writeall(journal_fd, l.b, l.n);
		writeall(journal_fd, p, data);
		writeall(journal_fd, "\n", 1);
		atomic_fetch_add(&n_journal, 1);
		hit = 1;
	}
	atomic_flag_clear(&scan_lock);
	return hit;
}

/* -- the hooks */

void *
malloc(size_t n)
{
	if (!ready())
		return arena_alloc(n);
	return real_malloc(n);
}

void *
calloc(size_t n, size_t m)
{
	if (!ready()) {
		if (m != 0 && n > SIZE_MAX / m)
			return NULL;
		return arena_alloc(n * m);	/* the arena starts zeroed */
	}
	return real_calloc(n, m);
}

static void
release(void *p, void *ra)
{
	if (p == NULL || in_arena(p))
		return;
	if (!ready())
		return;	/* freed by dlsym while resolving: kept */
	if (atomic_load_explicit(&armed, memory_order_acquire) && !busy) {
		busy++;
		atomic_fetch_add(&n_free, 1);
		if (inspect(p, "free", ra))
			memset(p, 0, malloc_usable_size(p));
		busy--;
	}
	real_free(p);
}

void
free(void *p)
{
	release(p, __builtin_return_address(0));
}

static void *
resize(void *p, size_t n, void *ra)
{
	size_t old;
	void *q;

	if (p == NULL)
		return malloc(n);
	if (in_arena(p)) {
		if ((q = malloc(n)) != NULL) {
			old = arena_size(p);
			memcpy(q, p, old < n ? old : n);
		}
		return q;
	}
	if (!ready())
		return NULL;	/* cannot happen: dlsym does not realloc */
	if (n == 0) {	/* glibc frees and answers NULL */
		release(p, ra);
		return NULL;
	}
	if (!atomic_load_explicit(&armed, memory_order_acquire) || busy)
		return real_realloc(p, n);
	busy++;
	atomic_fetch_add(&n_realloc, 1);
	if (!inspect(p, "realloc", ra)) {
		busy--;
		return real_realloc(p, n);
	}
	/* a move of our own, so that the old copy is zeroed */
	old = malloc_usable_size(p);
	if ((q = real_malloc(n)) != NULL) {
		memcpy(q, p, old < n ? old : n);
		memset(p, 0, old);
		real_free(p);
	}
	busy--;
	return q;
}

void *
realloc(void *p, size_t n)
{
	return resize(p, n, __builtin_return_address(0));
}

void *
reallocarray(void *p, size_t n, size_t m)
{
	if (m != 0 && n > SIZE_MAX / m) {
		errno = ENOMEM;
		return NULL;
	}
	return resize(p, n * m, __builtin_return_address(0));
}

/* -- set-up and the exit line */

static void
add_piece(int c, size_t o, size_t k)
{
	unsigned b;

	if (npiece == PIECES_MAX)
		return;
	piece[npiece].c = c;
	piece[npiece].o = (unsigned char)o;
	piece[npiece].k = (unsigned char)k;
	b = bucket(canary[c].s + o);
	piece_next[npiece] = piece_head[b];
	piece_head[b] = npiece;
	npiece++;
}

static void
add_canary(const char *s, size_t len, size_t *used)
{
	size_t k, o;
	int c = ncanary;

	if (len < 4 || len > CANARY_LEN_MAX || ncanary == CANARIES_MAX)
		return;
	memcpy(canary_buf + *used, s, len);
	canary[c].s = canary_buf + *used;
	canary[c].len = len;
	ncanary++;
	*used += len + 1;
	if (len < min_match) {
		add_piece(c, 0, len);
		return;
	}
	for (k = min_match / 2, o = 0; o + k <= len; o += k)
		add_piece(c, o, k);
}

static int
open_journal(const char *dir)
{
	char path[1024];
	struct line l;
	size_t dl = strlen(dir);

	if (dl > sizeof(path) - 64)
		return -1;
	l.n = 0;
	put(&l, "/journal.");
	putu(&l, (unsigned long long)getpid());
	memcpy(path, dir, dl);
	memcpy(path + dl, l.b, l.n);
	path[dl + l.n] = '\0';
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
}

static void
say(const char *what, int counters)
{
	struct line l;

	l.n = 0;
	put(&l, "wipeshim ");
	put(&l, what);
	put(&l, " pid=");
	putu(&l, (unsigned long long)getpid());
	put(&l, " canaries=");
	putu(&l, (unsigned long long)ncanary);
	put(&l, " journal=");
	putu(&l, journal_fd != -1);
	if (counters) {
		put(&l, " frees=");
		putu(&l, atomic_load(&n_free));
		put(&l, " reallocs=");
		putu(&l, atomic_load(&n_realloc));
		put(&l, " bytes=");
		putu(&l, atomic_load(&n_bytes));
		put(&l, " hits=");
		putu(&l, atomic_load(&n_hits));
		put(&l, " journaled=");
		putu(&l, atomic_load(&n_journal));
	}
	put(&l, " exe=");
	put(&l, exe);
	l.b[l.n++] = '\n';
	writeall(report_fd, l.b, l.n);
}

__attribute__((constructor)) static void
wipeshim_init(void)
{
	const char *v, *p, *e;
	size_t used = 0;
	long long max;
	Dl_info me;
	ssize_t n;
	void *fr[2];

	(void)ready();
	busy++;
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) < 0)
		n = 0;
	exe[n] = '\0';
	if (dladdr((void *)wipeshim_init, &me) != 0)
		self = me.dli_fname;
	/* the first backtrace loads libgcc_s: done here, not in a hook */
	(void)backtrace(fr, 2);
	memset(piece_head, 0xff, sizeof(piece_head));
	if ((v = getenv("OTS_WIPE_MIN")) != NULL && *v >= '0' && *v <= '9') {
		for (max = 0; *v >= '0' && *v <= '9' && max < 1000; v++)
			max = max * 10 + (*v - '0');
		min_match = max < 8 ? 8 : max > CANARY_LEN_MAX ? CANARY_LEN_MAX :
		    (size_t)max;
	}
	if ((v = getenv("OTS_WIPE_CANARIES")) != NULL)
		for (p = v; *p != '\0'; p = *e ? e + 1 : e) {
			if ((e = strchr(p, ',')) == NULL)
				e = p + strlen(p);
			add_canary(p, (size_t)(e - p), &used);
		}
	if ((v = getenv("OTS_WIPE_JOURNAL_MAX")) != NULL) {
		for (max = 0; *v >= '0' && *v <= '9' && max < (1LL << 40); v++)
			max = max * 10 + (*v - '0');
		journal_max = (size_t)max;
	}
	if ((v = getenv("OTS_WIPE_JOURNAL")) != NULL && *v != '\0')
		journal_fd = open_journal(v);
	if ((v = getenv("OTS_WIPE_REPORT")) != NULL && *v != '\0') {
		report_fd = open(v, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		    0600);
		if (report_fd == -1)
			report_fd = 2;
		else
			say("start", 0);
	}
	busy--;
	atomic_store_explicit(&armed, ncanary > 0 || journal_fd != -1,
	    memory_order_release);
}

__attribute__((destructor)) static void
wipeshim_fini(void)
{
	if (report_fd != 2)
		say("exit", 1);
}
