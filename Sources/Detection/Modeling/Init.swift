import Foundation
import Torch

/// Detectron2's initialisers, by where a layer sits: ResNet and box-head convolutions
/// c2_msra_fill (Kaiming normal, fan-out), FPN convolutions and box-head fully connected layers
/// c2_xavier_fill (Kaiming uniform, a = 1), RPN head N(0, 0.01²), cls_score N(0, 0.01²),
/// bbox_pred N(0, 0.001²); biases 0. Norm layers keep weight 1, bias 0 (frozen ones identity).
extension GeneralizedRCNN {
    public func initializeWeights() throws {
        try noGrad {
            for (path, module) in namedModules() {
                if let conv = module as? Conv2d {
                    if path.hasPrefix("backbone.bottom_up.") || path.hasPrefix("roi_heads.box_head.") { try msraFill(conv.weight.tensor) }
                    else if path.hasPrefix("backbone.") { try xavierFill(conv.weight.tensor) }
                    else { try conv.weight.tensor.normal_(mean: 0, std: 0.01) }
                    try conv.bias?.tensor.zero_()
                } else if let fc = module as? Linear {
                    if path.hasSuffix("cls_score") { try fc.weight.tensor.normal_(mean: 0, std: 0.01) }
                    else if path.hasSuffix("bbox_pred") { try fc.weight.tensor.normal_(mean: 0, std: 0.001) }
                    else { try xavierFill(fc.weight.tensor) }
                    try fc.bias.tensor.zero_()
                }
            }
        }
        resetAllCaches()
    }

    private func receptiveField(_ w: Tensor) -> Int { w.shape.dropFirst(2).reduce(1, *) }

    private func msraFill(_ w: Tensor) throws {
        let fanOut = w.shape[0] * receptiveField(w)
        try w.normal_(mean: 0, std: (2.0 / Double(fanOut)).squareRoot())
    }

    private func xavierFill(_ w: Tensor) throws {
        let fanIn = w.shape[1] * receptiveField(w)
        let bound = (3.0 / Double(fanIn)).squareRoot()
        try w.uniform_(-bound, bound)
    }
}
