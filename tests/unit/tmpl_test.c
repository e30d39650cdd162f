/*
 * tmpl: variables are always escaped, blocks show and hide, includes
 * work, and malformed templates fail instead of rendering half.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "tmpl.h"
#include "util.h"

#include "tap.h"

static char dir[1024];

static void
put(const char *name, const char *text)
{
	char path[1200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.html", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		bail_out("cannot write %s", path);
	fputs(text, f);
	fclose(f);
}

/* Render name with vars; returns the text (static) or NULL on failure. */
static const char *
render(struct tmpl *t, const char *name, const struct tmpl_var *v, size_t n)
{
	static struct buf b;

	buf_free(&b);
	if (tmpl_render(t, name, v, n, &b) == -1)
		return NULL;
	return b.data ? b.data : "";
}

int
main(void)
{
	static const struct tmpl_var vars[] = {
		{ "name", "<script>alert('x') & \"y\"</script>" },
		{ "set", "1" },
		{ "empty", "" },
		{ "unset", NULL },
		{ "uni", "\xe2\x98\x83 \xd7\xa9" },
	};
	struct buf b = { 0 };
	struct tmpl *t;
	char err[256];
	const char *out;

	tap_tmpdir(dir, sizeof(dir));
	put("page", "<p>{{name}}</p>");
	put("blocks", "{{#set}}A{{/set}}{{#empty}}B{{/empty}}{{#unset}}C{{/unset}}"
	    "{{^set}}D{{/set}}{{^empty}}E{{/empty}}{{^unset}}F{{/unset}}"
	    "{{#nosuch}}G{{/nosuch}}");
	put("outer", "[{{>inner}}]");
	put("inner", "{{uni}}");
	put("unclosed", "{{#set}}no end");
	put("stray", "x{{/set}}");
	put("badtag", "x {{name");
	put("loop", "{{>loop}}");
	put("missing", "{{>nosuch}}");
	put("text", "<p>{{_ Fish & chips}}</p>");
	put("nested", "{{#set}}{{^unset}}{{name}}{{/unset}}{{/set}}");

	t = tmpl_load(dir, err, sizeof(err));
	if (!ok(t != NULL, "templates load"))
		bail_out("%s", err);
	out = render(t, "page", vars, 5);
	is_str(out, "<p>&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;"
	    "&lt;/script&gt;</p>", "a value is always escaped");
	is_str(render(t, "blocks", vars, 5), "AEF",
	    "sections show for set values, inverted ones for empty and unset");
	is_str(render(t, "outer", vars, 5), "[\xe2\x98\x83 \xd7\xa9]",
	    "includes render with the same values; UTF-8 passes unchanged");
	is_str(render(t, "nested", vars, 5),
	    "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;",
	    "nested blocks");
	is_str(render(t, "text", vars, 5), "<p>Fish &amp; chips</p>",
	    "{{_ text}} is the text, escaped");
	ok(render(t, "unclosed", vars, 5) == NULL, "a block without end fails");
	ok(render(t, "stray", vars, 5) == NULL, "an end without a block fails");
	ok(render(t, "badtag", vars, 5) == NULL, "an unterminated tag fails");
	ok(render(t, "loop", vars, 5) == NULL,
	    "an include loop fails at the depth limit");
	ok(render(t, "missing", vars, 5) == NULL, "a missing include fails");
	ok(render(t, "nosuch", vars, 5) == NULL, "a missing template fails");
	is_str(render(t, "page", vars, 0), "<p></p>", "an unknown value is empty");

	tmpl_escape(&b, "a\0<", 3);
	ok(b.len == 6 && memcmp(b.data, "a\0&lt;", 6) == 0,
	    "tmpl_escape works on lengths, not NUL-terminated strings");
	buf_free(&b);
	tmpl_free(t);

	ok(tmpl_load("/nonexistent-ots-dir", err, sizeof(err)) == NULL,
	    "a missing directory is an error");
	tap_rmtree(dir);
	return done();
}
