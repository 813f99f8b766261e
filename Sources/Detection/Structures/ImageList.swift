import Torch

/// Detectron2's ImageList: images of different sizes padded into one batch (bottom and right,
/// to a multiple of `sizeDivisibility`), with each image's own (height, width).
public struct ImageList {
    public var tensor: Tensor
    public var imageSizes: [(Int, Int)]

    public var count: Int { imageSizes.count }

    /// ImageList.from_tensors: (C, H, W) tensors padded with `padValue`.
    public static func fromTensors(_ images: [Tensor], sizeDivisibility: Int = 0, padValue: Double = 0) throws -> ImageList {
        guard let first = images.first else { throw TorchError("ImageList needs at least one image") }
        for (i, img) in images.enumerated() where img.dim != 3 || img.shape[0] != first.shape[0] {
            throw TorchError("image \(i + 1) of the batch has shape \(img.shape); every image must be (\(first.shape[0]), H, W)")
        }
        let sizes = images.map { ($0.shape[1], $0.shape[2]) }
        var h = sizes.map(\.0).max()!, w = sizes.map(\.1).max()!
        if sizeDivisibility > 1 {
            h = (h + sizeDivisibility - 1) / sizeDivisibility * sizeDivisibility
            w = (w + sizeDivisibility - 1) / sizeDivisibility * sizeDivisibility
        }
        let batch = try Tensor.full([images.count, first.shape[0], h, w], padValue, dtype: first.dtype, device: first.device)
        for (i, img) in images.enumerated() {
            try batch.select(0, i).narrow(1, start: 0, length: sizes[i].0).narrow(2, start: 0, length: sizes[i].1).copy_(img)
        }
        return ImageList(tensor: batch, imageSizes: sizes)
    }
}
