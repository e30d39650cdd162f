#include "config.h"

#include <string.h>

#include <qrencode.h>
#include <sodium.h>

#include "qr.h"
#include "util.h"

int
qr_svg_path(const char *text, struct buf *path, int *size, int *width)
{
	QRcode *q;
	const unsigned char *row;
	int x, y, run, w, rc = 0;

	/* 8-bit mode: a URL's case and punctuation, as is */
	if ((q = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M)) == NULL)
		return -1;
	w = q->width;
	for (y = 0; y < w && rc == 0; y++) {
		row = q->data + (size_t)y * (size_t)w;
		for (x = 0; x < w && rc == 0; x += run) {
			/* bit 0 of a module: dark */
			for (run = 0; x + run < w && (row[x + run] & 1); run++)
				;
			if (run == 0) {
				run = 1;
				continue;
			}
			rc = buf_printf(path, "M%d %dh%dv1h-%dz", x + QR_QUIET,
			    y + QR_QUIET, run, run);
		}
	}
	sodium_memzero(q->data, (size_t)w * (size_t)w);
	QRcode_free(q);
	if (rc == -1)
		return -1;
	*size = w + 2 * QR_QUIET;
	*width = w;
	return 0;
}
