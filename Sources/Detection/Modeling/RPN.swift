import Torch

/// Detectron2's StandardRPNHead: a shared 3x3 conv, then objectness logits and anchor deltas.
final class StandardRPNHead: Module {
    let conv: Conv2d, objectness: Conv2d, deltas: Conv2d

    init(channels: Int, anchors: Int) throws {
        conv = try Conv2d(in: channels, out: channels, kernel: 3, padding: 1, bias: true, norm: false)
        objectness = try Conv2d(in: channels, out: anchors, kernel: 1, bias: true, norm: false)
        deltas = try Conv2d(in: channels, out: anchors * 4, kernel: 1, bias: true, norm: false)
        super.init()
        try child("conv", conv)
        try child("objectness_logits", objectness)
        try child("anchor_deltas", deltas)
    }

    func forward(_ features: [Tensor]) throws -> (logits: [Tensor], deltas: [Tensor]) {
        var logits: [Tensor] = [], deltas: [Tensor] = []
        for f in features {
            let t = try conv.forward(f).relu_()
            logits.append(try objectness.forward(t))
            deltas.append(try self.deltas.forward(t))
        }
        return (logits, deltas)
    }
}

/// Proposals for one image: boxes (R, 4) in input coordinates, objectness logits (R).
public struct Proposals {
    public var boxes: Tensor
    public var logits: Tensor
}

/// Detectron2's RPN at inference: per level top-k, decode, clip, drop empty, NMS per level, top-k.
public final class RPN: Module {
    let head: StandardRPNHead
    let anchorGenerator: AnchorGenerator
    let transform = Box2BoxTransform(weights: (1, 1, 1, 1))
    public var preNMSTopK: Int, postNMSTopK: Int, nmsThreshold: Double, minBoxSize: Double
    /// Training: top-k before and after NMS, and how anchors are labelled, sampled and scored.
    public var preNMSTopKTrain = 2000, postNMSTopKTrain = 1000
    public var losses = RPNLossSettings()

    init(channels: Int, anchorGenerator: AnchorGenerator, preNMSTopK: Int, postNMSTopK: Int, nmsThreshold: Double, minBoxSize: Double) throws {
        head = try StandardRPNHead(channels: channels, anchors: anchorGenerator.anchorsPerLocation)
        self.anchorGenerator = anchorGenerator
        self.preNMSTopK = preNMSTopK
        self.postNMSTopK = postNMSTopK
        self.nmsThreshold = nmsThreshold
        self.minBoxSize = minBoxSize
        super.init()
        try child("rpn_head", head)
    }

    /// Raw head outputs per level, as Detectron2 lays them out: logits (N, H*W*A), deltas (N, H*W*A, 4).
    func predict(_ features: [Tensor]) throws -> (logits: [Tensor], deltas: [Tensor], raw: (logits: [Tensor], deltas: [Tensor])) {
        let (rawLogits, rawDeltas) = try head.forward(features)
        let a = anchorGenerator.anchorsPerLocation
        let logits = try rawLogits.map { try $0.permute([0, 2, 3, 1]).flatten(start: 1) }
        let deltas = try rawDeltas.map { d -> Tensor in
            let (n, h, w) = (d.shape[0], d.shape[2], d.shape[3])
            return try d.view([n, a, 4, h, w]).permute([0, 3, 4, 1, 2]).reshape([n, h * w * a, 4])
        }
        return (logits, deltas, (rawLogits, rawDeltas))
    }

    public func forward(_ features: [Tensor], imageSizes: [(Int, Int)]) throws -> [Proposals] {
        let (logits, deltas, _) = try predict(features)
        let anchors = try anchorGenerator.anchors(featureSizes: features.map { ($0.shape[2], $0.shape[3]) }, device: features[0].device)
        return try proposals(logits: logits, deltas: deltas, anchors: anchors, imageSizes: imageSizes)
    }

    /// find_top_rpn_proposals (no gradients flow into proposals): per level top-k, decode, drop
    /// non-finite (an error when training: it has diverged), clip, drop small, NMS per level, top-k.
    func proposals(logits: [Tensor], deltas: [Tensor], anchors: [Tensor], imageSizes: [(Int, Int)]) throws -> [Proposals] {
        let preNMSTopK = isTraining ? preNMSTopKTrain : self.preNMSTopK
        let postNMSTopK = isTraining ? postNMSTopKTrain : self.postNMSTopK
        return try noGrad {
            var results: [Proposals] = []
            for (img, size) in imageSizes.enumerated() {
                var boxes: [Tensor] = [], scores: [Tensor] = [], levels: [Tensor] = []
                for l in logits.indices {
                    let lg = try logits[l].select(0, img)
                    let k = min(preNMSTopK, lg.shape[0])
                    let (topScores, topIdx) = try lg.topk(k, dim: 0)
                    let d = try deltas[l].select(0, img).indexSelect(0, topIdx)
                    let an = try anchors[l].indexSelect(0, topIdx)
                    boxes.append(try transform.applyDeltas(d, boxes: an))
                    scores.append(topScores)
                    levels.append(try Tensor.full([k], Double(l), dtype: .int64, device: lg.device))
                }
                var b = try Tensor.cat(boxes), s = try Tensor.cat(scores), lv = try Tensor.cat(levels)
                let valid = try b.isfinite().reduce(.all, dims: [1]).binary(.logicalAnd, s.isfinite())
                if try valid.reduce(.all).item() == 0 {
                    if isTraining { throw TrainingError("Predicted boxes or scores contain Inf/NaN. Training has diverged.") }
                    b = try b.index(valid); s = try s.index(valid); lv = try lv.index(valid)
                }
                b = try BoxOps.clip(b, height: size.0, width: size.1)
                let keepSize = try BoxOps.nonempty(b, threshold: minBoxSize)
                if try keepSize.reduce(.all).item() == 0 {
                    b = try b.index(keepSize); s = try s.index(keepSize); lv = try lv.index(keepSize)
                }
                var keep = try DetectionOps.batchedNMS(boxes: b, scores: s, idxs: lv, iouThreshold: nmsThreshold)
                if keep.shape[0] > postNMSTopK { keep = try keep.narrow(0, start: 0, length: postNMSTopK) }
                results.append(Proposals(boxes: try b.indexSelect(0, keep), logits: try s.indexSelect(0, keep)))
            }
            return results
        }
    }
}
