// CTorch: the only code that includes libtorch headers. A flat C API over opaque tensor handles.
//
// Every function catches every C++ exception. Functions returning int return 0 on success and
// -1 on failure; the message is then in ct_last_error() on the same thread. Output tensors are
// new handles owned by the caller (free them with ct_free). An optional input tensor may be NULL.
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ct_tensor_s *ct_tensor;

// ---- runtime -------------------------------------------------------------------------------
const char *ct_last_error(void);
const char *ct_version(void);
int ct_init_threads(void);
int ct_get_num_threads(void);
int ct_set_num_threads(int n);
int ct_cuda_is_available(void);
int ct_cuda_device_count(void);
int ct_built_with_cuda(void);
int ct_manual_seed(uint64_t seed);
// Enables or disables gradient recording on this thread; returns the previous setting.
int ct_set_grad_enabled(int enabled);
int ct_is_grad_enabled(void);

// ---- lifetime and facts --------------------------------------------------------------------
void ct_free(ct_tensor t);
// dtype codes are c10::ScalarType values: uint8 0, int8 1, int16 2, int32 3, int64 4,
// float16 5, float32 6, float64 7, bool 11, bfloat16 15.
// device types: 0 cpu, 1 cuda.
int ct_dim(ct_tensor t);
int64_t ct_numel(ct_tensor t);
int ct_sizes(ct_tensor t, int64_t *out, int capacity);
int ct_strides(ct_tensor t, int64_t *out, int capacity);
int ct_dtype(ct_tensor t);
int ct_device(ct_tensor t, int *type, int *index);
int ct_is_contiguous(ct_tensor t);
int ct_requires_grad(ct_tensor t);
// Pointer to the data of a CPU tensor (NULL otherwise); valid while the tensor lives.
void *ct_data_ptr(ct_tensor t);
int ct_item_double(ct_tensor t, double *out);
int ct_item_int64(ct_tensor t, int64_t *out);
// Copies the elements of t (any device, any layout) as a contiguous CPU buffer of nbytes.
int ct_copy_to_buffer(ct_tensor t, void *dst, size_t nbytes);

// ---- creation ------------------------------------------------------------------------------
int ct_empty(const int64_t *sizes, int ndim, int dtype, int device_type, int device_index, ct_tensor *out);
int ct_zeros(const int64_t *sizes, int ndim, int dtype, int device_type, int device_index, ct_tensor *out);
int ct_ones(const int64_t *sizes, int ndim, int dtype, int device_type, int device_index, ct_tensor *out);
int ct_full(const int64_t *sizes, int ndim, double value, int dtype, int device_type, int device_index, ct_tensor *out);
int ct_arange(double start, double end, double step, int dtype, int device_type, int device_index, ct_tensor *out);
int ct_linspace(double start, double end, int64_t steps, int dtype, int device_type, int device_index, ct_tensor *out);
int ct_rand(const int64_t *sizes, int ndim, int dtype, int device_type, int device_index, ct_tensor *out);
int ct_randn(const int64_t *sizes, int ndim, int dtype, int device_type, int device_index, ct_tensor *out);
int ct_randint(int64_t low, int64_t high, const int64_t *sizes, int ndim, int dtype, int device_type, int device_index, ct_tensor *out);
int ct_randperm(int64_t n, int device_type, int device_index, ct_tensor *out);
// Wraps memory without copying; deleter(context) runs when libtorch lets go of it.
int ct_from_blob(void *data, const int64_t *sizes, int ndim, int dtype, void (*deleter)(void *), void *context, ct_tensor *out);
// Copies nbytes of contiguous data into a new CPU tensor.
int ct_from_buffer(const void *data, size_t nbytes, const int64_t *sizes, int ndim, int dtype, ct_tensor *out);
int ct_scalar_tensor(double value, int dtype, ct_tensor *out);

// ---- conversion ----------------------------------------------------------------------------
int ct_to(ct_tensor t, int dtype, int device_type, int device_index, int copy, ct_tensor *out);
int ct_contiguous(ct_tensor t, ct_tensor *out);
// Contiguous in channels-last order (NHWC strides for a 4-D tensor), which oneDNN convolves fastest.
int ct_channels_last(ct_tensor t, ct_tensor *out);
int ct_clone(ct_tensor t, ct_tensor *out);
int ct_detach(ct_tensor t, ct_tensor *out);

// ---- shape and indexing ----------------------------------------------------------------------
int ct_reshape(ct_tensor t, const int64_t *sizes, int ndim, ct_tensor *out);
int ct_view(ct_tensor t, const int64_t *sizes, int ndim, ct_tensor *out);
int ct_permute(ct_tensor t, const int64_t *dims, int ndim, ct_tensor *out);
int ct_transpose(ct_tensor t, int64_t d0, int64_t d1, ct_tensor *out);
int ct_flatten(ct_tensor t, int64_t start, int64_t end, ct_tensor *out);
int ct_cat(const ct_tensor *ts, int n, int64_t dim, ct_tensor *out);
int ct_stack(const ct_tensor *ts, int n, int64_t dim, ct_tensor *out);
// Splits into chunks of split_size along dim; writes up to capacity handles, *count = total.
int ct_split(ct_tensor t, int64_t split_size, int64_t dim, ct_tensor *outs, int capacity, int *count);
int ct_narrow(ct_tensor t, int64_t dim, int64_t start, int64_t length, ct_tensor *out);
int ct_slice(ct_tensor t, int64_t dim, int64_t start, int64_t end, int64_t step, ct_tensor *out);
int ct_select(ct_tensor t, int64_t dim, int64_t index, ct_tensor *out);
int ct_index_select(ct_tensor t, int64_t dim, ct_tensor index, ct_tensor *out);
int ct_masked_select(ct_tensor t, ct_tensor mask, ct_tensor *out);
int ct_masked_fill(ct_tensor t, ct_tensor mask, double value, ct_tensor *out);
int ct_gather(ct_tensor t, int64_t dim, ct_tensor index, ct_tensor *out);
int ct_scatter(ct_tensor t, int64_t dim, ct_tensor index, ct_tensor src, ct_tensor *out);
int ct_nonzero(ct_tensor t, ct_tensor *out);
int ct_where(ct_tensor cond, ct_tensor a, ct_tensor b, ct_tensor *out);
int ct_expand(ct_tensor t, const int64_t *sizes, int ndim, ct_tensor *out);
int ct_repeat(ct_tensor t, const int64_t *repeats, int ndim, ct_tensor *out);
int ct_squeeze(ct_tensor t, int64_t dim, int all, ct_tensor *out);
int ct_unsqueeze(ct_tensor t, int64_t dim, ct_tensor *out);
int ct_flip(ct_tensor t, const int64_t *dims, int ndim, ct_tensor *out);
// A view with the given sizes, strides and storage offset (checkpoint storages).
int ct_as_strided(ct_tensor t, const int64_t *sizes, const int64_t *strides, int ndim, int64_t offset, ct_tensor *out);
// t[index] with an integer/boolean index tensor along dim 0 (advanced indexing).
int ct_index(ct_tensor t, ct_tensor index, ct_tensor *out);
// In place: t[index] = values (index along dim 0; values broadcast).
int ct_index_put_(ct_tensor t, ct_tensor index, ct_tensor values);

// ---- math ----------------------------------------------------------------------------------
enum {
    CT_ADD = 0, CT_SUB, CT_MUL, CT_DIV, CT_POW, CT_MAXIMUM, CT_MINIMUM, CT_REMAINDER, CT_FLOOR_DIVIDE,
    CT_EQ, CT_NE, CT_LT, CT_LE, CT_GT, CT_GE, CT_LOGICAL_AND, CT_LOGICAL_OR, CT_ATAN2
};
int ct_binary(int op, ct_tensor a, ct_tensor b, ct_tensor *out);
// a (op) s, or s (op) a when reversed; integral says s is an integer (as Lua knows it).
/// a (op) scalar: the integer `i` when `integral` (exact, as a Python int), else the double `s`.
int ct_binary_scalar(int op, ct_tensor a, double s, int64_t i, int integral, int reversed, ct_tensor *out);
enum {
    CT_NEG = 0, CT_EXP, CT_LOG, CT_SQRT, CT_ABS, CT_SIGMOID, CT_RELU, CT_FLOOR, CT_CEIL, CT_ROUND,
    CT_SIGN, CT_LOGICAL_NOT, CT_ISNAN, CT_ISFINITE, CT_TANH, CT_LOG2, CT_RECIPROCAL, CT_SIN, CT_COS,
    CT_EXPM1, CT_LOG1P, CT_TRUNC
};
int ct_unary(int op, ct_tensor a, ct_tensor *out);
int ct_softmax(ct_tensor t, int64_t dim, ct_tensor *out);
int ct_log_softmax(ct_tensor t, int64_t dim, ct_tensor *out);
// Bounds are used only when has_min/has_max are set.
int ct_clamp(ct_tensor t, int has_min, double min, int has_max, double max, ct_tensor *out);
enum { CT_SUM = 0, CT_MEAN, CT_PROD, CT_AMAX, CT_AMIN, CT_ANY, CT_ALL, CT_STD, CT_VAR };
// Reduces over dims (all dims when ndims == 0).
int ct_reduce(int op, ct_tensor t, const int64_t *dims, int ndims, int keepdim, ct_tensor *out);
// max/min along a dim: values and indices.
int ct_max_dim(ct_tensor t, int64_t dim, int keepdim, ct_tensor *values, ct_tensor *indices);
int ct_min_dim(ct_tensor t, int64_t dim, int keepdim, ct_tensor *values, ct_tensor *indices);
int ct_argmax(ct_tensor t, int has_dim, int64_t dim, int keepdim, ct_tensor *out);
int ct_topk(ct_tensor t, int64_t k, int64_t dim, int largest, int sorted, ct_tensor *values, ct_tensor *indices);
int ct_sort(ct_tensor t, int64_t dim, int descending, int stable, ct_tensor *values, ct_tensor *indices);
int ct_cumsum(ct_tensor t, int64_t dim, ct_tensor *out);
int ct_matmul(ct_tensor a, ct_tensor b, ct_tensor *out);
int ct_linear(ct_tensor x, ct_tensor weight, ct_tensor bias, ct_tensor *out);
int ct_equal(ct_tensor a, ct_tensor b, int *out);
int ct_allclose(ct_tensor a, ct_tensor b, double rtol, double atol, int *out);

// ---- neural network ops --------------------------------------------------------------------
int ct_conv2d(ct_tensor x, ct_tensor weight, ct_tensor bias, const int64_t stride[2], const int64_t padding[2],
              const int64_t dilation[2], int64_t groups, ct_tensor *out);
int ct_max_pool2d(ct_tensor x, const int64_t kernel[2], const int64_t stride[2], const int64_t padding[2],
                  const int64_t dilation[2], int ceil_mode, ct_tensor *out);
// Nearest-neighbour resize to (out_h, out_w).
int ct_interpolate_nearest(ct_tensor x, int64_t out_h, int64_t out_w, ct_tensor *out);
// Inference batch norm with running statistics (weight/bias may be NULL).
int ct_batch_norm(ct_tensor x, ct_tensor weight, ct_tensor bias, ct_tensor mean, ct_tensor var, int training,
                  double momentum, double eps, ct_tensor *out);
int ct_group_norm(ct_tensor x, int64_t groups, ct_tensor weight, ct_tensor bias, double eps, ct_tensor *out);
enum { CT_REDUCTION_NONE = 0, CT_REDUCTION_MEAN = 1, CT_REDUCTION_SUM = 2 };
int ct_cross_entropy(ct_tensor logits, ct_tensor targets, ct_tensor weight, int reduction, int64_t ignore_index, ct_tensor *out);
int ct_bce_with_logits(ct_tensor x, ct_tensor y, ct_tensor weight, int reduction, ct_tensor *out);
int ct_smooth_l1_loss(ct_tensor x, ct_tensor y, double beta, int reduction, ct_tensor *out);
int ct_l1_loss(ct_tensor x, ct_tensor y, int reduction, ct_tensor *out);

// ---- autograd and in-place updates -----------------------------------------------------------
int ct_set_requires_grad(ct_tensor t, int requires_grad);
int ct_backward(ct_tensor t, ct_tensor gradient, int retain_graph);
// *out is NULL when t has no gradient.
int ct_grad(ct_tensor t, ct_tensor *out);
int ct_zero_grad(ct_tensor t);
int ct_set_grad(ct_tensor t, ct_tensor grad);
// t += alpha * other
int ct_add_(ct_tensor t, ct_tensor other, double alpha);
int ct_relu_(ct_tensor t);
int ct_mul_scalar_(ct_tensor t, double s);
int ct_copy_(ct_tensor dst, ct_tensor src);
int ct_fill_(ct_tensor t, double value);
int ct_zero_(ct_tensor t);
// The p-norm of all elements (p may be INFINITY), a 0-dim tensor of t's dtype.
int ct_vector_norm(ct_tensor t, double p, ct_tensor *out);
// Initialisers (in place, no grad): normal_(mean, std), uniform_(a, b).
int ct_normal_(ct_tensor t, double mean, double std);
int ct_uniform_(ct_tensor t, double a, double b);

// ---- detection kernels ---------------------------------------------------------------------
// ROIAlign over input (N, C, H, W) for rois (K, 5) = (batch index, x1, y1, x2, y2). With
// aligned, pixel centres are shifted by -0.5 (Detectron2's ROIAlignV2); without, rois are at
// least 1x1 (legacy). sampling_ratio <= 0 takes ceil(roi size / output size) samples per bin.
// CPU tensors only; differentiable (the backward kernel is registered with autograd).
int ct_roi_align(ct_tensor input, ct_tensor rois, double spatial_scale, int64_t pooled_h, int64_t pooled_w,
                 int64_t sampling_ratio, int aligned, ct_tensor *out);
// Greedy non-maximum suppression on CPU: indices (int64) of the kept boxes, by decreasing score;
// equal scores keep the lower index first. A box is dropped when its IoU with a kept box is > threshold.
int ct_nms(ct_tensor boxes, ct_tensor scores, double iou_threshold, ct_tensor *out);

// ---- torch.save archives -------------------------------------------------------------------
// libtorch's own zip writer (what torch.save uses): records are stored uncompressed and
// 64-byte aligned under the archive's folder; closing adds the version record and the
// directory. Write errors (a full disk) are reported, never left half-silent.
typedef struct ct_zip_writer_s *ct_zip_writer;
int ct_zip_writer_open(const char *path, ct_zip_writer *out);
int ct_zip_writer_record(ct_zip_writer w, const char *name, const void *data, size_t size);
// Finishes the archive and frees the writer (also after a failure).
int ct_zip_writer_close(ct_zip_writer w);

// ---- collectives (c10d) ----------------------------------------------------------------------
// A TCPStore: the server (rank 0) listens on port; clients connect to host:port, retrying
// until timeout_ms. Values are bytes;
// ct_store_get returns a malloc'd copy the caller frees. wait fails after timeout_ms.
typedef struct ct_store_s *ct_store;
typedef struct ct_group_s *ct_group;
// 1 when the backend ("gloo", "nccl") was compiled into this build.
int ct_backend_available(const char *backend);
int ct_store_create(const char *host, int port, int is_server, int world_size, int64_t timeout_ms, ct_store *out);
void ct_store_free(ct_store s);
int ct_store_set(ct_store s, const char *key, const void *value, int64_t length);
int ct_store_get(ct_store s, const char *key, void **value, int64_t *length);
int ct_store_add(ct_store s, const char *key, int64_t amount, int64_t *result);
int ct_store_check(ct_store s, const char *const *keys, int n, int *present);
int ct_store_wait(ct_store s, const char *const *keys, int n, int64_t timeout_ms);
// A process group over the store's keys under prefix. device_kind for gloo: "interface"
// (device_value names it), "hostname" (device_value is this host's address) or "default".
// Collectives fail (never hang) after timeout_ms.
int ct_group_create(ct_store s, const char *prefix, const char *backend, int rank, int world_size, const char *device_kind,
                    const char *device_value, int64_t timeout_ms, ct_group *out);
void ct_group_free(ct_group g);
// In place: each tensor becomes the sum of that tensor over the ranks (one collective per tensor,
// all issued before any is waited for).
int ct_all_reduce_sum(ct_group g, ct_tensor *tensors, int n);
// In place: each tensor becomes root's.
int ct_broadcast(ct_group g, ct_tensor *tensors, int n, int root);
// outputs[r] (new handles) is rank r's input; inputs have the same shape and dtype on every rank.
int ct_all_gather(ct_group g, ct_tensor input, int world_size, ct_tensor *outputs);
int ct_barrier(ct_group g);

#ifdef __cplusplus
}
#endif
