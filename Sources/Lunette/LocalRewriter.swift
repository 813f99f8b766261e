import LuaHost

/// Keeps top-level `local` declarations typed at the REPL alive on the next line.
///
/// Each REPL entry is its own chunk, so in plain Lua `local x = 1` is gone by the next prompt.
/// This rewrites declarations at the chunk's top level into session variables:
/// `local x <const> = 1` becomes `x = 1`, `local function f` becomes `function f`, `local a, b`
/// becomes `a, b = nil`. Declarations inside blocks and functions are left untouched.
/// (`<close>` variables keep their `local`, since their point is the end of the chunk.)
enum LocalRewriter {
    static func rewrite(_ source: String) -> String {
        let bytes = Array(source.utf8)
        var lexer = LuaLexer(bytes)
        var tokens = lexer.tokens()
        var depth = 0
        var edits: [(range: Range<Int>, replacement: String)] = []
        var i = 0
        while i < tokens.count {
            let t = tokens[i]
            switch t.word {
            case "function", "if", "do", "repeat": depth += 1
            case "end", "until": depth -= 1
            default: break
            }
            if t.word == "local", depth == 0 {
                if i + 1 < tokens.count, tokens[i + 1].word == "function" {
                    edits.append((t.range.lowerBound..<tokens[i + 1].range.lowerBound, ""))
                } else if let edit = declaration(tokens, from: i) {
                    edits.append(contentsOf: edit)
                }
            }
            i += 1
        }
        tokens.removeAll()
        var out = bytes
        for e in edits.sorted(by: { $0.range.lowerBound > $1.range.lowerBound }) {
            out.replaceSubrange(e.range, with: Array(e.replacement.utf8))
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `local n1 <attr>, n2 ... [= exprs]` starting at tokens[i].
    private static func declaration(_ tokens: [LuaToken], from i: Int) -> [(range: Range<Int>, replacement: String)]? {
        var edits: [(range: Range<Int>, replacement: String)] = [(tokens[i].range.lowerBound..<tokens[i + 1].range.lowerBound, "")]
        var j = i + 1
        var lastNameEnd = 0
        while j < tokens.count, tokens[j].isName {
            lastNameEnd = tokens[j].range.upperBound
            j += 1
            if j + 2 < tokens.count, tokens[j].word == "<", tokens[j + 2].word == ">" {
                if tokens[j + 1].word == "close" { return nil }
                edits.append((tokens[j].range.lowerBound..<tokens[j + 2].range.upperBound, ""))
                lastNameEnd = tokens[j + 2].range.upperBound
                j += 3
            }
            if j < tokens.count, tokens[j].word == "," { j += 1 } else { break }
        }
        if lastNameEnd == 0 { return nil }
        if j >= tokens.count || tokens[j].word != "=" {
            edits.append((lastNameEnd..<lastNameEnd, " = nil"))
        }
        return edits
    }
}

struct LuaToken {
    var range: Range<Int>
    var word: String      // the text for names, keywords and punctuation; "" for literals
    var isName: Bool
}

/// Just enough of Lua's lexer to find keywords outside strings and comments.
struct LuaLexer {
    let b: [UInt8]
    var p = 0
    init(_ bytes: [UInt8]) { b = bytes }

    mutating func tokens() -> [LuaToken] {
        var out: [LuaToken] = []
        while p < b.count {
            let c = b[p]
            if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { p += 1; continue }
            let start = p
            if c == UInt8(ascii: "-"), peek(1) == UInt8(ascii: "-") {
                p += 2
                if let level = longBracketLevel() { skipLong(level) } else { while p < b.count, b[p] != 0x0A { p += 1 } }
                continue
            }
            if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                p += 1
                while p < b.count, b[p] != c {
                    if b[p] == UInt8(ascii: "\\") { p += 1 }
                    p += 1
                }
                p += 1
                out.append(LuaToken(range: start..<min(p, b.count), word: "", isName: false))
                continue
            }
            if c == UInt8(ascii: "["), let level = longBracketLevel() {
                skipLong(level)
                out.append(LuaToken(range: start..<p, word: "", isName: false))
                continue
            }
            if isIdentStart(c) {
                while p < b.count, isIdentStart(b[p]) || (b[p] >= 0x30 && b[p] <= 0x39) { p += 1 }
                let w = String(decoding: b[start..<p], as: UTF8.self)
                out.append(LuaToken(range: start..<p, word: w, isName: !luaKeywords.contains(w)))
                continue
            }
            if c >= 0x30 && c <= 0x39 {
                while p < b.count, isIdentStart(b[p]) || (b[p] >= 0x30 && b[p] <= 0x39) || b[p] == UInt8(ascii: ".")
                    || ((b[p] == UInt8(ascii: "+") || b[p] == UInt8(ascii: "-")) && "eEpP".utf8.contains(b[p - 1])) { p += 1 }
                out.append(LuaToken(range: start..<p, word: "", isName: false))
                continue
            }
            p += 1
            out.append(LuaToken(range: start..<p, word: String(UnicodeScalar(c)), isName: false))
        }
        return out
    }

    private func peek(_ k: Int) -> UInt8? { p + k < b.count ? b[p + k] : nil }
    private func isIdentStart(_ c: UInt8) -> Bool { c == UInt8(ascii: "_") || (c | 0x20 >= 0x61 && c | 0x20 <= 0x7A) || c >= 0x80 }

    /// At "[" followed by "="* and "[": consumes the opener and returns the level.
    private mutating func longBracketLevel() -> Int? {
        guard p < b.count, b[p] == UInt8(ascii: "[") else { return nil }
        var q = p + 1
        var level = 0
        while q < b.count, b[q] == UInt8(ascii: "=") { level += 1; q += 1 }
        guard q < b.count, b[q] == UInt8(ascii: "[") else { return nil }
        p = q + 1
        return level
    }

    private mutating func skipLong(_ level: Int) {
        while p < b.count {
            if b[p] == UInt8(ascii: "]") {
                var q = p + 1
                var l = 0
                while q < b.count, b[q] == UInt8(ascii: "=") { l += 1; q += 1 }
                if l == level, q < b.count, b[q] == UInt8(ascii: "]") { p = q + 1; return }
            }
            p += 1
        }
    }
}
