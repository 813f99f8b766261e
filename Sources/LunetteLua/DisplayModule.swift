import CLua
import Detection
import Drawing
import Foundation
import LuaHost
import Support
import Vision

/// How a value is shown where more than text can be: a MIME bundle as Jupyter takes it
/// (text/plain always; image/png for pictures; text/html for a list of records), plus notes on
/// what was changed to show it (a picture scaled down).
public struct RichValue {
    public var data: [(String, JSONValue)] = []
    public var metadata: [(String, JSONValue)] = []
    public var notes: [String] = []
    public var plain: String { data.first { $0.0 == "text/plain" }?.1.string ?? "" }
    public var hasPicture: Bool { data.contains { $0.0 == "image/png" } }
    /// The notes as the lines of stderr a notebook shows them in (the runner and the kernel alike).
    public var noteLines: [String] { notes.map { "[lunette: \($0)]\n" } }
    public init(data: [(String, JSONValue)] = [], metadata: [(String, JSONValue)] = [], notes: [String] = []) {
        self.data = data
        self.metadata = metadata
        self.notes = notes
    }
}

extension LunetteBindings {
    /// Pictures larger than this on a side are scaled down to it in a notebook.
    nonisolated(unsafe) public static var maxPictureSide = 4096
    /// Where `display(x)` sends values: a notebook runner (or a kernel) sets it; without one,
    /// display prints the value's text as the REPL shows it.
    nonisolated(unsafe) public static var displaySink: ((RichValue) -> Void)?

    /// The picture of a value, when it is one: a cv.Image, a Figure, a Visualizer's drawing, a
    /// confusion matrix drawn.
    static func picture(of object: AnyObject) throws -> Image? {
        switch object {
        case let img as Image: return img
        case let fig as Figure: return try image(of: fig)
        case let v as VisualizerObject: return v.visualizer.image
        case let m as ConfusionObject: return try image(of: try Plots.confusionMatrix(m.matrix))
        default: return nil
        }
    }

    /// The rich view of the value at idx (which stays on the stack).
    public static func richValue(_ state: LuaState, at idx: Int32, width: Int = 100) -> RichValue {
        let L = state.L
        let idx = lua_absindex(L, idx)
        var r = RichValue()
        r.data.append(("text/plain", .string(PrettyPrinter(color: false, width: width).render(state, at: idx))))
        if lua_type(L, idx) == LUA_TUSERDATA, case .object(let o)? = try? state.value(at: idx) {
            do {
                if var img = try picture(of: o) {
                    let longest = max(img.width, img.height)
                    if longest > maxPictureSide {
                        let s = Double(maxPictureSide) / Double(longest)
                        let (w, h) = (max(1, Int(Double(img.width) * s)), max(1, Int(Double(img.height) * s)))
                        r.notes.append("a picture of \(img.width) x \(img.height) pixels is larger than a notebook shows (\(maxPictureSide) a side): shown at \(w) x \(h)")
                        img = try img.resized(width: w, height: h)
                    }
                    let stored = img.order == .rgb ? try img.converted(.bgrToRGB) : img
                    let png = try stored.encode(".png")
                    r.data.append(("image/png", .string(Data(png).base64EncodedString())))
                    r.metadata.append(("image/png", .object([("width", .int(Int64(img.width))), ("height", .int(Int64(img.height)))])))
                }
            } catch {
                r.notes.append("the picture could not be drawn: \(error)")
            }
        } else if lua_type(L, idx) == LUA_TTABLE, let html = recordsTable(state, at: idx) {
            r.data.append(("text/html", .string(html)))
        }
        return r
    }

    /// A progress bar as a notebook shows it: its line as text, an HTML progress element beside
    /// the same words (the trainer's, grid search's and bulk detection's bars).
    public static func richValue(of bar: ProgressBar) -> RichValue {
        let (value, maximum) = bar.total > 0 ? (bar.done, bar.total) : (1, 1)
        let html = "<div class=\"lunette-progress\"><progress value=\"\(min(value, maximum))\" max=\"\(maximum)\" style=\"width: 16em; vertical-align: middle;\"></progress>"
            + " <code>\(Markup.escape(bar.details))</code></div>"
        return RichValue(data: [("text/plain", .string(bar.line)), ("text/html", .string(html))])
    }

    /// A list of records (tables of scalars, at most 500 rows) as an HTML table; columns sorted
    /// as the pretty printer sorts keys. Anything else: nil.
    static func recordsTable(_ state: LuaState, at idx: Int32) -> String? {
        let L = state.L
        let n = lua_rawlen(L, idx)
        guard n > 0, n <= 500, !hasToString(L, idx), case .table(let t)? = try? state.value(at: idx), t.hash.isEmpty,
              t.array.count == Int(n) else { return nil }
        var rows: [[LuaKey: LuaValue]] = []
        var columns = Set<LuaKey>()
        for item in t.array {
            guard case .table(let row) = item, row.array.isEmpty, !row.hash.isEmpty else { return nil }
            for (k, v) in row.hash {
                guard case .string = k else { return nil }
                switch v {
                case .boolean, .integer, .number, .string: break
                default: return nil
                }
                columns.insert(k)
            }
            rows.append(row.hash)
        }
        let order = columns.sorted()
        func cell(_ v: LuaValue?) -> String {
            switch v {
            case .string(let s)?: return Markup.escape(s)
            case .integer(let i)?: return String(i)
            case .number(let d)?: return d == d.rounded() && abs(d) < 1e15 ? String(format: "%.1f", d) : String(format: "%.6g", d)
            case .boolean(let b)?: return String(b)
            default: return ""
            }
        }
        var html = "<table>\n<thead><tr>" + order.map { "<th>\(Markup.escape($0.description))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
        for row in rows { html += "<tr>" + order.map { "<td>\(cell(row[$0]))</td>" }.joined() + "</tr>\n" }
        return html + "</tbody>\n</table>"
    }

    static func installDisplay(in state: LuaState) {
        state.pushFunction("display", nil,
                           doc: "display(...): shows each value where it stands in a notebook (pictures — cv.Image, Figure, Visualizer, ConfusionMatrix — as images, lists of records as tables); in a script or the REPL, prints it as the REPL would.") { call in
            for i in 1...max(call.count, 1) where call.count > 0 {
                let value = richValue(call.state, at: Int32(i))
                if let sink = displaySink {
                    sink(value)
                } else {
                    Console.out(value.plain + "\n")
                }
            }
            return 0
        }
        lua_setglobal(state.L, "display")
    }
}
