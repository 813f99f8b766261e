import XCTest
@testable import Torch

func values(_ t: Tensor) throws -> [Double] { try t.to(dtype: .float64).toArray(Double.self) }

final class OpsTests: XCTestCase {
    override class func setUp() { TorchRuntime.initialize() }

    func testCreationAndFacts() throws {
        let z = try Tensor.zeros([2, 3])
        XCTAssertEqual(z.shape, [2, 3])
        XCTAssertEqual(z.dtype, .float32)
        XCTAssertEqual(z.device, .cpu)
        XCTAssertEqual(try values(Tensor.arange(0, 5)), [0, 1, 2, 3, 4])
        XCTAssertEqual(try Tensor.arange(0, 5).dtype, .int64)
        XCTAssertEqual(try values(Tensor.linspace(0, 1, steps: 5)), [0, 0.25, 0.5, 0.75, 1])
        XCTAssertEqual(try values(Tensor.full([2], 7)), [7, 7])
        XCTAssertEqual(try Tensor([1, 2, 3, 4] as [Float], shape: [2, 2]).strides, [2, 1])
        XCTAssertThrowsError(try Tensor([1, 2, 3] as [Float], shape: [2, 2]))
        XCTAssertThrowsError(try Tensor.zeros([-1]))
    }

    func testSeededRandomnessIsReproducible() throws {
        try TorchRuntime.manualSeed(7)
        let a = try values(Tensor.randn([5]))
        try TorchRuntime.manualSeed(7)
        let b = try values(Tensor.randn([5]))
        XCTAssertEqual(a, b)
        let r = try values(Tensor.randint(3, 6, [1000]))
        XCTAssertEqual(Set(r), [3, 4, 5])
    }

    func testArithmeticBroadcastingAndScalars() throws {
        let a = try Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])
        let b = try Tensor([10, 20, 30] as [Float])
        XCTAssertEqual(try values(a + b), [11, 22, 33, 14, 25, 36])
        XCTAssertEqual(try values(a * 2), [2, 4, 6, 8, 10, 12])
        XCTAssertEqual(try values(1 - a), [0, -1, -2, -3, -4, -5])
        XCTAssertEqual(try values(12 / a), [12, 6, 4, 3, 2.4000000953674316, 2])
        let i = try Tensor([7, -7] as [Int64])
        XCTAssertEqual(try i.binary(.floorDivide, 2, integral: true).dtype, .int64)
        XCTAssertEqual(try values(i.binary(.floorDivide, 2, integral: true)), [3, -4])
        XCTAssertEqual(try values(i.binary(.remainder, 3, integral: true)), [1, 2])
        XCTAssertEqual(try i.binary(.mul, 0.5).dtype, .float32, "a float scalar makes an integer tensor floating point")
        XCTAssertThrowsError(try a + Tensor.zeros([4])) { error in
            XCTAssertTrue("\(error)".contains("must match the size"), "\(error)")
        }
    }

    func testMathAndReductions() throws {
        let x = try Tensor([1, 4, 9] as [Double])
        XCTAssertEqual(try values(x.sqrt()), [1, 2, 3])
        XCTAssertEqual(try values(Tensor([0, 1] as [Double]).exp()), [1, 2.718281828459045])
        XCTAssertEqual(try values(Tensor([1, 8] as [Double]).log2()), [0, 3])
        XCTAssertEqual(try x.sum().item(), 14)
        XCTAssertEqual(try x.mean().item(), 14.0 / 3)
        let m = try Tensor([3, 1, 2, 6, 5, 4] as [Float], shape: [2, 3])
        let (v, idx) = try m.max(dim: 1)
        XCTAssertEqual(try values(v), [3, 6])
        XCTAssertEqual(try values(idx), [0, 0])
        XCTAssertEqual(try values(m.argmax()), [3])
        let (top, topIdx) = try m.flatten().topk(2)
        XCTAssertEqual(try values(top), [6, 5])
        XCTAssertEqual(try values(topIdx), [3, 4])
        let (sorted, order) = try Tensor([2, 1, 2, 0] as [Float]).sort(descending: true)
        XCTAssertEqual(try values(sorted), [2, 2, 1, 0])
        XCTAssertEqual(try values(order), [0, 2, 1, 3], "stable: equal values keep their order")
        XCTAssertEqual(try values(Tensor([-1, 0, 2] as [Float]).clamp(min: 0, max: 1)), [0, 0, 1])
        let sm = try values(Tensor([0, 0] as [Double]).softmax(0))
        XCTAssertEqual(sm, [0.5, 0.5])
        XCTAssertEqual(try values(m.sum(dims: [0])), [9, 6, 6])
        XCTAssertEqual(try values(Tensor([1, 2, 3, 4] as [Float], shape: [2, 2]).matmul(Tensor([1, 0, 0, 1] as [Float], shape: [2, 2]))), [1, 2, 3, 4])
    }

    func testShapeAndIndexing() throws {
        let t = try Tensor.arange(0, 12).reshape([3, 4])
        XCTAssertEqual(try values(t.select(0, 1)), [4, 5, 6, 7])
        XCTAssertEqual(try values(t.narrow(1, start: 1, length: 2)), [1, 2, 5, 6, 9, 10])
        XCTAssertEqual(try t.transpose(0, 1).shape, [4, 3])
        XCTAssertEqual(try t.permute([1, 0]).contiguous().strides, [3, 1])
        XCTAssertEqual(try values(t.flip([1]).select(0, 0)), [3, 2, 1, 0])
        XCTAssertEqual(try values(Tensor.cat([t.select(0, 0), t.select(0, 2)])), [0, 1, 2, 3, 8, 9, 10, 11])
        XCTAssertEqual(try Tensor.stack([t, t]).shape, [2, 3, 4])
        XCTAssertEqual(try t.split(2, dim: 0).map(\.shape), [[2, 4], [1, 4]])
        let mask = try t.binary(.gt, 8, integral: true)
        XCTAssertEqual(try values(t.maskedSelect(mask)), [9, 10, 11])
        XCTAssertEqual(try values(t.nonzero().select(0, 0)), [0, 1])
        XCTAssertEqual(try values(t.indexSelect(0, Tensor([2, 0] as [Int64])).select(1, 0)), [8, 0])
        XCTAssertEqual(try values(t.gather(1, Tensor([3, 0, 1] as [Int64], shape: [3, 1]))), [3, 4, 9])
        XCTAssertEqual(try values(Tensor.where(mask, t, Tensor.zeros([], dtype: .int64)).select(0, 2)), [0, 9, 10, 11])
        XCTAssertEqual(try t.unsqueeze(0).squeeze().shape, [3, 4])
        XCTAssertEqual(try Tensor.ones([1, 3]).expand([2, 3]).shape, [2, 3])
        XCTAssertEqual(try Tensor.ones([1, 3]).repeat([2, 2]).shape, [2, 6])
        XCTAssertThrowsError(try t.select(0, 5)) { error in XCTAssertTrue("\(error)".contains("out of range"), "\(error)") }
        XCTAssertThrowsError(try t.view([5, 5]))
    }

    func testNeuralOps() throws {
        // conv2d of ones with a 3x3 kernel of ones, padding 1: corner 4, edge 6, centre 9.
        let x = try Tensor.ones([1, 1, 3, 3])
        let w = try Tensor.ones([1, 1, 3, 3])
        XCTAssertEqual(try values(NN.conv2d(x, weight: w, padding: 1)), [4, 6, 4, 6, 9, 6, 4, 6, 4])
        // Grouped, strided, dilated convolution shapes.
        let g = try NN.conv2d(Tensor.ones([1, 4, 8, 8]), weight: Tensor.ones([4, 2, 3, 3]), bias: nil, stride: (2, 2),
                              padding: (2, 2), dilation: (2, 2), groups: 2)
        XCTAssertEqual(g.shape, [1, 4, 4, 4])
        XCTAssertEqual(try values(NN.maxPool2d(Tensor.arange(0, 16, dtype: .float32).reshape([1, 1, 4, 4]), kernel: 2)), [5, 7, 13, 15])
        XCTAssertEqual(try values(NN.maxPool2d(Tensor.arange(0, 4, dtype: .float32).reshape([1, 1, 2, 2]), kernel: 1, stride: 2)), [0])
        XCTAssertEqual(try values(NN.interpolateNearest(Tensor([1, 2, 3, 4] as [Float], shape: [1, 1, 2, 2]), height: 4, width: 4)),
                       [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
        let bn = try NN.batchNorm(Tensor([2, 4] as [Float], shape: [1, 2, 1, 1]), weight: Tensor([2, 1] as [Float]), bias: Tensor([0, 1] as [Float]),
                                  runningMean: Tensor([1, 2] as [Float]), runningVar: Tensor([4, 1] as [Float]), eps: 0)
        XCTAssertEqual(try values(bn), [1, 3])
        // Cross-entropy of uniform logits over 4 classes is log 4.
        let ce = try NN.crossEntropy(Tensor.zeros([2, 4]), Tensor([1, 3] as [Int64]))
        XCTAssertEqual(try ce.item(), 1.3862943611198906, accuracy: 1e-6)
        let bce = try NN.binaryCrossEntropyWithLogits(Tensor([0] as [Float]), Tensor([1] as [Float]))
        XCTAssertEqual(try bce.item(), 0.6931471805599453, accuracy: 1e-6)
        // Smooth L1 with beta 1: |d| < 1 -> 0.5 d^2, else |d| - 0.5; beta 0 is L1.
        let d = try Tensor([0.5, 3] as [Float]), zero = try Tensor.zeros([2])
        XCTAssertEqual(try values(NN.smoothL1(d, zero, beta: 1, reduction: .none)), [0.125, 2.5])
        XCTAssertEqual(try values(NN.smoothL1(d, zero, beta: 0, reduction: .sum)), [3.5])
        XCTAssertEqual(try values(NN.l1(d, zero, reduction: .mean)), [1.75])
        XCTAssertEqual(try values(NN.linear(Tensor([1, 2] as [Float], shape: [1, 2]), weight: Tensor([1, 1, 2, 0] as [Float], shape: [2, 2]),
                                            bias: Tensor([0, 1] as [Float]))), [3, 3])
        let gn = try NN.groupNorm(Tensor([1, 3, 5, 7] as [Float], shape: [1, 2, 2, 1]), groups: 2, weight: nil, bias: nil, eps: 0)
        XCTAssertEqual(try values(gn), [-1, 1, -1, 1])
    }

    func testAutogradAndNoGrad() throws {
        let x = try Tensor([1, 2, 3] as [Double]).requiresGrad()
        let y = try (x * x).sum()
        try y.backward()
        XCTAssertEqual(try values(XCTUnwrap(x.grad)), [2, 4, 6])
        let z = try noGrad { try x * 3 }
        XCTAssertFalse(z.requiresGrad)
        XCTAssertTrue(TorchRuntime.isGradEnabled)
        XCTAssertFalse(try x.detach().requiresGrad)
        try x.zeroGrad()
        XCTAssertNil(x.grad)
    }

    func testDataIsSharedWithoutCopyWhenWrapping() throws {
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: 4)
        for i in 0..<4 { buffer[i] = Float(i) }
        var released = false
        do {
            let t = try Tensor.wrapping(UnsafeMutableRawPointer(buffer), shape: [2, 2], dtype: .float32) { released = true }
            buffer[3] = 42
            XCTAssertEqual(try values(t), [0, 1, 2, 42])
        }
        XCTAssertTrue(released)
        buffer.deallocate()
    }

    func testFormatting() throws {
        XCTAssertEqual(try Tensor([1, 2, 3, 4] as [Int64], shape: [2, 2]).description, "tensor int64 [2, 2]\n[[1, 2],\n [3, 4]]")
        XCTAssertEqual(try Tensor([0.5, -1.25] as [Float]).description, "tensor float32 [2]\n[ 0.5000, -1.2500]")
        XCTAssertEqual(try Tensor([1, 2] as [Float]).description, "tensor float32 [2]\n[1., 2.]")
        let big = try Tensor.arange(0, 2000).description
        XCTAssertEqual(big, "tensor int64 [2000]\n[   0,    1,    2, ..., 1997, 1998, 1999]")
        let lines = try Tensor.zeros([50, 50, 50]).description.split(separator: "\n")
        XCTAssertLessThan(lines.count, 60, "a big tensor prints a summary, not thousands of lines")
        XCTAssertEqual(try Tensor.scalar(2.5).description, "tensor float32 []\n2.5000")
    }

    func testCUDAWhenAvailable() throws {
        guard TorchRuntime.cudaIsAvailable else {
            XCTAssertThrowsError(try Tensor.zeros([1], device: .cuda(0))) { error in
                XCTAssertTrue("\(error)".contains("CUDA is not available"), "\(error)")
            }
            throw XCTSkip("no CUDA device")
        }
        let a = try Tensor.randn([64, 64], device: .cuda(0))
        let b = try a.to(device: .cpu)
        XCTAssertTrue(try a.matmul(a).to(device: .cpu).allclose(b.matmul(b), rtol: 1e-3, atol: 1e-3))
    }
}
