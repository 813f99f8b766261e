import Foundation
import Vision

/// Charts drawn with OpenCV: confusion matrices, heat maps with a colour bar, and line plots
/// (metric against threshold, precision against recall). White background, readable labels.
public enum Plots {
    static let black = Color(r: 20, g: 20, b: 20), gray = Color(r: 150, g: 150, b: 150), light = Color(r: 225, g: 225, b: 225)
    static let white = Color(r: 255, g: 255, b: 255)
    /// Matplotlib's tab10.
    public static let palette: [Color] = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
                                          (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]
        .map { Color(r: $0.0, g: $0.1, b: $0.2) }

    /// Viridis, interpolated between five anchors; v in 0...1.
    public static func viridis(_ v: Double) -> Color {
        let anchors: [(Double, Double, Double)] = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]
        let x = min(max(v.isNaN ? 0 : v, 0), 1) * Double(anchors.count - 1)
        let i = min(Int(x), anchors.count - 2), f = x - Double(i)
        let a = anchors[i], b = anchors[i + 1]
        return Color(r: Int(a.0 + (b.0 - a.0) * f), g: Int(a.1 + (b.1 - a.1) * f), b: Int(a.2 + (b.2 - a.2) * f))
    }

    static func canvas(_ w: Int, _ h: Int) throws -> Image {
        let img = try Image(width: w, height: h)
        try img.fillRectangle(x1: 0, y1: 0, x2: w, y2: h, color: white)
        return img
    }

    static func centered(_ img: Image, _ text: String, cx: Int, cy: Int, height: Double, color: Color, thickness: Int = 1) throws {
        let s = try Image.textSize(text, height: height, thickness: thickness)
        try img.drawText(text, x: cx - s.width / 2, y: cy + s.ascent / 2, height: height, color: color, thickness: thickness)
    }

    static func textWidth(_ text: String, _ height: Double) -> Int { (try? Image.textSize(text, height: height).width) ?? text.count * Int(height) }

    /// Text written upwards (for a vertical axis title), by drawing on a strip and rotating it.
    static func verticalText(_ img: Image, _ text: String, cx: Int, cy: Int, height: Double) throws {
        let s = try Image.textSize(text, height: height)
        let strip = try Image(width: s.width + 4, height: s.ascent + s.descent + 4)
        try strip.fillRectangle(x1: 0, y1: 0, x2: strip.width, y2: strip.height, color: white)
        try strip.drawText(text, x: 2, y: 2 + s.ascent, height: height, color: black)
        let rotated = try strip.rotatedCounterClockwise()
        try img.paste(rotated, x: cx - rotated.width / 2, y: cy - rotated.height / 2)
    }

    /// A grid of coloured cells with values in them: the shared body of heat maps and confusion matrices.
    static func grid(values: [[Double?]], texts: [[String]], rowLabels: [String], columnLabels: [String],
                     rowTitle: String, columnTitle: String, title: String, colorBar: (Double, Double)?) throws -> Image {
        let rows = values.count, cols = values.first?.count ?? 0
        let cell = max(56, min(110, 640 / max(cols, 1)))
        let labelH = 14.0
        let left = 40 + (rowLabels.map { textWidth($0, labelH) }.max() ?? 0) + 12
        let top = 64
        let bottom = 70 + (columnLabels.map { textWidth($0, labelH) }.max() ?? 0 > cell - 6 ? 14 : 0)
        let barW = colorBar == nil ? 0 : 90
        let w = left + cols * cell + 30 + barW, h = top + rows * cell + bottom
        let img = try canvas(w, h)
        try centered(img, title, cx: left + cols * cell / 2, cy: 26, height: 17, color: black, thickness: 2)
        let (lo, hi) = colorBar ?? (0, 1)
        for r in 0..<rows {
            for c in 0..<cols {
                let x = left + c * cell, y = top + r * cell
                let v = values[r][c]
                let norm = v.map { hi > lo ? ($0 - lo) / (hi - lo) : 0.5 }
                let fill = norm.map(viridis) ?? light
                try img.fillRectangle(x1: x, y1: y, x2: x + cell, y2: y + cell, color: fill)
                try img.drawRectangle(x1: x, y1: y, x2: x + cell, y2: y + cell, color: white, thickness: 1)
                let textColor = (norm ?? 1) < 0.55 ? white : black
                try centered(img, texts[r][c], cx: x + cell / 2, cy: y + cell / 2, height: cell >= 80 ? 15 : 12, color: textColor, thickness: 1)
            }
        }
        for (r, label) in rowLabels.enumerated() {
            let s = try Image.textSize(label, height: labelH)
            try img.drawText(label, x: left - 10 - s.width, y: top + r * cell + cell / 2 + s.ascent / 2, height: labelH, color: black)
        }
        for (c, label) in columnLabels.enumerated() {
            let fits = textWidth(label, labelH) <= cell - 6
            let y = top + rows * cell + 22 + (fits || c % 2 == 0 ? 0 : 16)
            try centered(img, label, cx: left + c * cell + cell / 2, cy: y, height: labelH, color: black)
        }
        try centered(img, columnTitle, cx: left + cols * cell / 2, cy: h - 18, height: 15, color: black)
        try verticalText(img, rowTitle, cx: 20, cy: top + rows * cell / 2, height: 15)
        if let (lo, hi) = colorBar {
            let bx = left + cols * cell + 30, bh = rows * cell
            for i in 0..<bh {
                try img.fillRectangle(x1: bx, y1: top + i, x2: bx + 18, y2: top + i + 1, color: viridis(1 - Double(i) / Double(max(bh - 1, 1))))
            }
            try img.drawRectangle(x1: bx, y1: top, x2: bx + 18, y2: top + bh, color: gray, thickness: 1)
            for k in 0...4 {
                let v = lo + (hi - lo) * Double(k) / 4
                let y = top + bh - Int(Double(bh) * Double(k) / 4)
                try img.drawLine(x1: bx + 18, y1: y, x2: bx + 23, y2: y, color: black)
                try img.drawText(compact(v), x: bx + 27, y: y + 5, height: 12, color: black)
            }
        }
        return img
    }

    static func compact(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e6 { return String(Int(v)) }
        return abs(v) >= 100 ? String(format: "%.0f", v) : abs(v) >= 10 ? String(format: "%.1f", v) : String(format: "%.2f", v)
    }

    /// A confusion matrix: counts in the cells, colours by each row's share (so rare classes show too).
    public static func confusionMatrix(_ m: ConfusionMatrix) throws -> Image {
        let values: [[Double?]] = m.counts.map { row in
            let total = row.reduce(0, +)
            return row.map { total == 0 ? 0 : Double($0) / Double(total) }
        }
        let texts = m.counts.map { row in row.map(String.init) }
        return try grid(values: values, texts: texts, rowLabels: m.rowLabels, columnLabels: m.columnLabels,
                        rowTitle: "truth", columnTitle: "predicted", title: m.title, colorBar: (0, 1))
    }

    /// A metric over two config keys: values in the cells, a colour bar beside (nil: not run).
    public static func heatmap(values: [[Double?]], rowLabels: [String], columnLabels: [String], rowTitle: String,
                               columnTitle: String, title: String, format: (Double) -> String = { String(format: "%.3f", $0) }) throws -> Image {
        guard !values.isEmpty, values.allSatisfy({ $0.count == columnLabels.count }), values.count == rowLabels.count else {
            throw DataError("heat map: \(values.count) rows of values for \(rowLabels.count) row labels and \(columnLabels.count) columns")
        }
        let defined = values.flatMap { $0 }.compactMap { $0 }
        let lo = defined.min() ?? 0, hi = defined.max() ?? 1
        let texts = values.map { row in row.map { $0.map(format) ?? "n/a" } }
        return try grid(values: values, texts: texts, rowLabels: rowLabels, columnLabels: columnLabels, rowTitle: rowTitle,
                        columnTitle: columnTitle, title: title, colorBar: (lo, hi == lo ? lo + 1 : hi))
    }

    public struct Series {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public init(name: String, points: [(x: Double, y: Double)]) { self.name = name; self.points = points }
    }

    /// Lines with axes, ticks, grid, a legend and a title.
    public static func lines(_ series: [Series], xLabel: String, yLabel: String, title: String,
                             xRange: (Double, Double) = (0, 1), yRange: (Double, Double) = (0, 1), width: Int = 760, height: Int = 520) throws -> Image {
        let img = try canvas(width, height)
        let left = 80, right = 30 + min(200, (series.map { textWidth($0.name, 13) }.max() ?? 0) + 50), top = 56, bottom = 70
        let pw = width - left - right, ph = height - top - bottom
        func px(_ x: Double) -> Int { left + Int((x - xRange.0) / (xRange.1 - xRange.0) * Double(pw)) }
        func py(_ y: Double) -> Int { top + ph - Int((y - yRange.0) / (yRange.1 - yRange.0) * Double(ph)) }
        try centered(img, title, cx: left + pw / 2, cy: 26, height: 17, color: black, thickness: 2)
        for k in 0...5 {
            let fx = xRange.0 + (xRange.1 - xRange.0) * Double(k) / 5, fy = yRange.0 + (yRange.1 - yRange.0) * Double(k) / 5
            try img.drawLine(x1: px(fx), y1: top, x2: px(fx), y2: top + ph, color: light)
            try img.drawLine(x1: left, y1: py(fy), x2: left + pw, y2: py(fy), color: light)
            try centered(img, compact(fx), cx: px(fx), cy: top + ph + 18, height: 12, color: black)
            let label = compact(fy)
            try img.drawText(label, x: left - 10 - textWidth(label, 12), y: py(fy) + 5, height: 12, color: black)
        }
        try img.drawRectangle(x1: left, y1: top, x2: left + pw, y2: top + ph, color: black, thickness: 1)
        try centered(img, xLabel, cx: left + pw / 2, cy: height - 22, height: 15, color: black)
        try verticalText(img, yLabel, cx: 22, cy: top + ph / 2, height: 15)
        for (i, s) in series.enumerated() {
            let color = palette[i % palette.count]
            for (a, b) in zip(s.points, s.points.dropFirst()) {
                try img.drawLine(x1: px(a.x), y1: py(a.y), x2: px(b.x), y2: py(b.y), color: color, thickness: 2)
            }
            if s.points.count == 1 { try img.drawCircle(x: px(s.points[0].x), y: py(s.points[0].y), radius: 3, color: color, thickness: -1) }
            let ly = top + 14 + i * 22
            try img.drawLine(x1: left + pw + 14, y1: ly, x2: left + pw + 38, y2: ly, color: color, thickness: 3)
            try img.drawText(s.name, x: left + pw + 44, y: ly + 5, height: 13, color: black)
        }
        return img
    }
}
