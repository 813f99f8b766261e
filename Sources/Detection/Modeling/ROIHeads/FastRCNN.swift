import Torch

/// Detectron2's FastRCNNOutputLayers: class scores (K + 1, background last) and per-class (or
/// class-agnostic) box deltas; its losses (softmax cross-entropy, box regression over the
/// foreground divided by all samples) and fast_rcnn_inference.
public final class FastRCNNOutputLayers: Module {
    let clsScore: Linear, bboxPred: Linear
    public let numClasses: Int
    public let classAgnostic: Bool
    let transform: Box2BoxTransform
    public let scoreThreshold: Double, nmsThreshold: Double, detectionsPerImage: Int
    let boxLoss: BoxRegressionLoss
    public let boxLossWeight: Double

    public init(inputSize: Int, numClasses: Int, classAgnostic: Bool, transform: Box2BoxTransform, scoreThreshold: Double,
                nmsThreshold: Double, detectionsPerImage: Int, boxLoss: BoxRegressionLoss, boxLossWeight: Double = 1) throws {
        guard numClasses > 0 else { throw ConfigError("MODEL.ROI_HEADS.NUM_CLASSES must be positive, not \(numClasses)") }
        guard (0...1).contains(scoreThreshold) else { throw ConfigError("MODEL.ROI_HEADS.SCORE_THRESH_TEST must be in [0, 1], not \(scoreThreshold)") }
        guard (0...1).contains(nmsThreshold) else { throw ConfigError("MODEL.ROI_HEADS.NMS_THRESH_TEST must be in [0, 1], not \(nmsThreshold)") }
        clsScore = try Linear(in: inputSize, out: numClasses + 1)
        bboxPred = try Linear(in: inputSize, out: (classAgnostic ? 1 : numClasses) * 4)
        self.numClasses = numClasses
        self.classAgnostic = classAgnostic
        self.transform = transform
        self.scoreThreshold = scoreThreshold
        self.nmsThreshold = nmsThreshold
        self.detectionsPerImage = detectionsPerImage
        self.boxLoss = boxLoss
        self.boxLossWeight = boxLossWeight
        super.init()
        try child("cls_score", clsScore)
        try child("bbox_pred", bboxPred)
    }

    /// MODEL.ROI_HEADS.{NUM_CLASSES, SCORE_THRESH_TEST, NMS_THRESH_TEST}, MODEL.ROI_BOX_HEAD.{CLS_AGNOSTIC_BBOX_REG,
    /// BBOX_REG_WEIGHTS, BBOX_REG_LOSS_TYPE, SMOOTH_L1_BETA, BBOX_REG_LOSS_WEIGHT}, TEST.DETECTIONS_PER_IMAGE.
    public convenience init(cfg: CfgNode, inputSize: Int) throws {
        try self.init(inputSize: inputSize, numClasses: try cfg.int("MODEL.ROI_HEADS.NUM_CLASSES"),
                      classAgnostic: try cfg.bool("MODEL.ROI_BOX_HEAD.CLS_AGNOSTIC_BBOX_REG"),
                      transform: try Box2BoxTransform(weights: try cfg.doubles("MODEL.ROI_BOX_HEAD.BBOX_REG_WEIGHTS"), key: "MODEL.ROI_BOX_HEAD.BBOX_REG_WEIGHTS"),
                      scoreThreshold: try cfg.double("MODEL.ROI_HEADS.SCORE_THRESH_TEST"), nmsThreshold: try cfg.double("MODEL.ROI_HEADS.NMS_THRESH_TEST"),
                      detectionsPerImage: try cfg.int("TEST.DETECTIONS_PER_IMAGE"),
                      boxLoss: try BoxRegressionLoss(type: try cfg.string("MODEL.ROI_BOX_HEAD.BBOX_REG_LOSS_TYPE"),
                                                     beta: try cfg.double("MODEL.ROI_BOX_HEAD.SMOOTH_L1_BETA"), key: "MODEL.ROI_BOX_HEAD.BBOX_REG_LOSS_TYPE"),
                      boxLossWeight: try cfg.double("MODEL.ROI_BOX_HEAD.BBOX_REG_LOSS_WEIGHT"))
    }

    /// cls_score N(0, 0.01²), bbox_pred N(0, 0.001²), biases zero.
    public func initializeParameters() throws {
        try WeightInit.normal(clsScore, std: 0.01)
        try WeightInit.normal(bboxPred, std: 0.001)
    }

    /// Class logits (R, K + 1) and deltas (R, 4 or 4K) for box features.
    public func forward(_ x: Tensor) throws -> (scores: Tensor, deltas: Tensor) {
        (try clsScore.forward(x), try bboxPred.forward(x))
    }

    /// fast_rcnn_inference over the proposals of each image.
    func inference(scores logits: Tensor, deltas: Tensor, proposals: [Proposals], imageSizes: [(Int, Int)]) throws -> [Instances] {
        var start = 0
        var results: [Instances] = []
        for (i, p) in proposals.enumerated() {
            let n = p.boxes.shape[0]
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
        let clipped = try Boxes(try boxes.reshape([-1, 4])).clipped(height: imageSize.0, width: imageSize.1).tensor.view([r, regClasses, 4])
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
        return Instances(imageSize: imageSize, boxes: try chosen.indexSelect(0, keep), scores: try chosenScores.indexSelect(0, keep),
                         classes: try classIdx.indexSelect(0, keep))
    }

    /// FastRCNNOutputLayers.losses for sampled proposals: loss_cls (mean cross-entropy) and
    /// loss_box_reg (summed over the foreground, divided by all samples, times its weight),
    /// with the statistics Detectron2 logs.
    func losses(scores: Tensor, deltas: Tensor, proposalBoxes: Tensor, gtBoxes: Tensor, gtClasses: Tensor, output: inout TrainingOutput) throws {
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
        let boxLossValue = try boxLoss.sum(fgDeltas, target) / Double(Swift.max(total, 1))
        output.losses.append(("loss_cls", clsLoss))
        output.losses.append(("loss_box_reg", try boxLossValue * boxLossWeight))
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
