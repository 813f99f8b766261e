import Torch
import Vision

/// The Detectron2 equivalent: configs, modeling, checkpoints, data, engine, evaluation.
/// This file names the layer; its parts live in the folders beside it as they are built.
public enum Detection {
    /// The Detectron2 release whose semantics this layer follows.
    public static let detectron2Compatibility = "0.6"
}
