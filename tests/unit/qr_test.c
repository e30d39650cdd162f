/*
 * qr: the SVG path of a QR code draws exactly libqrencode's dark modules,
 * inside the quiet zone, and the viewBox fits the module count.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>

#include "qr.h"
#include "util.h"

#include "tap.h"

/*
 * Draw path onto a size x size grid (1: dark); the count of rectangles
 * into *rects.  -1 when the path is not made of "MX Yh N v1h-N z" runs
 * inside the grid, or a module is drawn twice.
 */
static int
draw(const char *p, unsigned char *grid, int size, int *rects)
{
	int x, y, n, n2, used, i;

	*rects = 0;
	while (*p != '\0') {
		if (sscanf(p, "M%d %dh%dv1h-%dz%n", &x, &y, &n, &n2, &used) != 4
		    || n != n2 || n < 1 || x < 0 || y < 0 || x + n > size ||
		    y >= size)
			return -1;
		for (i = 0; i < n; i++) {
			if (grid[y * size + x + i])
				return -1;
			grid[y * size + x + i] = 1;
		}
		(*rects)++;
		p += used;
	}
	return 0;
}

/* The path of text against libqrencode's own matrix. */
static void
same_modules(const char *text, const char *what, int want_width)
{
	struct buf path = { 0 };
	unsigned char *grid;
	QRcode *q;
	int size = 0, width = 0, rects, x, y, bad = 0, dark = 0, border = 0;

	ok(qr_svg_path(text, &path, &size, &width) == 0 && path.len > 0,
	    "%s: a path", what);
	if (want_width > 0)
		is_int(width, want_width, "%s: %d modules a row", what,
		    want_width);
	is_int(size, width + 2 * QR_QUIET, "%s: viewBox side = width + "
	    "2 quiet zones", what);
	q = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
	ok(q != NULL && q->width == width, "%s: libqrencode's width too (%d)",
	    what, q ? q->width : -1);
	if (q == NULL || size <= 0 || path.data == NULL) {
		buf_free(&path);
		return;
	}
	grid = calloc((size_t)size * size, 1);
	ok(draw(path.data, grid, size, &rects) == 0,
	    "%s: only whole runs inside the viewBox, none drawn twice", what);
	for (y = 0; y < size; y++)
		for (x = 0; x < size; x++) {
			int in = x >= QR_QUIET && y >= QR_QUIET &&
			    x < QR_QUIET + q->width && y < QR_QUIET + q->width;
			int want = in && (q->data[(y - QR_QUIET) * q->width +
			    x - QR_QUIET] & 1);

			if (!in && grid[y * size + x])
				border++;
			if (grid[y * size + x] != want)
				bad++;
			dark += grid[y * size + x];
		}
	is_int(border, 0, "%s: the quiet zone stays white", what);
	is_int(bad, 0, "%s: every module as libqrencode made it (%d dark "
	    "in %d runs)", what, dark, rects);
	QRcode_free(q);
	free(grid);
	buf_free(&path);
}

int
main(void)
{
	struct buf a = { 0 }, b = { 0 }, big = { 0 };
	char *huge;
	int size, width;

	/* "A" fits version 1: 21 modules, and the finder pattern's top row
	 * (7 dark modules) is the first run at the quiet zone's corner */
	ok(qr_svg_path("A", &a, &size, &width) == 0, "\"A\": encoded");
	is_int(width, 21, "\"A\": version 1, 21 modules");
	is_int(size, 29, "\"A\": viewBox 29");
	ok(a.data != NULL && strncmp(a.data, "M4 4h7v1h-7z", 12) == 0,
	    "\"A\": starts with the finder's top row at (4,4): %.20s",
	    a.data ? a.data : "(none)");
	same_modules("A", "\"A\"", 21);
	same_modules("http://127.0.0.1:8080/secret/"
	    "0123456789abcdefghijklmnopqrstu", "a share link", 0);
	same_modules("https://secrets.example.com/ots/secret/"
	    "vutsrqponmlkjihgfedcba9876543210", "a share link below a prefix",
	    0);

	/* two links: two pictures */
	buf_free(&a);
	qr_svg_path("http://127.0.0.1:8080/secret/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    &a, &size, &width);
	qr_svg_path("http://127.0.0.1:8080/secret/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
	    &b, &size, &width);
	ok(a.data != NULL && b.data != NULL && strcmp(a.data, b.data) != 0,
	    "one character apart: different paths");

	/* longer than any QR code holds: refused, nothing appended */
	huge = malloc(8001);
	memset(huge, 'x', 8000);
	huge[8000] = '\0';
	ok(qr_svg_path(huge, &big, &size, &width) == -1 && big.len == 0,
	    "8000 bytes: too long for a QR code, refused");
	free(huge);
	buf_free(&a);
	buf_free(&b);
	buf_free(&big);
	return done();
}
