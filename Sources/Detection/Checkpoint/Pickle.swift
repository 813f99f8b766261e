import Foundation
import Torch

/// Python objects as far as checkpoints need them.
public indirect enum PyValue: CustomStringConvertible {
    case none
    case bool(Bool)
    case int(Int64)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case list(PyList)
    case tuple(PyTuple)
    case dict(PyDict)
    case tensor(Tensor)
    /// A reference to an allowed global (class or function), by module and name.
    case global(String, String)
    /// Objects under construction: a numpy dtype, an empty ndarray, a torch storage.
    case dtype(String)
    case ndarrayStub
    case storage(PickleStorage)
    /// A tensor the file describes but that cannot be built from its storage (the reason); an
    /// error naming the tensor's key once the key is known (see `Checkpoint.interpret`).
    case unreadable(String)

    /// An int or float as a Double (nil for anything else).
    public var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .float(let d): return d
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .float(let d): return String(d)
        case .string(let s): return String(reflecting: s)
        case .bytes(let b): return "bytes(\(b.count))"
        case .list(let l): return "list(\(l.items.count))"
        case .tuple(let t): return "tuple(\(t.items.count))"
        case .dict(let d): return "dict(\(d.keys.count))"
        case .tensor(let t): return "tensor\(t.shape)"
        case .global(let m, let n): return "\(m).\(n)"
        case .dtype(let d): return "dtype(\(d))"
        case .ndarrayStub: return "ndarray"
        case .storage(let s): return "storage(\(s.key))"
        case .unreadable(let why): return "unreadable tensor (\(why))"
        }
    }

    var string: String? { if case .string(let s) = self { return s }; return nil }

    /// The container's identity and the values it holds, or nil for a scalar.
    var container: (id: ObjectIdentifier, children: [PyValue])? {
        switch self {
        case .list(let l): return (ObjectIdentifier(l), l.items)
        case .tuple(let t): return (ObjectIdentifier(t), t.items)
        case .dict(let d): return (ObjectIdentifier(d), d.keys + d.values)
        default: return nil
        }
    }

    /// How deeply containers nest below `roots` when that exceeds `limit` (else nil): walked
    /// without recursion, each container once (files may share them, or build cycles).
    static func nesting(of roots: [PyValue], beyond limit: Int) -> Int? {
        var height: [ObjectIdentifier: Int] = [:]     // finished containers: levels from them down
        var onPath = Set<ObjectIdentifier>()
        var path: [(id: ObjectIdentifier, children: [PyValue], next: Int, height: Int)] = []
        for root in roots {
            guard let r = root.container, height[r.id] == nil else { continue }
            path.append((r.id, r.children, 0, 1))
            onPath.insert(r.id)
            while let top = path.last {
                if path.count > limit { return path.count }
                if top.next < top.children.count {
                    let child = top.children[top.next]
                    path[path.count - 1].next += 1
                    guard let c = child.container else { continue }
                    if let h = height[c.id] {
                        path[path.count - 1].height = max(top.height, h + 1)
                        if path.count - 1 + h + 1 > limit { return path.count + h }
                    } else if !onPath.contains(c.id) {
                        path.append((c.id, c.children, 0, 1))
                        onPath.insert(c.id)
                    }
                } else {
                    path.removeLast()
                    onPath.remove(top.id)
                    height[top.id] = top.height
                    if !path.isEmpty { path[path.count - 1].height = max(path[path.count - 1].height, top.height + 1) }
                }
            }
        }
        return nil
    }

    /// Empties every container below `roots`, without recursion, so that releasing a deeply
    /// nested value cannot overflow the stack (and cycles are broken).
    static func dismantle(_ roots: [PyValue]) {
        var pending = roots
        while let v = pending.popLast() {
            switch v {
            case .list(let l): pending += l.items; l.items = []
            case .tuple(let t): pending += t.items; t.items = []
            case .dict(let d): pending += d.keys + d.values; d.removeAll()
            default: break
            }
        }
    }
}

public final class PyList { public var items: [PyValue] = [] }

/// A tuple: a class like the other containers, so that walks over a loaded value (its depth,
/// its dismantling) can visit each container once even when the file shares it.
public final class PyTuple {
    public internal(set) var items: [PyValue]
    public init(_ items: [PyValue]) { self.items = items }
}

/// An insertion-ordered dict with string or int keys (what state dicts use).
public final class PyDict {
    public private(set) var keys: [PyValue] = []
    public private(set) var values: [PyValue] = []
    private var index: [String: Int] = [:]

    static func key(_ k: PyValue) -> String? {
        switch k {
        case .string(let s): return "s:" + s
        case .int(let i): return "i:" + String(i)
        case .bool(let b): return "b:" + String(b)
        case .float(let d): return "f:" + String(d)
        case .none: return "n:"
        default: return nil
        }
    }

    func set(_ k: PyValue, _ v: PyValue) throws {
        guard let h = PyDict.key(k) else { throw CheckpointError("unsupported dict key \(k)") }
        if let i = index[h] { values[i] = v } else {
            index[h] = keys.count
            keys.append(k)
            values.append(v)
        }
    }

    public subscript(key: String) -> PyValue? { index["s:" + key].map { values[$0] } }

    func removeAll() {
        keys = []
        values = []
        index = [:]
    }

    /// (name, value) pairs whose keys are strings.
    public var stringItems: [(String, PyValue)] { zip(keys, values).compactMap { k, v in k.string.map { ($0, v) } } }
}

/// A torch storage named by a persistent id; its bytes come from the archive.
public struct PickleStorage {
    public var dtype: DType
    public var key: String
}

/// A restricted pickle machine: the opcodes of protocols 0-5 that data uses, and only the
/// globals that checkpoints use. Anything else is rejected with the global's name, so loading
/// a checkpoint never runs code.
struct PickleMachine {
    let b: [UInt8]
    var i = 0
    let source: String
    var stack: [PyValue] = []
    var marks: [Int] = []
    var memo: [Int: PyValue] = [:]
    /// Resolves persistent ids (torch storages) to values.
    var persistentLoad: ((PyValue) throws -> PyValue)?
    /// Builds tensors from storages (torch._utils._rebuild_tensor_v2).
    var rebuildTensor: ((PickleStorage, Int, [Int], [Int]) throws -> Tensor)?

    static let storageTypes: [String: DType] = ["FloatStorage": .float32, "DoubleStorage": .float64, "HalfStorage": .float16,
                                                "BFloat16Storage": .bfloat16, "LongStorage": .int64, "IntStorage": .int32,
                                                "ShortStorage": .int16, "CharStorage": .int8, "ByteStorage": .uint8, "BoolStorage": .bool]

    /// numpy's dtype codes (byte-order marks stripped) for the arrays checkpoints carry.
    static let numpyDTypes: [String: DType] = ["f4": .float32, "f8": .float64, "f2": .float16, "i8": .int64, "i4": .int32, "i2": .int16,
                                               "i1": .int8, "u1": .uint8, "b1": .bool]

    static let allowed: Set<String> = Set<String>([
        "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor", "torch._utils._rebuild_parameter",
        "collections.OrderedDict", "builtins.set", "builtins.frozenset", "__builtin__.set", "__builtin__.frozenset",
        "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct", "numpy.ndarray", "numpy.dtype",
        "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar", "_codecs.encode", "torch.device",
    ]).union(storageTypes.keys.map { "torch.\($0)" })

    init(_ bytes: [UInt8], source: String) {
        b = bytes
        self.source = source
    }

    func fail(_ message: String) -> CheckpointError { CheckpointError("\(source): \(message) (pickle offset \(i))") }

    mutating func u8() throws -> Int {
        guard i < b.count else { throw fail("unexpected end of the pickle") }
        defer { i += 1 }
        return Int(b[i])
    }

    mutating func read(_ n: Int) throws -> ArraySlice<UInt8> {
        // n comes from the file (up to 2^63): compared without adding, so it cannot overflow.
        guard n >= 0, n <= b.count - i else { throw fail("unexpected end of the pickle (a length of \(n) bytes)") }
        defer { i += n }
        return b[i..<(i + n)]
    }

    mutating func uint(_ n: Int) throws -> Int {
        let s = try read(n)
        var v = 0
        for (k, x) in s.enumerated() { v |= Int(x) << (8 * k) }
        return v
    }

    mutating func line() throws -> String {
        guard let end = b[i...].firstIndex(of: 0x0A) else { throw fail("unterminated line") }
        defer { i = end + 1 }
        return String(decoding: b[i..<end], as: UTF8.self)
    }

    mutating func pop() throws -> PyValue {
        guard let v = stack.popLast() else { throw fail("stack underflow") }
        return v
    }

    mutating func popMark() throws -> [PyValue] {
        guard let m = marks.popLast() else { throw fail("no mark") }
        guard m <= stack.count else { throw fail("the stack was popped below its mark") }
        let items = Array(stack[m...])
        stack.removeSubrange(m...)
        return items
    }

    /// Values nest at most this deep (state dicts nest a handful of levels).
    static let maxNesting = 1000

    /// Runs to STOP. Whatever the outcome, no value left behind nests deeper than `maxNesting`:
    /// deeper values are refused and taken apart without recursion (releasing them the ordinary
    /// way recurses once per level).
    mutating func run() throws -> PyValue {
        let result: PyValue
        do {
            result = try runOpcodes()
        } catch {
            PyValue.dismantle(stack + Array(memo.values))
            stack = []
            memo = [:]
            throw error
        }
        let everything = [result] + stack + Array(memo.values)
        if let depth = PyValue.nesting(of: everything, beyond: PickleMachine.maxNesting) {
            PyValue.dismantle(everything)
            stack = []
            memo = [:]
            throw fail("values nested \(depth) levels deep; a checkpoint nests a handful, and Lunette reads up to \(PickleMachine.maxNesting)")
        }
        return result
    }

    private mutating func runOpcodes() throws -> PyValue {
        while true {
            let op = try u8()
            switch op {
            case 0x80:                                                  // PROTO
                let version = try u8()
                guard version <= 5 else { throw fail("pickle protocol \(version) is newer than any Python writes (0 to 5)") }
            case 0x95: _ = try read(8)                                // FRAME
            case 0x2E: return try pop()                                // STOP
            case 0x28: marks.append(stack.count)                       // MARK
            case 0x4E: stack.append(.none)                             // NONE
            case 0x88: stack.append(.bool(true))                       // NEWTRUE
            case 0x89: stack.append(.bool(false))                      // NEWFALSE
            case 0x4B: stack.append(.int(Int64(try u8())))             // BININT1
            case 0x4D: stack.append(.int(Int64(try uint(2))))          // BININT2
            case 0x4A: stack.append(.int(Int64(Int32(truncatingIfNeeded: try uint(4))))) // BININT
            case 0x8A:                                                  // LONG1
                let n = try u8()
                let bytes = try read(n)
                if n > 8 {
                    // Only torch's legacy magic number is this long; keep it recognisable.
                    stack.append(.bytes(Array(bytes)))
                    continue
                }
                var v: Int64 = 0
                for (k, x) in bytes.enumerated() { v |= Int64(x) << (8 * Int64(k)) }
                if n > 0 && n < 8 && bytes.last! & 0x80 != 0 { v -= Int64(1) << (8 * Int64(n)) }
                stack.append(.int(v))
            case 0x49:                                                  // INT (text)
                let s = try line()
                if s == "01" { stack.append(.bool(true)) } else if s == "00" { stack.append(.bool(false)) } else {
                    guard let v = Int64(s) else { throw fail("bad INT \(s)") }
                    stack.append(.int(v))
                }
            case 0x47:                                                  // BINFLOAT (big-endian)
                let s = try read(8)
                var bits: UInt64 = 0
                for x in s { bits = bits << 8 | UInt64(x) }
                stack.append(.float(Double(bitPattern: bits)))
            case 0x58: let n = try uint(4); stack.append(.string(String(decoding: try read(n), as: UTF8.self)))   // BINUNICODE
            case 0x8C: let n = try u8(); stack.append(.string(String(decoding: try read(n), as: UTF8.self)))      // SHORT_BINUNICODE
            case 0x8D: let n = try uint(8); stack.append(.string(String(decoding: try read(n), as: UTF8.self)))   // BINUNICODE8
            case 0x54: let n = try uint(4); stack.append(.string(String(try read(n).map { Character(UnicodeScalar($0)) })))  // BINSTRING (py2, latin1)
            case 0x55: let n = try u8(); stack.append(.string(String(try read(n).map { Character(UnicodeScalar($0)) })))     // SHORT_BINSTRING
            case 0x42: let n = try uint(4); stack.append(.bytes(Array(try read(n))))   // BINBYTES
            case 0x43: let n = try u8(); stack.append(.bytes(Array(try read(n))))      // SHORT_BINBYTES
            case 0x8E: let n = try uint(8); stack.append(.bytes(Array(try read(n))))   // BINBYTES8
            case 0x96: let n = try uint(8); stack.append(.bytes(Array(try read(n))))   // BYTEARRAY8
            case 0x7D: stack.append(.dict(PyDict()))                   // EMPTY_DICT
            case 0x5D: stack.append(.list(PyList()))                   // EMPTY_LIST
            case 0x29: stack.append(.tuple(PyTuple([])))               // EMPTY_TUPLE
            case 0x8F: stack.append(.list(PyList()))                   // EMPTY_SET (kept as a list)
            case 0x74: stack.append(.tuple(PyTuple(try popMark())))    // TUPLE
            case 0x85: stack.append(.tuple(PyTuple([try pop()])))      // TUPLE1
            case 0x86: let b2 = try pop(), a = try pop(); stack.append(.tuple(PyTuple([a, b2])))   // TUPLE2
            case 0x87: let c = try pop(), b2 = try pop(), a = try pop(); stack.append(.tuple(PyTuple([a, b2, c])))  // TUPLE3
            case 0x6C: let l = PyList(); l.items = try popMark(); stack.append(.list(l))            // LIST
            case 0x64:                                                  // DICT
                let items = try popMark()
                let d = PyDict()
                for k in stride(from: 0, to: items.count - 1, by: 2) { try d.set(items[k], items[k + 1]) }
                stack.append(.dict(d))
            case 0x61:                                                  // APPEND
                let v = try pop()
                guard case .list(let l)? = stack.last else { throw fail("APPEND to a non-list") }
                l.items.append(v)
            case 0x65, 0x90:                                            // APPENDS, ADDITEMS
                let items = try popMark()
                guard case .list(let l)? = stack.last else { throw fail("APPENDS to a non-list") }
                l.items += items
            case 0x73:                                                  // SETITEM
                let v = try pop(), k = try pop()
                guard case .dict(let d)? = stack.last else { throw fail("SETITEM on a non-dict") }
                try d.set(k, v)
            case 0x75:                                                  // SETITEMS
                let items = try popMark()
                guard case .dict(let d)? = stack.last else { throw fail("SETITEMS on a non-dict") }
                for k in stride(from: 0, to: items.count - 1, by: 2) { try d.set(items[k], items[k + 1]) }
            case 0x71: memo[try u8()] = stack.last                      // BINPUT
            case 0x72: memo[try uint(4)] = stack.last                   // LONG_BINPUT
            case 0x94: memo[memo.count] = stack.last                    // MEMOIZE
            case 0x70: guard let n = Int(try line()) else { throw fail("bad PUT") }; memo[n] = stack.last   // PUT
            case 0x68: stack.append(try memoGet(try u8()))              // BINGET
            case 0x6A: stack.append(try memoGet(try uint(4)))           // LONG_BINGET
            case 0x67: guard let n = Int(try line()) else { throw fail("bad GET") }; stack.append(try memoGet(n))  // GET
            case 0x30: _ = try pop()                                    // POP
            case 0x31: _ = try popMark()                                // POP_MARK
            case 0x32: guard let top = stack.last else { throw fail("DUP on empty stack") }; stack.append(top)  // DUP
            case 0x63:                                                  // GLOBAL
                let module = try line(), name = try line()
                stack.append(try global(module, name))
            case 0x93:                                                  // STACK_GLOBAL
                let name = try pop(), module = try pop()
                guard let m = module.string, let n = name.string else { throw fail("STACK_GLOBAL needs strings") }
                stack.append(try global(m, n))
            case 0x52:                                                  // REDUCE
                let args = try pop(), callable = try pop()
                stack.append(try reduce(callable, args))
            case 0x81:                                                  // NEWOBJ
                let args = try pop(), cls = try pop()
                stack.append(try reduce(cls, args))
            case 0x62:                                                  // BUILD
                let state = try pop(), obj = try pop()
                stack.append(try build(obj, state))
            case 0x51:                                                  // BINPERSID
                let pid = try pop()
                guard let load = persistentLoad else { throw fail("a persistent id where none is expected") }
                stack.append(try load(pid))
            default:
                throw fail(String(format: "unsupported pickle opcode 0x%02X", op))
            }
        }
    }

    func memoGet(_ k: Int) throws -> PyValue {
        guard let v = memo[k] else { throw fail("memo \(k) is empty") }
        return v
    }

    func global(_ module: String, _ name: String) throws -> PyValue {
        let full = "\(module).\(name)"
        guard PickleMachine.allowed.contains(full) else {
            throw fail("refusing the global \(full): checkpoints are loaded without running code, and this object is not one that state dicts use")
        }
        return .global(module, name)
    }

    func ints(_ v: PyValue, _ what: String) throws -> [Int] {
        guard case .tuple(let t) = v else { throw fail("\(what) must be a tuple") }
        return try t.items.map { x -> Int in
            guard case .int(let i) = x else { throw fail("\(what) must hold integers") }
            return Int(i)
        }
    }

    mutating func reduce(_ callable: PyValue, _ argsValue: PyValue) throws -> PyValue {
        guard case .global(let module, let name) = callable else { throw fail("call of a non-global \(callable)") }
        guard case .tuple(let argsTuple) = argsValue else { throw fail("\(module).\(name) called without an argument tuple") }
        let args = argsTuple.items
        switch "\(module).\(name)" {
        case "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor":
            guard args.count >= 4, case .storage(let s) = args[0], case .int(let offset) = args[1], let rebuild = rebuildTensor else {
                throw fail("malformed _rebuild_tensor_v2 call")
            }
            do {
                return .tensor(try rebuild(s, Int(offset), try ints(args[2], "size"), try ints(args[3], "stride")))
            } catch let e as TensorRebuildError {
                return .unreadable(e.why)
            }
        case "torch._utils._rebuild_parameter":
            guard let first = args.first else { throw fail("malformed _rebuild_parameter call") }
            return first
        case "collections.OrderedDict":
            return .dict(PyDict())
        case "builtins.set", "builtins.frozenset", "__builtin__.set", "__builtin__.frozenset":
            let l = PyList()
            if case .list(let items)? = args.first { l.items = items.items }
            return .list(l)
        case "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct":
            return .ndarrayStub
        case "numpy.dtype":
            guard case .string(let code)? = args.first else { throw fail("numpy.dtype needs a type code") }
            return .dtype(code)
        case "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar":
            guard args.count == 2, case .dtype(let code) = args[0] else { throw fail("malformed numpy scalar") }
            let raw: [UInt8]
            switch args[1] {
            case .bytes(let bs): raw = bs
            case .string(let s): raw = s.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }
            default: throw fail("malformed numpy scalar")
            }
            return try scalar(code, raw)
        case "_codecs.encode":
            guard case .string(let s)? = args.first else { throw fail("_codecs.encode needs a string") }
            return .bytes(s.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })   // latin1
        case "torch.device":
            return .string(args.first?.string ?? "cpu")
        default:
            throw fail("refusing to call \(module).\(name)")
        }
    }

    func scalar(_ code: String, _ raw: [UInt8]) throws -> PyValue {
        func le<T: FixedWidthInteger>(_ t: T.Type) -> T { raw.prefix(MemoryLayout<T>.size).enumerated().reduce(T(0)) { $0 | T(truncatingIfNeeded: $1.element) << (8 * $1.offset) } }
        switch code.trimmingCharacters(in: CharacterSet(charactersIn: "<|=")) {
        case "f8": return .float(Double(bitPattern: le(UInt64.self)))
        case "f4": return .float(Double(Float(bitPattern: le(UInt32.self))))
        case "i8": return .int(le(Int64.self))
        case "i4": return .int(Int64(le(Int32.self)))
        case "u1", "b1": return .int(Int64(raw.first ?? 0))
        default: throw fail("unsupported numpy scalar type \(code)")
        }
    }

    func build(_ obj: PyValue, _ state: PyValue) throws -> PyValue {
        switch obj {
        case .dtype(let code):
            // state: (version, byte order, ...): big-endian data is not supported.
            if case .tuple(let tt) = state, tt.items.count > 1, case .string(let order) = tt.items[1], order == ">" {
                throw fail("big-endian numpy arrays are not supported")
            }
            return .dtype(code)
        case .ndarrayStub:
            // state: (version, shape, dtype, fortran order, raw data)
            guard case .tuple(let tt) = state, case let t = tt.items, t.count >= 5, case .dtype(let code) = t[2] else { throw fail("malformed numpy array state") }
            let shape = try ints(t[1], "array shape")
            if case .bool(true) = t[3] { throw fail("Fortran-ordered numpy arrays are not supported") }
            let raw: [UInt8]
            switch t[4] {
            case .bytes(let bs): raw = bs
            case .string(let s): raw = s.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) }
            default: throw fail("numpy object arrays are not supported")
            }
            guard let dtype = Self.numpyDTypes[code.trimmingCharacters(in: CharacterSet(charactersIn: "<|="))] else {
                throw fail("unsupported numpy dtype \(code)")
            }
            // The shape's byte count, with overflow and negative sizes caught, must be the data's.
            var needed = dtype.byteSize
            for d in shape {
                let (product, overflow) = needed.multipliedReportingOverflow(by: d)
                guard d >= 0, !overflow else { throw fail("numpy array of shape \(shape) cannot exist (a negative or enormous size)") }
                needed = product
            }
            guard raw.count == needed else { throw fail("numpy array of shape \(shape) and dtype \(code) needs \(needed) bytes, has \(raw.count)") }
            return .tensor(try raw.withUnsafeBytes { try Tensor(rawBytes: $0, shape: shape, dtype: dtype) })
        case .dict:
            // The state of a dict subclass is its attribute __dict__ (torch's `_metadata`), not items.
            return obj
        default:
            return obj
        }
    }
}
