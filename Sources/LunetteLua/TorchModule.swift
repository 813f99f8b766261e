import CLua
import LuaHost
import Detection
import Torch

/// The `torch` module: tensors as Torch7 users know them. Positions written in Lua (t[i],
/// dimensions, narrow's start) are 1-based, negative counting from the end; index values stored
/// inside tensors (argmax, topk, sort, nms) stay 0-based as in PyTorch and Detectron2.
extension LunetteBindings {
    static let tensorClass = "torch.Tensor"

    static func installTorchModule(in state: LuaState) throws {
        try defineTensorClass(in: state)
        try state.defineModule("torch", doc: "Tensors on libtorch (CPU, and CUDA where present).") { m in
            try m.value("version", .string(TorchRuntime.version), doc: "libtorch's version.")
            m.function("get_num_threads", [], returns: "integer", doc: "Intra-op threads libtorch uses.") { call in
                call.push(TorchRuntime.numThreads)
            }
            m.function("set_num_threads", [LuaParameter("n", .integer)], doc: "Sets the intra-op thread count.") { call in
                try TorchRuntime.setNumThreads(try call.integer(1))
                return 0
            }
            m.function("manual_seed", [LuaParameter("seed", .integer)], doc: "Seeds the random generators (CPU and CUDA) for reproducible runs.") { call in
                try TorchRuntime.manualSeed(UInt64(bitPattern: Int64(try call.integer(1))))
                return 0
            }
            m.function("tensor", [LuaParameter("data", .any), LuaParameter("options", .any, optional: true)], returns: "Tensor",
                       doc: "A tensor from a number or nested tables: torch.tensor{{1, 2}, {3, 4}}; integers give int64, floats float32; options {dtype=, device=, requires_grad=} or a dtype name.") { call in
                let options = try tensorOptions(call, 2)
                let value = try call.value(1)
                var t = try tensorFromLua(value, dtype: options.dtype)
                t = try options.apply(to: t)
                return call.push(object: t)
            }
            for (name, doc) in [("zeros", "A tensor of zeros: torch.zeros{2, 3} or torch.zeros(2, 3), with optional {dtype=, device=}."),
                                ("ones", "A tensor of ones: torch.ones{2, 3}."),
                                ("empty", "An uninitialised tensor: torch.empty{2, 3}."),
                                ("rand", "Uniform random values in [0, 1): torch.rand{2, 3}."),
                                ("randn", "Standard normal random values: torch.randn{2, 3}.")] {
                m.function(name, nil, returns: "Tensor", doc: doc) { call in
                    let (sizes, optionsIndex) = try sizesArgument(call, from: 1)
                    let o = try tensorOptions(call, optionsIndex)
                    let dtype = o.dtype ?? .float32, device = o.device ?? .cpu
                    let t: Tensor
                    switch name {
                    case "zeros": t = try Tensor.zeros(sizes, dtype: dtype, device: device)
                    case "ones": t = try Tensor.ones(sizes, dtype: dtype, device: device)
                    case "empty": t = try Tensor.empty(sizes, dtype: dtype, device: device)
                    case "rand": t = try Tensor.rand(sizes, dtype: dtype, device: device)
                    default: t = try Tensor.randn(sizes, dtype: dtype, device: device)
                    }
                    if o.requiresGrad { try t.requiresGrad(true) }
                    return call.push(object: t)
                }
            }
            m.function("full", [LuaParameter("sizes", .table), LuaParameter("value", .number), LuaParameter("options", .any, optional: true)],
                       returns: "Tensor", doc: "A tensor filled with value: torch.full({2, 2}, 7).") { call in
                let sizes = try call.decode([Int].self, 1)
                let o = try tensorOptions(call, 3)
                let integral = lh_isinteger(call.L, 2) != 0
                let t = try Tensor.full(sizes, try call.number(2), dtype: o.dtype ?? (integral ? .int64 : .float32), device: o.device ?? .cpu)
                return call.push(object: t)
            }
            m.function("randint", [LuaParameter("low", .integer), LuaParameter("high", .integer), LuaParameter("sizes", .table),
                                   LuaParameter("options", .any, optional: true)],
                       returns: "Tensor", doc: "Random integers in [low, high): torch.randint(0, 10, {3}).") { call in
                let o = try tensorOptions(call, 4)
                let t = try Tensor.randint(try call.integer(1), try call.integer(2), try call.decode([Int].self, 3),
                                           dtype: o.dtype ?? .int64, device: o.device ?? .cpu)
                return call.push(object: t)
            }
            m.function("arange", [LuaParameter("start", .number), LuaParameter("stop", .number, optional: true),
                                  LuaParameter("step", .number, optional: true), LuaParameter("options", .any, optional: true)],
                       returns: "Tensor", doc: "Values from start up to (not including) stop: torch.arange(5) is 0..4, torch.arange(1, 2, 0.25).") { call in
                var start = 0.0, stop = try call.number(1)
                var integral = lh_isinteger(call.L, 1) != 0
                if !call.isNone(2) {
                    start = stop
                    stop = try call.number(2)
                    integral = integral && lh_isinteger(call.L, 2) != 0
                }
                let step = try call.optionalNumber(3) ?? 1
                if !call.isNone(3) { integral = integral && lh_isinteger(call.L, 3) != 0 }
                let o = try tensorOptions(call, 4)
                let t = try Tensor.arange(start, stop, step: step, dtype: o.dtype ?? (integral ? .int64 : .float32), device: o.device ?? .cpu)
                return call.push(object: t)
            }
            m.function("linspace", [LuaParameter("start", .number), LuaParameter("stop", .number), LuaParameter("steps", .integer),
                                    LuaParameter("options", .any, optional: true)],
                       returns: "Tensor", doc: "steps values evenly spaced from start to stop, both included.") { call in
                let o = try tensorOptions(call, 4)
                return call.push(object: try Tensor.linspace(try call.number(1), try call.number(2), steps: try call.integer(3),
                                                             dtype: o.dtype ?? .float32, device: o.device ?? .cpu))
            }
            m.function("cat", [LuaParameter("tensors", .table), LuaParameter("dim", .integer, optional: true)], returns: "Tensor",
                       doc: "Concatenates tensors along dim (1-based, default 1).") { call in
                let list = try tensorList(call, 1)
                let dim = try luaDim(call.optionalInteger(2) ?? 1, rank: list.first?.dim ?? 1, call, 2)
                return call.push(object: try Tensor.cat(list, dim: dim))
            }
            m.function("stack", [LuaParameter("tensors", .table), LuaParameter("dim", .integer, optional: true)], returns: "Tensor",
                       doc: "Stacks tensors along a new dim (1-based, default 1).") { call in
                let list = try tensorList(call, 1)
                let dim = try luaDim(call.optionalInteger(2) ?? 1, rank: (list.first?.dim ?? 0) + 1, call, 2)
                return call.push(object: try Tensor.stack(list, dim: dim))
            }
            m.function("where", [LuaParameter("condition", .object(tensorClass)), LuaParameter("a", .any), LuaParameter("b", .any)],
                       returns: "Tensor", doc: "Elementwise condition ? a : b (tensors or numbers).") { call in
                let c = try call.object(Tensor.self, 1)
                let a = try tensorOrScalar(call, 2, like: c), b = try tensorOrScalar(call, 3, like: c)
                return call.push(object: try Tensor.where(c, a, b))
            }
            m.function("no_grad", [LuaParameter("f", .function)], returns: "...",
                       doc: "Calls f() without recording gradients and returns its results.") { call in
                let f = try call.function(1)
                let results = try noGrad { try call.state.call(f, []) }
                for r in results { call.push(r) }
                return call.results
            }
            m.function("is_grad_enabled", [], returns: "boolean", doc: "Whether operations record gradients now.") { call in
                call.push(TorchRuntime.isGradEnabled)
            }
            m.function("nms", [LuaParameter("boxes", .object(tensorClass)), LuaParameter("scores", .object(tensorClass)),
                               LuaParameter("iou_threshold", .number)], returns: "Tensor",
                       doc: "Greedy non-maximum suppression: 0-based indices (int64) of kept boxes (N, 4 as x1, y1, x2, y2), by decreasing score.") { call in
                call.push(object: try DetectionOps.nms(boxes: try call.object(Tensor.self, 1), scores: try call.object(Tensor.self, 2),
                                                       iouThreshold: try call.number(3)))
            }
            m.function("batched_nms", [LuaParameter("boxes", .object(tensorClass)), LuaParameter("scores", .object(tensorClass)),
                                       LuaParameter("idxs", .object(tensorClass)), LuaParameter("iou_threshold", .number)], returns: "Tensor",
                       doc: "NMS within each category of idxs: boxes of different categories never suppress each other.") { call in
                call.push(object: try DetectionOps.batchedNMS(boxes: try call.object(Tensor.self, 1), scores: try call.object(Tensor.self, 2),
                                                              idxs: try call.object(Tensor.self, 3), iouThreshold: try call.number(4)))
            }
            m.function("roi_align", [LuaParameter("input", .object(tensorClass)), LuaParameter("rois", .object(tensorClass)),
                                     LuaParameter("output_size", .any), LuaParameter("spatial_scale", .number, optional: true),
                                     LuaParameter("sampling_ratio", .integer, optional: true), LuaParameter("aligned", .boolean, optional: true)],
                       returns: "Tensor",
                       doc: "ROIAlign of input (N, C, H, W) over rois (K, 5 as batch, x1, y1, x2, y2): (K, C, h, w). output_size is n or {h, w}; aligned (default true) is Detectron2's ROIAlignV2; sampling_ratio 0 is adaptive.") { call in
                let size: (Int, Int)
                if call.type(3) == LUA_TTABLE {
                    let s = try call.decode([Int].self, 3)
                    guard s.count == 2 else { throw call.argumentError(3, "output_size must be n or {h, w}") }
                    size = (s[0], s[1])
                } else {
                    let n = try call.integer(3)
                    size = (n, n)
                }
                let t = try DetectionOps.roiAlign(try call.object(Tensor.self, 1), rois: try call.object(Tensor.self, 2),
                                                  spatialScale: try call.optionalNumber(4) ?? 1, outputSize: size,
                                                  samplingRatio: try call.optionalInteger(5) ?? 0, aligned: try call.optionalBoolean(6) ?? true)
                return call.push(object: t)
            }
            installNeuralFunctions(m)
            m.function("save", [LuaParameter("tensors", .table), LuaParameter("path", .string)],
                       doc: "Writes a table of named tensors as a .safetensors file (atomically).") { call in
                let table = try call.decode([String: LuaValue].self, 1)
                var list: [(String, Tensor)] = []
                for (name, v) in table.sorted(by: { $0.key < $1.key }) {
                    guard case .object(let o) = v, let t = o as? Tensor else {
                        throw call.argumentError(1, "'\(name)' is a \(v.typeName), not a tensor")
                    }
                    list.append((name, t))
                }
                try SafeTensors.write(list.map { (name: $0.0, tensor: $0.1) }, to: try call.string(2))
                return 0
            }
            m.function("load", [LuaParameter("path", .string)], returns: "table",
                       doc: "Reads tensors into a table name -> tensor: a .safetensors file, or a checkpoint (torch .pth, Detectron2 .pkl) whose state dict it returns; never runs code from the file.") { call in
                let file = try Checkpoint.load(try call.string(1))
                var table = LuaTable()
                for (name, t) in file.model { table.hash[.string(name)] = .object(t) }
                return call.push(.table(table))
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

    /// torch.conv2d, torch.max_pool2d, losses...: the functional neural-network operations.
    static func installNeuralFunctions(_ m: LuaModuleBuilder) {
        let T = tensorClass
        m.function("conv2d", [LuaParameter("input", .object(T)), LuaParameter("weight", .object(T)), LuaParameter("bias", .object(T), optional: true),
                              LuaParameter("stride", .integer, optional: true), LuaParameter("padding", .integer, optional: true),
                              LuaParameter("dilation", .integer, optional: true), LuaParameter("groups", .integer, optional: true)],
                   returns: "Tensor", doc: "2-D convolution of (N, C, H, W) with weight (O, C/groups, kh, kw).") { call in
            let bias = call.isNone(3) ? nil : try call.object(Tensor.self, 3)
            let s = try call.optionalInteger(4) ?? 1, p = try call.optionalInteger(5) ?? 0, d = try call.optionalInteger(6) ?? 1
            return call.push(object: try NN.conv2d(try call.object(Tensor.self, 1), weight: try call.object(Tensor.self, 2), bias: bias,
                                                   stride: (s, s), padding: (p, p), dilation: (d, d), groups: try call.optionalInteger(7) ?? 1))
        }
        m.function("max_pool2d", [LuaParameter("input", .object(T)), LuaParameter("kernel", .integer), LuaParameter("stride", .integer, optional: true),
                                  LuaParameter("padding", .integer, optional: true)],
                   returns: "Tensor", doc: "2-D max pooling (stride defaults to the kernel size).") { call in
            call.push(object: try NN.maxPool2d(try call.object(Tensor.self, 1), kernel: try call.integer(2), stride: try call.optionalInteger(3),
                                               padding: try call.optionalInteger(4) ?? 0))
        }
        m.function("interpolate", [LuaParameter("input", .object(T)), LuaParameter("size", .table)], returns: "Tensor",
                   doc: "Nearest-neighbour resize of (N, C, H, W) to size {h, w}.") { call in
            let size = try call.decode([Int].self, 2)
            guard size.count == 2 else { throw call.argumentError(2, "size must be {h, w}") }
            return call.push(object: try NN.interpolateNearest(try call.object(Tensor.self, 1), height: size[0], width: size[1]))
        }
        m.function("linear", [LuaParameter("input", .object(T)), LuaParameter("weight", .object(T)), LuaParameter("bias", .object(T), optional: true)],
                   returns: "Tensor", doc: "input @ weight^T + bias.") { call in
            let bias = call.isNone(3) ? nil : try call.object(Tensor.self, 3)
            return call.push(object: try NN.linear(try call.object(Tensor.self, 1), weight: try call.object(Tensor.self, 2), bias: bias))
        }
        func reduction(_ call: LuaCall, _ idx: Int32) throws -> NN.LossReduction {
            switch try call.optionalString(idx) ?? "mean" {
            case "mean": return .mean
            case "sum": return .sum
            case "none": return .none
            case let other: throw call.argumentError(idx, "reduction must be \"mean\", \"sum\" or \"none\", got \"\(other)\"")
            }
        }
        m.function("cross_entropy", [LuaParameter("logits", .object(T)), LuaParameter("targets", .object(T)), LuaParameter("reduction", .string, optional: true)],
                   returns: "Tensor", doc: "Softmax cross-entropy of (N, C) logits against int64 class ids (0-based).") { call in
            call.push(object: try NN.crossEntropy(try call.object(Tensor.self, 1), try call.object(Tensor.self, 2), reduction: try reduction(call, 3)))
        }
        m.function("binary_cross_entropy_with_logits", [LuaParameter("logits", .object(T)), LuaParameter("targets", .object(T)),
                                                        LuaParameter("reduction", .string, optional: true)],
                   returns: "Tensor", doc: "Sigmoid binary cross-entropy.") { call in
            call.push(object: try NN.binaryCrossEntropyWithLogits(try call.object(Tensor.self, 1), try call.object(Tensor.self, 2),
                                                                  reduction: try reduction(call, 3)))
        }
        m.function("smooth_l1_loss", [LuaParameter("input", .object(T)), LuaParameter("target", .object(T)), LuaParameter("beta", .number, optional: true),
                                      LuaParameter("reduction", .string, optional: true)],
                   returns: "Tensor", doc: "Smooth L1 (Huber) loss; beta 0 is L1, as in Detectron2.") { call in
            call.push(object: try NN.smoothL1(try call.object(Tensor.self, 1), try call.object(Tensor.self, 2), beta: try call.optionalNumber(3) ?? 1,
                                              reduction: try reduction(call, 4)))
        }
        m.function("l1_loss", [LuaParameter("input", .object(T)), LuaParameter("target", .object(T)), LuaParameter("reduction", .string, optional: true)],
                   returns: "Tensor", doc: "Mean absolute error.") { call in
            call.push(object: try NN.l1(try call.object(Tensor.self, 1), try call.object(Tensor.self, 2), reduction: try reduction(call, 3)))
        }
    }

    // MARK: argument helpers

    struct TensorOptions {
        var dtype: DType?
        var device: Device?
        var requiresGrad = false

        func apply(to t: Tensor) throws -> Tensor {
            var r = t
            if dtype != nil && dtype != t.dtype || device != nil && device != t.device {
                r = try t.to(dtype: dtype, device: device)
            }
            if requiresGrad { try r.requiresGrad(true) }
            return r
        }
    }

    /// Options at idx: nil, a dtype name, or {dtype=, device=, requires_grad=}.
    static func tensorOptions(_ call: LuaCall, _ idx: Int32?) throws -> TensorOptions {
        var o = TensorOptions()
        guard let idx, !call.isNone(idx) else { return o }
        if call.type(idx) == LUA_TSTRING {
            let name = try call.string(idx)
            guard let d = DType(name: name) else { throw call.argumentError(idx, "unknown dtype '\(name)'") }
            o.dtype = d
            return o
        }
        let table = try call.options(idx, allowed: ["device", "dtype", "requires_grad"])
        for (key, value) in table {
            switch (key, value) {
            case ("dtype", .string(let name)):
                guard let d = DType(name: name) else { throw call.argumentError(idx, "unknown dtype '\(name)'") }
                o.dtype = d
            case ("device", .string(let name)):
                do { o.device = try Device(parsing: name) } catch { throw call.argumentError(idx, "\(error)") }
            case ("requires_grad", .boolean(let b)):
                o.requiresGrad = b
            default:
                throw call.argumentError(idx, "option '\(key)' must be \(key == "requires_grad" ? "a boolean" : "a string"), not a \(value.typeName)")
            }
        }
        return o
    }

    /// Sizes as {2, 3} or as 2, 3; returns them and the index of what follows (options).
    static func sizesArgument(_ call: LuaCall, from idx: Int32) throws -> ([Int], Int32) {
        if call.type(idx) == LUA_TTABLE {
            return (try call.decode([Int].self, idx), idx + 1)
        }
        var sizes: [Int] = []
        var i = idx
        while i <= call.count && call.type(i) == LUA_TNUMBER {
            sizes.append(try call.integer(i))
            i += 1
        }
        if sizes.isEmpty && i <= call.count { throw call.argumentError(idx, "sizes expected as {d1, d2, ...} or d1, d2, ...") }
        return (sizes, i)
    }

    static func tensorList(_ call: LuaCall, _ idx: Int32) throws -> [Tensor] {
        let items = try call.decode([LuaValue].self, idx)
        guard !items.isEmpty else { throw call.argumentError(idx, "expected a non-empty list of tensors") }
        return try items.enumerated().map { i, v in
            guard case .object(let o) = v, let t = o as? Tensor else {
                throw call.argumentError(idx, "element [\(i + 1)] is a \(v.typeName), not a tensor")
            }
            return t
        }
    }

    /// A 1-based Lua dimension to libtorch's 0-based one (negative counts from the end).
    static func luaDim(_ d: Int, rank: Int, _ call: LuaCall, _ idx: Int32) throws -> Int {
        if d >= 1 && d <= Swift.max(rank, 1) { return d - 1 }
        if d < 0 && d >= -Swift.max(rank, 1) { return d }
        throw call.argumentError(idx, "dimension \(d) is out of range for a tensor of \(rank) dimension\(rank == 1 ? "" : "s") (dimensions are 1-based)")
    }

    /// A tensor, or a number made into a tensor on the device of `like`.
    static func tensorOrScalar(_ call: LuaCall, _ idx: Int32, like: Tensor) throws -> Tensor {
        if call.type(idx) == LUA_TNUMBER {
            let integral = lh_isinteger(call.L, idx) != 0
            let dtype: DType = integral && !like.dtype.isFloatingPoint && like.dtype != .bool ? like.dtype : (like.dtype.isFloatingPoint ? like.dtype : .float32)
            return try Tensor.scalar(try call.number(idx), dtype: dtype).to(device: like.device)
        }
        return try call.object(Tensor.self, idx)
    }

    /// The values an integer dtype holds (inclusive), or nil for floating point and bool.
    static func integerRange(_ d: DType) -> (Int64, Int64)? {
        switch d {
        case .int64: return (.min, .max)
        case .int32: return (Int64(Int32.min), Int64(Int32.max))
        case .int16: return (Int64(Int16.min), Int64(Int16.max))
        case .int8: return (Int64(Int8.min), Int64(Int8.max))
        case .uint8: return (0, 255)
        default: return nil
        }
    }

    /// Builds a tensor from a Lua number, boolean or nested table.
    static func tensorFromLua(_ value: LuaValue, dtype: DType?) throws -> Tensor {
        var shape: [Int] = []
        var flat: [Double] = []
        var ints: [Int64] = []
        var sawFloat = false, sawBool = false, sawNumber = false
        func walk(_ v: LuaValue, depth: Int, path: String) throws {
            switch v {
            case .integer(let i):
                guard depth == shape.count else { throw LuaError.message("element \(path) is a number where a table was expected (ragged nesting)") }
                flat.append(Double(i)); ints.append(i); sawNumber = true
            case .number(let d):
                guard depth == shape.count else { throw LuaError.message("element \(path) is a number where a table was expected (ragged nesting)") }
                flat.append(d); ints.append(0); sawFloat = true; sawNumber = true
            case .boolean(let b):
                guard depth == shape.count else { throw LuaError.message("element \(path) is a boolean where a table was expected (ragged nesting)") }
                flat.append(b ? 1 : 0); ints.append(b ? 1 : 0); sawBool = true
            case .table(let t):
                guard t.hash.isEmpty else { throw LuaError.message("element \(path.isEmpty ? "data" : path) has non-sequence keys") }
                if depth == shape.count {
                    guard flat.isEmpty else { throw LuaError.message("element \(path) is a table where a number was expected (ragged nesting)") }
                    shape.append(t.array.count)
                } else if depth > shape.count || shape[depth] != t.array.count {
                    throw LuaError.message("element \(path.isEmpty ? "data" : path) has \(t.array.count) items where \(depth < shape.count ? shape[depth] : 0) were expected (ragged nesting)")
                }
                for (i, item) in t.array.enumerated() { try walk(item, depth: depth + 1, path: path + "[\(i + 1)]") }
            default:
                throw LuaError.message("element \(path.isEmpty ? "data" : path) is a \(v.typeName); tensors hold numbers and booleans")
            }
        }
        try walk(value, depth: 0, path: "")
        if sawBool && sawNumber { throw LuaError.message("a tensor cannot mix booleans and numbers") }
        let inferred: DType = sawBool ? .bool : (sawFloat ? .float32 : (flat.isEmpty ? .float32 : .int64))
        // Integers go through int64 so that values beyond 2^53 stay exact.
        let t = sawFloat ? try Tensor(flat, shape: shape) : try Tensor(ints, shape: shape)
        let target = dtype ?? inferred
        // A value an integer dtype cannot hold is an error, not a wrapped number (torch.full and
        // fill_ refuse the same values).
        if let (low, high) = integerRange(target) {
            for (k, d) in flat.enumerated() {
                let exact = sawFloat ? nil : ints[k]
                let fits = exact.map { $0 >= low && $0 <= high } ?? (d.isFinite && d >= Double(low) && d < Double(high) + 1)
                if !fits {
                    let shown = exact.map(String.init) ?? "\(d)"
                    throw LuaError.message("element \(k + 1) (\(shown)) does not fit in \(target)")
                }
            }
        }
        return t.dtype == target ? t : try t.to(dtype: target)
    }
}
