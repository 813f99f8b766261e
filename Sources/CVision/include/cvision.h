// CVision: the only code that includes OpenCV headers. A flat C API over opaque image handles.
// Functions returning int give 0 on success and -1 on failure (message in cv_last_error() on the
// same thread). Images are 8-bit, 1, 3 (BGR) or 4 (BGRA) channels, rows contiguous.
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cv_image_s *cv_image;

const char *cv_last_error(void);
const char *cv_version(void);

void cv_image_free(cv_image img);
int cv_image_width(cv_image img);
int cv_image_height(cv_image img);
int cv_image_channels(cv_image img);
// Pointer to row-major HWC pixel data (rows are contiguous: size height * width * channels).
uint8_t *cv_image_data(cv_image img);
// A new image of the given size and channels, zero-filled; or a copy of data when data != NULL.
int cv_image_new(int width, int height, int channels, const uint8_t *data, cv_image *out);
int cv_image_clone(cv_image img, cv_image *out);

// ---- decoding and encoding -------------------------------------------------------------------
enum { CV_DECODE_BGR = 0, CV_DECODE_UNCHANGED = 1, CV_DECODE_GRAY = 2 };
// Decodes encoded bytes (JPEG, PNG, WebP, BMP, TIFF, ...; files are read by Swift's one reader).
// BGR mode applies EXIF orientation and turns grayscale or alpha images into 3-channel BGR;
// UNCHANGED keeps alpha.
int cv_decode_bytes(const uint8_t *bytes, size_t length, int mode, cv_image *out);
// Encodes by extension (".png", ".jpg", ...) with a JPEG quality (0-100; <0 for the default).
// The caller frees *bytes with cv_free_bytes.
int cv_encode(cv_image img, const char *extension, int quality, uint8_t **bytes, size_t *length);
void cv_free_bytes(uint8_t *bytes);

// ---- geometry and colour ---------------------------------------------------------------------
// OpenCV bilinear resize (no antialiasing).
int cv_resize_bilinear(cv_image img, int width, int height, cv_image *out);
// Pillow's Image.resize(BILINEAR) on 8-bit images: a triangle filter widened by the shrink
// factor (antialiasing), fixed-point weights, horizontal pass then vertical, each rounded to
// 8 bits. What Detectron2's ResizeShortestEdge does to uint8 images.
int cv_resize_pil_bilinear(cv_image img, int width, int height, cv_image *out);
enum { CV_BGR2RGB = 0, CV_BGR2GRAY = 1, CV_GRAY2BGR = 2, CV_BGRA2BGR = 3 };
int cv_convert(cv_image img, int code, cv_image *out);
int cv_crop(cv_image img, int x, int y, int width, int height, cv_image *out);
// flip_code: 1 horizontal, 0 vertical, -1 both.
int cv_flip(cv_image img, int flip_code, cv_image *out);
// Pastes src (BGR or BGRA; alpha blends) into dst at (x, y), clipped to dst.
int cv_paste(cv_image dst, cv_image src, int x, int y);
int cv_equalize_hist(cv_image gray, cv_image *out);
// Rotates by 90 degrees counter-clockwise.
int cv_rotate_ccw(cv_image img, cv_image *out);

// ---- drawing (in place; colours are B, G, R) ---------------------------------------------------
int cv_draw_rectangle(cv_image img, int x1, int y1, int x2, int y2, int b, int g, int r, int thickness);
// A filled rectangle blended with opacity alpha in [0, 1].
int cv_fill_rectangle(cv_image img, int x1, int y1, int x2, int y2, int b, int g, int r, double alpha);
int cv_draw_line(cv_image img, int x1, int y1, int x2, int y2, int b, int g, int r, int thickness);
int cv_draw_circle(cv_image img, int x, int y, int radius, int b, int g, int r, int thickness);

// ---- video -------------------------------------------------------------------------------------
typedef struct cv_video_s *cv_video;
int cv_video_open(const char *path, cv_video *out);
void cv_video_close(cv_video v);
// What the container claims (frame count may be wrong; fps may be 0).
int cv_video_info(cv_video v, double *fps, double *claimed_frames, int *width, int *height);
// Grabs the next frame; retrieves it only when decode != 0. Returns 1 for a frame, 0 at the end
// (or the first unreadable frame), -1 on error.
int cv_video_next(cv_video v, int decode, cv_image *out);

// ---- Haar cascades ---------------------------------------------------------------------------
typedef struct cv_cascade_s *cv_cascade;
int cv_cascade_load(const char *path, cv_cascade *out);
void cv_cascade_free(cv_cascade c);
// detectMultiScale3 with reject levels: writes up to capacity boxes (x, y, w, h) and their level
// weights (scores); *count receives the total found.
int cv_cascade_detect(cv_cascade c, cv_image gray, double scale_factor, int min_neighbors, int min_w, int min_h,
                      int max_w, int max_h, int *boxes, double *scores, int capacity, int *count);

#ifdef __cplusplus
}
#endif
