import Support
import XCTest
@testable import Torch

/// ROIAlign written out from its definition, in Double, one sample at a time: the reference
/// both implementations are checked against.
func referenceROIAlign(_ input: [Double], n: Int, c: Int, h: Int, w: Int, rois: [[Double]], scale: Double,
                       ph: Int, pw: Int, samplingRatio: Int, aligned: Bool) -> [Double] {
    func at(_ b: Int, _ ch: Int, _ y: Int, _ x: Int) -> Double { input[((b * c + ch) * h + y) * w + x] }
    func bilinear(_ b: Int, _ ch: Int, _ yIn: Double, _ xIn: Double) -> Double {
        if yIn < -1 || yIn > Double(h) || xIn < -1 || xIn > Double(w) { return 0 }
        var y = max(yIn, 0), x = max(xIn, 0)
        var y0 = Int(y), x0 = Int(x), y1: Int, x1: Int
        if y0 >= h - 1 { y0 = h - 1; y1 = h - 1; y = Double(y0) } else { y1 = y0 + 1 }
        if x0 >= w - 1 { x0 = w - 1; x1 = w - 1; x = Double(x0) } else { x1 = x0 + 1 }
        let ly = y - Double(y0), lx = x - Double(x0)
        return (1 - ly) * (1 - lx) * at(b, ch, y0, x0) + (1 - ly) * lx * at(b, ch, y0, x1)
            + ly * (1 - lx) * at(b, ch, y1, x0) + ly * lx * at(b, ch, y1, x1)
    }
    var out: [Double] = []
    for r in rois {
        let b = Int(r[0]), off = aligned ? 0.5 : 0
        let sx = r[1] * scale - off, sy = r[2] * scale - off
        var rw = r[3] * scale - off - sx, rh = r[4] * scale - off - sy
        if !aligned { rw = max(rw, 1); rh = max(rh, 1) }
        let bh = rh / Double(ph), bw = rw / Double(pw)
        let gh = samplingRatio > 0 ? samplingRatio : Int((rh / Double(ph)).rounded(.up))
        let gw = samplingRatio > 0 ? samplingRatio : Int((rw / Double(pw)).rounded(.up))
        let count = Double(max(gh * gw, 1))
        for ch in 0..<c {
            for i in 0..<ph {
                for j in 0..<pw {
                    var sum = 0.0
                    for iy in 0..<max(gh, 0) {
                        for ix in 0..<max(gw, 0) {
                            let y = sy + Double(i) * bh + (Double(iy) + 0.5) * bh / Double(gh)
                            let x = sx + Double(j) * bw + (Double(ix) + 0.5) * bw / Double(gw)
                            sum += bilinear(b, ch, y, x)
                        }
                    }
                    out.append(sum / count)
                }
            }
        }
    }
    return out
}

/// Greedy NMS written out plainly: descending score, ties by lower index, IoU > threshold suppresses.
func referenceNMS(_ boxes: [[Double]], _ scores: [Double], _ threshold: Double) -> [Int64] {
    let order = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
    func area(_ b: [Double]) -> Double { (b[2] - b[0]) * (b[3] - b[1]) }
    var keep: [Int] = []
    for i in order {
        let suppressed = keep.contains { k in
            let a = boxes[k], b = boxes[i]
            let iw = min(a[2], b[2]) - max(a[0], b[0]), ih = min(a[3], b[3]) - max(a[1], b[1])
            if iw <= 0 || ih <= 0 { return false }
            let inter = iw * ih
            return inter / (area(a) + area(b) - inter) > threshold
        }
        if !suppressed { keep.append(i) }
    }
    return keep.map(Int64.init)
}

final class DetectionOpsTests: XCTestCase {
    override class func setUp() { TorchRuntime.initialize() }

    /// v[y][x] = 4y + x on a 4x4 map: bilinear sampling of a linear function is exact.
    func linearMap() throws -> Tensor { try Tensor.arange(0, 16, dtype: .float64).reshape([1, 1, 4, 4]) }

    func roiAlign(_ input: Tensor, _ rois: [[Double]], size: Int, scale: Double = 1, ratio: Int = 0, aligned: Bool) throws -> [Double] {
        let r = try Tensor(rois.flatMap { $0 }, shape: [rois.count, 5])
        return try values(DetectionOps.roiAlign(input, rois: r, spatialScale: scale, outputSize: (size, size), samplingRatio: ratio, aligned: aligned))
    }

    func testROIAlignHandComputedValues() throws {
        let x = try linearMap()
        // Aligned: box (1,1)-(3,3) starts at 0.5 after the half-pixel shift; bin centres at 1 and 2.
        XCTAssertEqual(try roiAlign(x, [[0, 1, 1, 3, 3]], size: 2, aligned: true), [5, 6, 9, 10])
        // Legacy: no shift; bin centres at 1.5 and 2.5.
        XCTAssertEqual(try roiAlign(x, [[0, 1, 1, 3, 3]], size: 2, aligned: false), [7.5, 8.5, 11.5, 12.5])
        // Samples at -0.25 are clamped to row/column 0: (0 + 0.25 + 1 + 1.25) / 4.
        XCTAssertEqual(try roiAlign(x, [[0, 0, 0, 1, 1]], size: 1, ratio: 2, aligned: true), [0.625])
        // A sample more than one pixel outside contributes zero.
        XCTAssertEqual(try roiAlign(x, [[0, -4, -4, -2, -2]], size: 1, ratio: 1, aligned: true), [0])
        // Beyond the last row/column the edge value is used: centre (4, 4) -> v[3][3].
        XCTAssertEqual(try roiAlign(x, [[0, 3, 3, 5, 5]], size: 1, ratio: 1, aligned: false), [15])
        // Spatial scale: the same box in a 2x larger image.
        XCTAssertEqual(try roiAlign(x, [[0, 2, 2, 6, 6]], size: 2, scale: 0.5, aligned: false), [7.5, 8.5, 11.5, 12.5])
        // A zero-size box (aligned) has no samples: zeros, no crash.
        XCTAssertEqual(try roiAlign(x, [[0, 2, 2, 2, 2]], size: 2, aligned: true), [0, 0, 0, 0])
    }

    func testROIAlignAdaptiveSamplingCount() throws {
        // On v = y^2 the average depends on the number of samples: a 5-pixel-high box over 2
        // bins takes ceil(5/2) = 3 rows of samples per bin.
        var data: [Double] = []
        for y in 0..<8 { for _ in 0..<8 { data.append(Double(y * y)) } }
        let x = try Tensor(data, shape: [1, 1, 8, 8])
        let got = try roiAlign(x, [[0, 0, 0.5, 2, 5.5]], size: 2, aligned: true)
        let expected = referenceROIAlign(data, n: 1, c: 1, h: 8, w: 8, rois: [[0, 0, 0.5, 2, 5.5]], scale: 1, ph: 2, pw: 2,
                                         samplingRatio: 0, aligned: true)
        XCTAssertEqual(got, expected)
        let twoSamples = referenceROIAlign(data, n: 1, c: 1, h: 8, w: 8, rois: [[0, 0, 0.5, 2, 5.5]], scale: 1, ph: 2, pw: 2,
                                           samplingRatio: 2, aligned: true)
        XCTAssertNotEqual(got, twoSamples, "the sample count matters on this map")
    }

    /// Property: both implementations equal the reference on random maps and boxes.
    func testROIAlignMatchesReferenceOnRandomInputs() throws {
        try TorchRuntime.manualSeed(3)
        let (n, c, h, w) = (2, 3, 9, 11)
        let input = try Tensor.randn([n, c, h, w], dtype: .float64)
        let data = try values(input)
        var rng = SplitMix64(seed: 11)
        for trial in 0..<40 {
            var rois: [[Double]] = []
            for _ in 0..<5 {
                let x1 = Double.random(in: -6...20, using: &rng), y1 = Double.random(in: -6...16, using: &rng)
                rois.append([Double(Int.random(in: 0..<n, using: &rng)), x1, y1,
                             x1 + Double.random(in: 0...14, using: &rng), y1 + Double.random(in: 0...12, using: &rng)])
            }
            let aligned = trial % 2 == 0
            let ratio = [0, 1, 2, 3][trial % 4]
            let scale = trial % 3 == 0 ? 0.5 : 1
            let size = 1 + trial % 4
            let expected = referenceROIAlign(data, n: n, c: c, h: h, w: w, rois: rois, scale: scale, ph: size, pw: size,
                                             samplingRatio: ratio, aligned: aligned)
            let r = try Tensor(rois.flatMap { $0 }, shape: [rois.count, 5])
            let kernel = try values(DetectionOps.roiAlign(input, rois: r, spatialScale: scale, outputSize: (size, size),
                                                          samplingRatio: ratio, aligned: aligned))
            let ops = try values(DetectionOps.roiAlignTensorOps(input, rois: r, spatialScale: scale, outputSize: (size, size),
                                                                samplingRatio: ratio, aligned: aligned))
            for (i, e) in expected.enumerated() {
                XCTAssertEqual(kernel[i], e, accuracy: 1e-12, "kernel, trial \(trial), element \(i)")
                XCTAssertEqual(ops[i], e, accuracy: 1e-12, "tensor ops, trial \(trial), element \(i)")
            }
        }
    }

    func testROIAlignBadInputs() throws {
        let x = try linearMap()
        XCTAssertThrowsError(try roiAlign(x, [[0, .nan, 0, 1, 1]], size: 2, aligned: true)) { e in
            XCTAssertTrue("\(e)".contains("NaN or infinite"), "\(e)")
        }
        XCTAssertThrowsError(try roiAlign(x, [[3, 0, 0, 1, 1]], size: 2, aligned: true)) { e in
            XCTAssertTrue("\(e)".contains("batch index"), "\(e)")
        }
        XCTAssertThrowsError(try DetectionOps.roiAlign(x, rois: Tensor.zeros([2, 4], dtype: .float64), spatialScale: 1,
                                                       outputSize: (2, 2), samplingRatio: 0, aligned: true)) { e in
            XCTAssertTrue("\(e)".contains("(K, 5)"), "\(e)")
        }
        XCTAssertThrowsError(try DetectionOps.roiAlign(x.float(), rois: Tensor.zeros([1, 5], dtype: .float64), spatialScale: 1,
                                                       outputSize: (2, 2), samplingRatio: 0, aligned: true))
        XCTAssertEqual(try DetectionOps.roiAlign(x, rois: Tensor.zeros([0, 5], dtype: .float64), spatialScale: 1,
                                                 outputSize: (7, 7), samplingRatio: 0, aligned: true).shape, [0, 1, 7, 7])
    }

    func testNMSMatchesBruteForceWithTiesAndDegenerateBoxes() throws {
        var rng = SplitMix64(seed: 12)
        for trial in 0..<60 {
            let count = Int.random(in: 0...80, using: &rng)
            var boxes: [[Double]] = []
            var scores: [Double] = []
            for i in 0..<count {
                let x1 = Double(Int.random(in: 0...40, using: &rng)), y1 = Double(Int.random(in: 0...40, using: &rng))
                var bw = Double(Int.random(in: 1...20, using: &rng)), bh = Double(Int.random(in: 1...20, using: &rng))
                if i % 9 == 0 { bw = 0 }                      // degenerate: zero width
                if i % 13 == 0 && !boxes.isEmpty { boxes.append(boxes[0]); scores.append(scores[0]); continue }  // duplicate
                if i % 7 == 0 { bh = 0 }
                boxes.append([x1, y1, x1 + bw, y1 + bh])
                scores.append([0.1, 0.5, 0.5, 0.9][Int.random(in: 0...3, using: &rng)])  // many ties
            }
            let threshold = [0.3, 0.5, 0.7][trial % 3]
            let expected = referenceNMS(boxes, scores, threshold)
            let b = try Tensor(boxes.flatMap { $0 }, shape: [boxes.count, 4])
            let s = try Tensor(scores)
            XCTAssertEqual(try DetectionOps.nms(boxes: b, scores: s, iouThreshold: threshold).toArray(Int64.self), expected, "trial \(trial)")
            XCTAssertEqual(try DetectionOps.nmsTensorOps(boxes: b, scores: s, iouThreshold: threshold).toArray(Int64.self), expected,
                           "tensor ops, trial \(trial)")
        }
    }

    func testBatchedNMSKeepsCategoriesApart() throws {
        let boxes = try Tensor([0, 0, 10, 10, 0, 0, 10, 10, 1, 1, 10, 10] as [Float], shape: [3, 4])
        let scores = try Tensor([0.9, 0.8, 0.7] as [Float])
        XCTAssertEqual(try DetectionOps.nms(boxes: boxes, scores: scores, iouThreshold: 0.5).toArray(Int64.self), [0])
        let classes = try Tensor([0, 1, 1] as [Int64])
        XCTAssertEqual(try DetectionOps.batchedNMS(boxes: boxes, scores: scores, idxs: classes, iouThreshold: 0.5).toArray(Int64.self), [0, 1])
    }

    func testNMSBadInputs() throws {
        let boxes = try Tensor([0, 0, 1, 1, 0, 0, 2, 2] as [Float], shape: [2, 4])
        XCTAssertThrowsError(try DetectionOps.nms(boxes: boxes, scores: Tensor([0.5, .nan] as [Float]), iouThreshold: 0.5)) { e in
            XCTAssertEqual("\(e)", "nms: score 1 is NaN")
        }
        XCTAssertThrowsError(try DetectionOps.nms(boxes: boxes, scores: Tensor([0.5] as [Float]), iouThreshold: 0.5))
        XCTAssertThrowsError(try DetectionOps.nms(boxes: Tensor.zeros([2, 3]), scores: Tensor([0.5, 0.4] as [Float]), iouThreshold: 0.5))
        XCTAssertEqual(try DetectionOps.nms(boxes: Tensor.zeros([0, 4]), scores: Tensor.zeros([0]), iouThreshold: 0.5).shape, [0])
    }
}
