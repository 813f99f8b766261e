import CLua
import LuaHost
import Torch

/// torch.Tensor as a Lua class: methods, properties, metamethods and Torch7-style indexing.
extension LunetteBindings {
    static func defineTensorClass(in state: LuaState) throws {
        let T = tensorClass
        try state.defineClass(Tensor.self, name: T, doc: "A libtorch tensor. Dimensions and positions are 1-based; index values inside tensors are 0-based.") { c in
            c.tostring { $0.description }
            c.externalSize { $0.numel * $0.dtype.byteSize }
            c.equals { a, b in (try? a.equal(b)) ?? false }

            // MARK: facts
            c.method("size", [LuaParameter("dim", .integer, optional: true)], returns: "table or integer",
                     doc: "All sizes as a table, or the size of one (1-based) dimension.") { t, call in
                if let d = try call.optionalInteger(2) { return call.push(try t.size(luaDim(d, rank: t.dim, call, 2))) }
                return call.push(t.shape)
            }
            c.property("shape", type: "table", doc: "The sizes, as a table.") { t, call in call.push(t.shape) }
            c.method("dim", [], returns: "integer", doc: "Number of dimensions.") { t, call in call.push(t.dim) }
            c.method("numel", [], returns: "integer", doc: "Number of elements.") { t, call in call.push(t.numel) }
            c.method("dtype", [], returns: "string", doc: "Element type: \"float32\", \"int64\", ...") { t, call in call.push(t.dtype.name) }
            c.method("device", [], returns: "string", doc: "\"cpu\" or \"cuda:N\".") { t, call in call.push(t.device.description) }
            c.property("is_cuda", type: "boolean", doc: "Whether the tensor lives on a GPU.") { t, call in call.push(t.device.isCUDA) }
            c.property("grad", type: "Tensor or nil", doc: "The accumulated gradient after backward().") { t, call in
                if let g = t.grad { return call.push(object: g) }
                return call.pushNil()
            }
            c.property("requires_grad_", type: "boolean", doc: "Whether gradients are recorded for this tensor.") { t, call in
                call.push(t.requiresGrad)
            }

            // MARK: conversion
            c.method("to", [LuaParameter("target", .string)], returns: "Tensor",
                     doc: "Moves or converts: t:to(\"cuda\"), t:to(\"cpu\"), t:to(\"float64\").") { t, call in
                let target = try call.string(2)
                if let d = DType(name: target) { return call.push(object: try t.to(dtype: d)) }
                do {
                    return call.push(object: try t.to(device: try Device(parsing: target)))
                } catch let e as TorchError where e.message.hasPrefix("unknown device") {
                    throw call.argumentError(2, "'\(target)' is neither a dtype nor a device")
                }
            }
            for (name, dtype) in [("float", DType.float32), ("double", .float64), ("long", .int64), ("int", .int32),
                                  ("byte", .uint8), ("bool", .bool), ("half", .float16)] {
                c.method(name, [], returns: "Tensor", doc: "Converts to \(dtype.name).") { t, call in
                    call.push(object: try t.to(dtype: dtype))
                }
            }
            c.method("cpu", [], returns: "Tensor", doc: "The tensor on the CPU.") { t, call in call.push(object: try t.to(device: .cpu)) }
            c.method("cuda", [], returns: "Tensor", doc: "The tensor on the first GPU.") { t, call in call.push(object: try t.to(device: .cuda(0))) }
            c.method("contiguous", [], returns: "Tensor", doc: "A contiguous copy (or the tensor itself).") { t, call in call.push(object: try t.contiguous()) }
            c.method("clone", [], returns: "Tensor", doc: "A copy with its own storage.") { t, call in call.push(object: try t.clone()) }
            c.method("detach", [], returns: "Tensor", doc: "The same data, cut from the autograd graph.") { t, call in call.push(object: try t.detach()) }

            // MARK: values
            c.method("item", [], returns: "number", doc: "The value of a one-element tensor.") { t, call in
                try pushItem(t, &call)
            }
            c.method("totable", [], returns: "table", doc: "The values as nested Lua tables (a number for 0-d tensors).") { t, call in
                call.push(try tensorToLua(t))
            }
            c.method("tolist", [], returns: "table", doc: "The values as nested Lua tables, as PyTorch's tolist (the same as totable).") { t, call in
                call.push(try tensorToLua(t))
            }

            // MARK: autograd
            c.method("requires_grad", [LuaParameter("flag", .boolean, optional: true)], returns: "Tensor",
                     doc: "Starts (or with false stops) recording gradients for this tensor; returns it.") { t, call in
                try t.requiresGrad(try call.optionalBoolean(2) ?? true)
                return call.push(object: t)
            }
            c.method("backward", [LuaParameter("gradient", .object(T), optional: true)],
                     doc: "Computes gradients of this (scalar) tensor with respect to the leaves that require them.") { t, call in
                let g = call.isNone(2) ? nil : try call.object(Tensor.self, 2)
                if g == nil && t.numel != 1 {
                    throw LuaError.message("backward() without a gradient needs a one-element tensor; this one has shape \(t.shape)")
                }
                try t.backward(g)
                return 0
            }
            c.method("zero_grad", [], doc: "Forgets the accumulated gradient.") { t, call in
                try t.zeroGrad()
                return 0
            }

            // MARK: shape
            // Methods taking sizes (t:m(2, 3) or t:m{2, 3}) or 1-based dimensions the same way.
            let sizeMethods: [(String, String, (Tensor) -> ([Int]) throws -> Tensor)] = [
                ("reshape", "The same values in a new shape: t:reshape(2, 3) or t:reshape{2, 3} (-1 infers one size).", Tensor.reshape),
                ("view", "Like reshape, sharing storage (the tensor must be contiguous enough).", Tensor.view),
                ("expand", "Broadcasts size-1 dimensions: t:expand(3, 4) (-1 keeps a size).", Tensor.expand),
                ("repeat_", "Tiles the tensor: t:repeat_(2, 1).", Tensor.repeat),
            ]
            for (name, doc, op) in sizeMethods {
                c.method(name, nil, returns: "Tensor", doc: doc) { t, call in call.push(object: try op(t)(try sizesArgument(call, from: 2).0)) }
            }
            let dimMethods: [(String, String, (Tensor) -> ([Int]) throws -> Tensor)] = [
                ("permute", "Reorders dimensions: t:permute(3, 1, 2).", Tensor.permute),
                ("flip", "Reverses the order along the given dimensions.", Tensor.flip),
            ]
            for (name, doc, op) in dimMethods {
                c.method(name, nil, returns: "Tensor", doc: doc) { t, call in
                    call.push(object: try op(t)(try sizesArgument(call, from: 2).0.map { try luaDim($0, rank: t.dim, call, 2) }))
                }
            }
            c.method("transpose", [LuaParameter("dim1", .integer), LuaParameter("dim2", .integer)], returns: "Tensor",
                     doc: "Swaps two dimensions.") { t, call in
                call.push(object: try t.transpose(try luaDim(call.integer(2), rank: t.dim, call, 2), try luaDim(call.integer(3), rank: t.dim, call, 3)))
            }
            c.method("t", [], returns: "Tensor", doc: "The transpose of a 2-D tensor.") { t, call in
                guard t.dim == 2 else { throw LuaError.message("t() needs a 2-D tensor, this one has \(t.dim) dimensions") }
                return call.push(object: try t.transpose(0, 1))
            }
            c.method("flatten", [LuaParameter("start_dim", .integer, optional: true), LuaParameter("end_dim", .integer, optional: true)],
                     returns: "Tensor", doc: "Flattens dimensions start_dim..end_dim (default all) into one.") { t, call in
                let s = try luaDim(call.optionalInteger(2) ?? 1, rank: t.dim, call, 2)
                let e = try luaDim(call.optionalInteger(3) ?? -1, rank: t.dim, call, 3)
                return call.push(object: try t.flatten(start: s, end: e))
            }
            c.method("squeeze", [LuaParameter("dim", .integer, optional: true)], returns: "Tensor", doc: "Drops size-1 dimensions (or one).") { t, call in
                let d = try call.optionalInteger(2).map { try luaDim($0, rank: t.dim, call, 2) }
                return call.push(object: try t.squeeze(d))
            }
            c.method("unsqueeze", [LuaParameter("dim", .integer)], returns: "Tensor", doc: "Inserts a size-1 dimension at dim.") { t, call in
                call.push(object: try t.unsqueeze(try luaDim(call.integer(2), rank: t.dim + 1, call, 2)))
            }
            c.method("narrow", [LuaParameter("dim", .integer), LuaParameter("start", .integer), LuaParameter("length", .integer)],
                     returns: "Tensor", doc: "length entries of dim from position start (1-based), sharing storage.") { t, call in
                let d = try luaDim(call.integer(2), rank: t.dim, call, 2)
                let n = try t.size(d)
                let start = try position(call.integer(3), size: n, call, 3)
                return call.push(object: try t.narrow(d, start: start, length: try call.integer(4)))
            }
            c.method("select", [LuaParameter("dim", .integer), LuaParameter("index", .integer)], returns: "Tensor",
                     doc: "The slice at position index (1-based) of dim, without that dimension.") { t, call in
                let d = try luaDim(call.integer(2), rank: t.dim, call, 2)
                return call.push(object: try t.select(d, try position(call.integer(3), size: t.size(d), call, 3)))
            }
            c.method("index_select", [LuaParameter("dim", .integer), LuaParameter("index", .object(T))], returns: "Tensor",
                     doc: "Entries of dim at the 0-based positions in an int64 tensor.") { t, call in
                call.push(object: try t.indexSelect(try luaDim(call.integer(2), rank: t.dim, call, 2), try call.object(Tensor.self, 3)))
            }
            c.method("masked_select", [LuaParameter("mask", .object(T))], returns: "Tensor", doc: "The values where mask is true, as a 1-D tensor.") { t, call in
                call.push(object: try t.maskedSelect(try call.object(Tensor.self, 2)))
            }
            c.method("masked_fill", [LuaParameter("mask", .object(T)), LuaParameter("value", .number)], returns: "Tensor",
                     doc: "A copy with value where mask is true.") { t, call in
                call.push(object: try t.maskedFill(try call.object(Tensor.self, 2), try call.number(3)))
            }
            c.method("gather", [LuaParameter("dim", .integer), LuaParameter("index", .object(T))], returns: "Tensor",
                     doc: "Values along dim at 0-based positions.") { t, call in
                call.push(object: try t.gather(try luaDim(call.integer(2), rank: t.dim, call, 2), try call.object(Tensor.self, 3)))
            }
            c.method("scatter", [LuaParameter("dim", .integer), LuaParameter("index", .object(T)), LuaParameter("src", .object(T))],
                     returns: "Tensor", doc: "A copy with src written along dim at 0-based positions.") { t, call in
                call.push(object: try t.scatter(try luaDim(call.integer(2), rank: t.dim, call, 2), try call.object(Tensor.self, 3),
                                                try call.object(Tensor.self, 4)))
            }
            c.method("nonzero", [], returns: "Tensor", doc: "0-based coordinates (n, dim) of the non-zero values.") { t, call in
                call.push(object: try t.nonzero())
            }
            c.method("split", [LuaParameter("size", .integer), LuaParameter("dim", .integer, optional: true)], returns: "table",
                     doc: "Chunks of size along dim (default 1), as a table of tensors.") { t, call in
                let parts = try t.split(try call.integer(2), dim: try luaDim(call.optionalInteger(3) ?? 1, rank: t.dim, call, 3))
                return call.push(.table(LuaTable(array: parts.map { .object($0) })))
            }

            // MARK: math
            for (name, op, doc) in [("exp", Tensor.UnaryOp.exp, "e^x"), ("log", .log, "natural logarithm"), ("sqrt", .sqrt, "square root"),
                                    ("abs", .abs, "absolute value"), ("sigmoid", .sigmoid, "1 / (1 + e^-x)"), ("relu", .relu, "max(x, 0)"),
                                    ("floor", .floor, "round down"), ("ceil", .ceil, "round up"), ("round", .round, "round half to even"),
                                    ("sign", .sign, "-1, 0 or 1"), ("neg", .neg, "-x"), ("tanh", .tanh, "hyperbolic tangent"),
                                    ("isnan", .isnan, "true where NaN"), ("isfinite", .isfinite, "true where finite"),
                                    ("logical_not", .logicalNot, "elementwise not"), ("log2", .log2, "base-2 logarithm"),
                                    ("reciprocal", .reciprocal, "1 / x")] {
                c.method(name, [], returns: "Tensor", doc: "Elementwise \(doc).") { t, call in call.push(object: try t.unary(op)) }
            }
            for (name, op, doc) in [("eq", Tensor.BinaryOp.eq, "=="), ("ne", .ne, "~="), ("lt", .lt, "<"), ("le", .le, "<="),
                                    ("gt", .gt, ">"), ("ge", .ge, ">="), ("maximum", .maximum, "max"), ("minimum", .minimum, "min"),
                                    ("logical_and", .logicalAnd, "and"), ("logical_or", .logicalOr, "or"),
                                    ("add", .add, "+"), ("sub", .sub, "-"), ("mul", .mul, "*"), ("div", .div, "/"),
                                    ("pow", .pow, "^"), ("remainder", .remainder, "% (sign of the divisor)"),
                                    ("floor_divide", .floorDivide, "// (rounding down)")] {
                c.method(name, [LuaParameter("other", .any)], returns: "Tensor", doc: "Elementwise \(doc) with a tensor or number (broadcasting).") { t, call in
                    call.push(object: try binary(op, t, call, 2))
                }
            }
            c.method("softmax", [LuaParameter("dim", .integer)], returns: "Tensor", doc: "Softmax along dim.") { t, call in
                call.push(object: try t.softmax(try luaDim(call.integer(2), rank: t.dim, call, 2)))
            }
            c.method("log_softmax", [LuaParameter("dim", .integer)], returns: "Tensor", doc: "Log-softmax along dim.") { t, call in
                call.push(object: try t.logSoftmax(try luaDim(call.integer(2), rank: t.dim, call, 2)))
            }
            c.method("clamp", [LuaParameter("min", .number, optional: true), LuaParameter("max", .number, optional: true)], returns: "Tensor",
                     doc: "Limits values to [min, max] (either may be nil).") { t, call in
                call.push(object: try t.clamp(min: try call.optionalNumber(2), max: try call.optionalNumber(3)))
            }
            c.method("matmul", [LuaParameter("other", .object(T))], returns: "Tensor", doc: "Matrix product (batched, broadcasting).") { t, call in
                call.push(object: try t.matmul(try call.object(Tensor.self, 2)))
            }
            c.method("equal", [LuaParameter("other", .object(T))], returns: "boolean", doc: "Same shape and values.") { t, call in
                call.push(try t.equal(try call.object(Tensor.self, 2)))
            }
            c.method("allclose", [LuaParameter("other", .object(T)), LuaParameter("rtol", .number, optional: true), LuaParameter("atol", .number, optional: true)],
                     returns: "boolean", doc: "All values within atol + rtol * |other|.") { t, call in
                call.push(try t.allclose(try call.object(Tensor.self, 2), rtol: try call.optionalNumber(3) ?? 1e-5, atol: try call.optionalNumber(4) ?? 1e-8))
            }

            // MARK: reductions
            for (name, op, doc) in [("sum", Tensor.Reduction.sum, "Sum"), ("mean", .mean, "Mean"), ("std", .std, "Standard deviation (unbiased)"),
                                    ("var", .var, "Variance (unbiased)"), ("prod", .prod, "Product"), ("any", .any, "Whether any value is true"),
                                    ("all", .all, "Whether every value is true"), ("amax", .amax, "Maximum"), ("amin", .amin, "Minimum")] {
                c.method(name, [LuaParameter("dim", .integer, optional: true), LuaParameter("keepdim", .boolean, optional: true)], returns: "Tensor",
                         doc: "\(doc) of all values, or along dim.") { t, call in
                    let dims = try call.optionalInteger(2).map { [try luaDim($0, rank: t.dim, call, 2)] } ?? []
                    return call.push(object: try t.reduce(op, dims: dims, keepdim: try call.optionalBoolean(3) ?? false))
                }
            }
            for (name, isMax) in [("max", true), ("min", false)] {
                c.method(name, [LuaParameter("dim", .integer, optional: true), LuaParameter("keepdim", .boolean, optional: true)],
                         returns: "Tensor[, Tensor]", doc: "The \(name)imum of all values; with dim, the values and 0-based indices along it.") { t, call in
                    guard let d = try call.optionalInteger(2) else { return call.push(object: try isMax ? t.max() : t.min()) }
                    let dim = try luaDim(d, rank: t.dim, call, 2)
                    let keep = try call.optionalBoolean(3) ?? false
                    let r = try isMax ? t.max(dim: dim, keepdim: keep) : t.min(dim: dim, keepdim: keep)
                    call.push(object: r.values)
                    return call.push(object: r.indices)
                }
            }
            c.method("argmax", [LuaParameter("dim", .integer, optional: true), LuaParameter("keepdim", .boolean, optional: true)],
                     returns: "Tensor", doc: "0-based position of the maximum (over all values, or along dim).") { t, call in
                let d = try call.optionalInteger(2).map { try luaDim($0, rank: t.dim, call, 2) }
                return call.push(object: try t.argmax(dim: d, keepdim: try call.optionalBoolean(3) ?? false))
            }
            c.method("topk", [LuaParameter("k", .integer), LuaParameter("dim", .integer, optional: true), LuaParameter("largest", .boolean, optional: true)],
                     returns: "Tensor, Tensor", doc: "The k largest (or smallest) values along dim (default last) and their 0-based indices.") { t, call in
                let r = try t.topk(try call.integer(2), dim: try luaDim(call.optionalInteger(3) ?? -1, rank: t.dim, call, 3),
                                   largest: try call.optionalBoolean(4) ?? true)
                call.push(object: r.values)
                return call.push(object: r.indices)
            }
            c.method("sort", [LuaParameter("dim", .integer, optional: true), LuaParameter("descending", .boolean, optional: true)],
                     returns: "Tensor, Tensor", doc: "Sorted values along dim (default last) and their 0-based indices; stable.") { t, call in
                let r = try t.sort(dim: try luaDim(call.optionalInteger(2) ?? -1, rank: t.dim, call, 2),
                                   descending: try call.optionalBoolean(3) ?? false)
                call.push(object: r.values)
                return call.push(object: r.indices)
            }
            c.method("cumsum", [LuaParameter("dim", .integer)], returns: "Tensor", doc: "Running sum along dim.") { t, call in
                call.push(object: try t.cumsum(try luaDim(call.integer(2), rank: t.dim, call, 2)))
            }

            // MARK: in place
            c.method("fill_", [LuaParameter("value", .number)], returns: "Tensor", doc: "Sets every value (in place); returns the tensor.") { t, call in
                try t.fill_(try call.number(2))
                return call.push(object: t)
            }
            c.method("zero_", [], returns: "Tensor", doc: "Sets every value to 0 (in place).") { t, call in
                try t.zero_()
                return call.push(object: t)
            }
            c.method("copy_", [LuaParameter("src", .object(T))], returns: "Tensor", doc: "Copies src's values in (in place, broadcasting).") { t, call in
                try t.copy_(try call.object(Tensor.self, 2))
                return call.push(object: t)
            }

            // MARK: metamethods
            for (event, op, symbol) in [("__add", Tensor.BinaryOp.add, "+"), ("__sub", .sub, "-"), ("__mul", .mul, "*"), ("__div", .div, "/"),
                                        ("__pow", .pow, "^"), ("__mod", .remainder, "%"), ("__idiv", .floorDivide, "//")] {
                c.metamethod(event, nil, doc: "a \(symbol) b, elementwise; either side may be a number") { _, call in
                    // Either operand may be the number: 2 - t reaches here with the tensor second.
                    if let a = try? call.object(Tensor.self, 1) { return call.push(object: try binary(op, a, call, 2)) }
                    let b = try call.object(Tensor.self, 2)
                    if lh_isinteger(call.L, 1) != 0 { return call.push(object: try b.binary(op, integer: Int64(try call.integer(1)), reversed: true)) }
                    return call.push(object: try b.binary(op, try call.number(1), reversed: true))
                }
            }
            c.metamethod("__unm", nil, doc: "-t") { t, call in call.push(object: try t.unary(.neg)) }
            c.metamethod("__len", nil, doc: "#t: the size of the first dimension") { t, call in
                guard t.dim > 0 else { throw LuaError.message("# of a 0-dimensional tensor") }
                return call.push(t.shape[0])
            }
            for (event, op) in [("__lt", Tensor.BinaryOp.lt), ("__le", .le)] {
                c.metamethod(event, nil, doc: "a \(event == "__lt" ? "<" : "<=") b for one-element tensors") { _, call in
                    let a = try scalarOperand(call, 1), b = try scalarOperand(call, 2)
                    return call.push(op == .lt ? a < b : a <= b)
                }
            }
            c.indexer(doc: "t[i] (1-based), t[{i, {from, to}, {}}] as Torch7, t[mask]; a single element comes back as a number; assignment with a number or tensor.",
                      get: { t, call in
                          let r = try index(t, call, 2)
                          if r.dim == 0 && call.type(2) != LUA_TUSERDATA { return try pushItem(r, &call) }
                          return call.push(object: r)
                      },
                      set: { t, call in
                          if call.type(2) == LUA_TUSERDATA {
                              let mask = try call.object(Tensor.self, 2)
                              try t.indexPut_(mask, try tensorOrScalar(call, 3, like: t))
                              return
                          }
                          let target = try index(t, call, 2)
                          if call.type(3) == LUA_TNUMBER { try target.fill_(try call.number(3)) } else { try target.copy_(try call.object(Tensor.self, 3)) }
                      })
        }
    }

    static func binary(_ op: Tensor.BinaryOp, _ t: Tensor, _ call: LuaCall, _ idx: Int32) throws -> Tensor {
        if call.type(idx) == LUA_TNUMBER {
            if lh_isinteger(call.L, idx) != 0 { return try t.binary(op, integer: Int64(try call.integer(idx))) }
            return try t.binary(op, try call.number(idx))
        }
        return try t.binary(op, try call.object(Tensor.self, idx))
    }

    /// A one-element tensor's value as Lua's kind: boolean, integer or float.
    static func pushItem(_ t: Tensor, _ call: inout LuaCall) throws -> Int32 {
        if t.dtype == .bool { return call.push(try t.item() != 0) }
        if !t.dtype.isFloatingPoint { return call.push(Int(try t.itemInt())) }
        return call.push(try t.item())
    }

    static func scalarOperand(_ call: LuaCall, _ idx: Int32) throws -> Double {
        if call.type(idx) == LUA_TNUMBER { return try call.number(idx) }
        let t = try call.object(Tensor.self, idx)
        guard t.numel == 1 else {
            throw LuaError.message("< and <= compare one-element tensors; use a:lt(b) or a:le(b) for elementwise comparison")
        }
        return try t.item()
    }

    /// A 1-based position (negative from the end) to a 0-based one.
    static func position(_ i: Int, size: Int, _ call: LuaCall, _ idx: Int32) throws -> Int {
        guard let p = zeroBased(i, size: size) else { throw call.argumentError(idx, "position \(i) is out of range 1..\(size) (or -\(size)..-1)") }
        return p
    }

    /// 1..size, or -size..-1 counted from the end, to 0-based; nil when out of range.
    static func zeroBased(_ i: Int, size: Int) -> Int? {
        if i >= 1 && i <= size { return i - 1 }
        if i < 0 && -i <= size { return size + i }
        return nil
    }

    /// t[key]: an integer, a Torch7 table of integers / {from, to} / {}, or a mask/index tensor.
    static func index(_ t: Tensor, _ call: LuaCall, _ idx: Int32) throws -> Tensor {
        switch call.type(idx) {
        case LUA_TNUMBER:
            guard t.dim > 0 else { throw LuaError.message("a 0-dimensional tensor cannot be indexed; use t:item()") }
            let i = try call.integer(idx)
            let n = t.shape[0]
            guard let p = zeroBased(i, size: n) else {
                throw LuaError.message("index \(i) is out of range for a dimension of size \(n) (indices are 1-based)")
            }
            return try t.select(0, p)
        case LUA_TUSERDATA:
            return try t.index(try call.object(Tensor.self, idx))
        case LUA_TTABLE:
            let parts = try call.decode([LuaValue].self, idx)
            guard parts.count <= t.dim else {
                throw LuaError.message("\(parts.count) indices for a tensor of \(t.dim) dimensions")
            }
            var r = t
            var dim = 0
            for (k, p) in parts.enumerated() {
                let n = r.shape[dim]
                switch p {
                case .integer(let i):
                    guard let p = zeroBased(Int(i), size: n) else {
                        throw LuaError.message("index \(i) (item \(k + 1)) is out of range for a dimension of size \(n)")
                    }
                    r = try r.select(dim, p)
                case .table(let range):
                    let bounds = try [Int].decode(.table(range), at: "[\(k + 1)]")
                    if bounds.isEmpty { dim += 1; continue }
                    guard bounds.count <= 2 else { throw LuaError.message("item \(k + 1): a range is {from, to}") }
                    let from = bounds[0], to = bounds.count == 2 ? bounds[1] : bounds[0]
                    let f = from < 0 ? n + from : from - 1, e = to < 0 ? n + to : to - 1
                    guard f >= 0, e < n, f <= e + 1 else {
                        throw LuaError.message("range {\(from), \(to)} (item \(k + 1)) is out of range for a dimension of size \(n)")
                    }
                    r = try r.slice(dim, start: f, end: e + 1)
                    dim += 1
                default:
                    throw LuaError.message("item \(k + 1) of the index is a \(p.typeName); use integers, {from, to} or {}")
                }
            }
            return r
        default:
            throw LuaError.message("a tensor is indexed with an integer, a table or a tensor, not a \(call.typeName(idx))")
        }
    }

    /// Values as nested tables (a number for a 0-d tensor).
    static func tensorToLua(_ t: Tensor) throws -> LuaValue {
        let cpu = try t.to(device: .cpu)
        let values: [LuaValue]
        switch t.dtype {
        case .bool: values = try cpu.toArray(Bool.self).map { .boolean($0) }
        case .uint8, .int8, .int16, .int32, .int64: values = try cpu.toArray(Int64.self).map { .integer($0) }
        default: values = try cpu.to(dtype: .float64).toArray(Double.self).map { .number($0) }
        }
        if t.dim == 0 { return values.first ?? .nil }
        var position = 0
        func build(_ d: Int) -> LuaValue {
            var table = LuaTable(kind: .array)   // a list, also when empty ([] in JSON)
            for _ in 0..<t.shape[d] {
                if d == t.dim - 1 {
                    table.array.append(values[position])
                    position += 1
                } else {
                    table.array.append(build(d + 1))
                }
            }
            return .table(table)
        }
        return build(0)
    }
}
