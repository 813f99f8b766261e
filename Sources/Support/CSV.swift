import Foundation

/// CSV as RFC 4180 and Python's csv module (QUOTE_MINIMAL, lineterminator "\n") write it:
/// fields separated by commas, a field quoted when it holds a comma, a quote or a line break,
/// with quotes doubled inside.
public struct CSVWriter {
    public private(set) var text = ""

    /// A table with a header line (rows are expected to have as many fields).
    public init(header: [String]) { append(header) }

    public static func field(_ s: String) -> String {
        // Bytes, not Characters: Swift reads "\r\n" as one Character, equal to neither "\r" nor "\n".
        let needsQuotes = s.utf8.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 10 || $0 == 13 }
        guard needsQuotes else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    public mutating func append(_ fields: [String]) {
        text += fields.map(Self.field).joined(separator: ",") + "\n"
    }

    /// Writes the table atomically.
    public func write(to path: String) throws { try AtomicFile.write(text, to: path) }
}
