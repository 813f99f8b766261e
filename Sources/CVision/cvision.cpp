// The flat C API over OpenCV, plus Pillow's bilinear resampling (written from its published
// algorithm) so that resized images match Detectron2's preprocessing bit for bit.
#include "cvision.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>
#include <opencv2/videoio.hpp>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

struct cv_image_s {
    cv::Mat mat;
};
struct cv_video_s {
    cv::VideoCapture capture;
};
struct cv_cascade_s {
    cv::CascadeClassifier classifier;
};

namespace {
thread_local std::string last_error;

template <typename F>
int guarded(F &&body) {
    try {
        body();
        return 0;
    } catch (const cv::Exception &e) {
        last_error = e.err.empty() ? e.what() : e.err;
    } catch (const std::exception &e) {
        last_error = e.what();
    } catch (...) {
        last_error = "unknown C++ exception";
    }
    return -1;
}

void fail(const std::string &message) { throw std::runtime_error(message); }

cv::Mat &M(cv_image img) {
    if (img == nullptr) fail("image handle is NULL (the image was released)");
    return img->mat;
}

cv_image wrap(cv::Mat m) {
    if (!m.isContinuous()) m = m.clone();
    return new cv_image_s{std::move(m)};
}

int flags_for(int mode) {
    switch (mode) {
    case CV_DECODE_BGR: return cv::IMREAD_COLOR;  // applies EXIF orientation, drops alpha, gray -> BGR
    case CV_DECODE_UNCHANGED: return cv::IMREAD_UNCHANGED;
    case CV_DECODE_GRAY: return cv::IMREAD_GRAYSCALE;
    default: fail("unknown decode mode " + std::to_string(mode));
    }
    return 0;
}

// Decodes encoded bytes (read in place, not copied).
// Errors say what is wrong; the caller names the file.
cv::Mat decode(const uint8_t *bytes, size_t length, int mode) {
    if (length == 0) fail("empty (0 bytes)");
    if (length > static_cast<size_t>(INT_MAX)) fail("larger than 2 GB, not an image OpenCV can decode");
    cv::Mat m = cv::imdecode(cv::Mat(1, static_cast<int>(length), CV_8U, const_cast<uint8_t *>(bytes)), flags_for(mode));
    if (m.empty()) fail("not a decodable image (unsupported format, truncated or corrupt)");
    if (m.depth() != CV_8U) {
        // 16-bit PNG/TIFF: scale to 8 bits.
        cv::Mat m8;
        m.convertTo(m8, CV_8U, m.depth() == CV_16U ? 1.0 / 257.0 : 1.0);
        m = m8;
    }
    return m;
}

// ---- Pillow's bilinear resampling ------------------------------------------------------------
constexpr int PRECISION_BITS = 32 - 8 - 2;

double triangle(double x) {
    if (x < 0.0) x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

// Coefficients for resampling in_size pixels to out_size: per output pixel, the first input
// pixel, the count, and ksize fixed-point weights.
int precompute(int in_size, int out_size, std::vector<int> &bounds, std::vector<int32_t> &weights) {
    double scale = static_cast<double>(in_size) / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = 1.0 * filterscale;
    int ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
    bounds.assign(static_cast<size_t>(out_size) * 2, 0);
    weights.assign(static_cast<size_t>(out_size) * ksize, 0);
    std::vector<double> k(static_cast<size_t>(ksize));
    for (int xx = 0; xx < out_size; xx++) {
        double center = (xx + 0.5) * scale;
        double ss = 1.0 / filterscale;
        int xmin = static_cast<int>(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        int xmax = static_cast<int>(center + support + 0.5);
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        double ww = 0.0;
        for (int x = 0; x < xmax; x++) {
            double w = triangle((x + xmin - center + 0.5) * ss);
            k[x] = w;
            ww += w;
        }
        for (int x = 0; x < xmax; x++) {
            if (ww != 0.0) k[x] /= ww;
        }
        for (int x = 0; x < ksize; x++) {
            double v = x < xmax ? k[x] : 0.0;
            weights[static_cast<size_t>(xx) * ksize + x] =
                static_cast<int32_t>(v < 0 ? -0.5 + v * (1 << PRECISION_BITS) : 0.5 + v * (1 << PRECISION_BITS));
        }
        bounds[xx * 2] = xmin;
        bounds[xx * 2 + 1] = xmax;
    }
    return ksize;
}

inline uint8_t clip8(int64_t v) {
    if (v >= (static_cast<int64_t>(1) << PRECISION_BITS << 8)) return 255;
    if (v <= 0) return 0;
    return static_cast<uint8_t>(v >> PRECISION_BITS);
}

cv::Mat pil_resize(const cv::Mat &in, int out_w, int out_h) {
    const int channels = in.channels();
    const int in_w = in.cols, in_h = in.rows;
    std::vector<int> hb, vb;
    std::vector<int32_t> hk, vk;
    int hks = precompute(in_w, out_w, hb, hk);
    int vks = precompute(in_h, out_h, vb, vk);
    bool need_h = out_w != in_w, need_v = out_h != in_h;
    // Rows of the input that the vertical pass will read.
    int first = vb[0], last = vb[(out_h - 1) * 2] + vb[(out_h - 1) * 2 + 1];
    cv::Mat tmp = in;
    int row_offset = 0;
    if (need_h) {
        int rows = need_v ? last - first : in_h;
        row_offset = need_v ? first : 0;
        tmp = cv::Mat(rows, out_w, in.type());
        cv::parallel_for_(cv::Range(0, rows), [&](const cv::Range &range) {
            for (int y = range.start; y < range.end; y++) {
                const uint8_t *src = in.ptr<uint8_t>(y + row_offset);
                uint8_t *dst = tmp.ptr<uint8_t>(y);
                for (int xx = 0; xx < out_w; xx++) {
                    int xmin = hb[xx * 2], xmax = hb[xx * 2 + 1];
                    const int32_t *k = &hk[static_cast<size_t>(xx) * hks];
                    for (int c = 0; c < channels; c++) {
                        int64_t ss = 1 << (PRECISION_BITS - 1);
                        for (int x = 0; x < xmax; x++) ss += static_cast<int64_t>(src[(x + xmin) * channels + c]) * k[x];
                        dst[xx * channels + c] = clip8(ss);
                    }
                }
            }
        });
    }
    if (!need_v) return tmp.data == in.data ? in.clone() : tmp;
    cv::Mat out(out_h, tmp.cols, in.type());
    cv::parallel_for_(cv::Range(0, out_h), [&](const cv::Range &range) {
        for (int yy = range.start; yy < range.end; yy++) {
            int ymin = vb[yy * 2] - row_offset, ymax = vb[yy * 2 + 1];
            const int32_t *k = &vk[static_cast<size_t>(yy) * vks];
            uint8_t *dst = out.ptr<uint8_t>(yy);
            const int width = tmp.cols * channels;
            for (int i = 0; i < width; i++) {
                int64_t ss = 1 << (PRECISION_BITS - 1);
                for (int y = 0; y < ymax; y++) ss += static_cast<int64_t>(tmp.ptr<uint8_t>(y + ymin)[i]) * k[y];
                dst[i] = clip8(ss);
            }
        }
    });
    return out;
}

cv::Scalar bgr(int b, int g, int r) { return cv::Scalar(b, g, r); }

}  // namespace

extern "C" {

const char *cv_last_error(void) { return last_error.c_str(); }
const char *cv_version(void) { return CV_VERSION; }

void cv_image_free(cv_image img) { delete img; }
int cv_image_width(cv_image img) { return img ? img->mat.cols : 0; }
int cv_image_height(cv_image img) { return img ? img->mat.rows : 0; }
int cv_image_channels(cv_image img) { return img ? img->mat.channels() : 0; }
uint8_t *cv_image_data(cv_image img) { return img ? img->mat.data : nullptr; }

int cv_image_new(int width, int height, int channels, const uint8_t *data, cv_image *out) {
    return guarded([&] {
        if (width < 0 || height < 0) fail("image size must not be negative (width " + std::to_string(width) + ", height " + std::to_string(height) + ")");
        if (channels != 1 && channels != 3 && channels != 4) fail("images have 1, 3 or 4 channels, not " + std::to_string(channels));
        cv::Mat m = cv::Mat::zeros(height, width, CV_8UC(channels));
        if (data != nullptr && m.total() > 0) std::memcpy(m.data, data, m.total() * m.elemSize());
        *out = wrap(m);
    });
}

int cv_image_clone(cv_image img, cv_image *out) { return guarded([&] { *out = wrap(M(img).clone()); }); }

int cv_decode_bytes(const uint8_t *bytes, size_t length, int mode, cv_image *out) {
    return guarded([&] {
        *out = wrap(decode(bytes, length, mode));
    });
}

int cv_encode(cv_image img, const char *extension, int quality, uint8_t **bytes, size_t *length) {
    return guarded([&] {
        std::vector<int> params;
        if (quality >= 0) params = {cv::IMWRITE_JPEG_QUALITY, std::min(100, quality)};
        std::vector<uint8_t> buf;
        if (!cv::imencode(extension, M(img), buf, params)) fail(std::string("cannot encode as ") + extension);
        *bytes = static_cast<uint8_t *>(std::malloc(buf.size() ? buf.size() : 1));
        std::memcpy(*bytes, buf.data(), buf.size());
        *length = buf.size();
    });
}

void cv_free_bytes(uint8_t *bytes) { std::free(bytes); }

int cv_resize_bilinear(cv_image img, int width, int height, cv_image *out) {
    return guarded([&] {
        if (width <= 0 || height <= 0) fail("resize to " + std::to_string(width) + "x" + std::to_string(height) + ": sizes must be positive");
        cv::Mat r;
        cv::resize(M(img), r, cv::Size(width, height), 0, 0, cv::INTER_LINEAR);
        *out = wrap(r);
    });
}

int cv_resize_pil_bilinear(cv_image img, int width, int height, cv_image *out) {
    return guarded([&] {
        if (width <= 0 || height <= 0) fail("resize to " + std::to_string(width) + "x" + std::to_string(height) + ": sizes must be positive");
        const cv::Mat &m = M(img);
        if (m.cols == 0 || m.rows == 0) fail("cannot resize an empty image");
        *out = wrap(pil_resize(m, width, height));
    });
}

int cv_convert(cv_image img, int code, cv_image *out) {
    return guarded([&] {
        const cv::Mat &m = M(img);
        cv::Mat r;
        switch (code) {
        case CV_BGR2RGB:
            if (m.channels() == 3) cv::cvtColor(m, r, cv::COLOR_BGR2RGB);
            else if (m.channels() == 4) cv::cvtColor(m, r, cv::COLOR_BGRA2RGBA);
            else r = m.clone();
            break;
        case CV_BGR2GRAY:
            if (m.channels() == 1) r = m.clone();
            else cv::cvtColor(m, r, m.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
            break;
        case CV_GRAY2BGR:
            if (m.channels() == 3) r = m.clone();
            else cv::cvtColor(m, r, m.channels() == 4 ? cv::COLOR_BGRA2BGR : cv::COLOR_GRAY2BGR);
            break;
        case CV_BGRA2BGR:
            if (m.channels() == 4) cv::cvtColor(m, r, cv::COLOR_BGRA2BGR);
            else if (m.channels() == 1) cv::cvtColor(m, r, cv::COLOR_GRAY2BGR);
            else r = m.clone();
            break;
        default: fail("unknown colour conversion " + std::to_string(code));
        }
        *out = wrap(r);
    });
}

int cv_crop(cv_image img, int x, int y, int width, int height, cv_image *out) {
    return guarded([&] {
        const cv::Mat &m = M(img);
        if (width <= 0 || height <= 0 || x < 0 || y < 0 || x + width > m.cols || y + height > m.rows) {
            fail("crop (" + std::to_string(x) + ", " + std::to_string(y) + ", " + std::to_string(width) + "x" +
                 std::to_string(height) + ") is outside the " + std::to_string(m.cols) + "x" + std::to_string(m.rows) + " image");
        }
        *out = wrap(m(cv::Rect(x, y, width, height)).clone());
    });
}

int cv_flip(cv_image img, int code, cv_image *out) {
    return guarded([&] {
        cv::Mat r;
        cv::flip(M(img), r, code);
        *out = wrap(r);
    });
}

int cv_paste(cv_image dst_, cv_image src_, int x, int y) {
    return guarded([&] {
        cv::Mat &dst = M(dst_);
        const cv::Mat &src = M(src_);
        if (dst.channels() != 3) fail("paste needs a BGR destination");
        cv::Rect target = cv::Rect(x, y, src.cols, src.rows) & cv::Rect(0, 0, dst.cols, dst.rows);
        if (target.empty()) return;
        for (int yy = target.y; yy < target.y + target.height; yy++) {
            uint8_t *d = dst.ptr<uint8_t>(yy);
            const uint8_t *s = src.ptr<uint8_t>(yy - y);
            for (int xx = target.x; xx < target.x + target.width; xx++) {
                const uint8_t *p = s + (xx - x) * src.channels();
                uint8_t *q = d + xx * 3;
                if (src.channels() == 4) {
                    int a = p[3];
                    for (int c = 0; c < 3; c++) q[c] = static_cast<uint8_t>((p[c] * a + q[c] * (255 - a) + 127) / 255);
                } else if (src.channels() == 3) {
                    q[0] = p[0]; q[1] = p[1]; q[2] = p[2];
                } else {
                    q[0] = q[1] = q[2] = p[0];
                }
            }
        }
    });
}

int cv_equalize_hist(cv_image gray, cv_image *out) {
    return guarded([&] {
        if (M(gray).channels() != 1) fail("equalize_hist needs a grayscale image");
        cv::Mat r;
        cv::equalizeHist(M(gray), r);
        *out = wrap(r);
    });
}

int cv_rotate_ccw(cv_image img, cv_image *out) {
    return guarded([&] {
        cv::Mat r;
        cv::rotate(M(img), r, cv::ROTATE_90_COUNTERCLOCKWISE);
        *out = wrap(r);
    });
}

int cv_draw_rectangle(cv_image img, int x1, int y1, int x2, int y2, int b, int g, int r, int thickness) {
    return guarded([&] { cv::rectangle(M(img), cv::Point(x1, y1), cv::Point(x2, y2), bgr(b, g, r), thickness, cv::LINE_AA); });
}

int cv_fill_rectangle(cv_image img, int x1, int y1, int x2, int y2, int b, int g, int r, double alpha) {
    return guarded([&] {
        cv::Mat &m = M(img);
        cv::Rect rect = cv::Rect(cv::Point(std::min(x1, x2), std::min(y1, y2)), cv::Point(std::max(x1, x2), std::max(y1, y2))) &
                        cv::Rect(0, 0, m.cols, m.rows);
        if (rect.empty()) return;
        cv::Mat roi = m(rect);
        cv::Mat color(roi.size(), roi.type(), m.channels() == 1 ? cv::Scalar((b + g + r) / 3) : bgr(b, g, r));
        double a = std::clamp(alpha, 0.0, 1.0);
        cv::addWeighted(color, a, roi, 1.0 - a, 0.0, roi);
    });
}

int cv_draw_line(cv_image img, int x1, int y1, int x2, int y2, int b, int g, int r, int thickness) {
    return guarded([&] { cv::line(M(img), cv::Point(x1, y1), cv::Point(x2, y2), bgr(b, g, r), thickness, cv::LINE_AA); });
}

int cv_draw_circle(cv_image img, int x, int y, int radius, int b, int g, int r, int thickness) {
    return guarded([&] { cv::circle(M(img), cv::Point(x, y), radius, bgr(b, g, r), thickness, cv::LINE_AA); });
}

int cv_video_open(const char *path, cv_video *out) {
    return guarded([&] {
        auto v = std::make_unique<cv_video_s>();
        // FFmpeg only: it reads every container creatives come in, and trying the other
        // backends after it fails (GStreamer) costs time and prints their own errors.
        if (!v->capture.open(path, cv::CAP_FFMPEG) || !v->capture.isOpened())
            fail(std::string("cannot open video ") + path + ": FFmpeg cannot read it (not a video, or damaged)");
        *out = v.release();
    });
}

void cv_video_close(cv_video v) { delete v; }

int cv_video_info(cv_video v, double *fps, double *frames, int *width, int *height) {
    return guarded([&] {
        *fps = v->capture.get(cv::CAP_PROP_FPS);
        *frames = v->capture.get(cv::CAP_PROP_FRAME_COUNT);
        *width = static_cast<int>(v->capture.get(cv::CAP_PROP_FRAME_WIDTH));
        *height = static_cast<int>(v->capture.get(cv::CAP_PROP_FRAME_HEIGHT));
    });
}

int cv_video_next(cv_video v, int decode_frame, cv_image *out) {
    int result = -1;
    int rc = guarded([&] {
        *out = nullptr;
        if (!v->capture.grab()) { result = 0; return; }
        if (decode_frame) {
            cv::Mat frame;
            if (!v->capture.retrieve(frame) || frame.empty()) { result = 0; return; }
            *out = wrap(frame);
        }
        result = 1;
    });
    return rc == 0 ? result : -1;
}

int cv_cascade_load(const char *path, cv_cascade *out) {
    return guarded([&] {
        auto c = std::make_unique<cv_cascade_s>();
        if (!c->classifier.load(path) || c->classifier.empty()) fail(std::string("cannot load cascade ") + path);
        *out = c.release();
    });
}

void cv_cascade_free(cv_cascade c) { delete c; }

int cv_cascade_detect(cv_cascade c, cv_image gray, double scale_factor, int min_neighbors, int min_w, int min_h,
                      int max_w, int max_h, int *boxes, double *scores, int capacity, int *count) {
    return guarded([&] {
        if (M(gray).channels() != 1) fail("detect needs a grayscale image");
        if (scale_factor <= 1.0) fail("scale_factor must be greater than 1");
        std::vector<cv::Rect> found;
        std::vector<int> levels;
        std::vector<double> weights;
        c->classifier.detectMultiScale(M(gray), found, levels, weights, scale_factor, min_neighbors, 0,
                                       cv::Size(min_w, min_h), cv::Size(max_w, max_h), true);
        *count = static_cast<int>(found.size());
        for (int i = 0; i < std::min(capacity, *count); i++) {
            boxes[i * 4] = found[i].x;
            boxes[i * 4 + 1] = found[i].y;
            boxes[i * 4 + 2] = found[i].width;
            boxes[i * 4 + 3] = found[i].height;
            scores[i] = i < static_cast<int>(weights.size()) ? weights[i] : 0.0;
        }
    });
}

}  // extern "C"
