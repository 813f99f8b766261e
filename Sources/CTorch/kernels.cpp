// The two detection kernels that need C++ for speed: ROIAlign (forward and backward, wired into
// autograd) and greedy NMS. Written from the published definitions (Mask R-CNN's RoIAlign with
// bilinear sampling; Detectron2's "aligned" half-pixel variant).
#include "ctorch.h"
#include "internal.h"

#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

using ctorch::guarded;
using ctorch::T;
using ctorch::wrap;

namespace {

// One bilinear sample: four offsets into a channel plane and their weights.
template <typename S>
struct Sample {
    int64_t o1, o2, o3, o4;
    S w1, w2, w3, w4;
};

template <typename S>
Sample<S> bilinear(int64_t H, int64_t W, S y, S x) {
    // Outside the feature map by more than one pixel: contributes nothing.
    if (y < -1 || y > H || x < -1 || x > W) return Sample<S>{0, 0, 0, 0, 0, 0, 0, 0};
    if (y < 0) y = 0;
    if (x < 0) x = 0;
    int64_t y0 = static_cast<int64_t>(y), x0 = static_cast<int64_t>(x), y1, x1;
    if (y0 >= H - 1) {
        y0 = y1 = H - 1;
        y = static_cast<S>(y0);
    } else {
        y1 = y0 + 1;
    }
    if (x0 >= W - 1) {
        x0 = x1 = W - 1;
        x = static_cast<S>(x0);
    } else {
        x1 = x0 + 1;
    }
    S ly = y - static_cast<S>(y0), lx = x - static_cast<S>(x0);
    S hy = 1 - ly, hx = 1 - lx;
    return Sample<S>{y0 * W + x0, y0 * W + x1, y1 * W + x0, y1 * W + x1, hy * hx, hy * lx, ly * hx, ly * lx};
}

struct RoiGeometry {
    int64_t batch;
    int64_t grid_h, grid_w;
    double count;
};

// The sampling points of one roi, bin by bin (pooled_h * pooled_w * grid_h * grid_w samples).
template <typename S>
RoiGeometry roi_samples(const S *roi, int64_t H, int64_t W, double scale, int64_t PH, int64_t PW,
                        int64_t sampling_ratio, bool aligned, std::vector<Sample<S>> &samples) {
    RoiGeometry g;
    g.batch = static_cast<int64_t>(roi[0]);
    S offset = aligned ? S(0.5) : S(0);
    S start_w = roi[1] * static_cast<S>(scale) - offset;
    S start_h = roi[2] * static_cast<S>(scale) - offset;
    S end_w = roi[3] * static_cast<S>(scale) - offset;
    S end_h = roi[4] * static_cast<S>(scale) - offset;
    S roi_w = end_w - start_w, roi_h = end_h - start_h;
    if (!aligned) {  // legacy: rois are at least one pixel
        roi_w = std::max(roi_w, S(1));
        roi_h = std::max(roi_h, S(1));
    }
    S bin_h = roi_h / static_cast<S>(PH), bin_w = roi_w / static_cast<S>(PW);
    g.grid_h = sampling_ratio > 0 ? sampling_ratio : static_cast<int64_t>(std::ceil(roi_h / static_cast<S>(PH)));
    g.grid_w = sampling_ratio > 0 ? sampling_ratio : static_cast<int64_t>(std::ceil(roi_w / static_cast<S>(PW)));
    g.grid_h = std::max<int64_t>(g.grid_h, 0);
    g.grid_w = std::max<int64_t>(g.grid_w, 0);
    g.count = static_cast<double>(std::max<int64_t>(g.grid_h * g.grid_w, 1));
    samples.clear();
    samples.reserve(static_cast<size_t>(PH * PW * g.grid_h * g.grid_w));
    for (int64_t ph = 0; ph < PH; ph++) {
        for (int64_t pw = 0; pw < PW; pw++) {
            for (int64_t iy = 0; iy < g.grid_h; iy++) {
                S y = start_h + static_cast<S>(ph) * bin_h + (static_cast<S>(iy) + S(0.5)) * bin_h / static_cast<S>(g.grid_h);
                for (int64_t ix = 0; ix < g.grid_w; ix++) {
                    S x = start_w + static_cast<S>(pw) * bin_w + (static_cast<S>(ix) + S(0.5)) * bin_w / static_cast<S>(g.grid_w);
                    samples.push_back(bilinear<S>(H, W, y, x));
                }
            }
        }
    }
    return g;
}

void check_rois(const at::Tensor &input, const at::Tensor &rois) {
    TORCH_CHECK(input.device().is_cpu() && rois.device().is_cpu(),
                "roi_align: the C++ kernel takes CPU tensors (other devices use the tensor-op version)");
    TORCH_CHECK(input.dim() == 4, "roi_align: input must be (N, C, H, W), got ", input.sizes());
    TORCH_CHECK(rois.dim() == 2 && rois.size(1) == 5, "roi_align: rois must be (K, 5) = (batch, x1, y1, x2, y2), got ",
                rois.sizes());
    TORCH_CHECK(input.scalar_type() == rois.scalar_type(), "roi_align: input is ", input.scalar_type(), " but rois are ",
                rois.scalar_type());
    TORCH_CHECK(at::isFloatingType(input.scalar_type()) && input.scalar_type() != at::kHalf &&
                    input.scalar_type() != at::kBFloat16,
                "roi_align: expected float32 or float64 tensors, got ", input.scalar_type());
    if (rois.numel() > 0) {
        TORCH_CHECK(rois.isfinite().all().item<bool>(), "roi_align: rois contain NaN or infinite values");
        auto batch = rois.select(1, 0);
        TORCH_CHECK(batch.ge(0).all().item<bool>() && batch.lt(input.size(0)).all().item<bool>(),
                    "roi_align: a roi's batch index is outside 0..", input.size(0) - 1);
    }
}

template <typename S>
inline void accumulate_sample(S *__restrict a, const S *__restrict p1, const S *__restrict p2, const S *__restrict p3,
                              const S *__restrict p4, S w1, S w2, S w3, S w4, int64_t C) {
#pragma clang loop vectorize(enable)
    for (int64_t c = 0; c < C; c++) a[c] += w1 * p1[c] + w2 * p2[c] + w3 * p3[c] + w4 * p4[c];
}

// Forward in channels-last layout: each bilinear sample reads four contiguous channel vectors,
// so the inner loop runs over channels and vectorises. The per-channel arithmetic (order of the
// four products, the running sum, the final division) is the definition's, unchanged.
at::Tensor roi_align_forward(const at::Tensor &input_, const at::Tensor &rois_, double scale, int64_t PH, int64_t PW,
                             int64_t sampling_ratio, bool aligned) {
    check_rois(input_, rois_);
    TORCH_CHECK(PH > 0 && PW > 0, "roi_align: output size must be positive");
    const int64_t C = input_.size(1), H = input_.size(2), W = input_.size(3), K = rois_.size(0);
    if (K == 0 || C == 0 || H == 0 || W == 0) return at::zeros({K, C, PH, PW}, input_.options());
    at::Tensor input = input_.permute({0, 2, 3, 1}).contiguous();  // N, H, W, C
    at::Tensor rois = rois_.contiguous();
    at::Tensor out = at::empty({K, C, PH, PW}, input.options());
    AT_DISPATCH_FLOATING_TYPES(input.scalar_type(), "roi_align_forward", [&] {
        const scalar_t *in = input.data_ptr<scalar_t>();
        const scalar_t *r = rois.data_ptr<scalar_t>();
        scalar_t *o = out.data_ptr<scalar_t>();
        at::parallel_for(0, K, 1, [&](int64_t begin, int64_t end) {
            std::vector<Sample<scalar_t>> samples;
            std::vector<scalar_t> acc(static_cast<size_t>(C));
            for (int64_t k = begin; k < end; k++) {
                RoiGeometry g = roi_samples<scalar_t>(r + k * 5, H, W, scale, PH, PW, sampling_ratio, aligned, samples);
                const int64_t per_bin = g.grid_h * g.grid_w;
                const scalar_t count = static_cast<scalar_t>(g.count);
                const scalar_t *image = in + g.batch * H * W * C;
                const Sample<scalar_t> *s = samples.data();
                for (int64_t bin = 0; bin < PH * PW; bin++) {
                    scalar_t *a = acc.data();
                    std::fill(acc.begin(), acc.end(), scalar_t(0));
                    for (int64_t i = 0; i < per_bin; i++, s++) {
                        const scalar_t *p1 = image + s->o1 * C, *p2 = image + s->o2 * C;
                        const scalar_t *p3 = image + s->o3 * C, *p4 = image + s->o4 * C;
                        const scalar_t w1 = s->w1, w2 = s->w2, w3 = s->w3, w4 = s->w4;
                        accumulate_sample(a, p1, p2, p3, p4, w1, w2, w3, w4, C);
                    }
                    scalar_t *dst = o + k * C * PH * PW + bin;  // NCHW: channel c at dst[c * PH * PW]
                    for (int64_t c = 0; c < C; c++) dst[c * PH * PW] = a[c] / count;
                }
            }
        });
    });
    return out;
}

at::Tensor roi_align_backward(const at::Tensor &grad_, const at::Tensor &rois_, double scale, int64_t PH, int64_t PW,
                              int64_t N, int64_t C, int64_t H, int64_t W, int64_t sampling_ratio, bool aligned) {
    at::Tensor grad = grad_.contiguous(), rois = rois_.contiguous();
    at::Tensor grad_input = at::zeros({N, C, H, W}, grad.options());
    const int64_t K = rois.size(0);
    if (K == 0 || C == 0 || H == 0 || W == 0) return grad_input;
    AT_DISPATCH_FLOATING_TYPES(grad.scalar_type(), "roi_align_backward", [&] {
        const scalar_t *r = rois.data_ptr<scalar_t>();
        const scalar_t *go = grad.data_ptr<scalar_t>();
        scalar_t *gi = grad_input.data_ptr<scalar_t>();
        // Sampling points of every roi first; then channels in parallel (their planes are disjoint).
        std::vector<std::vector<Sample<scalar_t>>> all(static_cast<size_t>(K));
        std::vector<RoiGeometry> geometry(static_cast<size_t>(K));
        at::parallel_for(0, K, 1, [&](int64_t begin, int64_t end) {
            for (int64_t k = begin; k < end; k++) {
                geometry[k] = roi_samples<scalar_t>(r + k * 5, H, W, scale, PH, PW, sampling_ratio, aligned, all[k]);
            }
        });
        at::parallel_for(0, C, 1, [&](int64_t begin, int64_t end) {
            for (int64_t c = begin; c < end; c++) {
                for (int64_t k = 0; k < K; k++) {
                    const RoiGeometry &g = geometry[k];
                    const int64_t per_bin = g.grid_h * g.grid_w;
                    scalar_t *plane = gi + (g.batch * C + c) * H * W;
                    const scalar_t *src = go + (k * C + c) * PH * PW;
                    const Sample<scalar_t> *s = all[k].data();
                    for (int64_t bin = 0; bin < PH * PW; bin++) {
                        scalar_t v = src[bin] / static_cast<scalar_t>(g.count);
                        for (int64_t i = 0; i < per_bin; i++, s++) {
                            plane[s->o1] += s->w1 * v;
                            plane[s->o2] += s->w2 * v;
                            plane[s->o3] += s->w3 * v;
                            plane[s->o4] += s->w4 * v;
                        }
                    }
                }
            }
        });
    });
    return grad_input;
}

struct ROIAlignFunction : public torch::autograd::Function<ROIAlignFunction> {
    static at::Tensor forward(torch::autograd::AutogradContext *ctx, const at::Tensor &input, const at::Tensor &rois,
                              double scale, int64_t PH, int64_t PW, int64_t sampling_ratio, bool aligned) {
        ctx->saved_data["scale"] = scale;
        ctx->saved_data["ph"] = PH;
        ctx->saved_data["pw"] = PW;
        ctx->saved_data["sampling_ratio"] = sampling_ratio;
        ctx->saved_data["aligned"] = aligned;
        ctx->saved_data["shape"] = input.sizes().vec();
        ctx->save_for_backward({rois});
        at::AutoDispatchBelowADInplaceOrView guard;
        return roi_align_forward(input, rois, scale, PH, PW, sampling_ratio, aligned);
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                   torch::autograd::variable_list grads) {
        auto rois = ctx->get_saved_variables()[0];
        auto shape = ctx->saved_data["shape"].toIntVector();
        at::Tensor gi = roi_align_backward(grads[0], rois, ctx->saved_data["scale"].toDouble(),
                                           ctx->saved_data["ph"].toInt(), ctx->saved_data["pw"].toInt(), shape[0],
                                           shape[1], shape[2], shape[3], ctx->saved_data["sampling_ratio"].toInt(),
                                           ctx->saved_data["aligned"].toBool());
        return {gi, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
    }
};

template <typename S>
void nms_kernel(const S *b, const S *sc, int64_t n, double threshold, std::vector<int64_t> &keep) {
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [sc](int64_t i, int64_t j) { return sc[i] > sc[j]; });
    std::vector<S> area(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; i++) area[i] = (b[4 * i + 2] - b[4 * i]) * (b[4 * i + 3] - b[4 * i + 1]);
    std::vector<char> removed(static_cast<size_t>(n), 0);
    const S thr = static_cast<S>(threshold);
    for (int64_t a = 0; a < n; a++) {
        int64_t i = order[a];
        if (removed[i]) continue;
        keep.push_back(i);
        const S ix1 = b[4 * i], iy1 = b[4 * i + 1], ix2 = b[4 * i + 2], iy2 = b[4 * i + 3], ia = area[i];
        for (int64_t c = a + 1; c < n; c++) {
            int64_t j = order[c];
            if (removed[j]) continue;
            S w = std::min(ix2, b[4 * j + 2]) - std::max(ix1, b[4 * j]);
            S h = std::min(iy2, b[4 * j + 3]) - std::max(iy1, b[4 * j + 1]);
            if (w <= 0 || h <= 0) continue;  // no overlap: IoU 0 (also for empty boxes)
            S inter = w * h;
            S iou = inter / (ia + area[j] - inter);
            if (iou > thr) removed[j] = 1;
        }
    }
}

}  // namespace

extern "C" {

int ct_roi_align(ct_tensor input, ct_tensor rois, double spatial_scale, int64_t pooled_h, int64_t pooled_w,
                 int64_t sampling_ratio, int aligned, ct_tensor *out) {
    return guarded([&] {
        *out = wrap(ROIAlignFunction::apply(T(input), T(rois), spatial_scale, pooled_h, pooled_w, sampling_ratio, aligned != 0));
    });
}

int ct_nms(ct_tensor boxes_, ct_tensor scores_, double iou_threshold, ct_tensor *out) {
    return guarded([&] {
        const at::Tensor &boxes = T(boxes_), &scores = T(scores_);
        TORCH_CHECK(boxes.device().is_cpu() && scores.device().is_cpu(), "nms: the C++ kernel takes CPU tensors");
        TORCH_CHECK(boxes.dim() == 2 && boxes.size(1) == 4, "nms: boxes must be (N, 4), got ", boxes.sizes());
        TORCH_CHECK(scores.dim() == 1 && scores.size(0) == boxes.size(0), "nms: scores must be (N,) for ", boxes.size(0),
                    " boxes, got ", scores.sizes());
        TORCH_CHECK(at::isFloatingType(boxes.scalar_type()), "nms: boxes must be floating point, got ", boxes.scalar_type());
        at::Tensor b = boxes.detach().contiguous();
        at::Tensor s = scores.detach().to(b.scalar_type()).contiguous();
        if (b.scalar_type() == at::kHalf || b.scalar_type() == at::kBFloat16) {
            b = b.to(at::kFloat);
            s = s.to(at::kFloat);
        }
        const int64_t n = b.size(0);
        if (n > 0) {
            auto bad = s.isnan().nonzero();
            TORCH_CHECK(bad.numel() == 0, "nms: score ", bad[0][0].item<int64_t>(), " is NaN");
            auto badBox = b.isfinite().all(1).logical_not().nonzero();
            TORCH_CHECK(badBox.numel() == 0, "nms: box ", badBox[0][0].item<int64_t>(), " has a NaN or infinite coordinate");
        }
        std::vector<int64_t> keep;
        keep.reserve(static_cast<size_t>(n));
        AT_DISPATCH_FLOATING_TYPES(b.scalar_type(), "nms", [&] {
            nms_kernel<scalar_t>(b.data_ptr<scalar_t>(), s.data_ptr<scalar_t>(), n, iou_threshold, keep);
        });
        at::Tensor result = at::empty({static_cast<int64_t>(keep.size())}, at::TensorOptions().dtype(at::kLong));
        std::copy(keep.begin(), keep.end(), result.data_ptr<int64_t>());
        *out = wrap(std::move(result));
    });
}

}  // extern "C"
