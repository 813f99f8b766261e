import CTorch

// Shape, indexing, math and reductions. Dimensions follow libtorch (0-based, negative from the end).
extension Tensor {
    // MARK: shape

    public func reshape(_ shape: [Int]) throws -> Tensor {
        try withInts(shape) { s, n in try Tensor.make { ct_reshape(handle, s, n, $0) } }
    }
    public func view(_ shape: [Int]) throws -> Tensor {
        try withInts(shape) { s, n in try Tensor.make { ct_view(handle, s, n, $0) } }
    }
    public func permute(_ dims: [Int]) throws -> Tensor {
        try withInts(dims) { s, n in try Tensor.make { ct_permute(handle, s, n, $0) } }
    }
    public func transpose(_ d0: Int, _ d1: Int) throws -> Tensor {
        try Tensor.make { ct_transpose(handle, Int64(d0), Int64(d1), $0) }
    }
    public func flatten(start: Int = 0, end: Int = -1) throws -> Tensor {
        try Tensor.make { ct_flatten(handle, Int64(start), Int64(end), $0) }
    }
    public static func cat(_ tensors: [Tensor], dim: Int = 0) throws -> Tensor {
        guard !tensors.isEmpty else { throw TorchError("cat needs at least one tensor") }
        return try withHandles(tensors) { h, n in try make { ct_cat(h, n, Int64(dim), $0) } }
    }
    public static func stack(_ tensors: [Tensor], dim: Int = 0) throws -> Tensor {
        guard !tensors.isEmpty else { throw TorchError("stack needs at least one tensor") }
        return try withHandles(tensors) { h, n in try make { ct_stack(h, n, Int64(dim), $0) } }
    }
    public func split(_ size: Int, dim: Int = 0) throws -> [Tensor] {
        guard size > 0 else { throw TorchError("split size must be positive, got \(size)") }
        let length = try self.size(dim)
        let parts = Swift.max(1, length / size + (length % size == 0 ? 0 : 1))
        var outs = [ct_tensor?](repeating: nil, count: parts)
        var count: Int32 = 0
        try check(ct_split(handle, Int64(size), Int64(dim), &outs, Int32(parts), &count))
        return outs.prefix(Int(count)).map { Tensor(handle: $0!) }
    }
    public func narrow(_ dim: Int, start: Int, length: Int) throws -> Tensor {
        try Tensor.make { ct_narrow(handle, Int64(dim), Int64(start), Int64(length), $0) }
    }
    public func slice(_ dim: Int, start: Int, end: Int, step: Int = 1) throws -> Tensor {
        try Tensor.make { ct_slice(handle, Int64(dim), Int64(start), Int64(end), Int64(step), $0) }
    }
    public func select(_ dim: Int, _ index: Int) throws -> Tensor {
        try Tensor.make { ct_select(handle, Int64(dim), Int64(index), $0) }
    }
    public func indexSelect(_ dim: Int, _ index: Tensor) throws -> Tensor {
        try Tensor.make { ct_index_select(handle, Int64(dim), index.handle, $0) }
    }
    public func maskedSelect(_ mask: Tensor) throws -> Tensor {
        guard mask.dtype == .bool else { throw TorchError("masked_select: the mask must be a bool tensor, not \(mask.dtype)") }
        return try Tensor.make { ct_masked_select(handle, mask.handle, $0) }
    }
    /// A copy with `value` where the mask (bool) is true. libtorch 1.13 would take a float mask
    /// and change nothing, silently.
    public func maskedFill(_ mask: Tensor, _ value: Double) throws -> Tensor {
        guard mask.dtype == .bool else { throw TorchError("masked_fill: the mask must be a bool tensor, not \(mask.dtype)") }
        return try Tensor.make { ct_masked_fill(handle, mask.handle, value, $0) }
    }
    public func gather(_ dim: Int, _ index: Tensor) throws -> Tensor {
        try Tensor.make { ct_gather(handle, Int64(dim), index.handle, $0) }
    }
    public func scatter(_ dim: Int, _ index: Tensor, _ src: Tensor) throws -> Tensor {
        try Tensor.make { ct_scatter(handle, Int64(dim), index.handle, src.handle, $0) }
    }
    public func nonzero() throws -> Tensor { try Tensor.make { ct_nonzero(handle, $0) } }
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        try make { ct_where(condition.handle, a.handle, b.handle, $0) }
    }
    public func expand(_ shape: [Int]) throws -> Tensor {
        try withInts(shape) { s, n in try Tensor.make { ct_expand(handle, s, n, $0) } }
    }
    public func `repeat`(_ repeats: [Int]) throws -> Tensor {
        try withInts(repeats) { s, n in try Tensor.make { ct_repeat(handle, s, n, $0) } }
    }
    public func squeeze(_ dim: Int? = nil) throws -> Tensor {
        try Tensor.make { ct_squeeze(handle, Int64(dim ?? 0), dim == nil ? 1 : 0, $0) }
    }
    /// A view with explicit sizes, strides (in elements) and storage offset.
    public func asStrided(_ shape: [Int], strides: [Int], offset: Int) throws -> Tensor {
        guard shape.count == strides.count else { throw TorchError("as_strided: \(shape.count) sizes but \(strides.count) strides") }
        let s = shape.map(Int64.init), st = strides.map(Int64.init)
        return try Tensor.make { ct_as_strided(handle, s, st, Int32(s.count), Int64(offset), $0) }
    }
    public func unsqueeze(_ dim: Int) throws -> Tensor { try Tensor.make { ct_unsqueeze(handle, Int64(dim), $0) } }
    public func flip(_ dims: [Int]) throws -> Tensor {
        try withInts(dims) { s, n in try Tensor.make { ct_flip(handle, s, n, $0) } }
    }
    /// self[index] along dim 0 with an int64 or bool index tensor.
    public func index(_ index: Tensor) throws -> Tensor { try Tensor.make { ct_index(handle, index.handle, $0) } }
    /// self[index] = values (in place).
    public func indexPut_(_ index: Tensor, _ values: Tensor) throws { try check(ct_index_put_(handle, index.handle, values.handle)) }

    // MARK: math

    public enum BinaryOp: Int32 {
        case add = 0, sub, mul, div, pow, maximum, minimum, remainder, floorDivide
        case eq, ne, lt, le, gt, ge, logicalAnd, logicalOr, atan2
    }

    public func binary(_ op: BinaryOp, _ other: Tensor) throws -> Tensor {
        try Tensor.make { ct_binary(op.rawValue, handle, other.handle, $0) }
    }

    /// self (op) scalar; `integral` keeps integer tensors integral (as an integer literal does in Python).
    public func binary(_ op: BinaryOp, _ scalar: Double, integral: Bool = false, reversed: Bool = false) throws -> Tensor {
        if integral {
            guard let i = Int64(exactly: scalar) else { throw TorchError("\(scalar) is not an integer that fits in int64") }
            return try binary(op, integer: i, reversed: reversed)
        }
        return try Tensor.make { ct_binary_scalar(op.rawValue, handle, scalar, 0, 0, reversed ? 1 : 0, $0) }
    }

    /// self (op) an exact integer (a Lua integer: all 64 bits, not rounded through a Double).
    public func binary(_ op: BinaryOp, integer: Int64, reversed: Bool = false) throws -> Tensor {
        try Tensor.make { ct_binary_scalar(op.rawValue, handle, Double(integer), integer, 1, reversed ? 1 : 0, $0) }
    }

    public enum UnaryOp: Int32 {
        case neg = 0, exp, log, sqrt, abs, sigmoid, relu, floor, ceil, round, sign, logicalNot, isnan, isfinite
        case tanh, log2, reciprocal, sin, cos, expm1, log1p, trunc
    }

    public func unary(_ op: UnaryOp) throws -> Tensor { try Tensor.make { ct_unary(op.rawValue, handle, $0) } }

    public func exp() throws -> Tensor { try unary(.exp) }
    public func log() throws -> Tensor { try unary(.log) }
    public func sqrt() throws -> Tensor { try unary(.sqrt) }
    public func abs() throws -> Tensor { try unary(.abs) }
    public func sigmoid() throws -> Tensor { try unary(.sigmoid) }
    public func relu() throws -> Tensor { try unary(.relu) }
    public func floor() throws -> Tensor { try unary(.floor) }
    public func ceil() throws -> Tensor { try unary(.ceil) }
    public func isnan() throws -> Tensor { try unary(.isnan) }
    public func log2() throws -> Tensor { try unary(.log2) }
    public func isfinite() throws -> Tensor { try unary(.isfinite) }
    public func eq(_ o: Tensor) throws -> Tensor { try binary(.eq, o) }
    public func lt(_ o: Tensor) throws -> Tensor { try binary(.lt, o) }
    public func gt(_ o: Tensor) throws -> Tensor { try binary(.gt, o) }
    public func le(_ o: Tensor) throws -> Tensor { try binary(.le, o) }
    public func ge(_ o: Tensor) throws -> Tensor { try binary(.ge, o) }
    public func maximum(_ o: Tensor) throws -> Tensor { try binary(.maximum, o) }
    public func minimum(_ o: Tensor) throws -> Tensor { try binary(.minimum, o) }
    public func pow(_ e: Double) throws -> Tensor { try binary(.pow, e) }

    public func softmax(_ dim: Int) throws -> Tensor { try Tensor.make { ct_softmax(handle, Int64(dim), $0) } }
    public func logSoftmax(_ dim: Int) throws -> Tensor { try Tensor.make { ct_log_softmax(handle, Int64(dim), $0) } }
    public func clamp(min: Double? = nil, max: Double? = nil) throws -> Tensor {
        guard min != nil || max != nil else { throw TorchError("clamp needs a min or a max") }
        return try Tensor.make { ct_clamp(handle, min == nil ? 0 : 1, min ?? 0, max == nil ? 0 : 1, max ?? 0, $0) }
    }

    // MARK: reductions

    public enum Reduction: Int32 { case sum = 0, mean, prod, amax, amin, any, all, std, `var` }

    /// Reduces over dims (all of them when empty).
    public func reduce(_ op: Reduction, dims: [Int] = [], keepdim: Bool = false) throws -> Tensor {
        try withInts(dims) { d, n in try Tensor.make { ct_reduce(op.rawValue, handle, d, n, keepdim ? 1 : 0, $0) } }
    }
    public func sum(dims: [Int] = [], keepdim: Bool = false) throws -> Tensor { try reduce(.sum, dims: dims, keepdim: keepdim) }
    public func mean(dims: [Int] = [], keepdim: Bool = false) throws -> Tensor { try reduce(.mean, dims: dims, keepdim: keepdim) }
    public func max() throws -> Tensor { try reduce(.amax) }
    public func min() throws -> Tensor { try reduce(.amin) }
    public func max(dim: Int, keepdim: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        try Tensor.make2 { ct_max_dim(handle, Int64(dim), keepdim ? 1 : 0, $0, $1) }
    }
    public func min(dim: Int, keepdim: Bool = false) throws -> (values: Tensor, indices: Tensor) {
        try Tensor.make2 { ct_min_dim(handle, Int64(dim), keepdim ? 1 : 0, $0, $1) }
    }
    public func argmax(dim: Int? = nil, keepdim: Bool = false) throws -> Tensor {
        try Tensor.make { ct_argmax(handle, dim == nil ? 0 : 1, Int64(dim ?? 0), keepdim ? 1 : 0, $0) }
    }
    public func topk(_ k: Int, dim: Int = -1, largest: Bool = true, sorted: Bool = true) throws -> (values: Tensor, indices: Tensor) {
        try Tensor.make2 { ct_topk(handle, Int64(k), Int64(dim), largest ? 1 : 0, sorted ? 1 : 0, $0, $1) }
    }
    public func sort(dim: Int = -1, descending: Bool = false, stable: Bool = true) throws -> (values: Tensor, indices: Tensor) {
        try Tensor.make2 { ct_sort(handle, Int64(dim), descending ? 1 : 0, stable ? 1 : 0, $0, $1) }
    }
    /// The p-norm of all elements (p = .infinity: the largest magnitude), as torch.linalg.vector_norm.
    public func norm(_ p: Double = 2) throws -> Tensor { try Tensor.make { ct_vector_norm(handle, p, $0) } }
    public func cumsum(_ dim: Int) throws -> Tensor { try Tensor.make { ct_cumsum(handle, Int64(dim), $0) } }
    public func matmul(_ other: Tensor) throws -> Tensor { try Tensor.make { ct_matmul(handle, other.handle, $0) } }

    /// Same shape and the same values.
    public func equal(_ other: Tensor) throws -> Bool {
        var r: Int32 = 0
        try check(ct_equal(handle, other.handle, &r))
        return r != 0
    }

    public func allclose(_ other: Tensor, rtol: Double = 1e-5, atol: Double = 1e-8) throws -> Bool {
        var r: Int32 = 0
        try check(ct_allclose(handle, other.handle, rtol, atol, &r))
        return r != 0
    }

    // MARK: operators

    public static func + (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.add, b) }
    public static func - (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.sub, b) }
    public static func * (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.mul, b) }
    public static func / (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.div, b) }
    public static func + (a: Tensor, b: Double) throws -> Tensor { try a.binary(.add, b) }
    public static func - (a: Tensor, b: Double) throws -> Tensor { try a.binary(.sub, b) }
    public static func * (a: Tensor, b: Double) throws -> Tensor { try a.binary(.mul, b) }
    public static func / (a: Tensor, b: Double) throws -> Tensor { try a.binary(.div, b) }
    public static func + (a: Double, b: Tensor) throws -> Tensor { try b.binary(.add, a, reversed: true) }
    public static func - (a: Double, b: Tensor) throws -> Tensor { try b.binary(.sub, a, reversed: true) }
    public static func * (a: Double, b: Tensor) throws -> Tensor { try b.binary(.mul, a, reversed: true) }
    public static func / (a: Double, b: Tensor) throws -> Tensor { try b.binary(.div, a, reversed: true) }
    public static prefix func - (a: Tensor) throws -> Tensor { try a.unary(.neg) }
}

@inline(__always)
func withHandles<R>(_ tensors: [Tensor], _ body: (UnsafePointer<ct_tensor?>, Int32) throws -> R) rethrows -> R {
    let handles: [ct_tensor?] = tensors.map { $0.handle }
    return try withExtendedLifetime(tensors) {
        try handles.withUnsafeBufferPointer { try body($0.baseAddress!, Int32($0.count)) }
    }
}
