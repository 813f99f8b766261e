import CDrawing
import Foundation
import Support

/// A colour with alpha, components 0...1.
public struct RGBA: Equatable, Sendable {
    public var r, g, b, a: Double
    public init(_ r: Int, _ g: Int, _ b: Int, alpha: Double = 1) {
        self.r = Double(r) / 255
        self.g = Double(g) / 255
        self.b = Double(b) / 255
        self.a = alpha
    }
    public init(r: Double, g: Double, b: Double, a: Double = 1) {
        self.r = r
        self.g = g
        self.b = b
        self.a = a
    }
    public static let black = RGBA(20, 20, 20), white = RGBA(255, 255, 255), gray = RGBA(150, 150, 150)
    public static let light = RGBA(230, 230, 230)

    /// Relative luminance (sRGB), for choosing black or white text on a fill.
    public var luminance: Double {
        func lin(_ c: Double) -> Double { c <= 0.03928 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4) }
        return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
    }

    /// Black or white, whichever reads better on this colour.
    public var contrastingText: RGBA { luminance > 0.4 ? .black : .white }

    /// "#rrggbb" (alpha apart).
    public var hex: String {
        func c(_ v: Double) -> Int { Int((min(max(v, 0), 1) * 255).rounded()) }
        return String(format: "#%02x%02x%02x", c(r), c(g), c(b))
    }
}

public struct DrawingError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    static func last(_ what: String) -> DrawingError { DrawingError("\(what): \(String(cString: cd_last_error()))") }
}

/// A box in figure units: x, y of the top-left corner, width and height.
public struct Box: Equatable, Sendable {
    public var x, y, width, height: Double
    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }
    public var maxX: Double { x + width }
    public var maxY: Double { y + height }
    public func inside(_ w: Double, _ h: Double, tolerance: Double = 0.5) -> Bool {
        x >= -tolerance && y >= -tolerance && maxX <= w + tolerance && maxY <= h + tolerance
    }
}

/// One line of text as Pango lays it out in DejaVu Sans: logical width and height, and where
/// the baseline is below the top.
public struct TextMetrics: Sendable {
    public var width, height, baseline: Double

    public static func of(_ text: String, size: Double, bold: Bool = false) -> TextMetrics {
        var w = 0.0, h = 0.0, b = 0.0
        if cd_text_extent(Figure.oneLine(text), size, bold ? 1 : 0, &w, &h, &b) != 0 {
            return TextMetrics(width: Double(text.count) * size * 0.6, height: size * 1.2, baseline: size)
        }
        return TextMetrics(width: w, height: h, baseline: b)
    }
}

/// How a text is placed against its anchor point.
public enum HAlign: Sendable { case start, middle, end }
public enum VAlign: Sendable { case top, middle, baseline, bottom }

/// What a figure is made of, in figure units (pixels at scale 1, points in a PDF).
public enum Mark {
    case rect(Box, fill: RGBA?, stroke: RGBA?, lineWidth: Double)
    case path([(Double, Double)], stroke: RGBA?, fill: RGBA?, lineWidth: Double, dashed: Bool, closed: Bool)
    case circle(x: Double, y: Double, r: Double, fill: RGBA?, stroke: RGBA?, lineWidth: Double)
    /// `box` is where the (rotated) text lies; `angle` 0 or 90 (reading upwards).
    case text(String, box: Box, size: Double, bold: Bool, color: RGBA, angle: Double, baseline: Double, metrics: TextMetrics)
}

/// A picture as a list of marks: drawn by Cairo to PNG, PDF or pixels, or written as SVG with
/// its text kept as text. Text is measured by Pango before it is placed, so layouts can make
/// room for it; `textBoxes` says where every text went.
public final class Figure {
    public private(set) var width: Double
    public private(set) var height: Double
    public private(set) var marks: [Mark] = []
    public var background: RGBA? = .white

    public init(width: Double, height: Double) throws {
        guard width.isFinite, height.isFinite, width >= 1, height >= 1, width <= 16384, height <= 16384 else {
            throw DrawingError("a figure of \(width) x \(height) units is not drawable (1 to 16384 each way)")
        }
        self.width = width.rounded(.up)
        self.height = height.rounded(.up)
    }

    static func oneLine(_ s: String) -> String { s.replacingOccurrences(of: "\n", with: " ") }

    public func rect(_ b: Box, fill: RGBA? = nil, stroke: RGBA? = nil, lineWidth: Double = 1) {
        marks.append(.rect(b, fill: fill, stroke: stroke, lineWidth: lineWidth))
    }

    public func line(_ points: [(Double, Double)], color: RGBA, width: Double = 1, dashed: Bool = false) {
        guard points.count >= 2 else { return }
        marks.append(.path(points, stroke: color, fill: nil, lineWidth: width, dashed: dashed, closed: false))
    }

    public func circle(x: Double, y: Double, r: Double, fill: RGBA?, stroke: RGBA? = nil, lineWidth: Double = 1) {
        marks.append(.circle(x: x, y: y, r: r, fill: fill, stroke: stroke, lineWidth: lineWidth))
    }

    /// Places text at an anchor; returns the box it occupies. `angle` 90 turns it to read upwards
    /// (a vertical axis title); the alignment then applies to the turned box.
    @discardableResult
    public func text(_ s: String, x: Double, y: Double, size: Double, bold: Bool = false, color: RGBA = .black,
                     h: HAlign = .start, v: VAlign = .top, angle: Double = 0) -> Box {
        let text = Figure.oneLine(s)
        let m = TextMetrics.of(text, size: size, bold: bold)
        let turned = angle == 90
        let bw = turned ? m.height : m.width, bh = turned ? m.width : m.height
        var bx = x, by = y
        switch h {
        case .start: break
        case .middle: bx -= bw / 2
        case .end: bx -= bw
        }
        switch v {
        case .top: break
        case .middle: by -= bh / 2
        case .bottom: by -= bh
        case .baseline: by -= turned ? bh / 2 : m.baseline
        }
        let box = Box(x: bx, y: by, width: bw, height: bh)
        marks.append(.text(text, box: box, size: size, bold: bold, color: color, angle: turned ? 90 : 0, baseline: m.baseline, metrics: m))
        return box
    }

    /// The box every mark lies in (strokes included); nil for an empty figure.
    public var contentBounds: Box? {
        var minX = Double.infinity, minY = Double.infinity, maxX = -Double.infinity, maxY = -Double.infinity
        func add(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double) {
            minX = min(minX, x0); minY = min(minY, y0); maxX = max(maxX, x1); maxY = max(maxY, y1)
        }
        for m in marks {
            switch m {
            case .rect(let b, _, let stroke, let lw):
                let e = stroke == nil ? 0 : lw / 2
                add(b.x - e, b.y - e, b.maxX + e, b.maxY + e)
            case .path(let points, let stroke, _, let lw, _, _):
                let e = stroke == nil ? 0 : lw / 2
                for p in points { add(p.0 - e, p.1 - e, p.0 + e, p.1 + e) }
            case .circle(let x, let y, let r, _, let stroke, let lw):
                let e = r + (stroke == nil ? 0 : lw / 2)
                add(x - e, y - e, x + e, y + e)
            case .text(_, let b, _, _, _, _, _, _):
                add(b.x, b.y, b.maxX, b.maxY)
            }
        }
        return minX.isFinite ? Box(x: minX, y: minY, width: maxX - minX, height: maxY - minY) : nil
    }

    /// Moves every mark by (dx, dy).
    public func translate(dx: Double, dy: Double) {
        marks = marks.map { m in
            switch m {
            case .rect(let b, let f, let s, let lw): return .rect(Box(x: b.x + dx, y: b.y + dy, width: b.width, height: b.height), fill: f, stroke: s, lineWidth: lw)
            case .path(let p, let s, let f, let lw, let d, let c): return .path(p.map { ($0.0 + dx, $0.1 + dy) }, stroke: s, fill: f, lineWidth: lw, dashed: d, closed: c)
            case .circle(let x, let y, let r, let f, let s, let lw): return .circle(x: x + dx, y: y + dy, r: r, fill: f, stroke: s, lineWidth: lw)
            case .text(let t, let b, let size, let bold, let k, let a, let bl, let m):
                return .text(t, box: Box(x: b.x + dx, y: b.y + dy, width: b.width, height: b.height), size: size, bold: bold, color: k, angle: a, baseline: bl, metrics: m)
            }
        }
    }

    /// Fits the figure to what was drawn: every mark moved inside a margin, the size made to hold
    /// them. Layouts measure before they place; this makes "nothing is clipped" a property.
    public func fit(margin: Double = 10) {
        guard let b = contentBounds else { return }
        translate(dx: margin - b.x, dy: margin - b.y)
        width = (b.width + 2 * margin).rounded(.up)
        height = (b.height + 2 * margin).rounded(.up)
    }

    /// Where each text lies, with the text (for layout checks).
    public var textBoxes: [(text: String, box: Box)] {
        marks.compactMap { if case .text(let s, let b, _, _, _, _, _, _) = $0 { return (s, b) }; return nil }
    }

    // MARK: rendering

    /// Draws every mark on a canvas.
    func draw(on c: cd_canvas) throws {
        func color(_ k: RGBA) { cd_color(c, k.r, k.g, k.b, k.a) }
        if let bg = background {
            color(bg)
            cd_rect(c, 0, 0, width, height, 1, 0)
        }
        for m in marks {
            switch m {
            case .rect(let b, let fill, let stroke, let lw):
                if let fill { color(fill); cd_rect(c, b.x, b.y, b.width, b.height, 1, 0) }
                if let stroke { color(stroke); cd_rect(c, b.x, b.y, b.width, b.height, 0, lw) }
            case .path(let points, let stroke, let fill, let lw, let dashed, let closed):
                let xy = points.flatMap { [$0.0, $0.1] }
                if let fill { color(fill); cd_path(c, xy, Int32(points.count), 1, 1, 0, 0) }
                if let stroke { color(stroke); cd_path(c, xy, Int32(points.count), closed ? 1 : 0, 0, lw, dashed ? 1 : 0) }
            case .circle(let x, let y, let r, let fill, let stroke, let lw):
                if let fill { color(fill); cd_circle(c, x, y, r, 1, 0) }
                if let stroke { color(stroke); cd_circle(c, x, y, r, 0, lw) }
            case .text(let s, let b, let size, let bold, let k, let angle, _, let m):
                color(k)
                // The unrotated layout's top-left: for text turned upwards, the box's bottom-left.
                let (ox, oy) = angle == 90 ? (b.x, b.y + m.width) : (b.x, b.y)
                guard cd_text(c, s, size, bold ? 1 : 0, ox, oy, angle) == 0 else { throw DrawingError.last("text") }
            }
        }
    }

    /// The figure rendered to pixels, `scale` pixels per unit: BGRA bytes (straight alpha) row by row.
    public func pixels(scale: Double = 1) throws -> (bgra: [UInt8], width: Int, height: Int) {
        var c: cd_canvas?
        guard cd_canvas_new(Int32(CD_IMAGE), nil, width, height, scale, 1, &c) == 0, let canvas = c else { throw DrawingError.last("figure") }
        defer { _ = cd_canvas_close(canvas) }
        try draw(on: canvas)
        var w: Int32 = 0, h: Int32 = 0, stride: Int32 = 0
        guard let data = cd_pixels(canvas, &w, &h, &stride) else { throw DrawingError.last("figure pixels") }
        var out = [UInt8](repeating: 0, count: Int(w) * Int(h) * 4)
        for y in 0..<Int(h) {
            let row = data + y * Int(stride)
            for x in 0..<Int(w) {
                let p = row + x * 4, o = (y * Int(w) + x) * 4
                let a = Int(p[3])
                // Un-premultiply (the background makes figures opaque, so this is the identity there).
                out[o] = a == 0 ? 0 : UInt8(min(255, Int(p[0]) * 255 / a))
                out[o + 1] = a == 0 ? 0 : UInt8(min(255, Int(p[1]) * 255 / a))
                out[o + 2] = a == 0 ? 0 : UInt8(min(255, Int(p[2]) * 255 / a))
                out[o + 3] = UInt8(a)
            }
        }
        return (out, Int(w), Int(h))
    }

    /// The marks drawn over a picture of this figure's size (8-bit RGB, row by row): the RGB result.
    public func render(overRGB rgb: UnsafePointer<UInt8>) throws -> [UInt8] {
        let w = Int(width), h = Int(height)
        var c: cd_canvas?
        guard cd_canvas_new(Int32(CD_IMAGE), nil, width, height, 1, 0, &c) == 0, let canvas = c else { throw DrawingError.last("drawing") }
        defer { _ = cd_canvas_close(canvas) }
        guard cd_paint_rgb(canvas, rgb, Int32(w), Int32(h), 3) == 0 else { throw DrawingError.last("drawing") }
        let saved = background
        background = nil
        defer { background = saved }
        try draw(on: canvas)
        var pw: Int32 = 0, ph: Int32 = 0, stride: Int32 = 0
        guard let data = cd_pixels(canvas, &pw, &ph, &stride), Int(pw) == w, Int(ph) == h else { throw DrawingError.last("drawing pixels") }
        var out = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            let row = data + y * Int(stride)
            for x in 0..<w {
                let p = row + x * 4, o = (y * w + x) * 3
                out[o] = p[2]
                out[o + 1] = p[1]
                out[o + 2] = p[0]
            }
        }
        return out
    }

    /// Writes the figure: PNG, SVG or PDF by the file's extension (atomically).
    public func save(_ path: String, scale: Double = 1) throws {
        let ext = (path as NSString).pathExtension.lowercased()
        switch ext {
        case "svg":
            try AtomicFile.write(svg(), to: path)
        case "png", "pdf":
            try AtomicFile.write(to: path) { temporary in
                var c: cd_canvas?
                let kind = ext == "pdf" ? Int32(CD_PDF) : Int32(CD_IMAGE)
                guard cd_canvas_new(kind, temporary, width, height, scale, 1, &c) == 0, let canvas = c else { throw DrawingError.last(path) }
                do { try draw(on: canvas) } catch {
                    _ = cd_canvas_close(canvas)
                    throw error
                }
                if ext == "png", cd_write_png(canvas, temporary) != 0 {
                    _ = cd_canvas_close(canvas)
                    throw DrawingError("cannot write \(path): \(String(cString: cd_last_error()))")
                }
                guard cd_canvas_close(canvas) == 0 else { throw DrawingError("cannot write \(path): \(String(cString: cd_last_error()))") }
            }
        case "":
            throw DrawingError("\(path) has no extension: a figure is saved as .png, .svg or .pdf")
        default:
            throw DrawingError("\(path): a figure is saved as .png, .svg or .pdf, not '.\(ext)'")
        }
    }

    // MARK: SVG

    /// SVG text: one line (line breaks as spaces), escaped.
    static func escape(_ s: String) -> String {
        Markup.escape(s).replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
    }

    static func n(_ v: Double) -> String {
        let r = (v * 100).rounded() / 100
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    /// SVG 1.1, text as <text> elements in DejaVu Sans (searchable, editable), the rest as shapes.
    public func svg() -> String {
        func paint(_ k: RGBA?, _ attribute: String) -> String {
            guard let k else { return " \(attribute)=\"none\"" }
            return " \(attribute)=\"\(k.hex)\"" + (k.a < 1 ? " \(attribute)-opacity=\"\(Figure.n(k.a))\"" : "")
        }
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"\(Figure.n(width))\" height=\"\(Figure.n(height))\" viewBox=\"0 0 \(Figure.n(width)) \(Figure.n(height))\">\n"
        if let bg = background { out += "<rect x=\"0\" y=\"0\" width=\"\(Figure.n(width))\" height=\"\(Figure.n(height))\"\(paint(bg, "fill"))/>\n" }
        for m in marks {
            switch m {
            case .rect(let b, let fill, let stroke, let lw):
                out += "<rect x=\"\(Figure.n(b.x))\" y=\"\(Figure.n(b.y))\" width=\"\(Figure.n(b.width))\" height=\"\(Figure.n(b.height))\"\(paint(fill, "fill"))\(paint(stroke, "stroke"))"
                out += stroke == nil ? "/>\n" : " stroke-width=\"\(Figure.n(lw))\"/>\n"
            case .path(let points, let stroke, let fill, let lw, let dashed, let closed):
                let d = points.enumerated().map { "\($0.offset == 0 ? "M" : "L")\(Figure.n($0.element.0)),\(Figure.n($0.element.1))" }.joined(separator: " ") + (closed ? " Z" : "")
                out += "<path d=\"\(d)\"\(paint(fill, "fill"))\(paint(stroke, "stroke"))"
                if stroke != nil { out += " stroke-width=\"\(Figure.n(lw))\" stroke-linejoin=\"round\"" + (dashed ? " stroke-dasharray=\"\(Figure.n(4 * lw)),\(Figure.n(3 * lw))\"" : "") }
                out += "/>\n"
            case .circle(let x, let y, let r, let fill, let stroke, let lw):
                out += "<circle cx=\"\(Figure.n(x))\" cy=\"\(Figure.n(y))\" r=\"\(Figure.n(r))\"\(paint(fill, "fill"))\(paint(stroke, "stroke"))"
                out += stroke == nil ? "/>\n" : " stroke-width=\"\(Figure.n(lw))\"/>\n"
            case .text(let s, let b, let size, let bold, let k, let angle, let baseline, _):
                let font = " font-family=\"DejaVu Sans\" font-size=\"\(Figure.n(size))px\"" + (bold ? " font-weight=\"bold\"" : "")
                if angle == 90 {
                    out += "<text transform=\"translate(\(Figure.n(b.x + baseline)),\(Figure.n(b.maxY))) rotate(-90)\" x=\"0\" y=\"0\"\(font)\(paint(k, "fill")) xml:space=\"preserve\">\(Figure.escape(s))</text>\n"
                } else {
                    out += "<text x=\"\(Figure.n(b.x))\" y=\"\(Figure.n(b.y + baseline))\"\(font)\(paint(k, "fill")) xml:space=\"preserve\">\(Figure.escape(s))</text>\n"
                }
            }
        }
        return out + "</svg>\n"
    }
}
