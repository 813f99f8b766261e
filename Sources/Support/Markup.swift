/// Text inside XML and HTML (SVG figures, notebook pages, HTML tables): the one escaper.
public enum Markup {
    /// `&`, `<`, `>` and `"` as entities; tab, LF and CR kept; other control characters, which
    /// XML 1.0 does not allow, as spaces.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\t", "\n", "\r": out.unicodeScalars.append(ch)
            default:
                if ch.value < 0x20 { out += " " } else { out.unicodeScalars.append(ch) }
            }
        }
        return out
    }
}
