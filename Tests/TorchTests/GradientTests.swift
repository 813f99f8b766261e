import XCTest
@testable import Torch

/// Gradients from autograd against central finite differences, in float64.
final class GradientTests: XCTestCase {
    override class func setUp() { TorchRuntime.initialize() }

    /// Checks d(sum(weights * f(x)))/dx for every element of x.
    func checkGradient(_ x0: Tensor, weights: Tensor? = nil, eps: Double = 1e-6, tolerance: Double = 1e-6,
                       file: StaticString = #filePath, line: UInt = #line, _ f: (Tensor) throws -> Tensor) throws {
        let x = try x0.detach().clone().requiresGrad()
        let out = try f(x)
        let w = try weights ?? Tensor.ones(out.shape, dtype: .float64)
        try (out * w).sum().backward()
        let analytic = try values(XCTUnwrap(x.grad))
        var data = try values(x0)
        for i in 0..<data.count {
            let original = data[i]
            data[i] = original + eps
            let plus = try noGrad { try (f(Tensor(data, shape: x0.shape)) * w).sum().item() }
            data[i] = original - eps
            let minus = try noGrad { try (f(Tensor(data, shape: x0.shape)) * w).sum().item() }
            data[i] = original
            let numeric = (plus - minus) / (2 * eps)
            XCTAssertEqual(analytic[i], numeric, accuracy: tolerance * max(1, abs(numeric)), "element \(i)", file: file, line: line)
        }
    }

    func testConv2dGradients() throws {
        try TorchRuntime.manualSeed(1)
        let x = try Tensor.randn([1, 2, 5, 5], dtype: .float64)
        let weight = try Tensor.randn([3, 2, 3, 3], dtype: .float64)
        let outShape = [1, 3, 3, 3]
        let w = try Tensor.randn(outShape, dtype: .float64)
        try checkGradient(x, weights: w) { try NN.conv2d($0, weight: weight, bias: nil, stride: (2, 2), padding: (1, 1), dilation: (1, 1), groups: 1) }
        try checkGradient(weight, weights: w) { try NN.conv2d(x, weight: $0, bias: nil, stride: (2, 2), padding: (1, 1), dilation: (1, 1), groups: 1) }
    }

    func testROIAlignGradients() throws {
        try TorchRuntime.manualSeed(2)
        let x = try Tensor.randn([2, 2, 6, 6], dtype: .float64)
        let rois = try Tensor([0, 0.3, 0.7, 4.2, 3.9, 1, 1.1, 0.2, 5.5, 5.8, 0, -1, -1, 3, 2] as [Double], shape: [3, 5])
        let w = try Tensor.randn([3, 2, 2, 2], dtype: .float64)
        for aligned in [true, false] {
            try checkGradient(x, weights: w) {
                try DetectionOps.roiAlign($0, rois: rois, spatialScale: 1, outputSize: (2, 2), samplingRatio: 0, aligned: aligned)
            }
            // The tensor-op version differentiates through gathers and gives the same gradient.
            try checkGradient(x, weights: w) {
                try DetectionOps.roiAlignTensorOps($0, rois: rois, spatialScale: 1, outputSize: (2, 2), samplingRatio: 0, aligned: aligned)
            }
        }
    }

    func testSmoothL1Gradients() throws {
        let x = try Tensor([-2.5, -0.4, 0.3, 0.9, 1.7, 3] as [Double])
        let y = try Tensor([0, 0, 0, 0.1, 0, 1] as [Double])
        try checkGradient(x) { try NN.smoothL1($0, y, beta: 1, reduction: .none) }
        try checkGradient(x) { try NN.smoothL1($0, y, beta: 0, reduction: .sum) }
    }

    func testCrossEntropyGradients() throws {
        try TorchRuntime.manualSeed(4)
        let logits = try Tensor.randn([4, 5], dtype: .float64)
        let targets = try Tensor([0, 4, 2, 2] as [Int64])
        try checkGradient(logits) { try NN.crossEntropy($0, targets) }
        let probabilities = try Tensor.rand([4, 5], dtype: .float64)
        try checkGradient(logits) { try NN.binaryCrossEntropyWithLogits($0, probabilities) }
    }
}
