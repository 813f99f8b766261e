import Drawing
import Foundation
import Support
import Vision

/// Detectron2's Visualizer for boxes: outlines in a colour per class, "name NN%" labels on a
/// dark background at the box's top-left corner, sized with the image as Detectron2 sizes them,
/// drawn by Cairo with Pango's text (any Unicode name). Works on an RGB copy of the image.
public final class Visualizer {
    public private(set) var image: Image
    public let classes: [String]?

    /// Detectron2's colour table (utils/colormap.py), first entries, as RGB 0..255.
    static let colors: [Color] = [
        Color(r: 0, g: 113, b: 188),
        Color(r: 216, g: 82, b: 24),
        Color(r: 236, g: 176, b: 31),
        Color(r: 125, g: 46, b: 141),
        Color(r: 118, g: 171, b: 47),
        Color(r: 76, g: 189, b: 237),
        Color(r: 161, g: 19, b: 46),
        Color(r: 76, g: 76, b: 76),
        Color(r: 153, g: 153, b: 153),
        Color(r: 255, g: 0, b: 0),
        Color(r: 255, g: 127, b: 0),
        Color(r: 190, g: 190, b: 0),
        Color(r: 0, g: 255, b: 0),
        Color(r: 0, g: 0, b: 255),
        Color(r: 170, g: 0, b: 255),
        Color(r: 84, g: 84, b: 0),
    ]

    public init(image: Image, classes: [String]?, scale: Double = 1.0) throws {
        var img = try image.rgb().clone()
        if scale != 1.0 {
            img = try img.resized(width: max(1, Int(Double(img.width) * scale)), height: max(1, Int(Double(img.height) * scale)))
        }
        self.image = img
        self.classes = classes
        self.scale = scale
    }

    let scale: Double

    /// matplotlib's points at its default 100 dpi, in pixels.
    static let pixelsPerPoint = 100.0 / 72.0

    /// Detectron2's default font size: max(sqrt(h * w) // 90, 10 // scale), in points of the input image.
    var defaultFontSize: Double {
        let h = Double(image.height) / scale, w = Double(image.width) / scale
        return max(((h * w).squareRoot() / 90).rounded(.down), (10 / scale).rounded(.down))
    }

    static func color(_ classID: Int) -> Color { colors[((classID % colors.count) + colors.count) % colors.count] }

    /// Detectron2's text colour for a box colour: each channel at least 0.2, the strongest at least 0.8.
    static func textColor(_ c: Color) -> RGBA {
        var v = [Double(c.r), Double(c.g), Double(c.b)].map { max($0 / 255, 0.2) }
        if let i = v.indices.max(by: { v[$0] < v[$1] }) { v[i] = max(0.8, v[i]) }
        return RGBA(r: v[0], g: v[1], b: v[2])
    }

    /// One box and its label, as Detectron2's overlay_instances draws them: the outline, then the
    /// label on a dark box at the top-left corner (below the box, or at its right for one at the
    /// bottom edge, when the box is small).
    func drawBox(_ box: [Double], color: Color, label: String?, on fig: Figure) throws {
        let b = try box.enumerated().map { i, v -> Double in
            _ = try Checked.coordinate(v * scale, "box[\(i + 1)]")
            return v * scale
        }
        let rgba = RGBA(color.r, color.g, color.b)
        let lineWidth = max(defaultFontSize / 4, 1) * scale * Visualizer.pixelsPerPoint * 0.5
        fig.rect(Box(x: b[0], y: b[1], width: b[2] - b[0], height: b[3] - b[1]), stroke: rgba, lineWidth: lineWidth)
        guard let label else { return }
        let w = Double(image.width), h = Double(image.height)
        let (x0, y0, x1, y1) = (b[0], b[1], b[2], b[3])
        var position = (x0, y0), alignRight = false
        let area = (x1 - x0) * (y1 - y0)
        if area < 1000 * scale * scale || y1 - y0 < 40 * scale {
            if y1 >= h - 5 { position = (x1, y0); alignRight = true } else { position = (x0, y1) }
        }
        let heightRatio = (y1 - y0) / (w * h).squareRoot()
        let points = min(max((heightRatio - 0.02) / 0.08 + 1, 1.2), 2) * 0.5 * defaultFontSize
        let size = max(points * scale * Visualizer.pixelsPerPoint, 7)
        let m = TextMetrics.of(label, size: size)
        let padding = 0.7 * size * 0.5
        var tx = alignRight ? position.0 - m.width : position.0
        var ty = position.1
        // Keep the label on the picture.
        tx = min(max(tx, padding), max(padding, w - m.width - padding))
        ty = min(max(ty, padding), max(padding, h - m.height - padding))
        fig.rect(Box(x: tx - padding, y: ty - padding, width: m.width + 2 * padding, height: m.height + 2 * padding), fill: RGBA(0, 0, 0, alpha: 0.8))
        fig.text(label, x: tx, y: ty, size: size, color: Visualizer.textColor(color))
    }

    /// The marks drawn over the image.
    func overlay(_ build: (Figure) throws -> Void) throws {
        let fig = try Figure(width: Double(image.width), height: Double(image.height))
        try build(fig)
        let rgb = try image.rgb()
        let out = try fig.render(overRGB: rgb.data)
        let result = try Image(width: image.width, height: image.height, channels: 3, bytes: out)
        result.order = .rgb
        image = result
    }

    func name(_ classID: Int) -> String {
        guard let classes, classID >= 0, classID < classes.count else { return "class \(classID)" }
        return classes[classID]
    }

    /// Boxes with "name NN%" labels; `labels` (one per instance, nil for none) override the class names.
    @discardableResult
    public func drawInstancePredictions(_ instances: Instances, labels: [String?] = []) throws -> Visualizer {
        let (boxes, scores, classes) = try instances.asLists()
        try overlay { fig in
            // Largest first so small boxes stay on top, as Detectron2 does.
            for i in boxes.indices.sorted(by: { area(boxes[$0]) > area(boxes[$1]) }) {
                let label = (i < labels.count ? labels[i] : nil) ?? name(classes[i])
                try drawBox(boxes[i], color: Visualizer.color(classes[i]), label: "\(label) \(Int((scores[i] * 100).rounded()))%", on: fig)
            }
        }
        return self
    }

    /// The ground-truth boxes of a dataset dict, labelled with class names (crowd boxes marked).
    @discardableResult
    public func drawDatasetDict(_ d: DatasetDict) throws -> Visualizer {
        try overlay { fig in
            for a in d.annotations.sorted(by: { area($0.xyxy) > area($1.xyxy) }) {
                try drawBox(a.xyxy, color: Visualizer.color(a.categoryID), label: name(a.categoryID) + (a.isCrowd != 0 ? " (crowd)" : ""), on: fig)
            }
        }
        return self
    }

    func area(_ b: [Double]) -> Double { (b[2] - b[0]) * (b[3] - b[1]) }
}
