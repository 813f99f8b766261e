import Torch
import Vision

/// Detectron2's ResizeShortestEdge: the short side to a length chosen per image (from a list,
/// or uniformly from a range), the long side capped at maxSize.
public struct ResizeShortestEdge: Sendable {
    public enum SampleStyle: String, Sendable { case choice, range }
    public var shortEdgeLengths: [Int]
    public var maxSize: Int
    public var sampleStyle: SampleStyle

    public init(shortEdgeLengths: [Int], maxSize: Int, sampleStyle: SampleStyle = .choice) throws {
        guard !shortEdgeLengths.isEmpty else { throw DataError("ResizeShortestEdge needs at least one short edge length") }
        if sampleStyle == .range && shortEdgeLengths.count != 2 {
            throw DataError("ResizeShortestEdge with sample style \"range\" needs [min, max], got \(shortEdgeLengths)")
        }
        self.shortEdgeLengths = shortEdgeLengths
        self.maxSize = maxSize
        self.sampleStyle = sampleStyle
    }

    public func sampleShortEdge<G: RandomNumberGenerator>(using rng: inout G) -> Int {
        switch sampleStyle {
        case .choice: return shortEdgeLengths.count == 1 ? shortEdgeLengths[0] : shortEdgeLengths[Int.random(in: 0..<shortEdgeLengths.count, using: &rng)]
        case .range: return Int.random(in: shortEdgeLengths[0]...shortEdgeLengths[1], using: &rng)
        }
    }

    /// The new (height, width), exactly as Detectron2 computes it (int(x + 0.5) rounding).
    public static func outputShape(height: Int, width: Int, shortEdge: Int, maxSize: Int) -> (height: Int, width: Int) {
        let h = Double(height), w = Double(width), size = Double(shortEdge)
        let scale = size / Swift.min(h, w)
        var newH: Double, newW: Double
        if h < w { newH = size; newW = scale * w } else { newH = scale * h; newW = size }
        if Swift.max(newH, newW) > Double(maxSize) {
            let s = Double(maxSize) / Swift.max(newH, newW)
            newH *= s
            newW *= s
        }
        return (Int(newH + 0.5), Int(newW + 0.5))
    }

    /// The image with its short side at `shortEdge` (0 keeps it as it is), resized with Pillow's
    /// bilinear filter as Detectron2 does, or OpenCV's when `pil` is false.
    public func apply(_ image: Image, shortEdge: Int, pil: Bool = true) throws -> Image {
        let (h, w) = Self.outputShape(height: image.height, width: image.width, shortEdge: shortEdge, maxSize: maxSize)
        guard shortEdge > 0 && (h != image.height || w != image.width) else { return image }
        return pil ? try image.resizedLikePIL(width: w, height: h) : try image.resized(width: w, height: h)
    }
}

extension Image {
    /// An uint8 CHW tensor of this image's channels (one copy: HWC to CHW).
    public func chwTensor() throws -> Tensor {
        let retained = self
        let hwc = try Tensor.wrapping(UnsafeMutableRawPointer(data), shape: [height, width, channels], dtype: .uint8) {
            withExtendedLifetime(retained) {}
        }
        return try hwc.permute([2, 0, 1]).contiguous()
    }
}
