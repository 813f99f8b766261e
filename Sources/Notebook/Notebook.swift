import Foundation
import Support

/// A notebook as nbformat 4.5 describes it: cells (code, Markdown, raw) with their sources,
/// metadata and, once run, outputs. Objects keep their key order, so metadata read from a
/// `-- %%` marker is written back in the same order.
public struct Notebook {
    public var cells: [Cell]
    public var metadata: [(String, JSONValue)]

    public init(cells: [Cell], metadata: [(String, JSONValue)] = []) {
        self.cells = cells
        self.metadata = metadata
    }

    /// The index of the first cell carrying a tag.
    public func firstCell(tagged tag: String) -> Int? { cells.firstIndex { $0.tags.contains(tag) } }

    /// Gives every cell a unique nbformat 4.5 id: a cell's own id is kept when it is valid and
    /// not taken yet, others get `cell-N` (N its position, counting from 1).
    public mutating func assignIDs() {
        var taken = Set<String>()
        for i in cells.indices {
            var id = cells[i].id
            if !Cell.isValidID(id) || taken.contains(id) {
                var n = i + 1
                id = "cell-\(n)"
                while taken.contains(id) { n += cells.count; id = "cell-\(n)" }
            }
            cells[i].id = id
            taken.insert(id)
        }
    }
}

public enum CellKind: String, Sendable {
    case code, markdown, raw
}

public struct Cell {
    public var kind: CellKind
    public var id: String
    public var source: String
    public var metadata: [(String, JSONValue)]
    public var outputs: [Output] = []
    public var executionCount: Int?
    /// The line of a `-- %%` file where the cell's source starts (error messages name it).
    public var line: Int?
    /// Keys of an .ipynb cell this model does not hold (Markdown `attachments`, say), kept as they are.
    public var extra: [(String, JSONValue)] = []

    public init(kind: CellKind, source: String, metadata: [(String, JSONValue)] = [], id: String = "") {
        self.kind = kind
        self.source = source
        self.metadata = metadata
        self.id = id
    }

    /// nbformat 4.5: 1 to 64 characters of letters, digits, '-' and '_'.
    public static func isValidID(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count) && id.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F
        }
    }

    public var tags: [String] { metadata.value("tags")?.array?.compactMap(\.string) ?? [] }
    public var title: String? { metadata.value("title")?.string }
}

/// One output of a code cell, as nbformat names them.
public enum Output {
    case stream(name: String, text: String)
    /// `display(x)` mid-cell: MIME type → content (base64 for images), and per-type metadata.
    case displayData(data: [(String, JSONValue)], metadata: [(String, JSONValue)])
    /// The value of a cell's last expression.
    case executeResult(count: Int, data: [(String, JSONValue)], metadata: [(String, JSONValue)])
    case error(name: String, value: String, traceback: [String])
    /// An output of a kind this reader does not know, kept as it was.
    case other(JSONValue)
}

extension Array where Element == (String, JSONValue) {
    public func value(_ key: String) -> JSONValue? { first { $0.0 == key }?.1 }

    /// Sets a key, in place when present, else at the end.
    public mutating func set(_ key: String, _ value: JSONValue) {
        if let i = firstIndex(where: { $0.0 == key }) { self[i].1 = value } else { append((key, value)) }
    }

    public mutating func remove(_ key: String) { removeAll { $0.0 == key } }

    public func removing(_ keys: Set<String>) -> Self { filter { !keys.contains($0.0) } }
}

/// A notebook that cannot be read or written, with the file and, where known, the line or cell.
public struct NotebookError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
