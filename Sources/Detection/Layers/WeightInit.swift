import Torch

/// fvcore's weight_init, which Detectron2's modules call on their own layers when they are
/// built: c2_msra_fill (Kaiming normal, fan-out, ReLU gain) and c2_xavier_fill (Kaiming uniform
/// with a = 1), biases zero. Each module applies them to its own layers, in the order
/// Detectron2 builds them, so the random draws follow Detectron2's order.
public enum WeightInit {
    public static func c2MSRAFill(_ conv: Conv2d) throws {
        try noGrad {
            let w = conv.weight.tensor
            try w.normal_(mean: 0, std: (2.0 / Double(w.shape[0] * receptiveField(w))).squareRoot())
            try conv.bias?.tensor.zero_()
        }
        conv.resetCaches()
    }

    public static func c2XavierFill(_ conv: Conv2d) throws {
        try noGrad {
            try xavier(conv.weight.tensor)
            try conv.bias?.tensor.zero_()
        }
        conv.resetCaches()
    }

    public static func c2XavierFill(_ fc: Linear) throws {
        try noGrad {
            try xavier(fc.weight.tensor)
            try fc.bias.tensor.zero_()
        }
    }

    /// nn.init.normal_(weight, std) and a zero bias.
    public static func normal(_ conv: Conv2d, std: Double) throws {
        try noGrad {
            try conv.weight.tensor.normal_(mean: 0, std: std)
            try conv.bias?.tensor.zero_()
        }
        conv.resetCaches()
    }

    public static func normal(_ fc: Linear, std: Double) throws {
        try noGrad {
            try fc.weight.tensor.normal_(mean: 0, std: std)
            try fc.bias.tensor.zero_()
        }
    }

    private static func receptiveField(_ w: Tensor) -> Int { w.shape.dropFirst(2).reduce(1, *) }

    private static func xavier(_ w: Tensor) throws {
        let bound = (3.0 / Double(w.shape[1] * receptiveField(w))).squareRoot()
        try w.uniform_(-bound, bound)
    }
}
