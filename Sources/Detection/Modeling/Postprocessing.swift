import Torch

/// Detectron2's detector_postprocess: instances of a resized input rescaled to the original
/// image (height, width), clipped, empty boxes dropped.
public func detectorPostprocess(_ r: Instances, height: Int, width: Int) throws -> Instances {
    let sx = Double(width) / Double(r.imageSize.1), sy = Double(height) / Double(r.imageSize.0)
    let boxes = try r.boxes.scaled(x: sx, y: sy).clipped(height: height, width: width)
    let keep = try boxes.nonempty()
    return Instances(imageSize: (height, width), boxes: try boxes.tensor.index(keep), scores: try r.scores.index(keep),
                     classes: try r.classes.index(keep), imageID: r.imageID)
}
