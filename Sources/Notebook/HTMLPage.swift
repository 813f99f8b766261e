import CMarkSystem
import Foundation
import Support

/// A notebook as one self-contained HTML page (styles and images inline) that opens in any
/// browser without Jupyter: Markdown through CommonMark (raw HTML in Markdown is left out),
/// code with its outputs, errors in red.
public enum HTMLPage {
    public static func render(_ nb: Notebook, title: String) -> String {
        var body = ""
        let run = nb.metadata.value("papermill")
        var facts: [String] = []
        if let start = run?["start_time"]?.string { facts.append("run \(Markup.escape(start))") }
        if let d = run?["duration"]?.number { facts.append(String(format: "in %.1f s", d)) }
        if case .object(let params)? = run?["parameters"], !params.isEmpty {
            facts.append("parameters " + params.map { "<code>\(Markup.escape($0.0)) = \(Markup.escape(Parameters.lua($0.1)))</code>" }.joined(separator: ", "))
        }
        body += "<header><h1 class=\"file\">\(Markup.escape(title))</h1>"
        if !facts.isEmpty { body += "<p class=\"facts\">\(facts.joined(separator: " · "))</p>" }
        body += "</header>\n"
        for c in nb.cells { body += cell(c) }
        return """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="generator" content="Lunette">
        <title>\(Markup.escape(title))</title>
        <style>
        \(style)
        </style>
        </head>
        <body>
        <main>
        \(body)</main>
        </body>
        </html>

        """
    }

    static let style = """
    body { margin: 0; background: #fff; color: #1f2328; font: 15px/1.5 "DejaVu Sans", system-ui, sans-serif; }
    main { max-width: 60rem; margin: 0 auto; padding: 1.5rem; }
    header h1.file { font-size: 1.1rem; font-weight: normal; color: #57606a; margin: 0 0 .2rem; }
    .facts { color: #57606a; font-size: .85rem; margin: 0 0 1.5rem; }
    .cell { margin: .8rem 0; }
    .markdown h1, .markdown h2, .markdown h3 { line-height: 1.25; }
    .markdown code, .facts code { background: #f3f4f6; padding: .1em .3em; border-radius: 3px; }
    pre { margin: 0; padding: .5rem .7rem; overflow-x: auto; font: 13px/1.45 "DejaVu Sans Mono", ui-monospace, monospace; white-space: pre-wrap; word-break: break-word; }
    .code { display: grid; grid-template-columns: 4.5rem 1fr; column-gap: .5rem; }
    .prompt { color: #57606a; font: 12px/2.2 "DejaVu Sans Mono", monospace; text-align: right; }
    .source pre { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 4px; }
    .outputs { grid-column: 2; }
    .outputs > * { margin-top: .3rem; }
    .stderr { background: #fff8e6; }
    .error pre { background: #ffebe9; color: #82071e; }
    .outputs img { max-width: 100%; height: auto; display: block; }
    .outputs table { border-collapse: collapse; font-size: 13px; }
    .outputs th, .outputs td { border: 1px solid #d0d7de; padding: .2rem .5rem; text-align: right; }
    .outputs th { background: #f6f8fa; }
    .banner { background: #ffebe9; color: #82071e; border: 1px solid #ff8182; padding: .6rem .8rem; border-radius: 4px; }
    .time { color: #8c959f; font-size: 11px; }
    """

    static func cell(_ c: Cell) -> String {
        if c.tags.contains("papermill-error-cell-tag") || c.tags.contains("lunette-error-cell") {
            return "<div class=\"cell banner\">\(Markup.escape(c.metadata.value("lunette")?["banner"]?.string ?? c.source))</div>\n"
        }
        switch c.kind {
        case .markdown:
            return "<div class=\"cell markdown\">\(markdown(c.source))</div>\n"
        case .raw:
            return "<div class=\"cell raw\"><pre>\(Markup.escape(c.source))</pre></div>\n"
        case .code:
            let prompt = c.executionCount.map { "In [\($0)]:" } ?? "In [ ]:"
            var s = "<div class=\"cell code\"><div class=\"prompt\">\(prompt)</div><div class=\"source\"><pre>\(Markup.escape(c.source))</pre></div>\n"
            var outs = ""
            for o in c.outputs { outs += output(o) }
            if let d = c.metadata.value("papermill")?["duration"]?.number {
                outs += String(format: "<div class=\"time\">%.2f s</div>", d)
            }
            if !outs.isEmpty { s += "<div class=\"prompt\"></div><div class=\"outputs\">\(outs)</div>\n" }
            return s + "</div>\n"
        }
    }

    static func output(_ o: Output) -> String {
        switch o {
        case .stream(let name, let text):
            return "<pre class=\"\(name == "stderr" ? "stderr" : "stdout")\">\(Markup.escape(stripANSI(text)))</pre>\n"
        case .displayData(let data, let metadata), .executeResult(_, let data, let metadata):
            return bundle(data, metadata) + "\n"
        case .error(let name, let value, let traceback):
            let text = ([name.isEmpty ? value : "\(name): \(value)"] + traceback.filter { $0 != value }).joined(separator: "\n")
            return "<div class=\"error\"><pre>\(Markup.escape(stripANSI(text)))</pre></div>\n"
        case .other:
            return ""
        }
    }

    /// The richest form of a MIME bundle this page can show.
    static func bundle(_ data: [(String, JSONValue)], _ metadata: [(String, JSONValue)]) -> String {
        func text(_ key: String) -> String? {
            switch data.value(key) {
            case .string(let s)?: return s
            case .array(let a)?: return a.compactMap(\.string).joined()
            default: return nil
            }
        }
        if let html = text("text/html") { return "<div class=\"html\">\(html)</div>" }
        for type in ["image/png", "image/jpeg"] {
            if let b64 = text(type) {
                var size = ""
                if case .object(let m)? = metadata.value(type) {
                    if let w = m.value("width")?.integer { size += " width=\"\(w)\"" }
                    if let h = m.value("height")?.integer { size += " height=\"\(h)\"" }
                }
                return "<img src=\"data:\(type);base64,\(b64.filter { !$0.isWhitespace })\"\(size) alt=\"\">"
            }
        }
        if let svg = text("image/svg+xml") {
            return "<img src=\"data:image/svg+xml;base64,\(Data(svg.utf8).base64EncodedString())\" alt=\"\">"
        }
        if let plain = text("text/plain") { return "<pre>\(Markup.escape(stripANSI(plain)))</pre>" }
        return ""
    }

    /// CommonMark to HTML (raw HTML blocks are replaced by a comment: the page stays safe to share).
    public static func markdown(_ source: String) -> String {
        let bytes = Array(source.utf8)
        guard let out = bytes.withUnsafeBufferPointer({ b in
            b.baseAddress.map { base in base.withMemoryRebound(to: CChar.self, capacity: b.count) { cmark_markdown_to_html($0, b.count, CMARK_OPT_DEFAULT | CMARK_OPT_SMART) } }
                ?? cmark_markdown_to_html("", 0, CMARK_OPT_DEFAULT)
        }) else { return "<p>\(Markup.escape(source))</p>" }
        defer { free(out) }
        return String(cString: out)
    }


    /// Text without terminal colour codes (CSI sequences).
    public static func stripANSI(_ s: String) -> String {
        guard s.contains("\u{1B}") else { return s }
        var out = String.UnicodeScalarView()
        var it = s.unicodeScalars.makeIterator()
        while let u = it.next() {
            if u == "\u{1B}" {
                guard let next = it.next() else { break }
                if next == "[" {
                    while let c = it.next(), !(c.value >= 0x40 && c.value <= 0x7E) {}
                }
                continue
            }
            out.append(u)
        }
        return String(out)
    }

}
