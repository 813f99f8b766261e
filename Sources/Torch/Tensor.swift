import CTorch

/// A libtorch tensor. Owns its handle; libtorch frees the storage when the last handle goes.
/// Every failing operation throws a TorchError with libtorch's message.
public final class Tensor {
    let handle: ct_tensor

    init(handle: ct_tensor) { self.handle = handle }
    deinit { ct_free(handle) }

    /// Runs a C call producing one tensor.
    @inline(__always)
    static func make(_ body: (UnsafeMutablePointer<ct_tensor?>) -> Int32) throws -> Tensor {
        var out: ct_tensor?
        try check(body(&out))
        guard let out else { throw TorchError("libtorch returned no tensor") }
        return Tensor(handle: out)
    }

    @inline(__always)
    static func make2(_ body: (UnsafeMutablePointer<ct_tensor?>, UnsafeMutablePointer<ct_tensor?>) -> Int32) throws -> (Tensor, Tensor) {
        var a: ct_tensor?, b: ct_tensor?
        try check(body(&a, &b))
        guard let a, let b else { throw TorchError("libtorch returned no tensor") }
        return (Tensor(handle: a), Tensor(handle: b))
    }

    // MARK: facts

    public var dim: Int { Int(ct_dim(handle)) }
    public var numel: Int { Int(ct_numel(handle)) }

    public var shape: [Int] {
        let n = dim
        var s = [Int64](repeating: 0, count: n)
        _ = ct_sizes(handle, &s, Int32(n))
        return s.map(Int.init)
    }

    public var strides: [Int] {
        let n = dim
        var s = [Int64](repeating: 0, count: n)
        _ = ct_strides(handle, &s, Int32(n))
        return s.map(Int.init)
    }

    public func size(_ d: Int) throws -> Int {
        let n = dim
        let i = d < 0 ? d + n : d
        guard i >= 0 && i < n else { throw TorchError("dimension \(d) is out of range for a tensor of \(n) dimensions") }
        return shape[i]
    }

    public var dtype: DType { DType(rawValue: ct_dtype(handle)) ?? .float32 }

    public var device: Device {
        var type: Int32 = 0, index: Int32 = -1
        _ = ct_device(handle, &type, &index)
        return type == 0 ? .cpu : .cuda(Int(Swift.max(index, 0)))
    }

    public var isContiguous: Bool { ct_is_contiguous(handle) != 0 }
    public var requiresGrad: Bool { ct_requires_grad(handle) != 0 }

    /// The accumulated gradient, or nil.
    public var grad: Tensor? {
        var out: ct_tensor?
        guard ct_grad(handle, &out) == 0, let out else { return nil }
        return Tensor(handle: out)
    }

    // MARK: creation

    public static func zeros(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        try withSizes(shape) { s, n in try make { ct_zeros(s, n, dtype.rawValue, device.type, device.index, $0) } }
    }

    public static func ones(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        try withSizes(shape) { s, n in try make { ct_ones(s, n, dtype.rawValue, device.type, device.index, $0) } }
    }

    public static func empty(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        try withSizes(shape) { s, n in try make { ct_empty(s, n, dtype.rawValue, device.type, device.index, $0) } }
    }

    public static func full(_ shape: [Int], _ value: Double, dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        try withSizes(shape) { s, n in try make { ct_full(s, n, value, dtype.rawValue, device.type, device.index, $0) } }
    }

    public static func arange(_ start: Double, _ end: Double, step: Double = 1, dtype: DType = .int64, device: Device = .cpu) throws -> Tensor {
        guard step != 0 else { throw TorchError("arange: step must not be zero") }
        return try make { ct_arange(start, end, step, dtype.rawValue, device.type, device.index, $0) }
    }

    public static func linspace(_ start: Double, _ end: Double, steps: Int, dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        try make { ct_linspace(start, end, Int64(steps), dtype.rawValue, device.type, device.index, $0) }
    }

    public static func rand(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        try withSizes(shape) { s, n in try make { ct_rand(s, n, dtype.rawValue, device.type, device.index, $0) } }
    }

    public static func randn(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
        try withSizes(shape) { s, n in try make { ct_randn(s, n, dtype.rawValue, device.type, device.index, $0) } }
    }

    public static func randint(_ low: Int, _ high: Int, _ shape: [Int], dtype: DType = .int64, device: Device = .cpu) throws -> Tensor {
        guard high > low else { throw TorchError("randint: high (\(high)) must be greater than low (\(low))") }
        return try withSizes(shape) { s, n in try make { ct_randint(Int64(low), Int64(high), s, n, dtype.rawValue, device.type, device.index, $0) } }
    }

    public static func randperm(_ n: Int, device: Device = .cpu) throws -> Tensor {
        try make { ct_randperm(Int64(n), device.type, device.index, $0) }
    }

    /// A 0-dimensional tensor.
    public static func scalar(_ value: Double, dtype: DType = .float32) throws -> Tensor {
        try make { ct_scalar_tensor(value, dtype.rawValue, $0) }
    }

    /// Copies Swift values into a new CPU tensor of the given shape.
    public convenience init<T: TensorElement>(_ values: [T], shape: [Int]? = nil) throws {
        let shape = shape ?? [values.count]
        let count = shape.reduce(into: Optional(1)) { total, d in
            total = total.flatMap { t in d < 0 ? nil : { let (p, o) = t.multipliedReportingOverflow(by: d); return o ? nil : p }() }
        }
        guard count == values.count else {
            throw TorchError("\(values.count) values do not fill a tensor of shape \(shape)")
        }
        var out: ct_tensor?
        try values.withUnsafeBytes { bytes in
            try withSizes(shape) { s, n in
                try check(ct_from_buffer(bytes.baseAddress, bytes.count, s, n, T.dtype.rawValue, &out))
            }
        }
        self.init(handle: out!)
    }

    /// Copies raw bytes (native byte order) into a new CPU tensor; their count must fill the shape.
    public convenience init(rawBytes: UnsafeRawBufferPointer, shape: [Int], dtype: DType) throws {
        var out: ct_tensor?
        try withSizes(shape) { s, n in try check(ct_from_buffer(rawBytes.baseAddress, rawBytes.count, s, n, dtype.rawValue, &out)) }
        self.init(handle: out!)
    }

    /// Wraps memory without copying: `release` runs when libtorch no longer needs it.
    public static func wrapping(_ data: UnsafeMutableRawPointer, shape: [Int], dtype: DType,
                                release: @escaping () -> Void) throws -> Tensor {
        let box = Unmanaged.passRetained(ReleaseBox(release)).toOpaque()
        do {
            return try withSizes(shape) { s, n in
                try make { ct_from_blob(data, s, n, dtype.rawValue, { ctx in
                    Unmanaged<ReleaseBox>.fromOpaque(ctx!).takeRetainedValue().run()
                }, box, $0) }
            }
        } catch {
            Unmanaged<ReleaseBox>.fromOpaque(box).release()
            throw error
        }
    }

    // MARK: reading values

    /// The single value of a one-element tensor.
    public func item() throws -> Double {
        guard numel == 1 else { throw TorchError("item() needs a tensor with one element, this one has \(numel) (shape \(shape))") }
        var v = 0.0
        try check(ct_item_double(handle, &v))
        return v
    }

    public func itemInt() throws -> Int64 {
        guard numel == 1 else { throw TorchError("item() needs a tensor with one element, this one has \(numel) (shape \(shape))") }
        var v: Int64 = 0
        try check(ct_item_int64(handle, &v))
        return v
    }

    /// All elements in row-major order, converted to T.
    public func toArray<T: TensorElement>(_ type: T.Type = T.self) throws -> [T] {
        let source = dtype == T.dtype ? self : try to(dtype: T.dtype)
        let n = source.numel
        var result = [T](repeating: T.zero, count: n)
        try result.withUnsafeMutableBytes { b in
            try check(ct_copy_to_buffer(source.handle, b.baseAddress, b.count))
        }
        return result
    }

    // MARK: conversion

    public func to(dtype: DType? = nil, device: Device? = nil, copy: Bool = false) throws -> Tensor {
        let d = dtype ?? self.dtype, dev = device ?? self.device
        return try Tensor.make { ct_to(handle, d.rawValue, dev.type, dev.index, copy ? 1 : 0, $0) }
    }

    /// This tensor in `dtype`: itself when it already is (no copy), else a converted copy.
    public func cast(_ dtype: DType) throws -> Tensor { self.dtype == dtype ? self : try to(dtype: dtype) }

    public func contiguous() throws -> Tensor { try Tensor.make { ct_contiguous(handle, $0) } }
    /// Channels-last (NHWC) layout of a 4-D tensor, same shape and values.
    public func channelsLast() throws -> Tensor { try Tensor.make { ct_channels_last(handle, $0) } }
    public func clone() throws -> Tensor { try Tensor.make { ct_clone(handle, $0) } }
    public func detach() throws -> Tensor { try Tensor.make { ct_detach(handle, $0) } }
    public func float() throws -> Tensor { try to(dtype: .float32) }

    // MARK: autograd

    @discardableResult
    public func requiresGrad(_ flag: Bool = true) throws -> Tensor {
        try check(ct_set_requires_grad(handle, flag ? 1 : 0))
        return self
    }

    public func backward(_ gradient: Tensor? = nil, retainGraph: Bool = false) throws {
        try check(ct_backward(handle, gradient?.handle, retainGraph ? 1 : 0))
    }

    public func zeroGrad() throws { try check(ct_zero_grad(handle)) }
    public func setGrad(_ g: Tensor?) throws { try check(ct_set_grad(handle, g?.handle)) }

    // MARK: in-place (optimizers, initialisers)

    /// self += alpha * other
    public func add_(_ other: Tensor, alpha: Double = 1) throws { try check(ct_add_(handle, other.handle, alpha)) }
    public func mul_(_ s: Double) throws { try check(ct_mul_scalar_(handle, s)) }
    /// max(self, 0) in place; returns self so layers can chain it as Detectron2's F.relu_ is used.
    @discardableResult public func relu_() throws -> Tensor { try check(ct_relu_(handle)); return self }
    public func copy_(_ src: Tensor) throws { try check(ct_copy_(handle, src.handle)) }
    public func fill_(_ v: Double) throws { try check(ct_fill_(handle, v)) }
    public func zero_() throws { try check(ct_zero_(handle)) }
    public func normal_(mean: Double = 0, std: Double = 1) throws { try check(ct_normal_(handle, mean, std)) }
    public func uniform_(_ a: Double, _ b: Double) throws { try check(ct_uniform_(handle, a, b)) }
}

final class ReleaseBox {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

@inline(__always)
func withSizes<R>(_ sizes: [Int], _ body: (UnsafePointer<Int64>?, Int32) throws -> R) throws -> R {
    for s in sizes where s < 0 { throw TorchError("negative dimension \(s) in shape \(sizes)") }
    return try withInts(sizes, body)
}

@inline(__always)
func withInts<R>(_ values: [Int], _ body: (UnsafePointer<Int64>?, Int32) throws -> R) rethrows -> R {
    let v = values.map(Int64.init)
    return try v.withUnsafeBufferPointer { try body($0.baseAddress, Int32($0.count)) }
}

/// Swift element types that map to a tensor dtype.
public protocol TensorElement {
    static var dtype: DType { get }
    static var zero: Self { get }
}
extension Float: TensorElement { public static var dtype: DType { .float32 } }
extension Double: TensorElement { public static var dtype: DType { .float64 } }
extension Int64: TensorElement { public static var dtype: DType { .int64 } }
extension Int32: TensorElement { public static var dtype: DType { .int32 } }
extension UInt8: TensorElement { public static var dtype: DType { .uint8 } }
extension Int8: TensorElement { public static var dtype: DType { .int8 } }
extension Bool: TensorElement {
    public static var dtype: DType { .bool }
    public static var zero: Bool { false }
}

extension Tensor {
    /// The storage of a CPU tensor (nil on other devices); valid while the tensor lives.
    public var dataPointer: UnsafeMutableRawPointer? { ct_data_ptr(handle) }
}
