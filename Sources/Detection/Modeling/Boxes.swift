import Foundation
import Torch

/// Detectron2's Box2BoxTransform: deltas (dx, dy, dw, dh) relative to a box, divided by weights.
public struct Box2BoxTransform: Sendable {
    public var weights: (Double, Double, Double, Double)
    /// dw and dh are clamped to log(1000 / 16) before exp.
    public var scaleClamp = Foundation.log(1000.0 / 16)

    public init(weights: (Double, Double, Double, Double)) { self.weights = weights }

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
}

/// Box utilities on (N, 4) XYXY tensors.
public enum BoxOps {
    /// Clamps x to [0, width] and y to [0, height].
    public static func clip(_ boxes: Tensor, height: Int, width: Int) throws -> Tensor {
        let x1 = try boxes.select(1, 0).clamp(min: 0, max: Double(width)), y1 = try boxes.select(1, 1).clamp(min: 0, max: Double(height))
        let x2 = try boxes.select(1, 2).clamp(min: 0, max: Double(width)), y2 = try boxes.select(1, 3).clamp(min: 0, max: Double(height))
        return try Tensor.stack([x1, y1, x2, y2], dim: 1)
    }

    /// Boxes whose width and height are both > threshold.
    public static func nonempty(_ boxes: Tensor, threshold: Double = 0) throws -> Tensor {
        let w = try boxes.select(1, 2) - boxes.select(1, 0), h = try boxes.select(1, 3) - boxes.select(1, 1)
        return try w.binary(.gt, threshold).binary(.logicalAnd, h.binary(.gt, threshold))
    }

    public static func area(_ boxes: Tensor) throws -> Tensor {
        try (boxes.select(1, 2) - boxes.select(1, 0)) * (boxes.select(1, 3) - boxes.select(1, 1))
    }
}

/// Detectron2's DefaultAnchorGenerator: per level, cell anchors for each (size, ratio) shifted to
/// every location; index = (y * W + x) * A + a.
public struct AnchorGenerator {
    public var sizes: [[Double]]
    public var aspectRatios: [[Double]]
    public var strides: [Int]
    public var offset: Double

    public init(sizes: [[Double]], aspectRatios: [[Double]], strides: [Int], offset: Double) throws {
        guard sizes.count == strides.count || sizes.count == 1 else {
            throw ConfigError("MODEL.ANCHOR_GENERATOR.SIZES has \(sizes.count) entries for \(strides.count) feature maps")
        }
        self.sizes = sizes.count == 1 ? Array(repeating: sizes[0], count: strides.count) : sizes
        self.aspectRatios = aspectRatios.count == 1 ? Array(repeating: aspectRatios[0], count: strides.count) : aspectRatios
        self.strides = strides
        self.offset = offset
    }

    public var anchorsPerLocation: Int { sizes[0].count * aspectRatios[0].count }

    func cellAnchors(_ level: Int) -> [Float] {
        var out: [Float] = []
        for size in sizes[level] {
            for r in aspectRatios[level] {
                let w = (size * size / r).squareRoot(), h = r * w
                out += [Float(-w / 2), Float(-h / 2), Float(w / 2), Float(h / 2)]
            }
        }
        return out
    }

    /// Anchors (H*W*A, 4) of each level for feature maps of the given sizes.
    public func anchors(featureSizes: [(Int, Int)], device: Device) throws -> [Tensor] {
        try featureSizes.enumerated().map { level, hw in
            let (h, w) = hw
            let s = Double(strides[level])
            let cell = try Tensor(cellAnchors(level), shape: [-1 + cellAnchors(level).count / 4 + 1, 4]).to(device: device)
            let sx = try Tensor.arange(offset * s, Double(w) * s, step: s, dtype: .float32, device: device)
            let sy = try Tensor.arange(offset * s, Double(h) * s, step: s, dtype: .float32, device: device)
            let shiftX = try sx.unsqueeze(0).expand([h, w]).reshape([-1]), shiftY = try sy.unsqueeze(1).expand([h, w]).reshape([-1])
            let shifts = try Tensor.stack([shiftX, shiftY, shiftX, shiftY], dim: 1)
            return try (shifts.view([-1, 1, 4]) + cell.view([1, -1, 4])).reshape([-1, 4])
        }
    }
}
