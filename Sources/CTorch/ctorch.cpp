#include "ctorch.h"

#include <torch/torch.h>

#include <cstdlib>
#include <string>
#include <thread>
#include <unistd.h>

namespace {
thread_local std::string last_error;

template <typename F>
int guarded(F &&body) {
    try {
        body();
        last_error.clear();
        return 0;
    } catch (const c10::Error &e) {
        last_error = e.what_without_backtrace();
    } catch (const std::exception &e) {
        last_error = e.what();
    } catch (...) {
        last_error = "unknown C++ exception";
    }
    return -1;
}
}  // namespace

extern "C" {

const char *ct_last_error(void) { return last_error.c_str(); }

const char *ct_version(void) { return TORCH_VERSION; }

int ct_init_threads(void) {
    int result = 1;
    guarded([&] {
        const char *omp = std::getenv("OMP_NUM_THREADS");
        if (omp == nullptr || *omp == '\0') {
            long cores = sysconf(_SC_NPROCESSORS_ONLN);
            if (cores > at::get_num_threads()) at::set_num_threads(static_cast<int>(cores));
        }
        result = at::get_num_threads();
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

}  // extern "C"
