/// Detectron2's ShapeSpec: what a feature map is (channels, and its stride to the input image).
public struct ShapeSpec: Equatable, Sendable {
    public var channels: Int
    public var stride: Int
    public init(channels: Int, stride: Int) {
        self.channels = channels
        self.stride = stride
    }
}
