import Torch

/// Detectron2's Backbone: a module whose forward gives feature maps by name, each with its
/// channels and stride (`outputShape`), and the multiple its input is padded to.
public protocol Backbone: Module {
    /// The names of the features forward returns, finest first.
    var outFeatures: [String] { get }
    var outputShape: [String: ShapeSpec] { get }
    /// Inputs are padded to a multiple of this (0: no constraint).
    var sizeDivisibility: Int { get }
    func forward(_ x: Tensor) throws -> [String: Tensor]
    /// Detectron2's initialisation of the module's own layers.
    func initializeParameters() throws
}

extension Backbone {
    /// The shapes of `names` in order, or an error naming `key` and what the backbone has.
    public func shapes(of names: [String], key: String) throws -> [ShapeSpec] { try featureShapes(names, in: outputShape, key: key) }
}

/// The feature maps `names` (a config's IN_FEATURES, named by `key`) from a backbone's output.
public func selectFeatures(_ names: [String], from features: [String: Tensor], key: String) throws -> [Tensor] {
    try names.map { name in
        guard let f = features[name] else { throw ConfigError("\(key): the backbone gave no feature '\(name)'") }
        return f
    }
}
