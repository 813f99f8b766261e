// Shared by the shim's translation units: handle conversion and exception capture.
#pragma once
#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <string>

#include "ctorch.h"

namespace ctorch {

inline std::string &last_error() {
    thread_local std::string message;
    return message;
}

// Runs body; turns any exception into -1 and a message for ct_last_error().
template <typename F>
int guarded(F &&body) {
    try {
        body();
        return 0;
    } catch (const c10::Error &e) {
        last_error() = e.what_without_backtrace();
    } catch (const std::exception &e) {
        last_error() = e.what();
    } catch (...) {
        last_error() = "unknown C++ exception";
    }
    return -1;
}

inline at::Tensor &T(ct_tensor t) {
    TORCH_CHECK(t != nullptr, "tensor handle is NULL (the tensor was released)");
    return *reinterpret_cast<at::Tensor *>(t);
}

inline c10::optional<at::Tensor> opt(ct_tensor t) {
    if (t == nullptr) return c10::nullopt;
    return *reinterpret_cast<at::Tensor *>(t);
}

inline ct_tensor wrap(at::Tensor t) { return reinterpret_cast<ct_tensor>(new at::Tensor(std::move(t))); }

}  // namespace ctorch
