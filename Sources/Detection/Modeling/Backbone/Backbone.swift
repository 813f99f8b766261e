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
    public func shapes(of names: [String], key: String) throws -> [ShapeSpec] {
        guard !names.isEmpty else { throw ConfigError("\(key) is empty; the backbone gives \(outFeatures.joined(separator: ", "))") }
        return try names.map { name in
            guard let s = outputShape[name] else {
                throw ConfigError("\(key) names '\(name)', which the backbone does not give; it gives \(outFeatures.joined(separator: ", "))")
            }
            return s
        }
    }
}
