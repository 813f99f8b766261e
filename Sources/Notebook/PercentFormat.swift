import Foundation
import Support

/// Lua notebooks in jupytext's percent format with Lua's comment: a cell starts at a line
/// `-- %%`, optionally followed by a title, `[markdown]` (or `[md]`, `[raw]`) and `key=value`
/// metadata (values in JSON: `tags=["parameters"]`); Markdown lines are written `-- text`. A
/// commented YAML header between `-- ---` lines may open the file. Code before the first
/// marker is a cell of its own, and a file without markers is one cell.
///
/// Reading then writing gives back the same bytes: where a cell's text is not what the writer
/// would produce from its source and metadata (other spacing, blank lines inside Markdown, a
/// marker written differently), the original text is kept in the cell's metadata (`lunette.text`)
/// and written again as long as the source and metadata still match it. Blank lines after a cell
/// other than the usual one are jupytext's `lines_to_next_cell`.
public enum PercentFormat {
    static let marker = "-- %%"
    static let headerFence = "-- ---"
    /// Cell metadata that is not written on the marker line.
    static let unwrittenKeys: Set<String> = ["lunette", "papermill", "execution", "collapsed", "scrolled", "trusted",
                                             "ExecuteTime", "jupyter", "title", "lines_to_next_cell", "editable", "deletable"]

    public static func isMarker(_ line: Substring) -> Bool {
        guard line.hasPrefix(marker) else { return false }
        let rest = line.dropFirst(marker.count)
        return rest.isEmpty || rest.first == " " || rest.first == "\t" || rest.first == "\r"
    }

    // MARK: reading

    /// Parses a notebook's text; `path` names the file in errors (with the line).
    public static func parse(_ original: String, path: String) throws -> Notebook {
        var metadata: [(String, JSONValue)] = []
        var lunette: [(String, JSONValue)] = []
        // A file written with CR LF throughout is read as LF and written back with CR LF.
        var text = original
        var lf = 0, crlf = 0, previous: UInt8 = 0
        for b in original.utf8 {
            if b == 0x0A { lf += 1; if previous == 0x0D { crlf += 1 } }
            previous = b
        }
        if lf > 0, crlf == lf {
            text = original.replacingOccurrences(of: "\r\n", with: "\n")
            lunette.append(("line_ending", .string("\r\n")))
        }
        var lines = splitLines(text)
        let finalNewline = text.utf8.last == 0x0A
        if finalNewline || text.isEmpty { lines.removeLast() }
        var i = 0
        // The commented YAML header, kept as written.
        if lines.first == Substring(headerFence), let close = lines.dropFirst().firstIndex(of: Substring(headerFence)),
           lines[1..<close].allSatisfy({ $0.hasPrefix("--") && !isMarker($0) }) {
            lunette.set("header", .string(lines[0...close].joined(separator: "\n")))
            i = close + 1
        }
        let hasHeader = i > 0
        let firstMarker = lines[i...].firstIndex(where: isMarker) ?? lines.count
        var cells: [Cell] = []
        let prelude = lines[i..<firstMarker]
        if prelude.allSatisfy(\.isEmpty) && firstMarker < lines.count {
            if prelude.count != (hasHeader ? 1 : 0) { lunette.set("blank_lines_before_first_cell", .int(Int64(prelude.count))) }
        } else if !(prelude.isEmpty && hasHeader && firstMarker == lines.count) {
            cells.append(try cell(marker: nil, body: prelude, last: firstMarker == lines.count, path: path, line: i + 1))
        }
        var start = firstMarker
        while start < lines.count {
            let end = lines[(start + 1)...].firstIndex(where: isMarker) ?? lines.count
            cells.append(try cell(marker: lines[start], body: lines[(start + 1)..<end], last: end == lines.count, path: path, line: start + 1))
            start = end
        }
        if cells.isEmpty { cells.append(Cell(kind: .code, source: "", metadata: [("lunette", .object([("markerless", .bool(true))]))])) }
        if !finalNewline && !text.isEmpty { lunette.set("final_newline", .bool(false)) }
        if !lunette.isEmpty { metadata.append(("lunette", .object(lunette))) }
        var nb = Notebook(cells: cells, metadata: metadata)
        nb.assignIDs()
        return nb
    }

    /// One cell from its marker line (nil: code before the first marker) and the lines after it.
    static func cell(marker: Substring?, body: ArraySlice<Substring>, last: Bool, path: String, line: Int) throws -> Cell {
        var kind = CellKind.code
        var metadata: [(String, JSONValue)] = []
        if let marker {
            let parsed = try parseMarker(marker.dropFirst(self.marker.count), path: path, line: line)
            kind = parsed.kind
            if let title = parsed.title { metadata.append(("title", .string(title))) }
            metadata += parsed.metadata
        }
        var content = Array(body)
        var blanks = 0
        while let l = content.last, l.isEmpty { content.removeLast(); blanks += 1 }
        let source: String
        switch kind {
        case .code: source = content.joined(separator: "\n")
        case .markdown, .raw: source = content.map { uncomment($0) }.joined(separator: "\n")
        }
        if blanks != (last ? 0 : 1) { metadata.append(("lines_to_next_cell", .int(Int64(blanks)))) }
        var lunette: [(String, JSONValue)] = []
        if marker == nil { lunette.append(("markerless", .bool(true))) }
        var c = Cell(kind: kind, source: source, metadata: metadata)
        c.line = marker == nil ? line : line + 1
        let original = ((marker.map { [$0] } ?? []) + Array(body)).joined(separator: "\n")
        if renderCell(c, markerless: marker == nil, last: last).joined(separator: "\n") != original {
            lunette.append(("text", .string(original)))
        }
        if !lunette.isEmpty { c.metadata.append(("lunette", .object(lunette))) }
        return c
    }

    /// Lines split at each LF byte (a String splits "\r\n" as one Character, which would hide the LF).
    static func splitLines(_ text: String) -> [Substring] {
        var lines: [Substring] = []
        var start = text.startIndex
        var i = text.utf8.startIndex
        while i < text.utf8.endIndex {
            if text.utf8[i] == 0x0A {
                lines.append(text[start..<i])
                start = text.utf8.index(after: i)
            }
            i = text.utf8.index(after: i)
        }
        lines.append(text[start...])
        return lines
    }

    /// A Markdown line without its comment: `-- text` → `text`, `--` → "" (other lines as they are).
    static func uncomment(_ line: Substring) -> String {
        if line == "--" { return "" }
        if line.hasPrefix("-- ") { return String(line.dropFirst(3)) }
        if line.hasPrefix("--") { return String(line.dropFirst(2)) }
        return String(line)
    }

    struct Marker {
        var kind = CellKind.code
        var title: String?
        var metadata: [(String, JSONValue)] = []
    }

    /// What follows `-- %%`: title words, an optional `[markdown]`/`[md]`/`[raw]`, `key=value` pairs.
    static func parseMarker(_ rest: Substring, path: String, line: Int) throws -> Marker {
        var m = Marker()
        var titleWords: [Substring] = []
        let b = Array(rest.utf8)
        var i = 0
        func fail(_ what: String) -> NotebookError { NotebookError("\(path):\(line): \(what) (cell markers read `-- %% Title [markdown] key=\"value\"`)") }
        /// The end of a value starting at j: a quoted string, a bracketed list or object, or a word.
        func valueEnd(_ j: Int) throws -> Int {
            var k = j
            var stack: [UInt8] = []
            var inString = false
            while k < b.count {
                let c = b[k]
                if inString {
                    if c == UInt8(ascii: "\\") { k += 2; continue }
                    if c == UInt8(ascii: "\"") { inString = false; if stack.isEmpty { return k + 1 } }
                } else if c == UInt8(ascii: "\"") {
                    inString = true
                } else if c == UInt8(ascii: "[") || c == UInt8(ascii: "{") {
                    stack.append(c)
                } else if c == UInt8(ascii: "]") || c == UInt8(ascii: "}") {
                    guard let open = stack.popLast(), (open == UInt8(ascii: "[")) == (c == UInt8(ascii: "]")) else {
                        throw fail("the cell marker has an unmatched `\(Character(UnicodeScalar(c)))`")
                    }
                    if stack.isEmpty { return k + 1 }
                } else if stack.isEmpty && (c == 0x20 || c == 0x09 || c == 0x0D) {
                    return k
                }
                k += 1
            }
            if inString { throw fail("the cell marker has a string that is not closed") }
            if !stack.isEmpty { throw fail("the cell marker has a `\(Character(UnicodeScalar(stack.last!)))` that is not closed") }
            return k
        }
        while i < b.count {
            if b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0D { i += 1; continue }
            if b[i] == UInt8(ascii: "[") {
                guard let close = b[i...].firstIndex(of: UInt8(ascii: "]")) else { throw fail("the cell marker's `[` is not closed") }
                let word = String(decoding: b[(i + 1)..<close], as: UTF8.self)
                switch word {
                case "markdown", "md": m.kind = .markdown
                case "raw": m.kind = .raw
                default: throw fail("`[\(word)]` is not a cell type (markdown, md or raw)")
                }
                i = close + 1
                continue
            }
            // key=value, the key a name
            var k = i
            while k < b.count, b[k] == UInt8(ascii: "_") || b[k] == UInt8(ascii: "-") || b[k] == UInt8(ascii: ".")
                    || (b[k] >= 0x30 && b[k] <= 0x39) || ((b[k] | 0x20) >= 0x61 && (b[k] | 0x20) <= 0x7A) { k += 1 }
            if k > i, k < b.count, b[k] == UInt8(ascii: "=") {
                let key = String(decoding: b[i..<k], as: UTF8.self)
                let end = try valueEnd(k + 1)
                let text = Array(b[(k + 1)..<end])
                do {
                    m.metadata.set(key, try JSON.parse(text))
                } catch let e as JSONError {
                    throw fail("the value of `\(key)` is not JSON (\(e.message)); write strings in double quotes, lists as [\"a\"]")
                }
                i = end
                continue
            }
            let end = try valueEnd(i)
            titleWords.append(rest[rest.utf8.index(rest.startIndex, offsetBy: i)..<rest.utf8.index(rest.startIndex, offsetBy: end)])
            i = end
        }
        if !titleWords.isEmpty { m.title = titleWords.joined(separator: " ") }
        return m
    }

    // MARK: writing

    /// The notebook as a `-- %%` file (outputs are not written).
    public static func render(_ nb: Notebook) -> String {
        let lunette = nb.metadata.value("lunette")
        var lines: [String] = []
        var hasHeader = false
        if let header = lunette?["header"]?.string {
            lines += splitLines(header).map(String.init)
            hasHeader = true
        }
        let cells = nb.cells
        if let first = cells.first, first.metadata.value("lunette")?["markerless"] != .bool(true) {
            let blanks = lunette?["blank_lines_before_first_cell"]?.integer.map(Int.init) ?? (hasHeader ? 1 : 0)
            lines += Array(repeating: "", count: max(0, blanks))
        }
        for (i, c) in cells.enumerated() {
            let markerless = i == 0 && c.metadata.value("lunette")?["markerless"] == .bool(true)
            lines += renderCell(c, markerless: markerless, last: i == cells.count - 1)
        }
        var text = lines.joined(separator: "\n")
        if lunette?["final_newline"] != .bool(false) && !(lines.isEmpty) { text += "\n" }
        if lunette?["line_ending"] == .string("\r\n") { text = text.replacingOccurrences(of: "\n", with: "\r\n") }
        return text
    }

    /// A cell's lines: its original text when kept and still true, else the canonical form.
    static func renderCell(_ c: Cell, markerless: Bool, last: Bool) -> [String] {
        if let original = c.metadata.value("lunette")?["text"]?.string {
            let lines = splitLines(original)
            let marker = markerless ? nil : lines.first
            let body = markerless ? lines[...] : lines.dropFirst()
            if let again = try? cell(marker: marker, body: body, last: last, path: "", line: 0),
               again.kind == c.kind, again.source == c.source,
               again.metadata.removing(["lunette"]) == c.metadata.removing(["lunette", "papermill", "execution"]) {
                return lines.map(String.init)
            }
        }
        var lines: [String] = []
        if !markerless { lines.append(markerLine(c)) }
        if !c.source.isEmpty {
            var source = c.source
            while source.utf8.last == 0x0A { source.removeLast() }
            let sourceLines = splitLines(source)
            switch c.kind {
            case .code: lines += sourceLines.map(String.init)
            // A Markdown line that would read as a marker ("%% ...") is written "--%% ..."
            case .markdown, .raw: lines += sourceLines.map { $0.isEmpty ? "--" : isMarker(Substring("-- " + $0)) ? "--" + $0 : "-- " + $0 }
            }
        }
        let blanks = c.metadata.value("lines_to_next_cell")?.integer.map(Int.init) ?? (last ? 0 : 1)
        lines += Array(repeating: "", count: max(0, blanks))
        return lines
    }

    static func markerLine(_ c: Cell) -> String {
        var line = marker
        if let title = c.title, !title.isEmpty {
            // Plain words go as they are; a title the marker would read otherwise goes as title="...".
            let plain = (try? parseMarker(Substring(" " + title), path: "", line: 0)).map { $0.title == title && $0.metadata.isEmpty && $0.kind == .code } ?? false
            line += plain ? " " + title : " title=" + JSON.text(.string(title))
        }
        switch c.kind {
        case .code: break
        case .markdown: line += " [markdown]"
        case .raw: line += " [raw]"
        }
        for (k, v) in c.metadata where !unwrittenKeys.contains(k) {
            line += " \(k)=\(JSON.text(v))"
        }
        return line
    }
}

extension Array where Element == (String, JSONValue) {
    static func == (a: Self, b: Self) -> Bool { JSONValue.object(a) == JSONValue.object(b) }
}
