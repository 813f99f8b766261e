import Foundation
import Torch

/// Detectron2's ROIPooler (ROIAlignV2 over p2..p5 with the canonical level mapping).
public struct ROIPooler {
    public var outputSize: Int
    public var scales: [Double]          // 1 / stride per level
    public var samplingRatio: Int
    public var aligned: Bool
    public var canonicalBoxSize = 224.0
    public var canonicalLevel = 4.0
    public var minLevel: Int, maxLevel: Int

    /// Level index (0-based from minLevel) for each box: floor(4 + log2(sqrt(area) / 224 + 1e-8)).
    public func assignLevels(_ boxes: Tensor) throws -> Tensor {
        let size = try BoxOps.area(boxes).sqrt()
        let level = try (size / canonicalBoxSize + 1e-8).log2() + canonicalLevel
        return try level.floor().clamp(min: Double(minLevel), max: Double(maxLevel)).to(dtype: .int64).binary(.sub, Double(minLevel), integral: true)
    }

    public func forward(_ features: [Tensor], boxes: [Tensor]) throws -> Tensor {
        let c = features[0].shape[1]
        let rois = try Tensor.cat(try boxes.enumerated().map { i, b in
            try Tensor.cat([try Tensor.full([b.shape[0], 1], Double(i), dtype: b.dtype, device: b.device), b], dim: 1)
        })
        let total = rois.shape[0]
        if features.count == 1 || total == 0 {
            return try DetectionOps.roiAlign(features[0], rois: rois, spatialScale: scales[0], outputSize: (outputSize, outputSize),
                                             samplingRatio: samplingRatio, aligned: aligned)
        }
        let levels = try assignLevels(try rois.narrow(1, start: 1, length: 4))
        let out = try Tensor.zeros([total, c, outputSize, outputSize], dtype: features[0].dtype, device: features[0].device)
        for (l, f) in features.enumerated() {
            let idx = try levels.binary(.eq, Double(l), integral: true).nonzero().squeeze(1)
            if idx.shape[0] == 0 { continue }
            let pooled = try DetectionOps.roiAlign(f, rois: try rois.indexSelect(0, idx), spatialScale: scales[l],
                                                   outputSize: (outputSize, outputSize), samplingRatio: samplingRatio, aligned: aligned)
            try out.indexPut_(idx, pooled)
        }
        return out
    }
}

/// The detections of one image: boxes XYXY, scores (descending), classes (0-based).
public struct Instances {
    public var boxes: Tensor
    public var scores: Tensor
    public var classes: Tensor
    /// (height, width) the boxes refer to.
    public var imageSize: (Int, Int)

    public var count: Int { scores.shape[0] }
}

/// StandardROIHeads with FastRCNNConvFCHead (fc layers) and FastRCNNOutputLayers, at inference.
public final class ROIHeads: Module {
    let pooler: ROIPooler
    var convs: [Conv2d] = []
    var fcs: [Linear] = []
    let clsScore: Linear, bboxPred: Linear
    public let numClasses: Int
    let transform = Box2BoxTransform(weights: (10, 10, 5, 5))
    public var scoreThreshold: Double, nmsThreshold: Double, detectionsPerImage: Int
    let classAgnostic: Bool
    /// How proposals are matched, sampled and scored when training.
    public var losses = ROILossSettings()

    init(pooler: ROIPooler, channels: Int, numConv: Int = 0, convDim: Int = 256, convNorm: NormKind = .none, numFC: Int, fcDim: Int,
         numClasses: Int, classAgnostic: Bool, scoreThreshold: Double, nmsThreshold: Double, detectionsPerImage: Int) throws {
        self.pooler = pooler
        self.numClasses = numClasses
        self.scoreThreshold = scoreThreshold
        self.nmsThreshold = nmsThreshold
        self.detectionsPerImage = detectionsPerImage
        self.classAgnostic = classAgnostic
        let head = Module()
        var inChannels = channels
        for i in 0..<numConv {
            let conv = try Conv2d(in: inChannels, out: convDim, kernel: 3, padding: 1, bias: convNorm == .none, normKind: convNorm)
            try head.child("conv\(i + 1)", conv)
            convs.append(conv)
            inChannels = convDim
        }
        var dim = inChannels * pooler.outputSize * pooler.outputSize
        for i in 0..<numFC {
            let fc = try Linear(in: dim, out: fcDim)
            try head.child("fc\(i + 1)", fc)
            fcs.append(fc)
            dim = fcDim
        }
        clsScore = try Linear(in: dim, out: numClasses + 1)
        bboxPred = try Linear(in: dim, out: (classAgnostic ? 1 : numClasses) * 4)
        super.init()
        try child("box_head", head)
        let predictor = Module()
        try predictor.child("cls_score", clsScore)
        try predictor.child("bbox_pred", bboxPred)
        try child("box_predictor", predictor)
    }

    /// Box features and the predictor's outputs for proposals.
    func predict(_ features: [Tensor], boxes: [Tensor]) throws -> (features: Tensor, scores: Tensor, deltas: Tensor) {
        var x = try pooler.forward(features, boxes: boxes)
        for conv in convs { x = try conv.forward(x).relu_() }
        x = try x.flatten(start: 1)
        for fc in fcs { x = try fc.forward(x).relu_() }
        return (x, try clsScore.forward(x), try bboxPred.forward(x))
    }

    public func forward(_ features: [Tensor], proposals: [Proposals], imageSizes: [(Int, Int)]) throws -> [Instances] {
        let (_, logits, deltas) = try predict(features, boxes: proposals.map(\.boxes))
        let counts = proposals.map { $0.boxes.shape[0] }
        var start = 0
        var results: [Instances] = []
        for (i, p) in proposals.enumerated() {
            let n = counts[i]
            let scores = try logits.narrow(0, start: start, length: n).softmax(-1)
            let boxes = try transform.applyDeltas(try deltas.narrow(0, start: start, length: n), boxes: p.boxes)
            start += n
            results.append(try inferenceSingleImage(boxes: boxes, scores: scores, imageSize: imageSizes[i]))
        }
        return results
    }

    /// fast_rcnn_inference_single_image: finite rows, drop background, clip, score > threshold,
    /// NMS per class, keep the top detections.
    func inferenceSingleImage(boxes inputBoxes: Tensor, scores inputScores: Tensor, imageSize: (Int, Int)) throws -> Instances {
        var boxes = inputBoxes, scores = inputScores
        let valid = try boxes.isfinite().reduce(.all, dims: [1]).binary(.logicalAnd, scores.isfinite().reduce(.all, dims: [1]))
        if try valid.reduce(.all).item() == 0 {
            boxes = try boxes.index(valid)
            scores = try scores.index(valid)
        }
        scores = try scores.narrow(1, start: 0, length: numClasses)
        let regClasses = boxes.shape[1] / 4
        let r = boxes.shape[0]
        let clipped = try BoxOps.clip(try boxes.reshape([-1, 4]), height: imageSize.0, width: imageSize.1).view([r, regClasses, 4])
        let mask = try scores.binary(.gt, scoreThreshold)
        let inds = try mask.nonzero()                                   // (R', 2): proposal, class
        let proposalIdx = try inds.select(1, 0), classIdx = try inds.select(1, 1)
        let flatBoxes = try clipped.reshape([-1, 4])
        let chosen = regClasses == 1
            ? try flatBoxes.indexSelect(0, proposalIdx)
            : try flatBoxes.indexSelect(0, try proposalIdx.binary(.mul, Double(regClasses), integral: true) + classIdx)
        let chosenScores = try scores.maskedSelect(mask)
        var keep = try DetectionOps.batchedNMS(boxes: chosen, scores: chosenScores, idxs: classIdx, iouThreshold: nmsThreshold)
        if detectionsPerImage >= 0 && keep.shape[0] > detectionsPerImage { keep = try keep.narrow(0, start: 0, length: detectionsPerImage) }
        return Instances(boxes: try chosen.indexSelect(0, keep), scores: try chosenScores.indexSelect(0, keep),
                         classes: try classIdx.indexSelect(0, keep), imageSize: imageSize)
    }
}
