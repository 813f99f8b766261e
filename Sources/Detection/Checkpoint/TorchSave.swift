import Foundation
import Support
import Torch

/// Writes checkpoints Python's torch.load reads: a zip archive holding `data.pkl` (pickle
/// protocol 2) and one record per tensor storage, as torch.save lays it out. Only data is
/// pickled (dicts, lists, tuples, numbers, strings, tensors); no code is referenced except
/// torch's tensor rebuild function, the storage classes and collections.OrderedDict.
public enum TorchSave {
    /// Writes `object` to `path` atomically: a temporary file in the same folder, then a rename,
    /// so a failure (a full disk) leaves any previous file at `path` intact.
    /// Dicts listed in `ordered` are written as collections.OrderedDict (state dicts).
    public static func write(_ object: PyValue, to path: String, ordered: Set<ObjectIdentifier> = []) throws {
        var writer = PickleWriter(ordered: ordered)
        writer.put(object)
        writer.stop()
        do {
            try AtomicFile.write(to: path) { tmp in
                let archive = try TorchArchiveWriter(path: tmp)
                try archive.write("data.pkl", data: writer.bytes)
                for (key, tensor) in writer.storages { try archive.write("data/\(key)", tensor: tensor) }
                try archive.close()
            }
        } catch let e as FileError {
            throw CheckpointError("could not write \(path): \(e.message)")
        }
    }

    /// A dict from (key, value) pairs, keys kept in order.
    public static func dict(_ items: [(String, PyValue)]) -> PyDict {
        let d = PyDict()
        for (k, v) in items { try! d.set(.string(k), v) }
        return d
    }

    public static func list(_ items: [PyValue]) -> PyValue {
        let l = PyList()
        l.items = items
        return .list(l)
    }

    public static func dict(intKeys items: [(Int, PyValue)]) -> PyDict {
        let d = PyDict()
        for (k, v) in items { try! d.set(.int(Int64(k)), v) }
        return d
    }
}

/// Pickle protocol 2 for the PyValue subset checkpoints hold.
struct PickleWriter {
    private(set) var bytes: [UInt8] = [0x80, 2]
    private(set) var storages: [(String, Tensor)] = []
    let ordered: Set<ObjectIdentifier>

    init(ordered: Set<ObjectIdentifier>) { self.ordered = ordered }

    mutating func stop() { bytes.append(UInt8(ascii: ".")) }

    private mutating func op(_ c: Character) { bytes.append(c.asciiValue!) }

    private mutating func global(_ module: String, _ name: String) {
        op("c")
        bytes += Array("\(module)\n\(name)\n".utf8)
    }

    private mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        op("X")
        withUnsafeBytes(of: UInt32(utf8.count).littleEndian) { bytes += $0 }
        bytes += utf8
    }

    private mutating func int(_ i: Int64) {
        if i >= Int64(Int32.min) && i <= Int64(Int32.max) {
            op("J")
            withUnsafeBytes(of: Int32(i).littleEndian) { bytes += $0 }
        } else {
            bytes += [0x8A, 8]                                        // LONG1, 8 bytes two's complement
            withUnsafeBytes(of: i.littleEndian) { bytes += $0 }
        }
    }

    private mutating func tuple(_ items: [PyValue]) {
        if items.isEmpty { op(")"); return }
        op("(")
        for v in items { put(v) }
        op("t")
    }

    private mutating func emptyOrderedDict() {
        global("collections", "OrderedDict")
        op(")")
        op("R")
    }

    static func storageClass(_ dtype: DType) -> String {
        switch dtype {
        case .float32: return "FloatStorage"
        case .float64: return "DoubleStorage"
        case .float16: return "HalfStorage"
        case .bfloat16: return "BFloat16Storage"
        case .int64: return "LongStorage"
        case .int32: return "IntStorage"
        case .int16: return "ShortStorage"
        case .int8: return "CharStorage"
        case .uint8: return "ByteStorage"
        case .bool: return "BoolStorage"
        }
    }

    mutating func put(_ v: PyValue) {
        switch v {
        case .none: op("N")
        case .bool(let b): bytes.append(b ? 0x88 : 0x89)
        case .int(let i): int(i)
        case .float(let d):
            op("G")
            withUnsafeBytes(of: d.bitPattern.bigEndian) { bytes += $0 }
        case .string(let s): string(s)
        case .bytes(let b):
            // Protocol 2 has no bytes opcode: Python pickles bytes as _codecs.encode(latin-1 text, "latin1").
            global("_codecs", "encode")
            op("(")
            string(String(String.UnicodeScalarView(b.map { Unicode.Scalar($0) })))
            string("latin1")
            op("t")
            op("R")
        case .list(let l):
            op("]")
            if !l.items.isEmpty {
                op("(")
                for item in l.items { put(item) }
                op("e")
            }
        case .tuple(let t): tuple(t.items)
        case .dict(let d):
            if ordered.contains(ObjectIdentifier(d)) { emptyOrderedDict() } else { op("}") }
            if !d.keys.isEmpty {
                op("(")
                for (k, value) in zip(d.keys, d.values) { put(k); put(value) }
                op("u")
            }
        case .tensor(let t):
            let key = String(storages.count)
            storages.append((key, t))
            global("torch._utils", "_rebuild_tensor_v2")
            op("(")
            // Persistent id: ('storage', storage class, key, location, element count).
            op("(")
            string("storage")
            global("torch", Self.storageClass(t.dtype))
            string(key)
            string("cpu")
            int(Int64(t.numel))
            op("t")
            op("Q")
            int(0)
            tuple(t.shape.map { .int(Int64($0)) })
            tuple(contiguousStrides(t.shape).map { .int(Int64($0)) })
            bytes.append(0x89)                                        // requires_grad False
            emptyOrderedDict()                                        // backward hooks
            op("t")
            op("R")
        case .global(let m, let n): global(m, n)
        case .dtype, .ndarrayStub, .storage, .unreadable:
            op("N")
        }
    }

    private func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var s = 1
        for i in shape.indices.reversed() {
            strides[i] = s
            s *= Swift.max(shape[i], 1)
        }
        return strides
    }
}
