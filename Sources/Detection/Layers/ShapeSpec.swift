/// Detectron2's ShapeSpec: what a feature map is (channels, and its stride to the input image).
public struct ShapeSpec: Equatable, Sendable {
    public var channels: Int
    public var stride: Int
    public init(channels: Int, stride: Int) {
        self.channels = channels
        self.stride = stride
    }
}

/// The shapes of the features `names` (a config's IN_FEATURES, named by `key`) in order, or an
/// error naming the key and the features there are.
public func featureShapes(_ names: [String], in available: [String: ShapeSpec], key: String) throws -> [ShapeSpec] {
    guard !names.isEmpty else { throw ConfigError("\(key) is empty; the backbone gives \(available.keys.sorted().joined(separator: ", "))") }
    return try names.map { name in
        guard let s = available[name] else {
            throw ConfigError("\(key) names '\(name)', which the backbone does not give; it gives \(available.keys.sorted().joined(separator: ", "))")
        }
        return s
    }
}
