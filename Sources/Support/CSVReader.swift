import Foundation

/// A CSV problem: the file (as named to the reader), the line and what is wrong.
public struct CSVError: Error, CustomStringConvertible {
    public let source: String
    /// The 1-based line where the problem is (where the record, or the open quote, starts); 0 for the whole file.
    public let line: Int
    public let message: String
    public init(source: String, line: Int, _ message: String) {
        self.source = source
        self.line = line
        self.message = message
    }
    public var description: String { message }
}

/// One record of a CSV file: its fields and the 1-based line it starts on.
public struct CSVRow: Sendable {
    public let fields: [String]
    public let line: Int
    public init(fields: [String], line: Int) {
        self.fields = fields
        self.line = line
    }
}

/// A CSV file read whole: the header record and the records after it, every one as wide as the header.
public struct CSVTable: Sendable {
    /// The file's name as given to the reader (errors name it).
    public let source: String
    public let header: [String]
    public let headerLine: Int
    public let rows: [CSVRow]

    /// The index of the first header field named `name`.
    public func column(_ name: String) -> Int? { header.firstIndex(of: name) }

    /// Every index of a header field named `name` (more than one is usually an error for the caller).
    public func columns(named name: String) -> [Int] { header.indices.filter { header[$0] == name } }
}

/// CSV as RFC 4180 describes it, and as spreadsheets and ad platforms write it: fields
/// separated by commas, records ended by CRLF, LF (or a lone CR); a field in double quotes may
/// hold commas, line breaks and quotes written twice (`""`). A UTF-8 byte-order mark at the start
/// is dropped, blank lines are skipped, and the text must be UTF-8.
///
/// Errors name the file and the line: a record with more or fewer fields than the header, a
/// quote that is never closed (the line it opened on), a closing quote followed by more text,
/// bytes that are not UTF-8. Works on the bytes; a field becomes a String once.
public enum CSVReader {
    /// The file at `path` (opened through InputFile), header first. `limit` refuses larger files.
    public static func read(_ path: String, limit: Int = 1 << 34) throws -> CSVTable {
        let file = try InputFile.read(path, limit: limit)
        return try parse(file.bytes, source: path)
    }

    /// CSV text in memory; `source` names it in errors.
    public static func parse(_ text: String, source: String) throws -> CSVTable {
        var text = text
        return try text.withUTF8 { try parse(UnsafeRawBufferPointer($0), source: source) }
    }

    /// CSV bytes in memory; `source` names them in errors. The first record is the header.
    public static func parse(_ bytes: UnsafeRawBufferPointer, source: String) throws -> CSVTable {
        var header: [String]?
        var headerLine = 0
        var rows: [CSVRow] = []
        try records(bytes, source: source) { fields, line in
            guard let h = header else {
                header = fields
                headerLine = line
                return
            }
            guard fields.count == h.count else {
                throw CSVError(source: source, line: line, "\(source) line \(line): \(fields.count) field\(fields.count == 1 ? "" : "s"), but the header (line \(headerLine)) has \(h.count)"
                               + (fields.count > h.count ? " (a value holding a comma must be in double quotes)" : ""))
            }
            rows.append(CSVRow(fields: fields, line: line))
        }
        guard let header else { throw CSVError(source: source, line: 0, "\(source) is empty: it has no header line") }
        return CSVTable(source: source, header: header, headerLine: headerLine, rows: rows)
    }

    private static let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")

    /// Every record, in order, with the line it starts on; blank lines are skipped.
    public static func records(_ bytes: UnsafeRawBufferPointer, source: String, _ body: ([String], Int) throws -> Void) throws {
        let n = bytes.count
        var i = 0
        if n >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { i = 3 }
        var line = 1
        var fields: [String] = []
        var recordLine = 1
        var atRecordStart = true
        var scratch: [UInt8] = []

        func text(_ b: UnsafeRawBufferPointer.SubSequence, field: Int) throws -> String {
            let raw = UnsafeRawBufferPointer(rebasing: b)
            let units = UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: raw.count)
            guard let s = String(validating: units, as: UTF8.self) else {
                throw CSVError(source: source, line: recordLine, "\(source) line \(recordLine): field \(field) is not valid UTF-8 text")
            }
            return s
        }

        while i < n {
            if atRecordStart {
                // A blank line is no record.
                if bytes[i] == lf || bytes[i] == cr {
                    if bytes[i] == cr && i + 1 < n && bytes[i + 1] == lf { i += 1 }
                    i += 1
                    line += 1
                    continue
                }
                recordLine = line
                fields.removeAll(keepingCapacity: true)
                atRecordStart = false
            }
            if bytes[i] == quote {
                let openedOn = line
                i += 1
                scratch.removeAll(keepingCapacity: true)
                var segment = i
                var closed = false
                while i < n {
                    let b = bytes[i]
                    if b == quote {
                        scratch.append(contentsOf: bytes[segment..<i])
                        if i + 1 < n && bytes[i + 1] == quote {
                            scratch.append(quote)
                            i += 2
                            segment = i
                            continue
                        }
                        i += 1
                        closed = true
                        break
                    }
                    if b == lf || (b == cr && !(i + 1 < n && bytes[i + 1] == lf)) { line += 1 }
                    i += 1
                }
                guard closed else {
                    throw CSVError(source: source, line: openedOn, "\(source) line \(openedOn): field \(fields.count + 1) opens a double quote that is never closed")
                }
                if i < n && bytes[i] != comma && bytes[i] != lf && bytes[i] != cr {
                    var end = i + 1
                    while end < n && end < i + 4 && bytes[end] & 0xC0 == 0x80 { end += 1 }
                    let shown = String(decoding: bytes[i..<end], as: UTF8.self)
                    throw CSVError(source: source, line: line, "\(source) line \(line): field \(fields.count + 1) has text ('\(shown)') after its closing quote; "
                                   + "inside a quoted field a quote is written twice (\"\")")
                }
                let field = try scratch.withUnsafeBytes { try text($0[...], field: fields.count + 1) }
                fields.append(field)
            } else {
                let start = i
                while i < n {
                    let b = bytes[i]
                    if b == comma || b == lf || b == cr { break }
                    i += 1
                }
                fields.append(try text(bytes[start..<i], field: fields.count + 1))
            }
            // What ends the field: a comma, a line break or the end.
            if i >= n { break }
            if bytes[i] == comma {
                i += 1
                if i == n { fields.append("") }
                continue
            }
            if bytes[i] == cr && i + 1 < n && bytes[i + 1] == lf { i += 1 }
            i += 1
            line += 1
            try body(fields, recordLine)
            atRecordStart = true
        }
        if !atRecordStart { try body(fields, recordLine) }
    }
}
