import Foundation
import Support
import Vision

/// Detectron2's Visualizer for boxes: outlines in a colour per class, "name NN%" labels on a
/// dark background at the box's top-left corner. Works on an RGB copy of the image.
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

    var fontHeight: Double { max((Double(image.width * image.height)).squareRoot() / 90, 10) }

    static func color(_ classID: Int) -> Color { colors[((classID % colors.count) + colors.count) % colors.count] }

    func brighter(_ c: Color) -> Color {
        Color(r: min(255, c.r + (255 - c.r) * 7 / 10), g: min(255, c.g + (255 - c.g) * 7 / 10), b: min(255, c.b + (255 - c.b) * 7 / 10))
    }

    func drawBox(_ box: [Double], color: Color, label: String?) throws {
        let b = try box.enumerated().map { try Checked.coordinate($1 * scale, "box[\($0 + 1)]") }
        let thickness = max(Int(fontHeight / 4), 1)
        try image.drawRectangle(x1: b[0], y1: b[1], x2: b[2], y2: b[3], color: color, thickness: thickness)
        guard let label else { return }
        let h = max(fontHeight * 0.75, 9)
        let size = try Image.textSize(label, height: h)
        var y = b[1] - size.descent - 3
        if y - size.ascent < 0 { y = b[1] + size.ascent + 3 }   // no room above: inside the box
        try image.drawText(label, x: b[0] + 2, y: y, height: h, color: brighter(color),
                           background: Color(r: 0, g: 0, b: 0), backgroundAlpha: 0.8)
    }

    func name(_ classID: Int) -> String {
        guard let classes, classID >= 0, classID < classes.count else { return "class \(classID)" }
        return classes[classID]
    }

    /// Boxes with "name NN%" labels.
    @discardableResult
    /// `labels` (one per instance, nil for none) override the class names.
    public func drawInstancePredictions(_ instances: Instances, labels: [String?] = []) throws -> Visualizer {
        let (boxes, scores, classes) = try instances.asLists()
        // Largest first so small boxes stay on top, as Detectron2 does.
        for i in boxes.indices.sorted(by: { area(boxes[$0]) > area(boxes[$1]) }) {
            let label = (i < labels.count ? labels[i] : nil) ?? name(classes[i])
            try drawBox(boxes[i], color: Visualizer.color(classes[i]), label: "\(label) \(Int((scores[i] * 100).rounded()))%")
        }
        return self
    }

    /// The ground-truth boxes of a dataset dict, labelled with class names (crowd boxes marked).
    @discardableResult
    public func drawDatasetDict(_ d: DatasetDict) throws -> Visualizer {
        for a in d.annotations.sorted(by: { area($0.xyxy) > area($1.xyxy) }) {
            try drawBox(a.xyxy, color: Visualizer.color(a.categoryID), label: name(a.categoryID) + (a.isCrowd != 0 ? " (crowd)" : ""))
        }
        return self
    }

    func area(_ b: [Double]) -> Double { (b[2] - b[0]) * (b[3] - b[1]) }
}
