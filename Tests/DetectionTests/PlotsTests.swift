import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
import Drawing
import Vision
@testable import Detection

/// The charts, checked by structure rather than golden images: every label once in the SVG,
/// text inside the canvas and never on other text, cell colours from the colour map, a
/// sensible colour bar for a constant field, and Unicode names intact.
final class PlotsTests: XCTestCase {
    /// Every text inside the figure and no two texts overlapping (titles, ticks, labels, legends).
    func assertLaidOut(_ fig: Figure, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let boxes = fig.textBoxes
        XCTAssertFalse(boxes.isEmpty, what, file: file, line: line)
        for t in boxes {
            XCTAssertTrue(t.box.inside(fig.width, fig.height), "\(what): '\(t.text)' at \(t.box) leaves the \(fig.width) x \(fig.height) canvas", file: file, line: line)
        }
        for (i, a) in boxes.enumerated() {
            for b in boxes[(i + 1)...] {
                let overlapX = min(a.box.maxX, b.box.maxX) - max(a.box.x, b.box.x)
                let overlapY = min(a.box.maxY, b.box.maxY) - max(a.box.y, b.box.y)
                XCTAssertFalse(overlapX > 0.5 && overlapY > 0.5, "\(what): '\(a.text)' overlaps '\(b.text)'", file: file, line: line)
            }
        }
        // The SVG is well-formed XML.
        let parser = XMLParser(data: Data(fig.svg().utf8))
        XCTAssertTrue(parser.parse(), "\(what): the SVG does not parse: \(String(describing: parser.parserError))", file: file, line: line)
    }

    func occurrences(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    func testNiceTicksNeverRepeatALabel() {
        for (lo, hi) in [(0.0, 1.0), (0.93, 0.94), (0.9, 0.9), (0.0, 40000.0), (1e-5, 3e-5), (-2.5, 7.0), (0.855, 0.945), (0.0, 0.00025), (300.0, 1000.0)] {
            let t = Ticks(lo: lo, hi: hi)
            XCTAssertGreaterThanOrEqual(t.values.count, 2, "\(lo)...\(hi)")
            XCTAssertEqual(Set(t.labels).count, t.labels.count, "\(lo)...\(hi): \(t.labels)")
            for v in t.values { XCTAssertTrue(v >= min(lo, hi - 0.5) - 1e-12 && v <= max(hi, lo + 0.5) + 1e-12, "\(v) outside \(lo)...\(hi)") }
            // 1-2-5 steps (2.5 included, as matplotlib's locator).
            if t.values.count >= 2 {
                let step = t.values[1] - t.values[0]
                let mantissa = step / pow(10, floor(log10(step)))
                XCTAssertTrue([1, 2, 2.5, 5].contains { abs($0 - mantissa) < 1e-6 }, "step \(step)")
            }
        }
        XCTAssertEqual(Ticks(lo: 0, hi: 1).labels, ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        XCTAssertEqual(Ticks(lo: 0.93, hi: 0.94).labels, ["0.930", "0.932", "0.934", "0.936", "0.938", "0.940"])
    }

    func testHeatMapLabelsCellsAndColours() throws {
        let values: [[Double?]] = [[0.81, 0.84, 0.86], [0.85, 0.88, nil], [0.87, 0.9, 0.93]]
        let fig = try Plots.heatmap(values: values, rowLabels: ["300", "500", "1000"], columnLabels: ["256", "512", "1024"],
                                    rowTitle: "SOLVER.MAX_ITER", columnTitle: "MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE (a long column title)",
                                    title: "Presence accuracy at threshold 0.4 for the logo of brand A", barLabel: "accuracy")
        assertLaidOut(fig, "heat map")
        let svg = fig.svg()
        for label in ["300", "500", "1000", "256", "512", "1024"] { XCTAssertEqual(occurrences(">\(label)<", in: svg), 1, label) }
        for text in ["0.810", "0.840", "0.860", "0.880", "n/a", "0.870", "0.930", "SOLVER.MAX_ITER", "accuracy",
                     "MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE (a long column title)", "Presence accuracy at threshold 0.4 for the logo of brand A"] {
            XCTAssertEqual(occurrences(">\(text)<", in: svg), 1, text)
        }
        // The colour bar's ticks span the data's range (0.81 to 0.93) at a nice step (0.025), each
        // once; 0.850 and 0.900 are a cell's text and a tick both.
        for tick in ["0.825", "0.875", "0.925"] { XCTAssertEqual(occurrences(">\(tick)<", in: svg), 1, tick) }
        for both in ["0.850", "0.900"] { XCTAssertEqual(occurrences(">\(both)<", in: svg), 2, both) }
        // Each cell's colour is the map's colour for its value (sampled clear of the cell's text).
        let (bgra, w, _) = try fig.pixels()
        let cells = fig.marks.compactMap { m -> Box? in
            if case .rect(let b, let fill?, let stroke, _) = m, stroke == .white, fill != .white { return b }
            return nil
        }
        XCTAssertEqual(cells.count, 9)
        let lo = 0.81, hi = 0.93
        for (k, cell) in cells.enumerated() {
            let x = Int(cell.x + cell.width / 2), y = Int(cell.y + 4)
            let o = (y * w + x) * 4
            let expected = values[k / 3][k % 3].map { ColorMap.viridis(($0 - lo) / (hi - lo)) } ?? .light
            let got = RGBA(Int(bgra[o + 2]), Int(bgra[o + 1]), Int(bgra[o]))
            XCTAssertEqual(got.r, expected.r, accuracy: 2.0 / 255, "cell \(k)")
            XCTAssertEqual(got.g, expected.g, accuracy: 2.0 / 255, "cell \(k)")
            XCTAssertEqual(got.b, expected.b, accuracy: 2.0 / 255, "cell \(k)")
        }
    }

    func testAConstantHeatMapHasARangeAroundItsValue() throws {
        XCTAssertEqual(Plots.colorRange([0.9, 0.9, 0.9]).0, 0.855, accuracy: 1e-12)
        XCTAssertEqual(Plots.colorRange([0.9, 0.9, 0.9]).1, 0.945, accuracy: 1e-12)
        XCTAssertEqual(Plots.colorRange([0, 0]).0, -0.05, accuracy: 1e-12)
        let fig = try Plots.heatmap(values: [[0.9, 0.9], [0.9, 0.9]], rowLabels: ["a", "b"], columnLabels: ["x", "y"], rowTitle: "", columnTitle: "", title: "constant")
        assertLaidOut(fig, "constant heat map")
        let texts = fig.textBoxes.map(\.text)
        XCTAssertTrue(texts.contains("0.90"), "the value is on the bar: \(texts)")
        XCTAssertFalse(texts.contains("1.90"), "not 0.90 to 1.90")
        XCTAssertEqual(occurrences(">0.900<", in: fig.svg()), 4)
    }

    func testPanelsShareOneColourScale() throws {
        let fig = try Plots.heatmaps([("threshold 0.2", [[0.8, 0.9]]), ("threshold 0.4", [[0.7, 0.95]]), ("threshold 0.6", [[0.6, 0.85]]), ("threshold 0.8", [[0.5, 0.8]])],
                                     rowLabels: ["300"], columnLabels: ["256", "512"], rowTitle: "MAX_ITER", columnTitle: "BATCH_SIZE_PER_IMAGE", title: "grid")
        assertLaidOut(fig, "panels")
        let svg = fig.svg()
        for t in ["threshold 0.2", "threshold 0.4", "threshold 0.6", "threshold 0.8"] { XCTAssertEqual(occurrences(">\(t)<", in: svg), 1) }
        XCTAssertEqual(occurrences(">256<", in: svg), 4, "each panel labels its columns")
        XCTAssertEqual(occurrences(">BATCH_SIZE_PER_IMAGE<", in: svg), 1, "one column title under the panels")
    }

    func testConfusionMatrixShowsCountsAndRowShares() throws {
        let m = ConfusionMatrix(rowLabels: ["logo", "Nestlé café", "background"], columnLabels: ["logo", "Nestlé café", "background"],
                                counts: [[8, 2, 0], [1, 3, 0], [4, 0, 0]], title: "boxes at score 0.5")
        let fig = try Plots.confusionMatrix(m)
        assertLaidOut(fig, "confusion matrix")
        let svg = fig.svg()
        for s in [">80%<", ">20%<", ">25%<", ">75%<", ">100%<", ">truth<", ">predicted<", ">boxes at score 0.5<"] { XCTAssertTrue(svg.contains(s), s) }
        XCTAssertEqual(occurrences(">Nestlé café<", in: svg), 2, "the Unicode name is intact as a row and a column label")
    }

    func testLinesKeepTheLegendAndAxisTitleOffTheData() throws {
        let fig = try Plots.lines([Plots.Series(name: "Nestlé café", points: [(0.2, 0.5), (0.5, 0.9), (0.99, 0.6)], marked: [(0.5, 0.9, "0.90 at 0.50")]),
                                   Plots.Series(name: "a rather long class name for a legend", points: [(0.2, 0.4), (0.99, 0.7)])],
                                  xLabel: "confidence threshold", yLabel: "accuracy", title: "accuracy by confidence threshold", xRange: (0.2, 0.99))
        assertLaidOut(fig, "lines")
        let frame = fig.marks.compactMap { m -> Box? in if case .rect(let b, nil, .some, _) = m { return b }; return nil }.first!
        let legend = fig.textBoxes.filter { $0.text == "a rather long class name for a legend" || $0.text == "Nestlé café" }
        XCTAssertEqual(legend.count, 2)
        for l in legend { XCTAssertGreaterThan(l.box.x, frame.maxX, "the legend is outside the plot") }
        XCTAssertTrue(fig.svg().contains(">0.90 at 0.50<"), "the chosen point is labelled")
        XCTAssertTrue(fig.marks.contains { if case .circle(_, _, 5, .some, .some, _) = $0 { return true }; return false }, "and marked")
    }

    func testBarsAndTrainingCurves() throws {
        let bars = try Plots.bars([("logo", 43.2), ("Nestlé café", nil), ("smile", 12)], title: "AP per class", xLabel: "AP (%)", xRange: (0, 100))
        assertLaidOut(bars, "bars")
        XCTAssertTrue(bars.svg().contains(">43.2<") && bars.svg().contains(">n/a<"))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("plots-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let lines = (0..<10).map { i in "{\"iteration\": \(i * 20 + 19), \"total_loss\": \(2.0 - Double(i) * 0.1), \"loss_cls\": \(1.0 - Double(i) * 0.05), \"lr\": \(0.00025 * Double(min(i + 1, 5)) / 5), \"time\": 0.3}" }
        try lines.joined(separator: "\n").write(toFile: dir + "/metrics.json", atomically: true, encoding: .utf8)
        let fig = try Plots.trainingCurves(metricsFile: dir + "/metrics.json")
        assertLaidOut(fig, "training curves")
        let svg = fig.svg()
        for t in [">total_loss<", ">loss_cls<", ">lr (right axis)<", ">learning rate<", ">iteration<"] { XCTAssertTrue(svg.contains(t), t) }
        XCTAssertThrowsError(try Plots.trainingCurves(metricsFile: dir + "/nothing.json"))
        for ext in ["png", "svg", "pdf"] {
            try fig.save(dir + "/curves.\(ext)")
            let size = (try FileManager.default.attributesOfItem(atPath: dir + "/curves.\(ext)")[.size] as? Int) ?? 0
            XCTAssertGreaterThan(size, 1000, ext)
        }
        let png = try Data(contentsOf: URL(fileURLWithPath: dir + "/curves.png"))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        XCTAssertEqual(String(decoding: try Data(contentsOf: URL(fileURLWithPath: dir + "/curves.pdf")).prefix(5), as: UTF8.self), "%PDF-")
        XCTAssertThrowsError(try fig.save(dir + "/curves.gif"))
    }

    func testAccentedNamesRenderAsThemselves() throws {
        // The label region of "é" is not the "?" glyph's (Hershey fonts drew "?" for it).
        func render(_ s: String) throws -> [UInt8] {
            let fig = try Figure(width: 40, height: 30)
            fig.text(s, x: 5, y: 5, size: 18)
            return try fig.pixels().bgra
        }
        let accent = try render("é"), question = try render("?"), plain = try render("e")
        XCTAssertNotEqual(accent, question)
        XCTAssertNotEqual(accent, plain, "the accent is drawn")
        XCTAssertTrue(accent.contains { $0 < 128 }, "something is drawn")
        // On an image, through the Visualizer.
        let img = try Image(width: 200, height: 120, channels: 3, bytes: [UInt8](repeating: 200, count: 200 * 120 * 3))
        let v = try Visualizer(image: img, classes: ["Nestlé café"])
        try v.drawInstancePredictions(try Instances(boxes: [[10, 10, 190, 110]], scores: [0.97], classes: [0], imageID: nil))
        let drawn = Array(UnsafeBufferPointer(start: v.image.data, count: 200 * 120 * 3))
        // The dark label box at the top-left corner of the box, with the text in it.
        var label: [UInt8] = []
        for y in 14..<28 {
            for x in 12..<60 {
                let at: Int = (y * 200 + x) * 3
                label.append(max(drawn[at], drawn[at + 1], drawn[at + 2]))
            }
        }
        XCTAssertTrue(label.contains { $0 < 60 }, "the dark label background")
        XCTAssertTrue(label.contains { $0 > 150 }, "the label's text, in the class colour brightened")
    }
}
