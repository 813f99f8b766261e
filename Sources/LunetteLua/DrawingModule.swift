import CLua
import Detection
import Drawing
import Foundation
import LuaHost
import Vision

/// Figures as Lua sees them: charts from detectron2.evaluation, saved as PNG, SVG or PDF.
extension LunetteBindings {
    static let figureClass = "lunette.Figure"

    /// A figure as a cv.Image (BGR, one pixel per unit), for code that takes images.
    static func image(of fig: Figure) throws -> Image {
        let (bgra, w, h) = try fig.pixels()
        var bgr = [UInt8](repeating: 0, count: w * h * 3)
        for i in 0..<(w * h) {
            bgr[i * 3] = bgra[i * 4]
            bgr[i * 3 + 1] = bgra[i * 4 + 1]
            bgr[i * 3 + 2] = bgra[i * 4 + 2]
        }
        return try Image(width: w, height: h, channels: 3, bytes: bgr)
    }

    /// An image argument: a cv.Image, or a Figure drawn to one.
    static func imageArgument(_ call: LuaCall, _ idx: Int32) throws -> Image {
        if let fig = try? call.object(Figure.self, idx) { return try image(of: fig) }
        return try call.object(Image.self, idx)
    }

    /// Text drawn in place on an image with Pango (any Unicode), its baseline at (x, y); `height`
    /// is the height of a capital letter, as the Hershey text it replaces.
    static func drawText(_ text: String, on img: Image, x: Double, y: Double, height: Double, color: Color,
                         background: Color?, alpha: Double) throws {
        guard img.channels == 3 || img.channels == 1 else {
            throw LuaError.message("draw_text draws on colour or grey images; this one has \(img.channels) channels (img:bgr() converts it)")
        }
        guard height.isFinite, height > 0, height <= 1000 else { throw LuaError.message("height must be above 0 and at most 1000, not \(height)") }
        let target = img.channels == 1 ? try img.bgr() : img
        let fig = try Figure(width: Double(target.width), height: Double(target.height))
        // A channel order the renderer takes as RGB: colours are swapped for a BGR picture.
        func rgba(_ c: Color, _ a: Double = 1) -> RGBA { target.order == .rgb ? RGBA(c.r, c.g, c.b, alpha: a) : RGBA(c.b, c.g, c.r, alpha: a) }
        let size = height / 0.73   // DejaVu Sans' capitals are 0.73 em tall
        let m = TextMetrics.of(text, size: size)
        let top = y - m.baseline
        if let background {
            fig.rect(Box(x: x - 2, y: top - 1, width: m.width + 4, height: m.height + 2), fill: rgba(background, min(max(alpha, 0), 1)))
        }
        fig.text(text, x: x, y: top, size: size, color: rgba(color))
        let out = try fig.render(overRGB: target.data)
        if img.channels == 1 {
            let drawn = try Image(width: target.width, height: target.height, channels: 3, bytes: out).converted(.bgrToGray)
            img.data.update(from: drawn.data, count: img.width * img.height)
        } else {
            out.withUnsafeBufferPointer { img.data.update(from: $0.baseAddress!, count: out.count) }
        }
    }

    static func installDrawingModule(in state: LuaState) throws {
        try state.defineClass(Figure.self, name: figureClass,
                              doc: "A chart: fig:save(path) writes PNG, SVG (text kept as text) or PDF by the extension; fig:image() gives a cv.Image.") { c in
            c.tostring { "Figure(\(Int($0.width)) x \(Int($0.height)))" }
            c.property("width", type: "number", doc: "Width in pixels (points in a PDF).") { f, call in call.push(f.width) }
            c.property("height", type: "number", doc: "Height in pixels (points in a PDF).") { f, call in call.push(f.height) }
            c.method("save", [LuaParameter("path", .string), LuaParameter("scale", .number, optional: true)], returns: "Figure",
                     doc: "Writes the figure: .png (at scale pixels per unit, default 1), .svg or .pdf; atomically.") { f, call in
                let scale = try call.optionalNumber(3) ?? 1
                guard scale > 0, scale <= 8 else { throw call.argumentError(3, "scale must be above 0 and at most 8, not \(scale)") }
                try f.save(try call.string(2), scale: scale)
                return call.push(object: f)
            }
            c.method("image", [], returns: "cv.Image", doc: "The figure drawn as a BGR cv.Image.") { f, call in call.push(object: try image(of: f)) }
            c.method("svg", [], returns: "string", doc: "The figure as SVG text.") { f, call in call.push(f.svg()) }
            c.method("texts", [], returns: "table", doc: "Every text of the figure with where it lies: {{text, x, y, width, height}, ...}.") { f, call in
                call.push(.table(LuaTable(array: f.textBoxes.map { t in
                    .table(LuaTable(hash: [.string("text"): .string(t.text), .string("x"): .number(t.box.x), .string("y"): .number(t.box.y),
                                           .string("width"): .number(t.box.width), .string("height"): .number(t.box.height)]))
                }, kind: .array)))
            }
        }
    }
}
