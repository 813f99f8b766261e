#include "cdrawing.h"
#include <cairo/cairo.h>
#include <cairo/cairo-pdf.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

static _Thread_local char last_error[512];
const char *cd_last_error(void) { return last_error; }
static int fail(const char *what, const char *detail) {
    snprintf(last_error, sizeof last_error, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
    return -1;
}

struct cd_canvas_s {
    cairo_surface_t *surface;
    cairo_t *cr;
    PangoContext *pango;
    int kind;
};

static const char *family = "DejaVu Sans";

// Metrics without hinting, so a measured line is exactly as wide as the drawn one at any scale.
static void setup_context(PangoContext *ctx) {
    cairo_font_options_t *o = cairo_font_options_create();
    cairo_font_options_set_hint_metrics(o, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_hint_style(o, CAIRO_HINT_STYLE_NONE);
    cairo_font_options_set_antialias(o, CAIRO_ANTIALIAS_GRAY);
    pango_cairo_context_set_font_options(ctx, o);
    cairo_font_options_destroy(o);
    pango_cairo_context_set_resolution(ctx, 72.0);  // sizes are in units (pixels at scale 1)
}

static PangoLayout *layout_for(PangoContext *ctx, const char *utf8, double size, int bold) {
    PangoLayout *layout = pango_layout_new(ctx);
    PangoFontDescription *d = pango_font_description_new();
    pango_font_description_set_family(d, family);
    pango_font_description_set_absolute_size(d, size * PANGO_SCALE);
    pango_font_description_set_weight(d, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    pango_layout_set_font_description(layout, d);
    pango_font_description_free(d);
    pango_layout_set_single_paragraph_mode(layout, TRUE);
    pango_layout_set_text(layout, utf8, -1);
    return layout;
}

int cd_canvas_new(int kind, const char *path, double width, double height, double scale, int clear, cd_canvas *out) {
    if (!(width > 0 && height > 0 && width <= 32768 && height <= 32768 && scale > 0 && scale <= 16))
        return fail("invalid canvas size", NULL);
    cairo_surface_t *s;
    if (kind == CD_PDF) {
        s = cairo_pdf_surface_create(path, width, height);
    } else {
        int w = (int)ceil(width * scale), h = (int)ceil(height * scale);
        if ((double)w * (double)h > 268435456.0) return fail("canvas too large", NULL);
        s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
    }
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        int r = fail("cannot create the drawing surface", cairo_status_to_string(cairo_surface_status(s)));
        cairo_surface_destroy(s);
        return r;
    }
    struct cd_canvas_s *c = calloc(1, sizeof *c);
    if (!c) { cairo_surface_destroy(s); return fail("out of memory", NULL); }
    c->surface = s;
    c->kind = kind;
    c->cr = cairo_create(s);
    if (kind != CD_PDF) cairo_scale(c->cr, scale, scale);
    c->pango = pango_cairo_create_context(c->cr);
    setup_context(c->pango);
    if (clear) {
        cairo_set_source_rgb(c->cr, 1, 1, 1);
        cairo_paint(c->cr);
    }
    cairo_set_line_join(c->cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(c->cr, CAIRO_LINE_CAP_BUTT);
    *out = c;
    return 0;
}

int cd_canvas_close(cd_canvas c) {
    if (!c) return 0;
    cairo_status_t st = cairo_status(c->cr);
    g_object_unref(c->pango);
    cairo_destroy(c->cr);
    cairo_surface_finish(c->surface);
    cairo_status_t sst = cairo_surface_status(c->surface);
    cairo_surface_destroy(c->surface);
    free(c);
    if (st != CAIRO_STATUS_SUCCESS) return fail("drawing failed", cairo_status_to_string(st));
    if (sst != CAIRO_STATUS_SUCCESS) return fail("cannot write the drawing", cairo_status_to_string(sst));
    return 0;
}

void cd_color(cd_canvas c, double r, double g, double b, double a) { cairo_set_source_rgba(c->cr, r, g, b, a); }

void cd_rect(cd_canvas c, double x, double y, double w, double h, int fill, double line_width) {
    cairo_rectangle(c->cr, x, y, w, h);
    if (fill) cairo_fill(c->cr);
    else { cairo_set_line_width(c->cr, line_width); cairo_stroke(c->cr); }
}

void cd_path(cd_canvas c, const double *xy, int n, int closed, int fill, double line_width, int dashed) {
    if (n < 1) return;
    cairo_new_path(c->cr);
    cairo_move_to(c->cr, xy[0], xy[1]);
    for (int i = 1; i < n; i++) cairo_line_to(c->cr, xy[2 * i], xy[2 * i + 1]);
    if (closed) cairo_close_path(c->cr);
    if (fill) { cairo_fill(c->cr); return; }
    double dash[2] = {4 * line_width, 3 * line_width};
    cairo_set_dash(c->cr, dash, dashed ? 2 : 0, 0);
    cairo_set_line_width(c->cr, line_width);
    cairo_stroke(c->cr);
    cairo_set_dash(c->cr, dash, 0, 0);
}

void cd_circle(cd_canvas c, double x, double y, double r, int fill, double line_width) {
    cairo_new_path(c->cr);
    cairo_arc(c->cr, x, y, r, 0, 2 * M_PI);
    if (fill) cairo_fill(c->cr);
    else { cairo_set_line_width(c->cr, line_width); cairo_stroke(c->cr); }
}

static PangoContext *measuring = NULL;

int cd_text_extent(const char *utf8, double size, int bold, double *width, double *height, double *baseline) {
    if (!(size > 0 && size <= 1000)) return fail("invalid text size", NULL);
    if (!measuring) {
        cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 1, 1);
        cairo_t *cr = cairo_create(s);
        measuring = pango_cairo_create_context(cr);
        setup_context(measuring);
        cairo_destroy(cr);
        cairo_surface_destroy(s);
    }
    PangoLayout *layout = layout_for(measuring, utf8, size, bold);
    PangoRectangle logical;
    pango_layout_get_extents(layout, NULL, &logical);
    *width = (double)logical.width / PANGO_SCALE;
    *height = (double)logical.height / PANGO_SCALE;
    *baseline = (double)pango_layout_get_baseline(layout) / PANGO_SCALE;
    g_object_unref(layout);
    return 0;
}

int cd_text(cd_canvas c, const char *utf8, double size, int bold, double x, double y, double angle) {
    if (!(size > 0 && size <= 1000)) return fail("invalid text size", NULL);
    PangoLayout *layout = layout_for(c->pango, utf8, size, bold);
    cairo_save(c->cr);
    cairo_translate(c->cr, x, y);
    cairo_rotate(c->cr, -angle * M_PI / 180.0);
    cairo_move_to(c->cr, 0, 0);
    pango_cairo_show_layout(c->cr, layout);
    cairo_restore(c->cr);
    g_object_unref(layout);
    return 0;
}

int cd_write_png(cd_canvas c, const char *path) {
    if (c->kind != CD_IMAGE) return fail("only an image canvas is written as PNG", NULL);
    cairo_surface_flush(c->surface);
    cairo_status_t st = cairo_surface_write_to_png(c->surface, path);
    if (st != CAIRO_STATUS_SUCCESS) return fail(path, cairo_status_to_string(st));
    return 0;
}

const uint8_t *cd_pixels(cd_canvas c, int *width, int *height, int *stride) {
    if (c->kind != CD_IMAGE) return NULL;
    cairo_surface_flush(c->surface);
    *width = cairo_image_surface_get_width(c->surface);
    *height = cairo_image_surface_get_height(c->surface);
    *stride = cairo_image_surface_get_stride(c->surface);
    return cairo_image_surface_get_data(c->surface);
}

int cd_paint_rgb(cd_canvas c, const uint8_t *data, int width, int height, int channels) {
    if (width <= 0 || height <= 0 || (channels != 3 && channels != 4)) return fail("invalid pixels", NULL);
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
    if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) { cairo_surface_destroy(img); return fail("out of memory", NULL); }
    cairo_surface_flush(img);
    uint8_t *dst = cairo_image_surface_get_data(img);
    int stride = cairo_image_surface_get_stride(img);
    for (int yy = 0; yy < height; yy++) {
        const uint8_t *s = data + (size_t)yy * width * channels;
        uint32_t *d = (uint32_t *)(dst + (size_t)yy * stride);
        for (int xx = 0; xx < width; xx++, s += channels) {
            uint32_t a = channels == 4 ? s[3] : 255;
            uint32_t r = s[0] * a / 255, g = s[1] * a / 255, b = s[2] * a / 255;
            d[xx] = (a << 24) | (r << 16) | (g << 8) | b;
        }
    }
    cairo_surface_mark_dirty(img);
    cairo_save(c->cr);
    cairo_set_source_surface(c->cr, img, 0, 0);
    cairo_paint(c->cr);
    cairo_restore(c->cr);
    cairo_surface_destroy(img);
    return 0;
}
