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
        do { members = try StoredZip.directory(LittleEndian(d, source: path)) } catch let e as InputError { throw CheckpointError(e.message) }
    }

    /// The central directory: every field read through the checked reader, every size and
    /// offset checked against the file before it is used.
    static func directory(_ z: LittleEndian) throws -> [String: (offset: Int, size: Int)] {
        let path = z.source
        let tail = [UInt8](z.data.suffix(min(z.count, 66_000)))
        // The end-of-central-directory record (and its ZIP64 locator, for big files).
        guard let eocdInTail = stride(from: tail.count - 22, through: 0, by: -1).first(where: {
            tail[$0] == 0x50 && tail[$0 + 1] == 0x4B && tail[$0 + 2] == 0x05 && tail[$0 + 3] == 0x06
        }) else { throw CheckpointError("\(path): not a ZIP archive (no end of central directory)") }
        let eocd = z.count - tail.count + eocdInTail
        var count = try z.u16(eocd + 10, "the entry count")
        var dirOffset = try z.u32(eocd + 16, "the central directory offset")
        if dirOffset == 0xFFFF_FFFF || count == 0xFFFF {
            // ZIP64: the locator sits just before the EOCD record.
            let locator = eocd - 20
            guard locator >= 0, try z.u32(locator) == 0x0706_4B50 else { throw CheckpointError("\(path): damaged ZIP64 directory") }
            let record = try z.u64(locator + 8, "the ZIP64 record offset")
            count = try z.u64(record + 32, "the ZIP64 entry count")
            dirOffset = try z.u64(record + 48, "the ZIP64 directory offset")
        }
        var members: [String: (offset: Int, size: Int)] = [:]
        var p = dirOffset
        var entry = 0
        // Each entry takes at least 46 bytes, so a count beyond what the file can hold stops at
        // the first entry past the end.
        while entry < count {
            guard z.contains(p, 46), try z.u32(p) == 0x0201_4B50 else { throw CheckpointError("\(path): damaged ZIP central directory (entry \(entry))") }
            let method = try z.u16(p + 10)
            var size = try z.u32(p + 24)
            let nameLength = try z.u16(p + 28), extraLength = try z.u16(p + 30), commentLength = try z.u16(p + 32)
            var local = try z.u32(p + 42)
            let name = String(decoding: try z.slice(p + 46, nameLength, "the name of entry \(entry)"), as: UTF8.self)
            // ZIP64 extra field: 64-bit sizes and offset.
            var e = p + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = try z.u16(e), len = try z.u16(e + 2)
                if id == 0x0001 {
                    var q = e + 4
                    if try z.u32(p + 24) == 0xFFFF_FFFF { q += 8 }            // uncompressed size first
                    if size == 0xFFFF_FFFF { size = try z.u64(e + 4, "the ZIP64 size of \(name)") }
                    if try z.u32(p + 20) == 0xFFFF_FFFF { q += 8 }
                    if local == 0xFFFF_FFFF { local = try z.u64(q, "the ZIP64 offset of \(name)") }
                }
                e += 4 + len
            }
            guard method == 0 else { throw CheckpointError("\(path): member \(name) is compressed (method \(method)); torch checkpoints store members uncompressed") }
            guard z.contains(local, 30) else { throw CheckpointError("\(path): member \(name)'s header at offset \(local) is past the end of the file (truncated?)") }
            let dataStart = local + 30 + (try z.u16(local + 26)) + (try z.u16(local + 28))
            guard z.contains(dataStart, size) else { throw CheckpointError("\(path): member \(name) runs past the end of the file (truncated?)") }
            members[name] = (dataStart, size)
            p += 46 + nameLength + extraLength + commentLength
            entry += 1
        }
        return members
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
