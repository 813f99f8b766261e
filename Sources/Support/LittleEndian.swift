import Foundation

/// Little-endian fields of a binary file from outside (zip directories, torch's legacy
/// storages, safetensors' header length), read with every offset checked: a field past the end,
/// or a 64-bit value beyond Int's range, is an error naming the file and the offset, never a
/// trap or a read outside the bytes.
public struct LittleEndian {
    public let data: Data
    /// The file, for messages.
    public let source: String

    public init(_ data: Data, source: String) {
        self.data = data
        self.source = source
    }

    public var count: Int { data.count }

    func bytes(at offset: Int, _ n: Int, _ what: String) throws -> Data.SubSequence {
        guard offset >= 0, offset <= data.count, n <= data.count - offset else {
            throw InputError("\(source): \(what) at offset \(offset) is past the end of the file (\(data.count) bytes)")
        }
        return data[(data.startIndex + offset)..<(data.startIndex + offset + n)]
    }

    func unsigned(at offset: Int, _ n: Int, _ what: String) throws -> UInt64 {
        try bytes(at: offset, n, what).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    public func u16(_ offset: Int, _ what: @autoclosure () -> String = "a 16-bit field") throws -> Int { Int(try unsigned(at: offset, 2, what())) }
    public func u32(_ offset: Int, _ what: @autoclosure () -> String = "a 32-bit field") throws -> Int { Int(try unsigned(at: offset, 4, what())) }

    /// A 64-bit count, size or offset: beyond Int's range is an error (no file is that big).
    public func u64(_ offset: Int, _ what: @autoclosure () -> String = "a 64-bit field") throws -> Int {
        let v = try unsigned(at: offset, 8, what())
        guard let i = Int(exactly: v) else { throw InputError("\(source): \(what()) at offset \(offset) is \(v), beyond any file's size") }
        return i
    }

    /// The bytes `offset..<offset+n`, checked.
    public func slice(_ offset: Int, _ n: Int, _ what: @autoclosure () -> String) throws -> Data {
        guard n >= 0 else { throw InputError("\(source): \(what()) has a negative length \(n)") }
        return Data(try bytes(at: offset, n, what()))
    }

    /// Whether `offset..<offset+n` lies inside the bytes (no overflow for any Ints).
    public func contains(_ offset: Int, _ n: Int) -> Bool {
        offset >= 0 && n >= 0 && offset <= data.count && n <= data.count - offset
    }
}
