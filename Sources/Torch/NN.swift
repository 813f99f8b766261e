import CTorch

/// Neural-network operations (functional form, as torch.nn.functional).
public enum NN {
    public enum LossReduction: Int32 { case none = 0, mean = 1, sum = 2 }

    public static func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
                              dilation: Int = 1, groups: Int = 1) throws -> Tensor {
        try conv2d(x, weight: weight, bias: bias, stride: (stride, stride), padding: (padding, padding),
                   dilation: (dilation, dilation), groups: groups)
    }

    public static func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: (Int, Int), padding: (Int, Int),
                              dilation: (Int, Int), groups: Int) throws -> Tensor {
        let s = [Int64(stride.0), Int64(stride.1)], p = [Int64(padding.0), Int64(padding.1)]
        let d = [Int64(dilation.0), Int64(dilation.1)]
        return try Tensor.make { ct_conv2d(x.handle, weight.handle, bias?.handle, s, p, d, Int64(groups), $0) }
    }

    public static func maxPool2d(_ x: Tensor, kernel: Int, stride: Int? = nil, padding: Int = 0, dilation: Int = 1,
                                 ceilMode: Bool = false) throws -> Tensor {
        let k = [Int64(kernel), Int64(kernel)], s = [Int64(stride ?? kernel), Int64(stride ?? kernel)]
        let p = [Int64(padding), Int64(padding)], d = [Int64(dilation), Int64(dilation)]
        return try Tensor.make { ct_max_pool2d(x.handle, k, s, p, d, ceilMode ? 1 : 0, $0) }
    }

    /// Nearest-neighbour resize of (N, C, H, W) to (N, C, height, width).
    public static func interpolateNearest(_ x: Tensor, height: Int, width: Int) throws -> Tensor {
        try Tensor.make { ct_interpolate_nearest(x.handle, Int64(height), Int64(width), $0) }
    }

    /// Batch norm; in training mode it uses batch statistics and updates the running ones.
    public static func batchNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, runningMean: Tensor?, runningVar: Tensor?,
                                 training: Bool = false, momentum: Double = 0.1, eps: Double = 1e-5) throws -> Tensor {
        try Tensor.make { ct_batch_norm(x.handle, weight?.handle, bias?.handle, runningMean?.handle, runningVar?.handle,
                                        training ? 1 : 0, momentum, eps, $0) }
    }

    public static func groupNorm(_ x: Tensor, groups: Int, weight: Tensor?, bias: Tensor?, eps: Double = 1e-5) throws -> Tensor {
        try Tensor.make { ct_group_norm(x.handle, Int64(groups), weight?.handle, bias?.handle, eps, $0) }
    }

    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) throws -> Tensor {
        try Tensor.make { ct_linear(x.handle, weight.handle, bias?.handle, $0) }
    }

    public static func relu(_ x: Tensor) throws -> Tensor { try x.relu() }

    public static func crossEntropy(_ logits: Tensor, _ targets: Tensor, weight: Tensor? = nil,
                                    reduction: LossReduction = .mean, ignoreIndex: Int = -100) throws -> Tensor {
        try Tensor.make { ct_cross_entropy(logits.handle, targets.handle, weight?.handle, reduction.rawValue, Int64(ignoreIndex), $0) }
    }

    public static func binaryCrossEntropyWithLogits(_ x: Tensor, _ y: Tensor, weight: Tensor? = nil,
                                                    reduction: LossReduction = .mean) throws -> Tensor {
        try Tensor.make { ct_bce_with_logits(x.handle, y.handle, weight?.handle, reduction.rawValue, $0) }
    }

    /// Smooth L1 with Detectron2's convention: beta < 1e-5 is exactly L1.
    public static func smoothL1(_ x: Tensor, _ y: Tensor, beta: Double, reduction: LossReduction = .mean) throws -> Tensor {
        try Tensor.make { ct_smooth_l1_loss(x.handle, y.handle, beta, reduction.rawValue, $0) }
    }

    public static func l1(_ x: Tensor, _ y: Tensor, reduction: LossReduction = .mean) throws -> Tensor {
        try Tensor.make { ct_l1_loss(x.handle, y.handle, reduction.rawValue, $0) }
    }
}
