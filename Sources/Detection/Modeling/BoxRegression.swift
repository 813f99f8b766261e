import Foundation
import Torch

/// Detectron2's Box2BoxTransform: deltas (dx, dy, dw, dh) relative to a box, times weights
/// (MODEL.RPN.BBOX_REG_WEIGHTS, MODEL.ROI_BOX_HEAD.BBOX_REG_WEIGHTS).
public struct Box2BoxTransform: Sendable {
    public var weights: (Double, Double, Double, Double)
    /// dw and dh are clamped to log(1000 / 16) before exp.
    public var scaleClamp = Foundation.log(1000.0 / 16)

    public init(weights: (Double, Double, Double, Double)) { self.weights = weights }

    /// Weights from a config list of four positive numbers.
    public init(weights list: [Double], key: String) throws {
        guard list.count == 4, list.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw ConfigError("\(key) must be four positive numbers (dx, dy, dw, dh weights), not \(list)")
        }
        self.init(weights: (list[0], list[1], list[2], list[3]))
    }

    /// Applies deltas (N, k*4) to boxes (N, 4) XYXY: (N, k*4).
    public func applyDeltas(_ deltas: Tensor, boxes: Tensor) throws -> Tensor {
        let d = try deltas.float(), b = try boxes.to(dtype: d.dtype)
        let widths = try b.select(1, 2) - b.select(1, 0), heights = try b.select(1, 3) - b.select(1, 1)
        let ctrX = try b.select(1, 0) + widths * 0.5, ctrY = try b.select(1, 1) + heights * 0.5
        let n = try d.size(0), k = try d.size(1) / 4
        let dv = try d.view([n, k, 4])
        let dx = try dv.select(2, 0) / weights.0, dy = try dv.select(2, 1) / weights.1
        let dw = try (dv.select(2, 2) / weights.2).clamp(max: scaleClamp), dh = try (dv.select(2, 3) / weights.3).clamp(max: scaleClamp)
        let w = try widths.unsqueeze(1), h = try heights.unsqueeze(1)
        let px = try dx * w + ctrX.unsqueeze(1), py = try dy * h + ctrY.unsqueeze(1)
        let pw = try dw.exp() * w, ph = try dh.exp() * h
        let x1 = try px - pw * 0.5, y1 = try py - ph * 0.5, x2 = try px + pw * 0.5, y2 = try py + ph * 0.5
        return try Tensor.stack([x1, y1, x2, y2], dim: 2).view([n, k * 4])
    }

    /// The deltas that turn `source` boxes into `target` boxes (both (N, 4) XYXY): the inverse of
    /// applyDeltas, (N, 4) as (dx, dy, dw, dh) times the weights.
    public func deltas(from source: Tensor, to target: Tensor) throws -> Tensor {
        let s = try source.float(), t = try target.float()
        let sw = try s.select(1, 2) - s.select(1, 0), sh = try s.select(1, 3) - s.select(1, 1)
        let sx = try s.select(1, 0) + sw * 0.5, sy = try s.select(1, 1) + sh * 0.5
        let tw = try t.select(1, 2) - t.select(1, 0), th = try t.select(1, 3) - t.select(1, 1)
        let tx = try t.select(1, 0) + tw * 0.5, ty = try t.select(1, 1) + th * 0.5
        let dx = try (tx - sx) * weights.0 / sw, dy = try (ty - sy) * weights.1 / sh
        let dw = try (tw / sw).log() * weights.2, dh = try (th / sh).log() * weights.3
        return try Tensor.stack([dx, dy, dw, dh], dim: 1)
    }
}

/// Box regression loss: smooth L1 with beta (exactly L1 below 1e-5), summed.
public struct BoxRegressionLoss: Sendable {
    public var beta = 0.0
    public init(type: String = "smooth_l1", beta: Double = 0, key: String = "BBOX_REG_LOSS_TYPE") throws {
        guard type == "smooth_l1" else { throw ConfigError("\(key) '\(type)' is not supported; use smooth_l1 (with SMOOTH_L1_BETA 0 for L1)") }
        guard beta >= 0, beta.isFinite else { throw ConfigError("the SMOOTH_L1_BETA beside \(key) must be >= 0, not \(beta)") }
        self.beta = beta
    }
    func sum(_ prediction: Tensor, _ target: Tensor) throws -> Tensor {
        try NN.smoothL1(prediction, target, beta: beta, reduction: .sum)
    }
}
