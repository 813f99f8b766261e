import Foundation
import XCTest
import Torch
@testable import Detection

/// Each modeling component on its own, with plain arguments, as Detectron2's tests/modeling does.
final class AnchorGeneratorTests: XCTestCase {
    func testCellAnchorsSizesRatiosAndShifts() throws {
        let g = try AnchorGenerator(sizes: [[32], [64]], aspectRatios: [[0.5, 1, 2]], strides: [4, 8], offset: 0)
        XCTAssertEqual(g.anchorsPerLocation, 3)
        let a = try g.anchors(featureSizes: [(2, 3), (1, 1)], device: .cpu)
        XCTAssertEqual(a.map(\.shape), [[18, 4], [3, 4]])
        let v = try a[0].to(dtype: .float64).toArray(Double.self)
        // Ratio 0.5 of size 32: w = sqrt(32² / 0.5), h = 0.5 w, centred on (0, 0).
        let w = (1024.0 / 0.5).squareRoot(), h = 0.5 * w
        for (x, e) in zip(v[0..<4], [-w / 2, -h / 2, w / 2, h / 2]) { XCTAssertEqual(x, e, accuracy: 1e-4) }
        for (x, e) in zip(v[4..<8], [-16.0, -16, 16, 16]) { XCTAssertEqual(x, e, accuracy: 1e-5) }
        // Index (y * W + x) * A + a: location (y 0, x 1) shifts by the stride in x.
        for (x, e) in zip(v[16..<20], [-12.0, -16, 20, 16]) { XCTAssertEqual(x, e, accuracy: 1e-5) }
        // Location (y 1, x 0), ratio 2.
        let r2 = Array(v[(3 * 3 + 2) * 4..<(3 * 3 + 2) * 4 + 4])
        for (x, e) in zip(r2, [-h / 2, -w / 2 + 4, h / 2, w / 2 + 4]) { XCTAssertEqual(x, e, accuracy: 1e-4) }
        // Level 2 uses its own size and stride.
        let l2 = try a[1].to(dtype: .float64).toArray(Double.self)
        for (x, e) in zip(l2[4..<8], [-32.0, -32, 32, 32]) { XCTAssertEqual(x, e, accuracy: 1e-5) }
    }

    func testOffsetMovesCentresByHalfAStride() throws {
        let g = try AnchorGenerator(sizes: [[16]], aspectRatios: [[1]], strides: [8], offset: 0.5)
        let v = try g.anchors(featureSizes: [(1, 2)], device: .cpu)[0].to(dtype: .float64).toArray(Double.self)
        XCTAssertEqual(v, [-4, -4, 12, 12, 4, -4, 20, 12])
    }

    func testBadSettingsAreErrors() {
        XCTAssertThrowsError(try AnchorGenerator(sizes: [[32], [64]], aspectRatios: [[1]], strides: [4, 8, 16], offset: 0))
        XCTAssertThrowsError(try AnchorGenerator(sizes: [[-1]], aspectRatios: [[1]], strides: [4], offset: 0))
        XCTAssertThrowsError(try AnchorGenerator(sizes: [[32]], aspectRatios: [[0]], strides: [4], offset: 0))
        XCTAssertThrowsError(try AnchorGenerator(sizes: [[32]], aspectRatios: [[1]], strides: [4], offset: 1.5))
        XCTAssertThrowsError(try AnchorGenerator(sizes: [[32]], aspectRatios: [[1]], strides: [4], offset: 0).anchors(featureSizes: [(1, 1), (1, 1)], device: .cpu))
    }
}

final class BoxRegressionTests: XCTestCase {
    func testDeltasRoundTripWithWeights() throws {
        let t = Box2BoxTransform(weights: (10, 10, 5, 5))
        let src = try Tensor([Float(10), 20, 50, 80, 0, 0, 16, 16, 5, 5, 6, 9], shape: [3, 4])
        let dst = try Tensor([Float(12), 18, 60, 90, 1, 2, 40, 20, 5, 5, 6, 9], shape: [3, 4])
        let d = try t.deltas(from: src, to: dst)
        let back = try t.applyDeltas(d, boxes: src)
        XCTAssertLessThan(try (back - dst).abs().max().item(), 1e-4)
        XCTAssertEqual(try d.select(0, 2).abs().max().item(), 0, accuracy: 1e-6, "a box onto itself has zero deltas")
        // dx of box 0: (36 - 30) / 40 * 10.
        XCTAssertEqual(try d.select(0, 0).select(0, 0).item(), 1.5, accuracy: 1e-6)
    }

    func testWidthAndHeightDeltasAreClamped() throws {
        let t = Box2BoxTransform(weights: (1, 1, 1, 1))
        let box = try Tensor([Float(0), 0, 10, 10], shape: [1, 4])
        let out = try t.applyDeltas(try Tensor([Float(0), 0, 100, 100], shape: [1, 4]), boxes: box).to(dtype: .float64).toArray(Double.self)
        // exp(log(1000 / 16)) * 10 = 625 wide, centred on 5.
        for (x, e) in zip(out, [5 - 312.5, 5 - 312.5, 5 + 312.5, 5 + 312.5]) { XCTAssertEqual(x, e, accuracy: 1e-2) }
    }

    func testConfigWeightsAreChecked() {
        XCTAssertThrowsError(try Box2BoxTransform(weights: [1, 1, 1], key: "MODEL.RPN.BBOX_REG_WEIGHTS")) {
            XCTAssertTrue("\($0)".contains("MODEL.RPN.BBOX_REG_WEIGHTS must be four positive numbers"), "\($0)")
        }
        XCTAssertThrowsError(try Box2BoxTransform(weights: [1, 1, 0, 1], key: "K"))
    }
}

final class MatcherTests: XCTestCase {
    func testBandsAndLowQualityMatchesWithTies() throws {
        // 2 ground truths x 5 predictions.
        let q = try Tensor([Float(0.1), 0.4, 0.4, 0.2, 0.8,
                            0.05, 0.1, 0.3, 0.25, 0.0], shape: [2, 5])
        let plain = try Matcher(thresholds: [0.3, 0.7], labels: [0, -1, 1], allowLowQualityMatches: false)
        let (m, l) = try plain.match(q)
        XCTAssertEqual(try m.toArray(Int64.self), [0, 0, 0, 1, 0])
        XCTAssertEqual(try l.toArray(Int64.self), [0, -1, -1, 0, 1])
        // Low-quality matches: each ground truth's best predictions become positive, ties included
        // (gt 0's best is 0.8 at column 4; gt 1's best is 0.3 at column 2).
        let lq = try Matcher(thresholds: [0.3, 0.7], labels: [0, -1, 1], allowLowQualityMatches: true)
        XCTAssertEqual(try lq.match(q).labels.toArray(Int64.self), [0, -1, 1, 0, 1])
        let tie = try Tensor([Float(0.2), 0.2, 0.1], shape: [1, 3])
        XCTAssertEqual(try lq.match(tie).labels.toArray(Int64.self), [1, 1, 0])
        // No ground truth: everything gets the lowest band's label.
        XCTAssertEqual(try lq.match(try Tensor.zeros([0, 3])).labels.toArray(Int64.self), [0, 0, 0])
    }

    func testBadThresholdsAreErrors() {
        XCTAssertThrowsError(try Matcher(thresholds: [0.7, 0.3], labels: [0, -1, 1], allowLowQualityMatches: false, key: "MODEL.RPN")) {
            XCTAssertTrue("\($0)".contains("MODEL.RPN.IOU_THRESHOLDS must increase"), "\($0)")
        }
        XCTAssertThrowsError(try Matcher(thresholds: [0.5], labels: [0, 1, 1], allowLowQualityMatches: false))
        XCTAssertThrowsError(try Matcher(thresholds: [1.5], labels: [0, 1], allowLowQualityMatches: false))
    }
}

final class SamplingTests: XCTestCase {
    func testCapsAndFill() throws {
        // 10 positives (class 0 or 1), 100 negatives (background 2), 5 ignored.
        let labels = try Tensor((0..<10).map { Int64($0 % 2) } + Array(repeating: Int64(2), count: 100) + Array(repeating: Int64(-1), count: 5))
        try TorchRuntime.manualSeed(3)
        let (pos, neg) = try subsampleLabels(labels, count: 16, positiveFraction: 0.25, background: 2)
        XCTAssertEqual(pos.shape, [4])
        XCTAssertEqual(neg.shape, [12])
        let p = try pos.toArray(Int64.self), n = try neg.toArray(Int64.self)
        XCTAssertTrue(p.allSatisfy { $0 < 10 } && Set(p).count == 4)
        XCTAssertTrue(n.allSatisfy { (10..<110).contains($0) } && Set(n).count == 12)
        // Too few positives: negatives fill the batch.
        let few = try Tensor([Int64(0)] + Array(repeating: Int64(2), count: 50))
        let (p2, n2) = try subsampleLabels(few, count: 16, positiveFraction: 0.5, background: 2)
        XCTAssertEqual(p2.shape, [1])
        XCTAssertEqual(n2.shape, [15])
        // Too few of both: everything that is labelled.
        let (p3, n3) = try subsampleLabels(try Tensor([Int64(1), 2, -1]), count: 16, positiveFraction: 0.5, background: 2)
        XCTAssertEqual(try p3.toArray(Int64.self), [0])
        XCTAssertEqual(try n3.toArray(Int64.self), [1])
    }
}

final class PoolerTests: XCTestCase {
    func testCanonicalLevelsClampToTheLevelsGiven() throws {
        let p = try ROIPooler(outputSize: 7, strides: [4, 8, 16, 32], samplingRatio: 0, aligned: true)
        XCTAssertEqual(p.minLevel, 2)
        XCTAssertEqual(p.maxLevel, 5)
        // sqrt(area) 224 -> level 4; 112 -> 3; 448 -> 5; 10 -> 2 (clamped); 2000 -> 5 (clamped).
        let boxes = try Tensor([Float(0), 0, 224, 224, 0, 0, 112, 112, 0, 0, 448, 448, 0, 0, 10, 10, 0, 0, 2000, 2000], shape: [5, 4])
        XCTAssertEqual(try p.assignLevels(boxes).toArray(Int64.self), [2, 1, 3, 0, 3])
        XCTAssertThrowsError(try ROIPooler(outputSize: 7, strides: [4, 16], samplingRatio: 0, aligned: true))
        XCTAssertThrowsError(try ROIPooler(outputSize: 7, strides: [6], samplingRatio: 0, aligned: true))
    }

    func testEachBoxIsPooledFromItsLevel() throws {
        let p = try ROIPooler(outputSize: 2, strides: [4, 8], samplingRatio: 2, aligned: true)
        // Level 2 all ones, level 3 all twos: a small box reads 1s, a big one 2s.
        let f2 = try Tensor.ones([1, 1, 64, 64]), f3 = try Tensor.full([1, 1, 32, 32], 2)
        let boxes = try Tensor([Float(0), 0, 20, 20, 0, 0, 250, 250], shape: [2, 4])
        let out = try p.forward([f2, f3], boxes: [boxes])
        XCTAssertEqual(out.shape, [2, 1, 2, 2])
        XCTAssertEqual(try out.select(0, 0).to(dtype: .float64).toArray(Double.self), [1, 1, 1, 1])
        XCTAssertEqual(try out.select(0, 1).to(dtype: .float64).toArray(Double.self), [2, 2, 2, 2])
    }
}

final class PostprocessingTests: XCTestCase {
    func testRescalesClipsAndDropsEmptyBoxes() throws {
        let r = Instances(imageSize: (100, 200), boxes: try Tensor([Float(10), 10, 50, 50, 190, 90, 250, 120, 30, 30, 30, 60], shape: [3, 4]),
                          scores: try Tensor([Float(0.9), 0.8, 0.7]), classes: try Tensor([Int64(0), 1, 0]))
        let out = try detectorPostprocess(r, height: 50, width: 100)
        XCTAssertEqual(out.imageSize.0, 50)
        XCTAssertEqual(out.imageSize.1, 100)
        let (boxes, scores, classes) = try out.asLists()
        XCTAssertEqual(boxes, [[5, 5, 25, 25], [95, 45, 100, 50]])   // the zero-width box is dropped
        XCTAssertEqual(scores.map { ($0 * 10).rounded() / 10 }, [0.9, 0.8])
        XCTAssertEqual(classes, [0, 1])
    }
}

final class StructuresTests: XCTestCase {
    func testBoxesIoUAndModes() throws {
        let a = Boxes(try Tensor([Float(0), 0, 10, 10, 5, 5, 15, 15], shape: [2, 4]))
        let b = Boxes(try Tensor([Float(0), 0, 10, 10, 20, 20, 30, 30], shape: [2, 4]))
        XCTAssertEqual(try Boxes.pairwiseIoU(a, b).to(dtype: .float64).toArray(Double.self).map { ($0 * 1e6).rounded() / 1e6 },
                       [1, 0, (25.0 / 175 * 1e6).rounded() / 1e6, 0])
        XCTAssertEqual(Boxes.iou(xyxy: [0, 0, 10, 10], [5, 5, 15, 15]), 25.0 / 175)
        XCTAssertEqual(Boxes.iou(xywh: (0, 0, 10, 10), (5, 5, 100, 100), crowd: true), 25.0 / 100, "crowd: over the detection's area")
        XCTAssertEqual(BoxMode.convert([1, 2, 3, 4], from: .xywhAbs, to: .xyxyAbs), [1, 2, 4, 6])
        XCTAssertEqual(BoxMode.convert([1, 2, 4, 6], from: .xyxyAbs, to: .xywhAbs), [1, 2, 3, 4])
        XCTAssertEqual(try BoxMode.convert(try Tensor([Float(1), 2, 3, 4], shape: [1, 4]), from: .xywhAbs, to: .xyxyAbs).toArray(Float.self), [1, 2, 4, 6])
        XCTAssertEqual(try a.clipped(height: 8, width: 12).tensor.toArray(Float.self), [0, 0, 10, 8, 5, 5, 12, 8])
    }

    func testImageListPadsToTheDivisibility() throws {
        let list = try ImageList.fromTensors([try Tensor.ones([3, 5, 7]), try Tensor.ones([3, 33, 2])], sizeDivisibility: 32)
        XCTAssertEqual(list.tensor.shape, [2, 3, 64, 32])
        XCTAssertEqual(list.imageSizes.map { [$0.0, $0.1] }, [[5, 7], [33, 2]])
        XCTAssertEqual(try list.tensor.sum().item(), Double(3 * 5 * 7 + 3 * 33 * 2))
        XCTAssertThrowsError(try ImageList.fromTensors([try Tensor.ones([3, 5, 7]), try Tensor.ones([1, 5, 7])]))
    }

    func testInstancesFromListsAndTensorsAgree() throws {
        let a = try Instances(boxes: [[0, 0, 1, 1], [2, 2, 3, 3]], scores: [0.5, 0.25], classes: [1, 0], imageID: 7)
        let b = try Instances(checking: a.boxes.tensor, scores: a.scores, classes: a.classes, imageID: 7)
        XCTAssertEqual(try a.asLists().boxes, try b.asLists().boxes)
        XCTAssertEqual(try b.asLists().classes, [1, 0])
        XCTAssertThrowsError(try Instances(boxes: [[0, 0, 1]], scores: [1], classes: [0], imageID: 1)) {
            XCTAssertTrue("\($0)".contains("instances[1].box must be {x1, y1, x2, y2}"), "\($0)")
        }
        XCTAssertThrowsError(try Instances(checking: try Tensor.zeros([2, 4]), scores: try Tensor.zeros([3]), classes: try Tensor.zeros([2]), imageID: 1,
                                           source: "model output [1].instances")) {
            XCTAssertEqual("\($0)", "model output [1].instances: 2 boxes, 3 scores, 2 classes")
        }
    }
}

final class FrozenBNFoldTests: XCTestCase {
    /// Inference folds FrozenBN into the convolution once; loading new statistics (resetCaches,
    /// as every weight load does) or switching mode must drop the fold.
    func testTheFoldIsRemadeWhenWeightsOrModeChange() throws {
        let conv = try Conv2d(in: 1, out: 1, kernel: 1, bias: false, normKind: .frozenBN)
        try noGrad { try conv.weight.tensor.fill_(2) }
        conv.eval()
        let x = try Tensor.ones([1, 1, 2, 2])
        // FrozenBN starts as the identity (running_var = 1 - eps), so the output is the weight.
        let before = try conv.forward(x).toArray(Float.self)[0]
        XCTAssertEqual(before, 2, accuracy: 1e-5)
        try noGrad { try conv.norm!.weight.tensor.fill_(3) }
        XCTAssertEqual(try conv.forward(x).toArray(Float.self)[0], before, "the fold is cached until caches are reset")
        conv.resetCaches()
        XCTAssertEqual(try conv.forward(x).toArray(Float.self)[0], before * 3, accuracy: 1e-5)
        try noGrad { try conv.norm!.bias.tensor.fill_(1) }
        conv.train()
        conv.eval()
        XCTAssertEqual(try conv.forward(x).toArray(Float.self)[0], before * 3 + 1, accuracy: 1e-5)
    }
}

final class EventsTests: XCTestCase {
    func testMedianAndJSONLines() throws {
        let s = EventStorage()
        for (i, v) in [4.0, 1, 3, 2].enumerated() {
            s.setIteration(i)
            s.put("loss", v)
            s.put("lr", Double(i) / 10, smoothing: false)
        }
        XCTAssertEqual(s.median("loss"), 2.5, "numpy's median of an even count")
        XCTAssertEqual(s.median("loss", window: 3), 2)
        XCTAssertEqual(s.latest("lr"), 0.3)
        let path = NSTemporaryDirectory() + "lunette-metrics-\(UUID().uuidString).json"
        defer { unlink(path) }
        let w = JSONMetricsWriter(path: path)
        try w.write(s)
        s.setIteration(4)
        s.put("loss", 10)
        try w.write(s)
        try w.write(s)          // nothing new: no line
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines, ["{\"iteration\": 3, \"loss\": 2.5, \"lr\": 0.3}", "{\"iteration\": 4, \"loss\": 3.0}"])
    }
}

/// Every module builds from plain arguments, without a config: a model assembled by hand has
/// the state dict (names and shapes) of the same model built from a config, and runs.
final class PlainArgumentsTests: XCTestCase {
    func testAModelAssembledByHandMatchesTheConfigBuiltOne() throws {
        let resnet = try ResNet(depth: 18, stemOut: 16, res2Out: 64, groups: 1, widthPerGroup: 64, strideIn1x1: true, res5Dilation: 1,
                                outFeatures: ["res2", "res3", "res4", "res5"], norm: .frozenBN, freezeAt: 2)
        let fpn = try FPN(bottomUp: resnet, inFeatures: ["res2", "res3", "res4", "res5"], outChannels: 32)
        XCTAssertEqual(fpn.outFeatures, ["p2", "p3", "p4", "p5", "p6"])
        XCTAssertEqual(fpn.outputShape["p6"], ShapeSpec(channels: 32, stride: 64))
        let rpnFeatures = ["p2", "p3", "p4", "p5", "p6"]
        let anchors = try AnchorGenerator(sizes: [[32], [64], [128], [256], [512]], aspectRatios: [[0.5, 1, 2]],
                                          strides: try fpn.shapes(of: rpnFeatures, key: "rpn").map(\.stride), offset: 0)
        let rpn = try RPN(inFeatures: rpnFeatures, head: try StandardRPNHead(inChannels: 32, anchorsPerLocation: 3), anchorGenerator: anchors,
                          matcher: try Matcher(thresholds: [0.3, 0.7], labels: [0, -1, 1], allowLowQualityMatches: true),
                          transform: Box2BoxTransform(weights: (1, 1, 1, 1)), batchSizePerImage: 256, positiveFraction: 0.5,
                          preNMSTopK: (2000, 1000), postNMSTopK: (1000, 1000), nmsThreshold: 0.7, minBoxSize: 0, boxLoss: try BoxRegressionLoss())
        let head = try FastRCNNConvFCHead(inputShape: (32, 7), convDims: [], fcDims: [64, 64])
        let predictor = try FastRCNNOutputLayers(inputSize: head.outputSize, numClasses: 3, classAgnostic: false,
                                                 transform: Box2BoxTransform(weights: (10, 10, 5, 5)), scoreThreshold: 0.05, nmsThreshold: 0.5,
                                                 detectionsPerImage: 100, boxLoss: try BoxRegressionLoss())
        let roi = try StandardROIHeads(inFeatures: ["p2", "p3", "p4", "p5"],
                                       pooler: try ROIPooler(outputSize: 7, strides: [4, 8, 16, 32], samplingRatio: 0, aligned: true),
                                       boxHead: head, boxPredictor: predictor,
                                       matcher: try Matcher(thresholds: [0.5], labels: [0, 1], allowLowQualityMatches: false),
                                       batchSizePerImage: 512, positiveFraction: 0.25)
        let byHand = try GeneralizedRCNN(backbone: fpn, proposalGenerator: rpn, roiHeads: roi,
                                         pixelMean: [103.53, 116.28, 123.675], pixelStd: [1, 1, 1])
        try byHand.initializeParameters()

        let cfg = CfgNode.defaults()
        try cfg.mergeFromFile(Self.stdlibConfig("Base-RCNN-FPN.yaml"))
        try cfg.mergeFromList(["MODEL.RESNETS.DEPTH", "18", "MODEL.RESNETS.RES2_OUT_CHANNELS", "64", "MODEL.RESNETS.STEM_OUT_CHANNELS", "16",
                               "MODEL.FPN.OUT_CHANNELS", "32", "MODEL.ROI_BOX_HEAD.FC_DIM", "64", "MODEL.ROI_HEADS.NUM_CLASSES", "3"])
        let fromConfig = try GeneralizedRCNN(cfg: cfg, initialize: false)
        XCTAssertEqual(byHand.stateDict().map { "\($0.name) \($0.tensor.shape)" }, fromConfig.stateDict().map { "\($0.name) \($0.tensor.shape)" })
        let out = try byHand.inference([try Tensor.rand([3, 64, 96]) * 255])
        XCTAssertEqual(out.count, 1)
        XCTAssertEqual(out[0].imageSize.0, 64)
    }

    static func stdlibConfig(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("stdlib/configs/\(name)").path
    }
}
