import CTorch
import Foundation
import Support
#if canImport(Glibc)
import Glibc
#endif

/// The safetensors format: an 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and byte range, then the raw little-endian data. Reading maps the file
/// and wraps the tensors without copying (copy-on-write: changing a tensor never changes the file).
public enum SafeTensors {
    public struct File {
        /// Tensors in the order of their data in the file.
        public var tensors: [(name: String, tensor: Tensor)]
        public var metadata: [String: String]

        public subscript(name: String) -> Tensor? { tensors.first { $0.name == name }?.tensor }
    }

    static let codes: [DType: String] = [.float64: "F64", .float32: "F32", .float16: "F16", .bfloat16: "BF16",
                                         .int64: "I64", .int32: "I32", .int16: "I16", .int8: "I8", .uint8: "U8", .bool: "BOOL"]

    /// Reads a .safetensors file; every problem names the file and, where it applies, the tensor.
    public static func read(_ path: String) throws -> File {
        // Read, not mapped: a file truncated by another process cannot fault us.
        let file: FileBytes
        do { file = try InputFile.read(path) } catch let e as FileError { throw TorchError(e.message) }
        let bytes = file.bytes
        guard bytes.count >= 8 else { throw TorchError("\(path): not a safetensors file (\(bytes.count) bytes)") }
        let rawLength = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        guard rawLength > 1, rawLength < 100_000_000, Int(rawLength) <= bytes.count - 8 else {
            throw TorchError("\(path): not a safetensors file (header length \(rawLength) for a file of \(bytes.count) bytes)")
        }
        let headerLength = Int(rawLength)
        let headerData = Data(bytes[8..<(8 + headerLength)])
        guard let header = (try? JSONSerialization.jsonObject(with: headerData)) as? [String: Any] else {
            throw TorchError("\(path): the safetensors header is not a JSON object")
        }
        let dataStart = 8 + headerLength
        let dataLength = bytes.count - dataStart
        var metadata: [String: String] = [:]
        var entries: [(name: String, dtype: DType, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: Any] else { throw TorchError("\(path): __metadata__ is not an object") }
                for (k, v) in m {
                    guard let s = v as? String else { throw TorchError("\(path): metadata '\(k)' is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let info = value as? [String: Any], let code = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2 else {
                throw TorchError("\(path): tensor '\(name)' needs dtype, shape and data_offsets")
            }
            guard let dtype = codes.first(where: { $0.value == code })?.key else {
                throw TorchError("\(path): tensor '\(name)' has unsupported dtype \(code)")
            }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw TorchError("\(path): tensor '\(name)' has a negative dimension") }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, end >= begin, end <= dataLength else {
                throw TorchError("\(path): tensor '\(name)' has byte range \(begin)..<\(end) outside the \(dataLength) data bytes")
            }
            var expected = dtype.byteSize
            for d in shape {
                let (product, overflow) = expected.multipliedReportingOverflow(by: d)
                guard !overflow, product <= dataLength else {
                    throw TorchError("\(path): tensor '\(name)' of shape \(shape) needs more bytes than the file holds (\(dataLength))")
                }
                expected = product
            }
            guard end - begin == expected else {
                throw TorchError("\(path): tensor '\(name)' of shape \(shape) and dtype \(code) needs \(expected) bytes, has \(end - begin)")
            }
            entries.append((name, dtype, shape, begin, end))
        }
        entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        let nonEmpty = entries.filter { $0.end > $0.begin }
        for (a, b) in zip(nonEmpty, nonEmpty.dropFirst()) where a.end > b.begin {
            throw TorchError("\(path): tensors '\(a.name)' and '\(b.name)' overlap")
        }
        var tensors: [(String, Tensor)] = []
        for e in entries {
            let pointer = file.base.advanced(by: dataStart + e.begin)
            let t: Tensor
            if e.end == e.begin {
                t = try Tensor.zeros(e.shape, dtype: e.dtype)
            } else if Int(bitPattern: pointer) % e.dtype.byteSize == 0 {
                t = try Tensor.wrapping(pointer, shape: e.shape, dtype: e.dtype) { withExtendedLifetime(file) {} }
            } else {
                // Misaligned data: copy rather than hand libtorch an unaligned pointer.
                let wrapped = try Tensor.wrapping(pointer, shape: e.shape, dtype: e.dtype) { withExtendedLifetime(file) {} }
                t = try wrapped.clone()
            }
            tensors.append((e.name, t))
        }
        return File(tensors: tensors, metadata: metadata)
    }

    /// Writes tensors (any device; stored as CPU data) atomically: a temporary file, then rename.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to path: String) throws {
        var seen = Set<String>()
        for (name, _) in tensors where !seen.insert(name).inserted {
            throw TorchError("safetensors: the name '\(name)' appears twice")
        }
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        // Offsets first, so each tensor is copied once, straight into its slice of the file image.
        var offset = 0
        var slices: [(tensor: Tensor, offset: Int, count: Int)] = []
        for (name, t) in tensors {
            guard let code = codes[t.dtype] else { throw TorchError("safetensors: tensor '\(name)' has unsupported dtype \(t.dtype)") }
            let count = t.numel * t.dtype.byteSize
            header[name] = ["dtype": code, "shape": t.shape, "data_offsets": [offset, offset + count]] as [String: Any]
            slices.append((t, offset, count))
            offset += count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }  // pad with spaces so the data starts aligned
        var out = Data()
        var length = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &length) { out.append(contentsOf: $0) }
        out.append(json)
        let dataStart = out.count
        out.count += offset
        try out.withUnsafeMutableBytes { (file: UnsafeMutableRawBufferPointer) in
            for s in slices where s.count > 0 {
                try check(ct_copy_to_buffer(s.tensor.handle, file.baseAddress! + dataStart + s.offset, s.count))
            }
        }
        do {
            try AtomicFile.write(out, to: path)
        } catch let e as FileError {
            throw TorchError(e.message)
        }
    }
}
