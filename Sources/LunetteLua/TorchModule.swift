import LuaHost
import Torch

extension LunetteBindings {
    static func installTorchModule(in state: LuaState) throws {
        try state.defineModule("torch", doc: "Tensors on libtorch (CPU, and CUDA where present).") { m in
            try m.value("version", .string(TorchRuntime.version), doc: "libtorch's version.")
            m.function("get_num_threads", [], returns: "integer", doc: "Intra-op threads libtorch uses.") { call in
                call.push(TorchRuntime.numThreads)
            }
            m.function("set_num_threads", [LuaParameter("n", .integer)], doc: "Sets the intra-op thread count.") { call in
                try TorchRuntime.setNumThreads(try call.integer(1))
                return 0
            }
            m.submodule("cuda", doc: "CUDA devices.") { cuda in
                cuda.function("is_available", [], returns: "boolean", doc: "True when libtorch has CUDA and a GPU is present.") { call in
                    call.push(TorchRuntime.cudaIsAvailable)
                }
                cuda.function("device_count", [], returns: "integer", doc: "Number of CUDA devices (0 without CUDA).") { call in
                    call.push(TorchRuntime.cudaDeviceCount)
                }
            }
        }
    }
}
