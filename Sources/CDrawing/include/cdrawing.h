// CDrawing: Cairo and Pango behind a flat C API, the only code that uses them. A canvas is a
// Cairo surface (ARGB32 pixels, or a PDF file) with its context; text is one line of DejaVu
// Sans laid out by Pango, measured and drawn with the same metrics. Every function that can
// fail returns 0 on success and -1 with cd_last_error() set.
#pragma once
#include <stdint.h>

typedef struct cd_canvas_s *cd_canvas;

const char *cd_last_error(void);

enum { CD_IMAGE = 0, CD_PDF = 1 };
// An image of width x height units drawn at `scale` pixels per unit (white-cleared when
// clear != 0), or a PDF of width x height points at path.
int cd_canvas_new(int kind, const char *path, double width, double height, double scale, int clear, cd_canvas *out);
// Finishes a PDF (writes the file); harmless for an image. Then frees the canvas.
int cd_canvas_close(cd_canvas c);

void cd_color(cd_canvas c, double r, double g, double b, double a);
void cd_rect(cd_canvas c, double x, double y, double w, double h, int fill, double line_width);
// A polyline of n points (xy holds 2n numbers): stroked, or filled when fill != 0.
void cd_path(cd_canvas c, const double *xy, int n, int closed, int fill, double line_width, int dashed);
void cd_circle(cd_canvas c, double x, double y, double r, int fill, double line_width);

// One line of text: its logical width, height and the baseline below its top, in units.
int cd_text_extent(const char *utf8, double size, int bold, double *width, double *height, double *baseline);
// Draws text with its (unrotated) top-left corner at (x, y), turned counter-clockwise by
// angle degrees about that corner.
int cd_text(cd_canvas c, const char *utf8, double size, int bold, double x, double y, double angle);

int cd_write_png(cd_canvas c, const char *path);
// The pixels of an image canvas: ARGB32 premultiplied, native byte order (B, G, R, A in memory).
const uint8_t *cd_pixels(cd_canvas c, int *width, int *height, int *stride);
// Paints 8-bit RGB (channels 3) or RGBA (channels 4) pixels at (0, 0), one pixel per unit.
int cd_paint_rgb(cd_canvas c, const uint8_t *data, int width, int height, int channels);
