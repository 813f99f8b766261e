// The flat C API over libtorch. Thin: argument marshalling and exception capture only; the
// detection kernels are in kernels.cpp.
#include <limits>
#include "ctorch.h"
#include "internal.h"

#include <torch/torch.h>
#include <ATen/ScalarOps.h>

#include <caffe2/serialize/inline_container.h>

#include <cstdlib>
#include <dlfcn.h>
#include <malloc.h>
#include <unistd.h>

using ctorch::guarded;
using ctorch::T;
using ctorch::opt;
using ctorch::wrap;

namespace {

at::IntArrayRef dims(const int64_t *p, int n) {
    TORCH_CHECK(n >= 0 && (n == 0 || p != nullptr), "invalid dimension list");
    return at::IntArrayRef(p, static_cast<size_t>(n));
}

at::ScalarType scalar_type(int dtype) {
    switch (dtype) {
    case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7: case 11: case 15:
        return static_cast<at::ScalarType>(dtype);
    default:
        TORCH_CHECK(false, "unsupported dtype code ", dtype);
    }
}

c10::Device device(int type, int index) {
    if (type == 0) return c10::Device(c10::kCPU);
    TORCH_CHECK(type == 1, "unsupported device type ", type);
    TORCH_CHECK(torch::cuda::is_available(), "CUDA is not available (no GPU, or this libtorch was built without CUDA)");
    TORCH_CHECK(index >= -1 && index < static_cast<int>(torch::cuda::device_count()), "no CUDA device ", index);
    return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index < 0 ? 0 : index));
}

// Debian's libtorch calls BLAS through the libblas.so.3 alternative; when that is OpenBLAS its
// thread pool is sized separately from libtorch's. Keep the two equal (unless the user chose
// with OPENBLAS_NUM_THREADS), so matmul-heavy layers use the same cores as the rest.
void sync_blas_threads(int n) {
    const char *env = std::getenv("OPENBLAS_NUM_THREADS");
    if (env != nullptr && *env != '\0') return;
    using setter = void (*)(int);
    if (auto set = reinterpret_cast<setter>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(n);
}

at::TensorOptions options(int dtype, int device_type, int device_index) {
    return at::TensorOptions().dtype(scalar_type(dtype)).device(device(device_type, device_index));
}

int64_t reduction_code(int r) {
    switch (r) {
    case CT_REDUCTION_NONE: return at::Reduction::None;
    case CT_REDUCTION_MEAN: return at::Reduction::Mean;
    case CT_REDUCTION_SUM: return at::Reduction::Sum;
    default: TORCH_CHECK(false, "unknown reduction ", r);
    }
}

std::vector<at::Tensor> tensors(const ct_tensor *ts, int n) {
    TORCH_CHECK(n > 0 && ts != nullptr, "expected at least one tensor");
    std::vector<at::Tensor> v;
    v.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; i++) v.push_back(T(ts[i]));
    return v;
}

// The element-wise binary ops by CT_ code, shared by the tensor-tensor and tensor-number entries.
// An integer type's smallest value divided by -1 overflows, and the CPU traps (SIGFPE) inside
// the kernel: floor division and remainder of integers are checked for that pair first.
void check_integer_division(const at::Tensor &a, const at::Tensor &b) {
    const auto type = at::result_type(a, b);
    int64_t lowest = 0;
    const char *name = "";
    switch (type) {
    case at::kLong: lowest = std::numeric_limits<int64_t>::min(); name = "int64"; break;
    case at::kInt: lowest = std::numeric_limits<int32_t>::min(); name = "int32"; break;
    case at::kShort: lowest = std::numeric_limits<int16_t>::min(); name = "int16"; break;
    case at::kChar: lowest = std::numeric_limits<int8_t>::min(); name = "int8"; break;
    default: return;   // floating point, bool, or uint8 (which has no -1)
    }
    const bool overflows = a.to(type).eq(lowest).logical_and(b.to(type).eq(-1)).any().item<bool>();
    TORCH_CHECK(!overflows, "integer overflow: ", lowest, " (the smallest ", name, ") divided by -1 does not fit in ", name);
}

at::Tensor binary_op(int op, const at::Tensor &a, const at::Tensor &b) {
    at::Tensor r;
    if (op == CT_REMAINDER || op == CT_FLOOR_DIVIDE) check_integer_division(a, b);
    switch (op) {
    case CT_ADD: r = a + b; break;
    case CT_SUB: r = a - b; break;
    case CT_MUL: r = a * b; break;
    case CT_DIV: r = a / b; break;
    case CT_POW: r = a.pow(b); break;
    case CT_MAXIMUM: r = at::maximum(a, b); break;
    case CT_MINIMUM: r = at::minimum(a, b); break;
    case CT_REMAINDER: r = a.remainder(b); break;
    case CT_FLOOR_DIVIDE: r = at::div(a, b, "floor"); break;
    case CT_EQ: r = a.eq(b); break;
    case CT_NE: r = a.ne(b); break;
    case CT_LT: r = a.lt(b); break;
    case CT_LE: r = a.le(b); break;
    case CT_GT: r = a.gt(b); break;
    case CT_GE: r = a.ge(b); break;
    case CT_LOGICAL_AND: r = a.logical_and(b); break;
    case CT_LOGICAL_OR: r = a.logical_or(b); break;
    case CT_ATAN2: r = a.atan2(b); break;
    default: TORCH_CHECK(false, "unknown binary op ", op);
    }
    return r;
}
}  // namespace

extern "C" {

// ---- runtime -------------------------------------------------------------------------------
const char *ct_last_error(void) { return ctorch::last_error().c_str(); }
const char *ct_version(void) { return TORCH_VERSION; }

int ct_init_threads(void) {
    int result = 1;
    // Tensors are large and short-lived: keep freed memory in the heap for the next ones instead
    // of returning it to the system and faulting fresh pages in again (set LUNETTE_MALLOC_TRIM=1
    // to keep glibc's defaults).
    const char *trim = std::getenv("LUNETTE_MALLOC_TRIM");
    if (trim == nullptr || *trim == '\0') {
        mallopt(M_MMAP_MAX, 0);
        mallopt(M_TRIM_THRESHOLD, 1 << 30);
    }
    guarded([&] {
        const char *omp = std::getenv("OMP_NUM_THREADS");
        if (omp == nullptr || *omp == '\0') {
            long cores = sysconf(_SC_NPROCESSORS_ONLN);
            if (cores > at::get_num_threads()) at::set_num_threads(static_cast<int>(cores));
        }
        result = at::get_num_threads();
        sync_blas_threads(result);
#ifdef LUNETTE_TORCH_CUDA
        // fp32 means fp32 on CUDA too: cuDNN and cuBLAS would otherwise multiply fp32 in TF32
        // (10-bit mantissas) on Ampere and later. Reduced precision is asked for by name.
        at::globalContext().setAllowTF32CuDNN(false);
        at::globalContext().setAllowTF32CuBLAS(false);
#endif
    });
    return result;
}

int ct_get_num_threads(void) {
    int n = 1;
    guarded([&] { n = at::get_num_threads(); });
    return n;
}

int ct_set_num_threads(int n) {
    return guarded([&] {
        TORCH_CHECK(n > 0, "thread count must be positive, got ", n);
        at::set_num_threads(n);
        sync_blas_threads(n);
    });
}

int ct_cuda_is_available(void) {
    int available = 0;
    guarded([&] { available = torch::cuda::is_available() ? 1 : 0; });
    return available;
}

int ct_cuda_device_count(void) {
    int count = 0;
    guarded([&] { count = static_cast<int>(torch::cuda::device_count()); });
    return count;
}

int ct_built_with_cuda(void) {
#ifdef LUNETTE_TORCH_CUDA
    return 1;
#else
    return 0;
#endif
}

int ct_manual_seed(uint64_t seed) { return guarded([&] { torch::manual_seed(seed); }); }

int ct_set_grad_enabled(int enabled) {
    int previous = at::GradMode::is_enabled() ? 1 : 0;
    at::GradMode::set_enabled(enabled != 0);
    return previous;
}

int ct_is_grad_enabled(void) { return at::GradMode::is_enabled() ? 1 : 0; }

// ---- lifetime and facts --------------------------------------------------------------------
void ct_free(ct_tensor t) { delete reinterpret_cast<at::Tensor *>(t); }

int ct_dim(ct_tensor t) {
    int d = -1;
    guarded([&] { d = static_cast<int>(T(t).dim()); });
    return d;
}

int64_t ct_numel(ct_tensor t) {
    int64_t n = -1;
    guarded([&] { n = T(t).numel(); });
    return n;
}

int ct_sizes(ct_tensor t, int64_t *out, int capacity) {
    return guarded([&] {
        auto s = T(t).sizes();
        TORCH_CHECK(static_cast<int>(s.size()) <= capacity, "too many dimensions");
        for (size_t i = 0; i < s.size(); i++) out[i] = s[i];
    });
}

int ct_strides(ct_tensor t, int64_t *out, int capacity) {
    return guarded([&] {
        auto s = T(t).strides();
        TORCH_CHECK(static_cast<int>(s.size()) <= capacity, "too many dimensions");
        for (size_t i = 0; i < s.size(); i++) out[i] = s[i];
    });
}

int ct_dtype(ct_tensor t) {
    int d = -1;
    guarded([&] { d = static_cast<int>(T(t).scalar_type()); });
    return d;
}

int ct_device(ct_tensor t, int *type, int *index) {
    return guarded([&] {
        auto d = T(t).device();
        *type = d.is_cuda() ? 1 : 0;
        *index = d.has_index() ? d.index() : -1;
    });
}

int ct_is_contiguous(ct_tensor t) {
    int c = 0;
    guarded([&] { c = T(t).is_contiguous() ? 1 : 0; });
    return c;
}

int ct_requires_grad(ct_tensor t) {
    int r = 0;
    guarded([&] { r = T(t).requires_grad() ? 1 : 0; });
    return r;
}


void *ct_data_ptr(ct_tensor t) {
    void *p = nullptr;
    guarded([&] {
        auto &x = T(t);
        if (x.device().is_cpu()) p = x.data_ptr();
    });
    return p;
}

int ct_item_double(ct_tensor t, double *out) { return guarded([&] { *out = T(t).item<double>(); }); }
int ct_item_int64(ct_tensor t, int64_t *out) { return guarded([&] { *out = T(t).item<int64_t>(); }); }

int ct_copy_to_buffer(ct_tensor t, void *dst, size_t nbytes) {
    return guarded([&] {
        at::Tensor c = T(t).detach().to(at::kCPU).contiguous();
        size_t have = static_cast<size_t>(c.numel()) * c.element_size();
        TORCH_CHECK(have == nbytes, "buffer of ", nbytes, " bytes for a tensor of ", have, " bytes");
        if (have > 0) std::memcpy(dst, c.data_ptr(), have);
    });
}

// ---- creation ------------------------------------------------------------------------------
int ct_empty(const int64_t *s, int n, int dt, int devt, int devi, ct_tensor *out) {
    return guarded([&] { *out = wrap(at::empty(dims(s, n), options(dt, devt, devi))); });
}
int ct_zeros(const int64_t *s, int n, int dt, int devt, int devi, ct_tensor *out) {
    return guarded([&] { *out = wrap(at::zeros(dims(s, n), options(dt, devt, devi))); });
}
int ct_ones(const int64_t *s, int n, int dt, int devt, int devi, ct_tensor *out) {
    return guarded([&] { *out = wrap(at::ones(dims(s, n), options(dt, devt, devi))); });
}
int ct_full(const int64_t *s, int n, double v, int dt, int devt, int devi, ct_tensor *out) {
    return guarded([&] { *out = wrap(at::full(dims(s, n), v, options(dt, devt, devi))); });
}
int ct_arange(double start, double end, double step, int dt, int devt, int devi, ct_tensor *out) {
    return guarded([&] { *out = wrap(at::arange(start, end, step, options(dt, devt, devi))); });
}
int ct_linspace(double start, double end, int64_t steps, int dt, int devt, int devi, ct_tensor *out) {
    return guarded([&] { *out = wrap(at::linspace(start, end, steps, options(dt, devt, devi))); });
}
int ct_rand(const int64_t *s, int n, int dt, int devt, int devi, ct_tensor *out) {
    return guarded([&] { *out = wrap(at::rand(dims(s, n), options(dt, devt, devi))); });
}
int ct_randn(const int64_t *s, int n, int dt, int devt, int devi, ct_tensor *out) {
    return guarded([&] { *out = wrap(at::randn(dims(s, n), options(dt, devt, devi))); });
}
int ct_randint(int64_t low, int64_t high, const int64_t *s, int n, int dt, int devt, int devi, ct_tensor *out) {
    return guarded([&] { *out = wrap(at::randint(low, high, dims(s, n), options(dt, devt, devi))); });
}
int ct_randperm(int64_t n, int devt, int devi, ct_tensor *out) {
    return guarded([&] { *out = wrap(at::randperm(n, options(4, devt, devi))); });
}

int ct_from_blob(void *data, const int64_t *s, int n, int dt, void (*deleter)(void *), void *context, ct_tensor *out) {
    return guarded([&] {
        auto del = [deleter, context](void *) {
            if (deleter) deleter(context);
        };
        *out = wrap(at::from_blob(data, dims(s, n), del, at::TensorOptions().dtype(scalar_type(dt))));
    });
}

int ct_from_buffer(const void *data, size_t nbytes, const int64_t *s, int n, int dt, ct_tensor *out) {
    return guarded([&] {
        at::Tensor x = at::empty(dims(s, n), at::TensorOptions().dtype(scalar_type(dt)));
        size_t want = static_cast<size_t>(x.numel()) * x.element_size();
        TORCH_CHECK(want == nbytes, "buffer of ", nbytes, " bytes for a tensor of ", want, " bytes");
        if (want > 0) std::memcpy(x.data_ptr(), data, want);
        *out = wrap(std::move(x));
    });
}

int ct_scalar_tensor(double value, int dt, ct_tensor *out) {
    return guarded([&] { *out = wrap(at::scalar_tensor(value, at::TensorOptions().dtype(scalar_type(dt)))); });
}

// ---- conversion ----------------------------------------------------------------------------
int ct_to(ct_tensor t, int dt, int devt, int devi, int copy, ct_tensor *out) {
    return guarded([&] { *out = wrap(T(t).to(device(devt, devi), scalar_type(dt), false, copy != 0)); });
}
int ct_contiguous(ct_tensor t, ct_tensor *out) { return guarded([&] { *out = wrap(T(t).contiguous()); }); }
int ct_channels_last(ct_tensor t, ct_tensor *out) {
    return guarded([&] { *out = wrap(T(t).contiguous(at::MemoryFormat::ChannelsLast)); });
}
int ct_clone(ct_tensor t, ct_tensor *out) { return guarded([&] { *out = wrap(T(t).clone()); }); }
int ct_detach(ct_tensor t, ct_tensor *out) { return guarded([&] { *out = wrap(T(t).detach()); }); }

// ---- shape and indexing --------------------------------------------------------------------
int ct_reshape(ct_tensor t, const int64_t *s, int n, ct_tensor *out) {
    return guarded([&] { *out = wrap(T(t).reshape(dims(s, n))); });
}
int ct_view(ct_tensor t, const int64_t *s, int n, ct_tensor *out) {
    return guarded([&] { *out = wrap(T(t).view(dims(s, n))); });
}
int ct_permute(ct_tensor t, const int64_t *d, int n, ct_tensor *out) {
    return guarded([&] { *out = wrap(T(t).permute(dims(d, n))); });
}
int ct_transpose(ct_tensor t, int64_t d0, int64_t d1, ct_tensor *out) {
    return guarded([&] { *out = wrap(T(t).transpose(d0, d1)); });
}
int ct_flatten(ct_tensor t, int64_t start, int64_t end, ct_tensor *out) {
    return guarded([&] { *out = wrap(T(t).flatten(start, end)); });
}
int ct_cat(const ct_tensor *ts, int n, int64_t dim, ct_tensor *out) {
    return guarded([&] { *out = wrap(at::cat(tensors(ts, n), dim)); });
}
int ct_stack(const ct_tensor *ts, int n, int64_t dim, ct_tensor *out) {
    return guarded([&] { *out = wrap(at::stack(tensors(ts, n), dim)); });
}
int ct_split(ct_tensor t, int64_t size, int64_t dim, ct_tensor *outs, int capacity, int *count) {
    return guarded([&] {
        auto parts = T(t).split(size, dim);
        *count = static_cast<int>(parts.size());
        TORCH_CHECK(*count <= capacity, "split gives ", *count, " parts, more than ", capacity);
        for (size_t i = 0; i < parts.size(); i++) outs[i] = wrap(parts[i]);
    });
}
int ct_narrow(ct_tensor t, int64_t dim, int64_t start, int64_t length, ct_tensor *out) {
    return guarded([&] { *out = wrap(T(t).narrow(dim, start, length)); });
}
int ct_slice(ct_tensor t, int64_t dim, int64_t start, int64_t end, int64_t step, ct_tensor *out) {
    return guarded([&] { *out = wrap(T(t).slice(dim, start, end, step)); });
}
int ct_select(ct_tensor t, int64_t dim, int64_t index, ct_tensor *out) {
    return guarded([&] { *out = wrap(T(t).select(dim, index)); });
}
int ct_index_select(ct_tensor t, int64_t dim, ct_tensor index, ct_tensor *out) {
    return guarded([&] { *out = wrap(T(t).index_select(dim, T(index))); });
}
int ct_masked_select(ct_tensor t, ct_tensor mask, ct_tensor *out) {
    return guarded([&] { *out = wrap(T(t).masked_select(T(mask))); });
}
int ct_masked_fill(ct_tensor t, ct_tensor mask, double value, ct_tensor *out) {
    return guarded([&] { *out = wrap(T(t).masked_fill(T(mask), value)); });
}
int ct_gather(ct_tensor t, int64_t dim, ct_tensor index, ct_tensor *out) {
    return guarded([&] { *out = wrap(T(t).gather(dim, T(index))); });
}
int ct_scatter(ct_tensor t, int64_t dim, ct_tensor index, ct_tensor src, ct_tensor *out) {
    return guarded([&] { *out = wrap(T(t).scatter(dim, T(index), T(src))); });
}
int ct_nonzero(ct_tensor t, ct_tensor *out) { return guarded([&] { *out = wrap(T(t).nonzero()); }); }
int ct_where(ct_tensor c, ct_tensor a, ct_tensor b, ct_tensor *out) {
    return guarded([&] { *out = wrap(at::where(T(c), T(a), T(b))); });
}
int ct_expand(ct_tensor t, const int64_t *s, int n, ct_tensor *out) {
    return guarded([&] { *out = wrap(T(t).expand(dims(s, n))); });
}
int ct_repeat(ct_tensor t, const int64_t *r, int n, ct_tensor *out) {
    return guarded([&] { *out = wrap(T(t).repeat(dims(r, n))); });
}
int ct_squeeze(ct_tensor t, int64_t dim, int all, ct_tensor *out) {
    return guarded([&] { *out = wrap(all ? T(t).squeeze() : T(t).squeeze(dim)); });
}
int ct_unsqueeze(ct_tensor t, int64_t dim, ct_tensor *out) {
    return guarded([&] { *out = wrap(T(t).unsqueeze(dim)); });
}
int ct_flip(ct_tensor t, const int64_t *d, int n, ct_tensor *out) {
    return guarded([&] { *out = wrap(T(t).flip(dims(d, n))); });
}
int ct_as_strided(ct_tensor t, const int64_t *s, const int64_t *st, int n, int64_t offset, ct_tensor *out) {
    return guarded([&] { *out = wrap(T(t).as_strided(dims(s, n), dims(st, n), offset)); });
}
int ct_index(ct_tensor t, ct_tensor index, ct_tensor *out) {
    return guarded([&] {
        c10::List<c10::optional<at::Tensor>> indices;
        indices.push_back(T(index));
        *out = wrap(at::index(T(t), indices));
    });
}
int ct_index_put_(ct_tensor t, ct_tensor index, ct_tensor values) {
    return guarded([&] {
        c10::List<c10::optional<at::Tensor>> indices;
        indices.push_back(T(index));
        T(t).index_put_(indices, T(values));
    });
}

// ---- math ----------------------------------------------------------------------------------
int ct_binary(int op, ct_tensor pa, ct_tensor pb, ct_tensor *out) {
    return guarded([&] { *out = wrap(binary_op(op, T(pa), T(pb))); });
}

int ct_binary_scalar(int op, ct_tensor pa, double s, int64_t i, int integral, int reversed, ct_tensor *out) {
    return guarded([&] {
        // A wrapped number takes part in type promotion as a Python scalar does: an integer keeps
        // an integer tensor integral, a float makes it floating point.
        at::Scalar sc = integral ? at::Scalar(i) : at::Scalar(s);
        at::Tensor st = c10::scalar_to_tensor(sc);
        st.unsafeGetTensorImpl()->set_wrapped_number(true);
        *out = wrap(reversed ? binary_op(op, st, T(pa)) : binary_op(op, T(pa), st));
    });
}

int ct_unary(int op, ct_tensor pa, ct_tensor *out) {
    return guarded([&] {
        const at::Tensor &a = T(pa);
        at::Tensor r;
        switch (op) {
        case CT_NEG: r = -a; break;
        case CT_EXP: r = a.exp(); break;
        case CT_LOG: r = a.log(); break;
        case CT_SQRT: r = a.sqrt(); break;
        case CT_ABS: r = a.abs(); break;
        case CT_SIGMOID: r = a.sigmoid(); break;
        case CT_RELU: r = a.relu(); break;
        case CT_FLOOR: r = a.floor(); break;
        case CT_CEIL: r = a.ceil(); break;
        case CT_ROUND: r = a.round(); break;
        case CT_SIGN: r = a.sign(); break;
        case CT_LOGICAL_NOT: r = a.logical_not(); break;
        case CT_ISNAN: r = a.isnan(); break;
        case CT_ISFINITE: r = a.isfinite(); break;
        case CT_TANH: r = a.tanh(); break;
        case CT_LOG2: r = a.log2(); break;
        case CT_RECIPROCAL: r = a.reciprocal(); break;
        case CT_SIN: r = a.sin(); break;
        case CT_COS: r = a.cos(); break;
        case CT_EXPM1: r = a.expm1(); break;
        case CT_LOG1P: r = a.log1p(); break;
        case CT_TRUNC: r = a.trunc(); break;
        default: TORCH_CHECK(false, "unknown unary op ", op);
        }
        *out = wrap(std::move(r));
    });
}

int ct_softmax(ct_tensor t, int64_t dim, ct_tensor *out) { return guarded([&] { *out = wrap(T(t).softmax(dim)); }); }
int ct_log_softmax(ct_tensor t, int64_t dim, ct_tensor *out) {
    return guarded([&] { *out = wrap(T(t).log_softmax(dim)); });
}
int ct_clamp(ct_tensor t, int has_min, double mn, int has_max, double mx, ct_tensor *out) {
    return guarded([&] {
        c10::optional<at::Scalar> lo, hi;
        if (has_min) lo = mn;
        if (has_max) hi = mx;
        *out = wrap(T(t).clamp(lo, hi));
    });
}

int ct_reduce(int op, ct_tensor pt, const int64_t *d, int nd, int keepdim, ct_tensor *out) {
    return guarded([&] {
        const at::Tensor &t = T(pt);
        bool all = nd == 0;
        at::IntArrayRef ds = all ? at::IntArrayRef() : dims(d, nd);
        bool k = keepdim != 0;
        at::Tensor r;
        switch (op) {
        case CT_SUM: r = all ? t.sum() : t.sum(ds, k); break;
        case CT_MEAN: r = all ? t.mean() : t.mean(ds, k); break;
        case CT_PROD:
            TORCH_CHECK(nd <= 1, "prod reduces over one dimension at a time");
            r = all ? t.prod() : t.prod(ds[0], k);
            break;
        case CT_AMAX: r = all ? t.max() : t.amax(ds, k); break;
        case CT_AMIN: r = all ? t.min() : t.amin(ds, k); break;
        case CT_ANY:
            TORCH_CHECK(nd <= 1, "any reduces over one dimension at a time");
            r = all ? t.any() : t.any(ds[0], k);
            break;
        case CT_ALL:
            TORCH_CHECK(nd <= 1, "all reduces over one dimension at a time");
            r = all ? t.all() : t.all(ds[0], k);
            break;
        case CT_STD: r = all ? t.std() : t.std(ds, true, k); break;
        case CT_VAR: r = all ? t.var() : t.var(ds, true, k); break;
        default: TORCH_CHECK(false, "unknown reduction op ", op);
        }
        *out = wrap(std::move(r));
    });
}

int ct_max_dim(ct_tensor t, int64_t dim, int keepdim, ct_tensor *values, ct_tensor *indices) {
    return guarded([&] {
        auto r = T(t).max(dim, keepdim != 0);
        *values = wrap(std::get<0>(r));
        *indices = wrap(std::get<1>(r));
    });
}
int ct_min_dim(ct_tensor t, int64_t dim, int keepdim, ct_tensor *values, ct_tensor *indices) {
    return guarded([&] {
        auto r = T(t).min(dim, keepdim != 0);
        *values = wrap(std::get<0>(r));
        *indices = wrap(std::get<1>(r));
    });
}
int ct_argmax(ct_tensor t, int has_dim, int64_t dim, int keepdim, ct_tensor *out) {
    return guarded([&] {
        c10::optional<int64_t> d;
        if (has_dim) d = dim;
        *out = wrap(T(t).argmax(d, keepdim != 0));
    });
}
int ct_topk(ct_tensor t, int64_t k, int64_t dim, int largest, int sorted, ct_tensor *values, ct_tensor *indices) {
    return guarded([&] {
        auto r = T(t).topk(k, dim, largest != 0, sorted != 0);
        *values = wrap(std::get<0>(r));
        *indices = wrap(std::get<1>(r));
    });
}
int ct_sort(ct_tensor t, int64_t dim, int descending, int stable, ct_tensor *values, ct_tensor *indices) {
    return guarded([&] {
        auto r = T(t).sort(c10::optional<bool>(stable != 0), dim, descending != 0);
        *values = wrap(std::get<0>(r));
        *indices = wrap(std::get<1>(r));
    });
}
int ct_cumsum(ct_tensor t, int64_t dim, ct_tensor *out) { return guarded([&] { *out = wrap(T(t).cumsum(dim)); }); }
int ct_matmul(ct_tensor a, ct_tensor b, ct_tensor *out) { return guarded([&] { *out = wrap(T(a).matmul(T(b))); }); }
int ct_linear(ct_tensor x, ct_tensor w, ct_tensor b, ct_tensor *out) {
    return guarded([&] { *out = wrap(at::linear(T(x), T(w), opt(b))); });
}
int ct_equal(ct_tensor a, ct_tensor b, int *out) { return guarded([&] { *out = T(a).equal(T(b)) ? 1 : 0; }); }
int ct_allclose(ct_tensor a, ct_tensor b, double rtol, double atol, int *out) {
    return guarded([&] { *out = T(a).allclose(T(b), rtol, atol) ? 1 : 0; });
}

// ---- neural network ops --------------------------------------------------------------------
int ct_conv2d(ct_tensor x, ct_tensor w, ct_tensor b, const int64_t stride[2], const int64_t padding[2],
              const int64_t dilation[2], int64_t groups, ct_tensor *out) {
    return guarded([&] {
        *out = wrap(at::conv2d(T(x), T(w), opt(b), at::IntArrayRef(stride, 2), at::IntArrayRef(padding, 2),
                               at::IntArrayRef(dilation, 2), groups));
    });
}
int ct_max_pool2d(ct_tensor x, const int64_t k[2], const int64_t s[2], const int64_t p[2], const int64_t d[2],
                  int ceil_mode, ct_tensor *out) {
    return guarded([&] {
        *out = wrap(at::max_pool2d(T(x), at::IntArrayRef(k, 2), at::IntArrayRef(s, 2), at::IntArrayRef(p, 2),
                                   at::IntArrayRef(d, 2), ceil_mode != 0));
    });
}
int ct_interpolate_nearest(ct_tensor x, int64_t h, int64_t w, ct_tensor *out) {
    return guarded([&] {
        std::vector<int64_t> size{h, w};
        *out = wrap(at::upsample_nearest2d(T(x), size));
    });
}
int ct_batch_norm(ct_tensor x, ct_tensor w, ct_tensor b, ct_tensor mean, ct_tensor var, int training, double momentum,
                  double eps, ct_tensor *out) {
    return guarded([&] {
        *out = wrap(at::batch_norm(T(x), opt(w), opt(b), opt(mean), opt(var), training != 0, momentum, eps, true));
    });
}
int ct_group_norm(ct_tensor x, int64_t groups, ct_tensor w, ct_tensor b, double eps, ct_tensor *out) {
    return guarded([&] { *out = wrap(at::group_norm(T(x), groups, opt(w), opt(b), eps, true)); });
}
int ct_cross_entropy(ct_tensor logits, ct_tensor targets, ct_tensor weight, int reduction, int64_t ignore_index, ct_tensor *out) {
    return guarded([&] {
        *out = wrap(at::cross_entropy_loss(T(logits), T(targets), opt(weight), reduction_code(reduction), ignore_index));
    });
}
int ct_bce_with_logits(ct_tensor x, ct_tensor y, ct_tensor weight, int reduction, ct_tensor *out) {
    return guarded([&] {
        *out = wrap(at::binary_cross_entropy_with_logits(T(x), T(y), opt(weight), c10::nullopt, reduction_code(reduction)));
    });
}
int ct_smooth_l1_loss(ct_tensor x, ct_tensor y, double beta, int reduction, ct_tensor *out) {
    return guarded([&] {
        // beta 0 is exactly L1 (Detectron2 uses it); libtorch's smooth_l1 rejects beta 0 in some versions.
        if (beta < 1e-5) {
            *out = wrap(at::l1_loss(T(x), T(y), reduction_code(reduction)));
        } else {
            *out = wrap(at::smooth_l1_loss(T(x), T(y), reduction_code(reduction), beta));
        }
    });
}
int ct_l1_loss(ct_tensor x, ct_tensor y, int reduction, ct_tensor *out) {
    return guarded([&] { *out = wrap(at::l1_loss(T(x), T(y), reduction_code(reduction))); });
}

// ---- autograd and in-place -----------------------------------------------------------------
int ct_set_requires_grad(ct_tensor t, int r) { return guarded([&] { T(t).set_requires_grad(r != 0); }); }
int ct_backward(ct_tensor t, ct_tensor gradient, int retain_graph) {
    return guarded([&] {
        c10::optional<bool> retain;
        if (retain_graph) retain = true;
        T(t).backward(gradient ? T(gradient) : at::Tensor(), retain, false);
    });
}
int ct_grad(ct_tensor t, ct_tensor *out) {
    return guarded([&] {
        const at::Tensor &g = T(t).grad();
        *out = g.defined() ? wrap(g) : nullptr;
    });
}
int ct_zero_grad(ct_tensor t) {
    return guarded([&] {
        auto &g = T(t).mutable_grad();
        if (g.defined()) g = at::Tensor();
    });
}
int ct_set_grad(ct_tensor t, ct_tensor grad) { return guarded([&] { T(t).mutable_grad() = opt(grad).value_or(at::Tensor()); }); }
int ct_add_(ct_tensor t, ct_tensor other, double alpha) { return guarded([&] { T(t).add_(T(other), alpha); }); }
int ct_relu_(ct_tensor t) { return guarded([&] { T(t).relu_(); }); }
int ct_mul_scalar_(ct_tensor t, double s) { return guarded([&] { T(t).mul_(s); }); }
int ct_copy_(ct_tensor dst, ct_tensor src) { return guarded([&] { T(dst).copy_(T(src)); }); }
int ct_fill_(ct_tensor t, double v) { return guarded([&] { T(t).fill_(v); }); }
int ct_zero_(ct_tensor t) { return guarded([&] { T(t).zero_(); }); }
int ct_normal_(ct_tensor t, double mean, double std) {
    return guarded([&] {
        at::NoGradGuard no_grad;
        T(t).normal_(mean, std);
    });
}
int ct_uniform_(ct_tensor t, double a, double b) {
    return guarded([&] {
        at::NoGradGuard no_grad;
        T(t).uniform_(a, b);
    });
}

}  // extern "C"

// ---- torch.save archives -------------------------------------------------------------------

int ct_zip_writer_open(const char *path, ct_zip_writer *out) {
    return guarded([&] { *out = reinterpret_cast<ct_zip_writer>(new caffe2::serialize::PyTorchStreamWriter(std::string(path))); });
}

int ct_zip_writer_record(ct_zip_writer w, const char *name, const void *data, size_t size) {
    return guarded([&] { reinterpret_cast<caffe2::serialize::PyTorchStreamWriter *>(w)->writeRecord(name, data, size); });
}

int ct_zip_writer_close(ct_zip_writer w) {
    auto *writer = reinterpret_cast<caffe2::serialize::PyTorchStreamWriter *>(w);
    int rc = guarded([&] { writer->writeEndOfFile(); });
    // After a failed write the writer is not finalised and its destructor would retry (and
    // throw from a destructor); it is left allocated instead. Only failures pay this.
    if (rc == 0) delete writer;
    return rc;
}

int ct_vector_norm(ct_tensor t, double p, ct_tensor *out) {
    return guarded([&] { *out = wrap(at::linalg_vector_norm(T(t), p)); });
}
