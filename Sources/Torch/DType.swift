import CTorch

/// Element types, with libtorch's own codes.
public enum DType: Int32, CaseIterable, Sendable, CustomStringConvertible {
    case uint8 = 0, int8 = 1, int16 = 2, int32 = 3, int64 = 4, float16 = 5, float32 = 6, float64 = 7
    case bool = 11, bfloat16 = 15

    public var description: String { name }

    /// The names people write: "float32", "int64", ...
    public var name: String {
        switch self {
        case .uint8: return "uint8"
        case .int8: return "int8"
        case .int16: return "int16"
        case .int32: return "int32"
        case .int64: return "int64"
        case .float16: return "float16"
        case .float32: return "float32"
        case .float64: return "float64"
        case .bool: return "bool"
        case .bfloat16: return "bfloat16"
        }
    }

    /// Accepts the names above and the usual aliases ("float", "double", "long", "int", "half").
    public init?(name: String) {
        switch name.lowercased() {
        case "uint8", "byte": self = .uint8
        case "int8", "char": self = .int8
        case "int16", "short": self = .int16
        case "int32", "int": self = .int32
        case "int64", "long": self = .int64
        case "float16", "half": self = .float16
        case "float32", "float": self = .float32
        case "float64", "double": self = .float64
        case "bool": self = .bool
        case "bfloat16": self = .bfloat16
        default: return nil
        }
    }

    public var byteSize: Int {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .int16, .float16, .bfloat16: return 2
        case .int32, .float32: return 4
        case .int64, .float64: return 8
        }
    }

    public var isFloatingPoint: Bool { self == .float16 || self == .float32 || self == .float64 || self == .bfloat16 }
}

/// Where a tensor lives.
public enum Device: Equatable, Hashable, Sendable, CustomStringConvertible {
    case cpu
    case cuda(Int)

    /// "cpu", "cuda", "cuda:1", or "auto" (CUDA when available, else the CPU).
    public init(parsing text: String) throws {
        let t = text.lowercased()
        if t == "cpu" { self = .cpu; return }
        if t == "auto" { self = TorchRuntime.cudaIsAvailable ? .cuda(0) : .cpu; return }
        if t == "cuda" || t == "gpu" { self = .cuda(0); return }
        if t.hasPrefix("cuda:"), let i = Int(t.dropFirst(5)), i >= 0 { self = .cuda(i); return }
        throw TorchError("unknown device '\(text)': use \"cpu\", \"cuda\", \"cuda:N\" or \"auto\"")
    }

    public var description: String {
        switch self {
        case .cpu: return "cpu"
        case .cuda(let i): return "cuda:\(i)"
        }
    }

    var type: Int32 { self == .cpu ? 0 : 1 }
    var index: Int32 {
        if case .cuda(let i) = self { return Int32(i) }
        return -1
    }

    public var isCUDA: Bool { self != .cpu }
}
