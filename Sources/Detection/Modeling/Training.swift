import Foundation
import Torch

/// An error that stops training (divergence, bad targets), with a message naming what went wrong.
public struct TrainingError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The ground truth of one training image: boxes (G, 4) XYXY in the resized image, classes (G) int64.
public struct TrainingTargets {
    public var boxes: Tensor
    public var classes: Tensor
    public init(boxes: Tensor, classes: Tensor) {
        self.boxes = boxes
        self.classes = classes
    }
    public var count: Int { classes.shape[0] }
}

/// What one training forward pass gives: the losses (Detectron2's names and order) and the
/// statistics Detectron2 logs beside them (rpn/num_pos_anchors, fast_rcnn/cls_accuracy, ...).
public struct TrainingOutput {
    public var losses: [(name: String, value: Tensor)] = []
    public var metrics: [(name: String, value: Double)] = []
}

/// Box regression loss: smooth L1 with beta (exactly L1 below 1e-5), summed.
public struct BoxRegressionLoss: Sendable {
    public var beta = 0.0
    public init(type: String = "smooth_l1", beta: Double = 0, key: String = "BBOX_REG_LOSS_TYPE") throws {
        guard type == "smooth_l1" else { throw ConfigError("\(key) '\(type)' is not supported; use smooth_l1 (with SMOOTH_L1_BETA 0 for L1)") }
        self.beta = beta
    }
    func sum(_ prediction: Tensor, _ target: Tensor) throws -> Tensor {
        try NN.smoothL1(prediction, target, beta: beta, reduction: .sum)
    }
}

/// MODEL.RPN's training settings.
public struct RPNLossSettings: Sendable {
    public var matcher = try! Matcher(thresholds: [0.3, 0.7], labels: [0, -1, 1], allowLowQualityMatches: true)
    public var batchSizePerImage = 256
    public var positiveFraction = 0.5
    public var boxLoss = try! BoxRegressionLoss()
    public var clsWeight = 1.0, locWeight = 1.0
    public init() {}
}

/// MODEL.ROI_HEADS / ROI_BOX_HEAD training settings.
public struct ROILossSettings: Sendable {
    public var matcher = try! Matcher(thresholds: [0.5], labels: [0, 1], allowLowQualityMatches: false)
    public var batchSizePerImage = 512
    public var positiveFraction = 0.25
    public var appendGroundTruth = true
    public var boxLoss = try! BoxRegressionLoss()
    public var boxWeight = 1.0
    public init() {}
}

extension RPN {
    /// RPN.label_and_sample_anchors then RPN.losses: anchors matched to the ground truth (IoU
    /// 0.3/0.7 with low-quality matches), BATCH_SIZE_PER_IMAGE sampled per image, objectness
    /// BCE and box L1 summed and divided by BATCH_SIZE_PER_IMAGE x images. Also returns the proposals.
    func trainingForward(_ features: [Tensor], imageSizes: [(Int, Int)], targets: [TrainingTargets],
                         output: inout TrainingOutput) throws -> [Proposals] {
        let (logits, deltas, _) = try predict(features)
        let anchorsPerLevel = try anchorGenerator.anchors(featureSizes: features.map { ($0.shape[2], $0.shape[3]) }, device: features[0].device)
        let anchors = try Tensor.cat(anchorsPerLevel)
        let s = losses
        var labels: [Tensor] = [], matchedBoxes: [Tensor] = []
        try noGrad {
            for t in targets {
                let (matches, raw) = try s.matcher.match(try BoxOps.pairwiseIoU(t.boxes, anchors))
                let (pos, neg) = try subsampleLabels(raw, count: s.batchSizePerImage, positiveFraction: s.positiveFraction, background: 0)
                let label = try Tensor.full([anchors.shape[0]], -1, dtype: .int64, device: anchors.device)
                try label.indexPut_(pos, try Tensor.ones([], dtype: .int64, device: anchors.device))
                try label.indexPut_(neg, try Tensor.zeros([], dtype: .int64, device: anchors.device))
                labels.append(label)
                matchedBoxes.append(t.count == 0 ? try Tensor.zeros(anchors.shape, device: anchors.device) : try t.boxes.indexSelect(0, matches))
            }
        }
        let gtLabels = try Tensor.stack(labels)                           // (N, A)
        let positive = try gtLabels.binary(.eq, 1, integral: true)
        let n = Double(targets.count)
        output.metrics.append(("rpn/num_pos_anchors", try positive.sum().item() / n))
        output.metrics.append(("rpn/num_neg_anchors", try gtLabels.binary(.eq, 0, integral: true).sum().item() / n))
        let gtDeltas = try noGrad { try Tensor.stack(try matchedBoxes.map { try transform.deltas(from: anchors, to: $0) }) }
        let predDeltas = try Tensor.cat(deltas, dim: 1)                   // (N, A, 4)
        let locLoss = try s.boxLoss.sum(try predDeltas.index(positive), try gtDeltas.index(positive))
        let valid = try gtLabels.binary(.ge, 0, integral: true)
        let clsLoss = try NN.binaryCrossEntropyWithLogits(try Tensor.cat(logits, dim: 1).index(valid), try gtLabels.index(valid).float(), reduction: .sum)
        let normalizer = Double(s.batchSizePerImage) * n
        output.losses.append(("loss_rpn_cls", try clsLoss * (s.clsWeight / normalizer)))
        output.losses.append(("loss_rpn_loc", try locLoss * (s.locWeight / normalizer)))
        return try proposals(logits: logits, deltas: deltas, anchors: anchorsPerLevel, imageSizes: imageSizes)
    }
}

extension ROIHeads {
    /// StandardROIHeads in training: ground truth appended to the proposals, matched at IoU 0.5,
    /// BATCH_SIZE_PER_IMAGE sampled with POSITIVE_FRACTION foreground; softmax cross-entropy
    /// (mean) and class-specific box regression (summed over foreground, divided by all samples).
    func trainingForward(_ features: [Tensor], proposals: [Proposals], targets: [TrainingTargets], output: inout TrainingOutput) throws {
        let s = losses
        var sampledBoxes: [Tensor] = [], sampledClasses: [Tensor] = [], sampledGT: [Tensor] = []
        var fgCounts: [Double] = [], bgCounts: [Double] = []
        try noGrad {
            for (p, t) in zip(proposals, targets) {
                let boxes = s.appendGroundTruth ? try Tensor.cat([p.boxes, t.boxes.to(dtype: p.boxes.dtype)]) : p.boxes
                let (matches, matchLabels) = try s.matcher.match(try BoxOps.pairwiseIoU(t.boxes, boxes))
                var classes: Tensor
                if t.count > 0 {
                    classes = try t.classes.indexSelect(0, matches)
                    classes = try classes.maskedFill(try matchLabels.binary(.eq, 0, integral: true), Double(numClasses))
                    classes = try classes.maskedFill(try matchLabels.binary(.eq, -1, integral: true), -1)
                } else {
                    classes = try Tensor.full([boxes.shape[0]], Double(numClasses), dtype: .int64, device: boxes.device)
                }
                let (fg, bg) = try subsampleLabels(classes, count: s.batchSizePerImage, positiveFraction: s.positiveFraction, background: numClasses)
                let idx = try Tensor.cat([fg, bg])
                sampledBoxes.append(try boxes.indexSelect(0, idx))
                sampledClasses.append(try classes.indexSelect(0, idx))
                sampledGT.append(t.count > 0 ? try t.boxes.indexSelect(0, try matches.indexSelect(0, idx)) : try boxes.indexSelect(0, idx))
                fgCounts.append(Double(fg.shape[0]))
                bgCounts.append(Double(bg.shape[0]))
            }
        }
        output.metrics.append(("roi_head/num_fg_samples", fgCounts.reduce(0, +) / Double(fgCounts.count)))
        output.metrics.append(("roi_head/num_bg_samples", bgCounts.reduce(0, +) / Double(bgCounts.count)))
        let (_, scores, deltas) = try predict(features, boxes: sampledBoxes)
        let gtClasses = try Tensor.cat(sampledClasses)
        let proposalBoxes = try Tensor.cat(sampledBoxes), gtBoxes = try Tensor.cat(sampledGT)
        let total = gtClasses.shape[0]
        try classificationStats(scores: scores, gtClasses: gtClasses, output: &output)
        let clsLoss = total == 0 ? try scores.sum() * 0 : try NN.crossEntropy(scores, gtClasses)
        let fgMask = try gtClasses.binary(.ge, 0, integral: true).binary(.logicalAnd, gtClasses.binary(.lt, Double(numClasses), integral: true))
        let fg = try fgMask.nonzero().select(1, 0)
        let fgDeltas: Tensor
        if classAgnostic {
            fgDeltas = try deltas.indexSelect(0, fg)
        } else {
            let rows = try fg.binary(.mul, Double(numClasses), integral: true) + gtClasses.indexSelect(0, fg)
            fgDeltas = try deltas.reshape([-1, 4]).indexSelect(0, rows)
        }
        let target = try noGrad { try transform.deltas(from: try proposalBoxes.indexSelect(0, fg), to: try gtBoxes.indexSelect(0, fg)) }
        let boxLoss = try s.boxLoss.sum(fgDeltas, target) / Double(Swift.max(total, 1))
        output.losses.append(("loss_cls", clsLoss))
        output.losses.append(("loss_box_reg", try boxLoss * s.boxWeight))
    }

    /// fast_rcnn/cls_accuracy, fg_cls_accuracy and false_negative, as Detectron2 logs them.
    private func classificationStats(scores: Tensor, gtClasses: Tensor, output: inout TrainingOutput) throws {
        let total = gtClasses.shape[0]
        guard total > 0 else { return }
        let predicted = try noGrad { try scores.argmax(dim: 1) }.toArray(Int64.self)
        let truth = try gtClasses.toArray(Int64.self)
        let bg = Int64(numClasses)
        var accurate = 0, fg = 0, fgAccurate = 0, falseNegative = 0
        for (p, t) in zip(predicted, truth) {
            if p == t { accurate += 1 }
            guard t >= 0 && t < bg else { continue }
            fg += 1
            if p == t { fgAccurate += 1 }
            if p == bg { falseNegative += 1 }
        }
        output.metrics.append(("fast_rcnn/cls_accuracy", Double(accurate) / Double(total)))
        if fg > 0 {
            output.metrics.append(("fast_rcnn/fg_cls_accuracy", Double(fgAccurate) / Double(fg)))
            output.metrics.append(("fast_rcnn/false_negative", Double(falseNegative) / Double(fg)))
        }
    }
}

extension GeneralizedRCNN {
    /// One training forward pass (the model in training mode): resized images (3, H, W) and
    /// their ground truth in; losses in Detectron2's order (loss_cls, loss_box_reg, loss_rpn_cls,
    /// loss_rpn_loc) and the statistics it logs out.
    public func trainingForward(images: [Tensor], targets: [TrainingTargets]) throws -> TrainingOutput {
        guard isTraining else { throw TrainingError("the model is in inference mode; call train() before a training step") }
        guard images.count == targets.count, !images.isEmpty else { throw TrainingError("a training batch needs one target per image (\(images.count) images, \(targets.count) targets)") }
        let targets = try targets.map { TrainingTargets(boxes: try $0.boxes.to(dtype: .float32, device: device), classes: try $0.classes.to(dtype: .int64, device: device)) }
        for (i, t) in targets.enumerated() where t.count > 0 {
            let high = try t.classes.max().item(), low = try t.classes.min().item()
            guard low >= 0, Int(high) < roiHeads.numClasses else {
                throw TrainingError("image \(i + 1) of the batch has class \(Int(low < 0 ? low : high)), outside MODEL.ROI_HEADS.NUM_CLASSES = \(roiHeads.numClasses)")
            }
        }
        let (batch, sizes) = try preprocess(images)
        let features = try backbone.forward(batch)
        var output = TrainingOutput()
        var rpnOutput = TrainingOutput()
        let proposals = try proposalGenerator.trainingForward(features, imageSizes: sizes, targets: targets, output: &rpnOutput)
        try roiHeads.trainingForward(Array(features.prefix(roiHeads.pooler.scales.count)), proposals: proposals, targets: targets, output: &output)
        output.losses += rpnOutput.losses
        output.metrics = rpnOutput.metrics + output.metrics
        return output
    }
}
