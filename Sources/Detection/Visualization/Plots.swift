import Drawing
import Foundation
import Support

/// The charts of the workflow, on the drawing layer (Cairo and Pango): heat maps (one panel per
/// threshold), confusion matrices, lines (PR curves, a metric against the threshold with the
/// chosen point, training curves with a second axis) and bars. Each is laid out around its
/// measured text — title, tick labels, legend — so nothing is clipped or overlaps, and comes
/// back as a Figure (PNG, SVG, PDF, or pixels).
public enum Plots {
    static let titleSize = 15.0, labelSize = 12.5, tickSize = 11.0, cellSize = 12.0
    static let pad = 10.0

    static func width(_ s: String, _ size: Double, bold: Bool = false) -> Double { TextMetrics.of(s, size: size, bold: bold).width }
    static func height(_ size: Double) -> Double { TextMetrics.of("Hg", size: size).height }

    /// A vertical axis to the right of x (a colour bar's, or a second y axis): tick marks, their
    /// labels, and a title turned upwards beyond the widest label.
    static func rightAxis(_ fig: Figure, x: Double, ticks: Ticks, scale: LinearScale, labelWidth: Double, title: String, middle: Double) {
        for (v, label) in zip(ticks.values, ticks.labels) {
            let y = scale(v)
            fig.line([(x, y), (x + 4, y)], color: .black, width: 0.8)
            fig.text(label, x: x + 6, y: y, size: tickSize, v: .middle)
        }
        if !title.isEmpty { fig.text(title, x: x + 6 + labelWidth + 8, y: middle, size: labelSize, v: .middle, angle: 90) }
    }

    /// A value range for a colour bar: the data's, or around a constant value.
    public static func colorRange(_ values: [Double]) -> (Double, Double) {
        guard let lo = values.min(), let hi = values.max() else { return (0, 1) }
        if hi > lo { return (lo, hi) }
        let d = lo == 0 ? 0.05 : max(abs(lo) * 0.05, 1e-6)
        return (lo - d, lo + d)
    }

    // MARK: heat maps and confusion matrices

    /// One grid of cells: the values (nil: not run), the texts in them.
    public struct Panel {
        public var title: String
        public var values: [[Double?]]
        public var texts: [[[String]]]
        public init(title: String, values: [[Double?]], texts: [[[String]]]) {
            self.title = title
            self.values = values
            self.texts = texts
        }
    }

    /// Panels side by side sharing rows, columns and one colour scale.
    public static func grid(_ panels: [Panel], rowLabels: [String], columnLabels: [String], rowTitle: String, columnTitle: String,
                            title: String, barLabel: String, range: (Double, Double)) throws -> Figure {
        let rows = rowLabels.count, cols = columnLabels.count
        guard rows > 0, cols > 0, !panels.isEmpty else { throw DataError("a heat map needs at least one row, one column and one panel") }
        for p in panels {
            guard p.values.count == rows, p.values.allSatisfy({ $0.count == cols }), p.texts.count == rows, p.texts.allSatisfy({ $0.count == cols }) else {
                throw DataError("heat map '\(p.title)': \(p.values.count) rows of values for \(rows) row labels and \(cols) columns")
            }
        }
        let lineH = height(cellSize)
        let widestText = panels.flatMap { $0.texts.flatMap { $0.flatMap { $0 } } }.map { width($0, cellSize, bold: true) }.max() ?? 0
        let widestColumn = columnLabels.map { width($0, tickSize) }.max() ?? 0
        let turnColumns = widestColumn > 150
        let cellW = max(56, widestText + 14, turnColumns ? 0 : widestColumn + 10)
        let linesPerCell = Double(panels.flatMap { $0.texts.flatMap { $0.map(\.count) } }.max() ?? 1)
        let cellH = max(40, linesPerCell * lineH + 12)
        let rowLabelW = rowLabels.map { width($0, tickSize) }.max() ?? 0
        let rowTitleH = rowTitle.isEmpty ? 0 : height(labelSize) + 6
        let titleH = title.isEmpty ? 0 : height(titleSize) + 8
        let panelTitleH = panels.count > 1 || !panels[0].title.isEmpty ? height(labelSize) + 6 : 0
        let columnLabelsH = turnColumns ? widestColumn + 6 : height(tickSize) + 6
        let columnTitleH = columnTitle.isEmpty ? 0 : height(labelSize) + 6
        let gridW = Double(cols) * cellW, gridH = Double(rows) * cellH
        let left = pad + rowTitleH + rowLabelW + 8
        let top = pad + titleH + panelTitleH
        let gap = 24.0
        let ticks = Ticks(lo: range.0, hi: range.1, target: 5)
        let barX = left + Double(panels.count) * gridW + Double(panels.count - 1) * gap + 20
        let barW = 16.0
        let barLabelW = ticks.labels.map { width($0, tickSize) }.max() ?? 0
        let barLabelTitleH = barLabel.isEmpty ? 0 : height(labelSize) + 6
        var w = barX + barW + 6 + barLabelW + 8 + barLabelTitleH + pad
        w = max(w, width(title, titleSize, bold: true) + 2 * pad)
        let h = top + max(gridH, 120) + columnLabelsH + columnTitleH + pad + 4
        let fig = try Figure(width: w, height: h)
        if !title.isEmpty { fig.text(title, x: w / 2, y: pad, size: titleSize, bold: true, h: .middle) }
        let scale = LinearScale(lo: range.0, hi: range.1, start: 0, end: 1)
        for (k, p) in panels.enumerated() {
            let x0 = left + Double(k) * (gridW + gap)
            if panelTitleH > 0 { fig.text(p.title, x: x0 + gridW / 2, y: top - panelTitleH + 2, size: labelSize, h: .middle) }
            for r in 0..<rows {
                for c in 0..<cols {
                    let box = Box(x: x0 + Double(c) * cellW, y: top + Double(r) * cellH, width: cellW, height: cellH)
                    let fill = p.values[r][c].map { ColorMap.viridis(scale($0)) } ?? .light
                    fig.rect(box, fill: fill, stroke: .white, lineWidth: 1)
                    let lines = p.texts[r][c]
                    let totalH = Double(lines.count) * lineH
                    for (i, line) in lines.enumerated() {
                        fig.text(line, x: box.x + cellW / 2, y: box.y + (cellH - totalH) / 2 + Double(i) * lineH, size: i == 0 ? cellSize : cellSize - 1.5,
                                 bold: i == 0, color: fill.contrastingText, h: .middle)
                    }
                }
            }
            for (c, label) in columnLabels.enumerated() {
                let cx = x0 + (Double(c) + 0.5) * cellW
                if turnColumns {
                    fig.text(label, x: cx, y: top + gridH + 4, size: tickSize, h: .middle, angle: 90)
                } else {
                    fig.text(label, x: cx, y: top + gridH + 4, size: tickSize, h: .middle)
                }
            }
        }
        let panelsW = Double(panels.count) * gridW + Double(panels.count - 1) * gap
        if !columnTitle.isEmpty {
            fig.text(columnTitle, x: left + panelsW / 2, y: top + gridH + columnLabelsH + 4, size: labelSize, h: .middle)
        }
        for (r, label) in rowLabels.enumerated() {
            fig.text(label, x: left - 8, y: top + (Double(r) + 0.5) * cellH, size: tickSize, h: .end, v: .middle)
        }
        if !rowTitle.isEmpty { fig.text(rowTitle, x: pad, y: top + gridH / 2, size: labelSize, v: .middle, angle: 90) }
        // The colour bar: the map from the range's low (bottom) to its high (top).
        let barH = max(gridH, 120)
        let steps = 64
        for i in 0..<steps {
            let t0 = Double(i) / Double(steps)
            fig.rect(Box(x: barX, y: top + barH * (1 - t0 - 1 / Double(steps)), width: barW, height: barH / Double(steps) + 0.5),
                     fill: ColorMap.viridis(t0 + 0.5 / Double(steps)))
        }
        fig.rect(Box(x: barX, y: top, width: barW, height: barH), stroke: .gray, lineWidth: 0.8)
        rightAxis(fig, x: barX + barW, ticks: ticks, scale: LinearScale(lo: range.0, hi: range.1, start: top + barH, end: top),
                  labelWidth: barLabelW, title: barLabel, middle: top + barH / 2)
        fig.fit(margin: pad)
        return fig
    }

    /// A metric over two config keys: values in the cells, a colour bar beside (nil: not run).
    public static func heatmap(values: [[Double?]], rowLabels: [String], columnLabels: [String], rowTitle: String,
                               columnTitle: String, title: String, barLabel: String = "",
                               format: (Double) -> String = { String(format: "%.3f", $0) }) throws -> Figure {
        try heatmaps([(title: "", values: values)], rowLabels: rowLabels, columnLabels: columnLabels, rowTitle: rowTitle,
                     columnTitle: columnTitle, title: title, barLabel: barLabel, format: format)
    }

    /// One heat map per panel (the study's figure: one per confidence threshold), one colour scale.
    public static func heatmaps(_ panels: [(title: String, values: [[Double?]])], rowLabels: [String], columnLabels: [String],
                                rowTitle: String, columnTitle: String, title: String, barLabel: String = "",
                                format: (Double) -> String = { String(format: "%.3f", $0) }) throws -> Figure {
        let defined = panels.flatMap { $0.values.flatMap { $0 } }.compactMap { $0 }.filter(\.isFinite)
        let made = panels.map { p in
            Panel(title: p.title, values: p.values.map { $0.map { v in v.flatMap { $0.isFinite ? $0 : nil } } },
                  texts: p.values.map { row in row.map { v in [v.flatMap { $0.isFinite ? format($0) : nil } ?? "n/a"] } })
        }
        return try grid(made, rowLabels: rowLabels, columnLabels: columnLabels, rowTitle: rowTitle, columnTitle: columnTitle,
                        title: title, barLabel: barLabel, range: colorRange(defined))
    }

    /// A confusion matrix: the count and the row's share in each cell, coloured by the share.
    public static func confusionMatrix(_ m: ConfusionMatrix) throws -> Figure {
        let shares: [[Double?]] = m.counts.map { row in
            let total = row.reduce(0, +)
            return row.map { total == 0 ? 0 : Double($0) / Double(total) }
        }
        let texts = zip(m.counts, shares).map { row, share in
            zip(row, share).map { count, s in ["\(count)", String(format: "%.0f%%", (s ?? 0) * 100)] }
        }
        return try grid([Panel(title: "", values: shares, texts: texts)], rowLabels: m.rowLabels, columnLabels: m.columnLabels,
                        rowTitle: "truth", columnTitle: "predicted", title: m.title, barLabel: "share of the row", range: (0, 1))
    }

    // MARK: lines

    public struct Series {
        public var name: String
        public var points: [(x: Double, y: Double)]
        /// Points to mark (the chosen threshold), each with its label.
        public var marked: [(x: Double, y: Double, label: String)]
        /// Drawn against the right-hand axis.
        public var secondary: Bool
        public var dashed: Bool
        public init(name: String, points: [(x: Double, y: Double)], marked: [(x: Double, y: Double, label: String)] = [],
                    secondary: Bool = false, dashed: Bool = false) {
            self.name = name
            self.points = points
            self.marked = marked
            self.secondary = secondary
            self.dashed = dashed
        }
    }

    static func range(_ values: [Double], fallback: (Double, Double)) -> (Double, Double) {
        let v = values.filter(\.isFinite)
        guard let lo = v.min(), let hi = v.max() else { return fallback }
        if hi == lo { return (lo - max(abs(lo) * 0.05, 0.05), hi + max(abs(hi) * 0.05, 0.05)) }
        return (lo, hi)
    }

    /// Lines with axes, nice ticks, a grid, a legend outside the plot, a title; series marked
    /// `secondary` use a right-hand axis (yLabel2). A nil range is the data's.
    public static func lines(_ series: [Series], xLabel: String, yLabel: String, title: String,
                             xRange: (Double, Double)? = (0, 1), yRange: (Double, Double)? = (0, 1),
                             yLabel2: String = "", yRange2: (Double, Double)? = nil, plotWidth: Double = 480, plotHeight: Double = 320) throws -> Figure {
        let primary = series.filter { !$0.secondary }, second = series.filter(\.secondary)
        let xr = xRange ?? range(series.flatMap { $0.points.map(\.x) }, fallback: (0, 1))
        let yr = yRange ?? range(primary.flatMap { $0.points.map(\.y) }, fallback: (0, 1))
        let y2r = yRange2 ?? range(second.flatMap { $0.points.map(\.y) }, fallback: (0, 1))
        let xt = Ticks(lo: xr.0, hi: xr.1, target: 6), yt = Ticks(lo: yr.0, hi: yr.1, target: 5), y2t = Ticks(lo: y2r.0, hi: y2r.1, target: 5)
        let tickH = height(tickSize), labelH = height(labelSize)
        let yTickW = yt.labels.map { width($0, tickSize) }.max() ?? 0
        let y2TickW = second.isEmpty ? 0 : (y2t.labels.map { width($0, tickSize) }.max() ?? 0)
        let legendW = series.isEmpty ? 0 : (series.map { width($0.name, tickSize) }.max() ?? 0) + 34
        let titleH = title.isEmpty ? 0 : height(titleSize) + 10
        let left = pad + (yLabel.isEmpty ? 0 : labelH + 8) + yTickW + 6
        let top = pad + titleH
        let right = (second.isEmpty ? 0 : 6 + y2TickW + (yLabel2.isEmpty ? 0 : 8 + labelH)) + (legendW > 0 ? 16 + legendW : 0) + pad
        let bottom = 6 + tickH + (xLabel.isEmpty ? 0 : 6 + labelH) + pad
        var w = left + plotWidth + right
        w = max(w, width(title, titleSize, bold: true) + 2 * pad)
        let fig = try Figure(width: w, height: top + plotHeight + bottom + Double(max(0, series.count - 12)) * (tickH + 6))
        if !title.isEmpty { fig.text(title, x: left + plotWidth / 2, y: pad, size: titleSize, bold: true, h: .middle) }
        let sx = LinearScale(lo: xr.0, hi: xr.1, start: left, end: left + plotWidth)
        let sy = LinearScale(lo: yr.0, hi: yr.1, start: top + plotHeight, end: top)
        let sy2 = LinearScale(lo: y2r.0, hi: y2r.1, start: top + plotHeight, end: top)
        for (v, label) in zip(xt.values, xt.labels) {
            let x = sx(v)
            fig.line([(x, top), (x, top + plotHeight)], color: .light, width: 0.8)
            fig.line([(x, top + plotHeight), (x, top + plotHeight + 4)], color: .black, width: 0.8)
            fig.text(label, x: x, y: top + plotHeight + 6, size: tickSize, h: .middle)
        }
        for (v, label) in zip(yt.values, yt.labels) {
            let y = sy(v)
            fig.line([(left, y), (left + plotWidth, y)], color: .light, width: 0.8)
            fig.line([(left - 4, y), (left, y)], color: .black, width: 0.8)
            fig.text(label, x: left - 6, y: y, size: tickSize, h: .end, v: .middle)
        }
        if !second.isEmpty {
            rightAxis(fig, x: left + plotWidth, ticks: y2t, scale: sy2, labelWidth: y2TickW, title: yLabel2, middle: top + plotHeight / 2)
        }
        fig.rect(Box(x: left, y: top, width: plotWidth, height: plotHeight), stroke: .black, lineWidth: 0.8)
        if !xLabel.isEmpty { fig.text(xLabel, x: left + plotWidth / 2, y: top + plotHeight + 6 + tickH + 6, size: labelSize, h: .middle) }
        if !yLabel.isEmpty { fig.text(yLabel, x: pad, y: top + plotHeight / 2, size: labelSize, v: .middle, angle: 90) }
        // Data, clipped to the plot by dropping points outside the ranges.
        func inside(_ p: (x: Double, y: Double), _ r: (Double, Double)) -> Bool {
            p.x.isFinite && p.y.isFinite && p.x >= min(xr.0, xr.1) - 1e-9 && p.x <= max(xr.0, xr.1) + 1e-9 && p.y >= min(r.0, r.1) - 1e-9 && p.y <= max(r.0, r.1) + 1e-9
        }
        for (i, s) in series.enumerated() {
            let color = ColorMap.tab10[i % ColorMap.tab10.count]
            let ys = s.secondary ? sy2 : sy, r = s.secondary ? y2r : yr
            var run: [(Double, Double)] = []
            for p in s.points {
                if inside(p, r) { run.append((sx(p.x), ys(p.y))) } else {
                    fig.line(run, color: color, width: 2, dashed: s.dashed)
                    run = []
                }
            }
            if run.count == 1 { fig.circle(x: run[0].0, y: run[0].1, r: 3, fill: color) } else { fig.line(run, color: color, width: 2, dashed: s.dashed) }
            for m in s.marked where inside((m.x, m.y), r) {
                fig.circle(x: sx(m.x), y: ys(m.y), r: 5, fill: .white, stroke: color, lineWidth: 2)
                if !m.label.isEmpty {
                    let lw = width(m.label, tickSize)
                    let x = sx(m.x) + 8 + lw > left + plotWidth ? sx(m.x) - 8 - lw : sx(m.x) + 8
                    let y = max(top + 2, ys(m.y) - 8 - tickH)
                    fig.text(m.label, x: x, y: y, size: tickSize, color: color)
                }
            }
        }
        // The legend, outside the plot on the right: it never covers data.
        if legendW > 0 {
            let lx = left + plotWidth + (second.isEmpty ? 0 : 6 + y2TickW + (yLabel2.isEmpty ? 0 : 8 + labelH)) + 16
            for (i, s) in series.enumerated() {
                let color = ColorMap.tab10[i % ColorMap.tab10.count]
                let y = top + 4 + Double(i) * (tickH + 6) + tickH / 2
                fig.line([(lx, y), (lx + 22, y)], color: color, width: 3, dashed: s.dashed)
                fig.text(s.name, x: lx + 28, y: y, size: tickSize, v: .middle)
            }
        }
        fig.fit(margin: pad)
        return fig
    }

    // MARK: bars

    /// Horizontal bars, one per label, with the value at each bar's end (nil or NaN: "n/a").
    public static func bars(_ items: [(label: String, value: Double?)], title: String, xLabel: String,
                            xRange: (Double, Double)? = nil, format: (Double) -> String = { String(format: "%.1f", $0) }) throws -> Figure {
        guard !items.isEmpty else { throw DataError("a bar chart needs at least one bar") }
        let values = items.compactMap(\.value).filter(\.isFinite)
        let xr = xRange ?? (0, max(values.max() ?? 1, 1e-9))
        let ticks = Ticks(lo: xr.0, hi: xr.1, target: 5)
        let labelW = items.map { width($0.label, tickSize) }.max() ?? 0
        let valueW = items.map { width($0.value.flatMap { $0.isFinite ? format($0) : nil } ?? "n/a", tickSize) }.max() ?? 0
        let tickH = height(tickSize), labelH = height(labelSize), titleH = title.isEmpty ? 0 : height(titleSize) + 10
        let barH = max(18, tickH + 6), plotW = 420.0
        let left = pad + labelW + 8, top = pad + titleH
        let plotH = Double(items.count) * barH + 8
        var w = left + plotW + 6 + valueW + pad
        w = max(w, width(title, titleSize, bold: true) + 2 * pad)
        let fig = try Figure(width: w, height: top + plotH + 6 + tickH + (xLabel.isEmpty ? 0 : 6 + labelH) + pad)
        if !title.isEmpty { fig.text(title, x: w / 2, y: pad, size: titleSize, bold: true, h: .middle) }
        let sx = LinearScale(lo: xr.0, hi: xr.1, start: left, end: left + plotW)
        for (v, label) in zip(ticks.values, ticks.labels) {
            let x = sx(v)
            fig.line([(x, top), (x, top + plotH)], color: .light, width: 0.8)
            fig.text(label, x: x, y: top + plotH + 6, size: tickSize, h: .middle)
        }
        for (i, item) in items.enumerated() {
            let y = top + 4 + Double(i) * barH
            fig.text(item.label, x: left - 8, y: y + barH / 2, size: tickSize, h: .end, v: .middle)
            let v = item.value.flatMap { $0.isFinite ? $0 : nil }
            let end = v.map { sx(min(max($0, xr.0), xr.1)) } ?? left
            if v != nil { fig.rect(Box(x: left, y: y + 2, width: max(0, end - left), height: barH - 4), fill: ColorMap.tab10[0]) }
            fig.text(v.map(format) ?? "n/a", x: end + 6, y: y + barH / 2, size: tickSize, color: v == nil ? .gray : .black, v: .middle)
        }
        fig.line([(left, top), (left, top + plotH)], color: .black, width: 0.8)
        if !xLabel.isEmpty { fig.text(xLabel, x: left + plotW / 2, y: top + plotH + 6 + tickH + 6, size: labelSize, h: .middle) }
        fig.fit(margin: pad)
        return fig
    }

    // MARK: training curves

    /// Training curves from Detectron2's metrics.json (one JSON object per line): every loss
    /// against the iteration as written (Detectron2 writes each loss as the median of its last 20
    /// values), and the learning rate on a second axis.
    public static func trainingCurves(metricsFile path: String, title: String = "training") throws -> Figure {
        let text = try InputFile.text(path, limit: 1 << 30)
        var losses: [String: [(x: Double, y: Double)]] = [:], lr: [(x: Double, y: Double)] = []
        for (n, line) in text.split(separator: "\n").enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            guard case .object(let pairs)? = try? JSON.parse(Array(line.utf8)) else {
                throw DataError("\(path):\(n + 1): not a JSON object (metrics.json has one per line)")
            }
            var fields: [String: Double] = [:]
            for (k, v) in pairs {
                switch v {
                case .int(let i): fields[k] = Double(i)
                case .double(let d): fields[k] = d
                default: break
                }
            }
            guard let iteration = fields["iteration"] else { continue }
            for (k, v) in fields where k.contains("loss") && v.isFinite { losses[k, default: []].append((iteration, v)) }
            if let l = fields["lr"], l.isFinite { lr.append((iteration, l)) }
        }
        guard !losses.isEmpty else { throw DataError("\(path) has no losses to plot (no lines with iteration and *loss* fields)") }
        let order = losses.keys.sorted { ($0 == "total_loss" ? "" : $0) < ($1 == "total_loss" ? "" : $1) }
        var series = order.map { Series(name: $0, points: losses[$0]!) }
        if !lr.isEmpty { series.append(Series(name: "lr (right axis)", points: lr, secondary: true, dashed: true)) }
        let allLoss = losses.values.flatMap { $0.map(\.y) }
        return try lines(series, xLabel: "iteration", yLabel: "loss (median of 20 iterations)", title: title, xRange: nil,
                         yRange: Ticks.niceExtent(lo: 0, hi: max(allLoss.max() ?? 1, 1e-9)), yLabel2: lr.isEmpty ? "" : "learning rate",
                         yRange2: lr.isEmpty ? nil : Ticks.niceExtent(lo: 0, hi: max(lr.map(\.y).max() ?? 1, 1e-12)))
    }
}
