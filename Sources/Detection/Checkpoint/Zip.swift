import Foundation
import Support

/// Reads the members of a ZIP archive that are stored uncompressed, as torch.save writes them.
/// Member data is referenced in the mapped file, not copied.
struct StoredZip {
    let data: Data
    let path: String
    /// name -> (offset of the data, size)
    private(set) var members: [String: (offset: Int, size: Int)] = [:]

    init(path: String) throws {
        self.path = path
        // Read, not mapped: a file truncated by another process cannot fault us (SIGBUS).
        let d: Data
        do { d = try InputFile.data(path) } catch let e as FileError { throw CheckpointError(e.message) }
        data = d
        let bytes = [UInt8](d.suffix(min(d.count, 66_000)))
        // The end-of-central-directory record (and its ZIP64 locator, for big files).
        guard let eocd = stride(from: bytes.count - 22, through: 0, by: -1).first(where: {
            bytes[$0] == 0x50 && bytes[$0 + 1] == 0x4B && bytes[$0 + 2] == 0x05 && bytes[$0 + 3] == 0x06
        }) else { throw CheckpointError("\(path): not a ZIP archive (no end of central directory)") }
        let base = d.count - bytes.count
        func u16(_ o: Int) -> Int { Int(d[d.startIndex + o]) | Int(d[d.startIndex + o + 1]) << 8 }
        func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
        func u64(_ o: Int) -> Int { u32(o) | u32(o + 4) << 32 }
        var count = u16(base + eocd + 10)
        var dirOffset = u32(base + eocd + 16)
        if dirOffset == 0xFFFF_FFFF || count == 0xFFFF {
            // ZIP64: the locator sits just before the EOCD record.
            let locator = base + eocd - 20
            guard locator >= 0, u32(locator) == 0x0706_4B50 else { throw CheckpointError("\(path): damaged ZIP64 directory") }
            let record = u64(locator + 8)
            count = u64(record + 32)
            dirOffset = u64(record + 48)
        }
        var p = dirOffset
        for _ in 0..<count {
            guard p + 46 <= d.count, u32(p) == 0x0201_4B50 else { throw CheckpointError("\(path): damaged ZIP central directory") }
            let method = u16(p + 10)
            var size = u32(p + 24)
            let nameLength = u16(p + 28), extraLength = u16(p + 30), commentLength = u16(p + 32)
            var local = u32(p + 42)
            let name = String(decoding: d[(d.startIndex + p + 46)..<(d.startIndex + p + 46 + nameLength)], as: UTF8.self)
            // ZIP64 extra field: 64-bit sizes and offset.
            var e = p + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = u16(e), len = u16(e + 2)
                if id == 0x0001 {
                    var q = e + 4
                    if u32(p + 24) == 0xFFFF_FFFF { q += 8 }            // uncompressed size first
                    if size == 0xFFFF_FFFF { size = u64(e + 4); }
                    if u32(p + 20) == 0xFFFF_FFFF { q += 8 }
                    if local == 0xFFFF_FFFF { local = u64(q) }
                }
                e += 4 + len
            }
            guard method == 0 else { throw CheckpointError("\(path): member \(name) is compressed (method \(method)); torch checkpoints store members uncompressed") }
            let dataStart = local + 30 + u16(local + 26) + u16(local + 28)
            guard dataStart + size <= d.count else { throw CheckpointError("\(path): member \(name) runs past the end of the file (truncated?)") }
            members[name] = (dataStart, size)
            p += 46 + nameLength + extraLength + commentLength
        }
    }

    func bytes(_ name: String) throws -> Data {
        guard let m = members[name] else { throw CheckpointError("\(path): missing member \(name)") }
        return data[(data.startIndex + m.offset)..<(data.startIndex + m.offset + m.size)]
    }

    /// The member whose name ends with the suffix (torch names the root folder after the file).
    func member(endingWith suffix: String) -> String? {
        members.keys.filter { $0.hasSuffix(suffix) }.min { $0.count < $1.count }
    }
}

public struct CheckpointError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
