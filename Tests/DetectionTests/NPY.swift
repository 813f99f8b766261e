import Foundation
import Torch
@testable import Detection

/// NumPy's .npy format (version 1-3): a magic string, a header dict (descr, fortran_order,
/// shape), then raw little-endian data: the Detectron2 fixtures the parity tests read.
enum NPY {
    static let dtypes: [String: DType] = ["<f4": .float32, "<f8": .float64, "<f2": .float16, "<i8": .int64, "<i4": .int32,
                                          "<i2": .int16, "|i1": .int8, "|u1": .uint8, "|b1": .bool]

    static func read(_ path: String) throws -> Tensor {
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError("cannot read \(path)") }
        let bytes = [UInt8](data)
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else {
            throw DataError("\(path): not a .npy file")
        }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        } else {
            guard bytes.count >= 12 else { throw DataError("\(path): truncated header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        }
        guard headerStart + headerLength <= bytes.count else { throw DataError("\(path): truncated header") }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        func field(_ name: String) -> String? {
            guard let r = header.range(of: "'\(name)':") else { return nil }
            return String(header[r.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
        guard let descrField = field("descr"), let q1 = descrField.firstIndex(of: "'"),
              let q2 = descrField[descrField.index(after: q1)...].firstIndex(of: "'") else { throw DataError("\(path): no descr in the header") }
        let descr = String(descrField[descrField.index(after: q1)..<q2])
        guard let dtype = dtypes[descr] else { throw DataError("\(path): unsupported dtype \(descr)") }
        if let f = field("fortran_order"), f.hasPrefix("True") { throw DataError("\(path): Fortran-ordered arrays are not supported") }
        guard let shapeField = field("shape"), let open = shapeField.firstIndex(of: "("), let close = shapeField.firstIndex(of: ")") else {
            throw DataError("\(path): no shape in the header")
        }
        let shape = shapeField[shapeField.index(after: open)..<close].split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.compactMap { Int($0) }
        let dataStart = headerStart + headerLength
        let count = shape.reduce(1, *)
        guard bytes.count - dataStart == count * dtype.byteSize else {
            throw DataError("\(path): \(bytes.count - dataStart) data bytes for shape \(shape) of \(descr)")
        }
        return try bytes[dataStart...].withUnsafeBytes { try Tensor(rawBytes: $0, shape: shape, dtype: dtype) }
    }
}
