#include "cvision.h"

#include <opencv2/core.hpp>

#include <string>

namespace {
thread_local std::string last_error;
}

extern "C" {

const char *cv_last_error(void) { return last_error.c_str(); }

const char *cv_version(void) { return CV_VERSION; }

}  // extern "C"
