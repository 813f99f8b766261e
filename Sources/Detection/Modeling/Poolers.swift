import Foundation
import Torch

/// Detectron2's ROIPooler: each box is pooled from the feature map its size maps to (the
/// canonical level mapping, clamped to the levels given), with ROIAlign (aligned for
/// ROIAlignV2). Levels come from the feature strides: stride 2^k is level k.
public struct ROIPooler {
    public var outputSize: Int
    public var scales: [Double]          // 1 / stride per level
    public var samplingRatio: Int
    public var aligned: Bool
    public var canonicalBoxSize = 224.0
    public var canonicalLevel = 4.0
    public let minLevel: Int, maxLevel: Int

    public init(outputSize: Int, strides: [Int], samplingRatio: Int, aligned: Bool, key: String = "MODEL.ROI_HEADS.IN_FEATURES") throws {
        guard outputSize > 0 else { throw ConfigError("MODEL.ROI_BOX_HEAD.POOLER_RESOLUTION must be positive, not \(outputSize)") }
        guard samplingRatio >= 0 else { throw ConfigError("MODEL.ROI_BOX_HEAD.POOLER_SAMPLING_RATIO must be >= 0, not \(samplingRatio)") }
        guard !strides.isEmpty, strides.allSatisfy({ $0 > 0 && $0 & ($0 - 1) == 0 }) else {
            throw ConfigError("\(key): feature strides \(strides) are not powers of 2")
        }
        let levels = strides.map { Int(log2(Double($0))) }
        guard levels == Array(levels[0]...(levels[0] + levels.count - 1)) else {
            throw ConfigError("\(key): the pooler needs consecutive levels, finest first (strides doubling), not strides \(strides)")
        }
        self.outputSize = outputSize
        scales = strides.map { 1.0 / Double($0) }
        self.samplingRatio = samplingRatio
        self.aligned = aligned
        minLevel = levels.first!
        maxLevel = levels.last!
    }

    /// Level index (0-based from minLevel) for each box: floor(4 + log2(sqrt(area) / 224 + 1e-8)),
    /// clamped to the levels given.
    public func assignLevels(_ boxes: Tensor) throws -> Tensor {
        let size = try Boxes(boxes).area().sqrt()
        let level = try (size / canonicalBoxSize + 1e-8).log2() + canonicalLevel
        return try level.floor().clamp(min: Double(minLevel), max: Double(maxLevel)).to(dtype: .int64).binary(.sub, Double(minLevel), integral: true)
    }

    /// (sum of boxes, C, outputSize, outputSize) for the boxes of each image, in order.
    public func forward(_ features: [Tensor], boxes: [Tensor]) throws -> Tensor {
        guard features.count == scales.count else {
            throw ConfigError("the pooler was built for \(scales.count) feature maps and was given \(features.count)")
        }
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
