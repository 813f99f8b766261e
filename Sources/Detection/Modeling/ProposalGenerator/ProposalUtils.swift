import Torch

/// Detectron2's find_top_rpn_proposals (no gradients flow into proposals): per level the top-k
/// anchors by objectness, decoded; non-finite boxes or scores dropped (an error when training:
/// it has diverged); clipped; boxes not larger than `minBoxSize` dropped; NMS per level; the
/// best `postNMSTopK` kept.
func findTopRPNProposals(logits: [Tensor], deltas: [Tensor], anchors: [Tensor], imageSizes: [(Int, Int)], transform: Box2BoxTransform,
                         nmsThreshold: Double, preNMSTopK: Int, postNMSTopK: Int, minBoxSize: Double, training: Bool) throws -> [Proposals] {
    try noGrad {
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
                if training { throw TrainingError("Predicted boxes or scores contain Inf/NaN. Training has diverged.") }
                b = try b.index(valid); s = try s.index(valid); lv = try lv.index(valid)
            }
            var clipped = try Boxes(b).clipped(height: size.0, width: size.1)
            let keepSize = try clipped.nonempty(threshold: minBoxSize)
            if try keepSize.reduce(.all).item() == 0 {
                clipped = try clipped.index(keepSize); s = try s.index(keepSize); lv = try lv.index(keepSize)
            }
            var keep = try DetectionOps.batchedNMS(boxes: clipped.tensor, scores: s, idxs: lv, iouThreshold: nmsThreshold)
            if keep.shape[0] > postNMSTopK { keep = try keep.narrow(0, start: 0, length: postNMSTopK) }
            results.append(Proposals(boxes: try clipped.tensor.indexSelect(0, keep), logits: try s.indexSelect(0, keep)))
        }
        return results
    }
}

/// add_ground_truth_to_proposals: the ground-truth boxes appended to an image's proposals.
func addGroundTruth(_ targets: TrainingTargets, to proposals: Proposals) throws -> Tensor {
    try Tensor.cat([proposals.boxes, targets.boxes.to(dtype: proposals.boxes.dtype)])
}
