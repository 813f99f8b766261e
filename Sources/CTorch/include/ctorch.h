// CTorch: the only code that includes libtorch headers. A flat C API: every function catches
// every C++ exception and reports failure through its return value; the message is then
// available from ct_last_error() on the same thread.
#pragma once
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// The message of the last failure on this thread ("" if none).
const char *ct_last_error(void);

// libtorch's version string, e.g. "1.13.0".
const char *ct_version(void);
// Sets the intra-op thread count to the number of online cores when libtorch started with fewer
// (Debian's build starts with one here). Honours OMP_NUM_THREADS when set. Returns the count.
int ct_init_threads(void);
int ct_get_num_threads(void);
// Returns 0 on success, -1 on failure (see ct_last_error).
int ct_set_num_threads(int n);
// 1 when the libtorch in use has CUDA and a GPU is present; never fails.
int ct_cuda_is_available(void);
int ct_cuda_device_count(void);
// 1 when this build was linked against a CUDA libtorch.
int ct_built_with_cuda(void);

#ifdef __cplusplus
}
#endif
