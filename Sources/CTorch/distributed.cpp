// Collectives over libtorch's c10d: a TCPStore for rendezvous and small keys, and a process
// group (gloo; nccl in a CUDA build that has it) for tensors. Generic only: which tensors are
// reduced, in which buckets, and what a missing rank means is decided in Swift.
#include "internal.h"

// gloo's headers: Debian's libgloo-dev beside Debian's libtorch; a libtorch named by LIBTORCH
// builds gloo in only where it ships the headers of its own copy (pip wheels do not), since
// another gloo's headers would not describe the one inside it.
#if defined(LUNETTE_TORCH_EXTERNAL) ? defined(LUNETTE_TORCH_GLOO) : __has_include(<gloo/config.h>)
#define USE_C10D_GLOO 1
#endif
#if defined(LUNETTE_TORCH_CUDA) && __has_include(<nccl.h>)
#define USE_C10D_NCCL 1
#endif

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <torch/version.h>
#include <chrono>
#include <cstring>

// libtorch 2 made gloo and nccl backends of a ProcessGroup; 1.x's were process groups. Both
// give the collectives used here with the same signatures.
#if TORCH_VERSION_MAJOR >= 2
#include <torch/csrc/distributed/c10d/Backend.hpp>
using Collectives = c10d::Backend;
#else
using Collectives = c10d::ProcessGroup;
#endif

using namespace ctorch;

struct ct_store_s {
    c10::intrusive_ptr<c10d::Store> store;
};

struct ct_group_s {
    c10::intrusive_ptr<Collectives> group;
};

namespace {
std::vector<std::string> key_list(const char *const *keys, int n) {
    std::vector<std::string> out;
    for (int i = 0; i < n; i++) out.emplace_back(keys[i]);
    return out;
}

void wait_all(std::vector<c10::intrusive_ptr<c10d::Work>> &works) {
    // Every work is waited for, even after one fails, so no collective outlives its tensors.
    std::string first;
    for (auto &w : works) {
        try {
            w->wait();
        } catch (const c10::Error &e) {
            if (first.empty()) first = e.what_without_backtrace();
        } catch (const std::exception &e) {
            if (first.empty()) first = e.what();
        }
    }
    if (!first.empty()) throw std::runtime_error(first);
}
}  // namespace

int ct_backend_available(const char *backend) {
    std::string b(backend ? backend : "");
#ifdef USE_C10D_GLOO
    if (b == "gloo") return 1;
#endif
#ifdef USE_C10D_NCCL
    if (b == "nccl") return 1;
#endif
    return 0;
}

int ct_store_create(const char *host, int port, int is_server, int world_size, int64_t timeout_ms, ct_store *out) {
    return guarded([&] {
        c10d::TCPStoreOptions o;
        o.port = static_cast<std::uint16_t>(port);
        o.isServer = is_server != 0;
        if (world_size > 0) o.numWorkers = static_cast<std::size_t>(world_size);
        o.waitWorkers = false;
        o.timeout = std::chrono::milliseconds(timeout_ms);
        auto s = c10::make_intrusive<c10d::TCPStore>(std::string(host), o);
        *out = new ct_store_s{s};
    });
}

void ct_store_free(ct_store s) { delete s; }

int ct_store_set(ct_store s, const char *key, const void *value, int64_t length) {
    return guarded([&] {
        auto p = static_cast<const uint8_t *>(value);
        s->store->set(key, std::vector<uint8_t>(p, p + length));
    });
}

int ct_store_get(ct_store s, const char *key, void **value, int64_t *length) {
    return guarded([&] {
        auto v = s->store->get(key);
        *length = static_cast<int64_t>(v.size());
        *value = malloc(v.empty() ? 1 : v.size());
        TORCH_CHECK(*value != nullptr, "out of memory");
        if (!v.empty()) memcpy(*value, v.data(), v.size());
    });
}

int ct_store_add(ct_store s, const char *key, int64_t amount, int64_t *result) {
    return guarded([&] { *result = s->store->add(key, amount); });
}

int ct_store_check(ct_store s, const char *const *keys, int n, int *present) {
    return guarded([&] { *present = s->store->check(key_list(keys, n)) ? 1 : 0; });
}

int ct_store_wait(ct_store s, const char *const *keys, int n, int64_t timeout_ms) {
    return guarded([&] { s->store->wait(key_list(keys, n), std::chrono::milliseconds(timeout_ms)); });
}

int ct_group_create(ct_store s, const char *prefix, const char *backend, int rank, int world_size, const char *device_kind,
                    const char *device_value, int64_t timeout_ms, ct_group *out) {
    return guarded([&] {
        std::string b(backend), kind(device_kind ? device_kind : "default");
        auto store = c10::make_intrusive<c10d::PrefixStore>(std::string(prefix), s->store);
        auto timeout = std::chrono::milliseconds(timeout_ms);
#ifdef USE_C10D_GLOO
        if (b == "gloo") {
            auto o = c10d::ProcessGroupGloo::Options::create(timeout);
            if (kind == "interface") {
                o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(device_value));
            } else if (kind == "hostname") {
                o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(device_value));
            } else {
                o->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
            }
            o->threads = 2;
            *out = new ct_group_s{c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world_size, o)};
            return;
        }
#endif
#ifdef USE_C10D_NCCL
        if (b == "nccl") {
            auto o = c10d::ProcessGroupNCCL::Options::create();
            o->timeout = timeout;
            *out = new ct_group_s{c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, world_size, o)};
            return;
        }
#endif
        TORCH_CHECK(false, "backend '", b, "' is not in this libtorch build");
    });
}

void ct_group_free(ct_group g) { delete g; }

int ct_all_reduce_sum(ct_group g, ct_tensor *tensors, int n) {
    return guarded([&] {
        std::vector<c10::intrusive_ptr<c10d::Work>> works;
        std::vector<std::vector<at::Tensor>> holders(n);
        for (int i = 0; i < n; i++) {
            holders[i] = {T(tensors[i])};
            works.push_back(g->group->allreduce(holders[i], c10d::AllreduceOptions{}));
        }
        wait_all(works);
    });
}

int ct_broadcast(ct_group g, ct_tensor *tensors, int n, int root) {
    return guarded([&] {
        std::vector<c10::intrusive_ptr<c10d::Work>> works;
        std::vector<std::vector<at::Tensor>> holders(n);
        c10d::BroadcastOptions o;
        o.rootRank = root;
        for (int i = 0; i < n; i++) {
            holders[i] = {T(tensors[i])};
            works.push_back(g->group->broadcast(holders[i], o));
        }
        wait_all(works);
    });
}

int ct_all_gather(ct_group g, ct_tensor input, int world_size, ct_tensor *outputs) {
    return guarded([&] {
        std::vector<at::Tensor> in = {T(input)};
        std::vector<std::vector<at::Tensor>> outs(1);
        for (int i = 0; i < world_size; i++) outs[0].push_back(at::empty_like(T(input)));
        std::vector<c10::intrusive_ptr<c10d::Work>> works = {g->group->allgather(outs, in)};
        wait_all(works);
        for (int i = 0; i < world_size; i++) outputs[i] = wrap(outs[0][i]);
    });
}

int ct_barrier(ct_group g) {
    return guarded([&] {
        std::vector<c10::intrusive_ptr<c10d::Work>> works = {g->group->barrier(c10d::BarrierOptions{})};
        wait_all(works);
    });
}
