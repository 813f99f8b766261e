import Torch

/// Detectron2's subsample_labels: at most num*fraction random positives (labels neither -1
/// nor background), negatives (background) filling the rest. Returns (positive, negative) indices.
public func subsampleLabels(_ labels: Tensor, count: Int, positiveFraction: Double, background: Int) throws -> (Tensor, Tensor) {
    let positive = try labels.binary(.ne, -1, integral: true).binary(.logicalAnd, labels.binary(.ne, Double(background), integral: true)).nonzero().select(1, 0)
    let negative = try labels.binary(.eq, Double(background), integral: true).nonzero().select(1, 0)
    let numPos = min(positive.shape[0], Int(Double(count) * positiveFraction))
    let numNeg = min(negative.shape[0], count - numPos)
    let p = try Tensor.randperm(positive.shape[0], device: labels.device).narrow(0, start: 0, length: numPos)
    let n = try Tensor.randperm(negative.shape[0], device: labels.device).narrow(0, start: 0, length: numNeg)
    return (try positive.indexSelect(0, p), try negative.indexSelect(0, n))
}
