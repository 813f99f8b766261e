// CVision: the only code that includes OpenCV headers. A flat C API; failures are reported
// through return values and cv_last_error() on the same thread.
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

const char *cv_last_error(void);
// OpenCV's version string, e.g. "4.6.0".
const char *cv_version(void);

#ifdef __cplusplus
}
#endif
