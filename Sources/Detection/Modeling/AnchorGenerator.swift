import Foundation
import Torch

/// Detectron2's DefaultAnchorGenerator: per level, cell anchors for each (size, ratio) shifted to
/// every location; index = (y * W + x) * A + a.
public struct AnchorGenerator {
    public var sizes: [[Double]]
    public var aspectRatios: [[Double]]
    public var strides: [Int]
    public var offset: Double

    /// One list of sizes and of aspect ratios per feature map, or one list for all of them.
    public init(sizes: [[Double]], aspectRatios: [[Double]], strides: [Int], offset: Double) throws {
        let levels = strides.count
        guard sizes.count == levels || sizes.count == 1 else {
            throw ConfigError("MODEL.ANCHOR_GENERATOR.SIZES has \(sizes.count) lists for \(levels) feature maps (MODEL.RPN.IN_FEATURES); give one list per feature map, or one for all")
        }
        guard aspectRatios.count == levels || aspectRatios.count == 1 else {
            throw ConfigError("MODEL.ANCHOR_GENERATOR.ASPECT_RATIOS has \(aspectRatios.count) lists for \(levels) feature maps (MODEL.RPN.IN_FEATURES); give one list per feature map, or one for all")
        }
        guard sizes.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0 > 0 && $0.isFinite } }) else {
            throw ConfigError("MODEL.ANCHOR_GENERATOR.SIZES must be non-empty lists of positive sizes, not \(sizes)")
        }
        guard aspectRatios.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0 > 0 && $0.isFinite } }) else {
            throw ConfigError("MODEL.ANCHOR_GENERATOR.ASPECT_RATIOS must be non-empty lists of positive ratios, not \(aspectRatios)")
        }
        guard (0...1).contains(offset) else { throw ConfigError("MODEL.ANCHOR_GENERATOR.OFFSET must be in [0, 1], not \(offset)") }
        self.sizes = sizes.count == 1 ? Array(repeating: sizes[0], count: levels) : sizes
        self.aspectRatios = aspectRatios.count == 1 ? Array(repeating: aspectRatios[0], count: levels) : aspectRatios
        let perLevel = Set(zip(self.sizes, self.aspectRatios).map { $0.count * $1.count })
        // The RPN head predicts the same number of anchors at every location of every level.
        guard perLevel.count <= 1 else {
            throw ConfigError("MODEL.ANCHOR_GENERATOR gives \(perLevel.sorted()) anchors per location on different feature maps; every level needs the same number (sizes × aspect ratios)")
        }
        self.strides = strides
        self.offset = offset
    }

    /// build_anchor_generator: MODEL.ANCHOR_GENERATOR for the feature maps the RPN reads.
    public init(cfg: CfgNode, inputShapes: [ShapeSpec]) throws {
        let name = try cfg.string("MODEL.ANCHOR_GENERATOR.NAME")
        guard name == "DefaultAnchorGenerator" else {
            throw ConfigError("MODEL.ANCHOR_GENERATOR.NAME '\(name)' is not supported; Lunette has DefaultAnchorGenerator")
        }
        try self.init(sizes: try cfg.doubleLists("MODEL.ANCHOR_GENERATOR.SIZES"), aspectRatios: try cfg.doubleLists("MODEL.ANCHOR_GENERATOR.ASPECT_RATIOS"),
                      strides: inputShapes.map(\.stride), offset: try cfg.double("MODEL.ANCHOR_GENERATOR.OFFSET"))
    }

    public var anchorsPerLocation: Int { sizes.isEmpty ? 0 : sizes[0].count * aspectRatios[0].count }

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
        guard featureSizes.count == strides.count else {
            throw ConfigError("the anchor generator was built for \(strides.count) feature maps and was given \(featureSizes.count)")
        }
        return try featureSizes.enumerated().map { level, hw in
            let (h, w) = hw
            let s = Double(strides[level])
            let cellValues = cellAnchors(level)
            let cell = try Tensor(cellValues, shape: [cellValues.count / 4, 4]).to(device: device)
            let sx = try Tensor.arange(offset * s, Double(w) * s, step: s, dtype: .float32, device: device)
            let sy = try Tensor.arange(offset * s, Double(h) * s, step: s, dtype: .float32, device: device)
            let shiftX = try sx.unsqueeze(0).expand([h, w]).reshape([-1]), shiftY = try sy.unsqueeze(1).expand([h, w]).reshape([-1])
            let shifts = try Tensor.stack([shiftX, shiftY, shiftX, shiftY], dim: 1)
            return try (shifts.view([-1, 1, 4]) + cell.view([1, -1, 4])).reshape([-1, 4])
        }
    }
}
