import Foundation
import Support

/// .ipynb files: nbformat 4.5 JSON, written as nbformat writes it (one-space indent, sources
/// and stream texts as lists of lines), atomically.
public enum IPYNB {
    public static let kernelspec: JSONValue = .object([
        ("display_name", .string("Lunette (Lua 5.4)")), ("language", .string("lua")), ("name", .string("lunette")),
    ])

    public static func languageInfo(version: String) -> JSONValue {
        .object([
            ("file_extension", .string(".lua")), ("mimetype", .string("text/x-lua")),
            ("name", .string("lua")), ("version", .string(version)),
        ])
    }

    // MARK: writing

    public static func json(_ nb: Notebook) -> JSONValue {
        var metadata = nb.metadata
        if metadata.value("kernelspec") == nil { metadata.set("kernelspec", kernelspec) }
        if metadata.value("language_info") == nil { metadata.set("language_info", languageInfo(version: "5.4")) }
        return .object([
            ("cells", .array(nb.cells.map(json))),
            ("metadata", .object(metadata)),
            ("nbformat", .int(4)),
            ("nbformat_minor", .int(5)),
        ])
    }

    static func json(_ c: Cell) -> JSONValue {
        var pairs: [(String, JSONValue)] = [("cell_type", .string(c.kind.rawValue))]
        if c.kind == .code { pairs.append(("execution_count", c.executionCount.map { .int(Int64($0)) } ?? .null)) }
        pairs.append(("id", .string(c.id)))
        pairs.append(("metadata", .object(c.metadata)))
        if c.kind == .code { pairs.append(("outputs", .array(c.outputs.map(json)))) }
        pairs.append(("source", multiline(c.source)))
        pairs += c.extra
        return .object(pairs)
    }

    static func json(_ o: Output) -> JSONValue {
        switch o {
        case .stream(let name, let text):
            return .object([("name", .string(name)), ("output_type", .string("stream")), ("text", multiline(text))])
        case .displayData(let data, let metadata):
            return .object([("data", .object(data)), ("metadata", .object(metadata)), ("output_type", .string("display_data"))])
        case .executeResult(let count, let data, let metadata):
            return .object([("data", .object(data)), ("execution_count", .int(Int64(count))), ("metadata", .object(metadata)),
                            ("output_type", .string("execute_result"))])
        case .error(let name, let value, let traceback):
            return .object([("ename", .string(name)), ("evalue", .string(value)), ("output_type", .string("error")),
                            ("traceback", .array(traceback.map { .string($0) }))])
        case .other(let v):
            return v
        }
    }

    /// A text as nbformat stores it: a list of lines, each but the last ending in "\n".
    public static func multiline(_ s: String) -> JSONValue {
        if s.isEmpty { return .array([]) }
        var lines: [JSONValue] = []
        var current = ""
        for ch in s.unicodeScalars {
            current.unicodeScalars.append(ch)
            if ch == "\n" { lines.append(.string(current)); current = "" }
        }
        if !current.isEmpty { lines.append(.string(current)) }
        return .array(lines)
    }

    public static func text(_ nb: Notebook) -> String { JSON.text(json(nb), indent: 1) + "\n" }

    /// Writes the notebook atomically: a failed write leaves the previous file whole.
    public static func write(_ nb: Notebook, to path: String) throws {
        do { try AtomicFile.write(text(nb), to: path) } catch let e as FileError {
            throw NotebookError("cannot write the notebook: \(e.message)")
        }
    }

    // MARK: reading

    public static func read(_ path: String) throws -> Notebook {
        let data: Data
        do { data = try InputFile.data(path) } catch let e as FileError { throw NotebookError(e.message) }
        let root: JSONValue
        do { root = try JSON.parse([UInt8](data)) } catch let e as JSONError {
            throw NotebookError("\(path): not a notebook: not valid JSON (\(e.message))")
        }
        return try notebook(root, path: path)
    }

    public static func notebook(_ root: JSONValue, path: String) throws -> Notebook {
        guard case .object(let top) = root else { throw NotebookError("\(path): not a notebook: the JSON is a \(root.typeName), not an object") }
        guard let major = top.value("nbformat")?.integer else { throw NotebookError("\(path): not a notebook: no nbformat number") }
        guard major == 4 else {
            throw NotebookError("\(path): nbformat \(major) notebooks are not read; convert it to version 4 first (jupyter nbconvert --to notebook)")
        }
        guard case .array(let rawCells)? = top.value("cells") else { throw NotebookError("\(path): not a notebook: no \"cells\" list") }
        var metadata: [(String, JSONValue)] = []
        if case .object(let m)? = top.value("metadata") { metadata = m }
        var cells: [Cell] = []
        for (i, raw) in rawCells.enumerated() {
            let name = "\(path): cell \(i + 1)"
            guard case .object(let o) = raw else { throw NotebookError("\(name) is a \(raw.typeName), not an object") }
            guard let type = o.value("cell_type")?.string else { throw NotebookError("\(name) has no cell_type") }
            guard let kind = CellKind(rawValue: type) else { throw NotebookError("\(name): cell_type \"\(type)\" is not code, markdown or raw") }
            let source = try joined(o.value("source"), what: "\(name)'s source")
            var cellMetadata: [(String, JSONValue)] = []
            if case .object(let m)? = o.value("metadata") { cellMetadata = m }
            var c = Cell(kind: kind, source: source, metadata: cellMetadata, id: o.value("id")?.string ?? "")
            c.executionCount = o.value("execution_count")?.integer.map(Int.init)
            c.extra = o.removing(["cell_type", "execution_count", "id", "metadata", "outputs", "source"])
            if case .array(let outs)? = o.value("outputs") { c.outputs = try outs.map { try output($0, cell: name) } }
            cells.append(c)
        }
        var nb = Notebook(cells: cells, metadata: metadata)
        nb.assignIDs()
        return nb
    }

    static func joined(_ v: JSONValue?, what: String) throws -> String {
        switch v {
        case nil, .null?: return ""
        case .string(let s)?: return s
        case .array(let parts)?:
            return try parts.map { p in
                guard let s = p.string else { throw NotebookError("\(what) holds a \(p.typeName) among its lines") }
                return s
            }.joined()
        case let other?: throw NotebookError("\(what) is a \(other.typeName), not text")
        }
    }

    static func output(_ v: JSONValue, cell: String) throws -> Output {
        guard case .object(let o) = v, let type = o.value("output_type")?.string else { return .other(v) }
        func object(_ key: String) -> [(String, JSONValue)] { if case .object(let m)? = o.value(key) { return m } else { return [] } }
        switch type {
        case "stream":
            return .stream(name: o.value("name")?.string ?? "stdout", text: try joined(o.value("text"), what: "\(cell)'s stream"))
        case "display_data":
            return .displayData(data: object("data"), metadata: object("metadata"))
        case "execute_result":
            return .executeResult(count: o.value("execution_count")?.integer.map(Int.init) ?? 0, data: object("data"), metadata: object("metadata"))
        case "error":
            return .error(name: o.value("ename")?.string ?? "", value: o.value("evalue")?.string ?? "",
                          traceback: o.value("traceback")?.array?.compactMap(\.string) ?? [])
        default:
            return .other(v)
        }
    }
}
