/*
 * qr: a QR code of a text (the receipt page's share link) as the "d" of one
 * SVG <path>, drawn in module units: each run of dark modules of a row is
 * "M{x} {y}h{n}v1h-{n}z", offset by a quiet zone of QR_QUIET modules, so
 * the picture is viewBox="0 0 SIZE SIZE" with SIZE = width + 2 * QR_QUIET.
 * Made with libqrencode (8-bit mode, error correction level M).
 */
#ifndef OTS_QR_H
#define OTS_QR_H

struct buf;

#define QR_QUIET	4	/* modules of white border on each side */

/*
 * Append the path of text's QR code to path; *size gets the side of the
 * viewBox and *width the modules of a row.  0, or -1 (the text too long
 * for a QR code, or out of memory).  The module matrix is wiped.
 */
int	qr_svg_path(const char *text, struct buf *path, int *size, int *width);

#endif
