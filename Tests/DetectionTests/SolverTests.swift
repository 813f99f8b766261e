import Foundation
import XCTest
import TestFixtures
import Torch
@testable import Detection

final class SolverTests: XCTestCase {
    override func setUp() { DetectionLog.shared.echo = false }

    func cfg(_ items: [String]) throws -> CfgNode {
        let c = CfgNode.defaults()
        try c.mergeFromList(items)
        return c
    }

    /// Detectron2's 1x schedule: warm-up from 0.001 over 1000 iterations, x0.1 at 60k and 80k.
    func testWarmupMultiStepMatchesDetectron2() throws {
        let s = try LRSchedule(cfg: try cfg(["SOLVER.MAX_ITER", "90000", "SOLVER.STEPS", "(60000, 80000)", "SOLVER.WARMUP_ITERS", "1000"]))
        XCTAssertEqual(s.multiplier(0), 0.001, accuracy: 1e-15)
        XCTAssertEqual(s.multiplier(1), 0.001 + 0.999 / 1000, accuracy: 1e-12)
        XCTAssertEqual(s.multiplier(500), 0.5005, accuracy: 1e-12)
        XCTAssertEqual(s.multiplier(999), 0.001 + 0.999 * 999 / 1000, accuracy: 1e-12)
        XCTAssertEqual(s.multiplier(1000), 1)
        XCTAssertEqual(s.multiplier(59999), 1)
        XCTAssertEqual(s.multiplier(60000), 0.1, accuracy: 1e-15)
        XCTAssertEqual(s.multiplier(80000), 0.01, accuracy: 1e-15)
        // The fixture's recipe: BASE_LR 0.0005, 100 warm-up iterations, 2000 in all, step at 1600.
        let f = try LRSchedule(cfg: try cfg(["SOLVER.MAX_ITER", "2000", "SOLVER.STEPS", "(1600,)", "SOLVER.WARMUP_ITERS", "100"]))
        // metrics.json of the fixture run records lr 9.5405e-05 at iteration 19.
        XCTAssertEqual(0.0005 * f.multiplier(19), 9.540499999999999e-05, accuracy: 1e-18)
        XCTAssertEqual(0.0005 * f.multiplier(1999), 5e-05, accuracy: 1e-18)
    }

    func testCosineConstantWarmupAndStepsBeyondMaxIter() throws {
        let c = try LRSchedule(cfg: try cfg(["SOLVER.LR_SCHEDULER_NAME", "WarmupCosineLR", "SOLVER.MAX_ITER", "100", "SOLVER.WARMUP_ITERS", "10",
                                             "SOLVER.WARMUP_METHOD", "constant", "SOLVER.BASE_LR", "0.02", "SOLVER.BASE_LR_END", "0.002"]))
        XCTAssertEqual(c.multiplier(0), 0.001)
        XCTAssertEqual(c.multiplier(9), 0.001)
        XCTAssertEqual(c.multiplier(50), 0.1 + 0.9 * 0.5, accuracy: 1e-12)
        XCTAssertEqual(c.multiplier(100), 0.1, accuracy: 1e-12)
        let m = try LRSchedule(cfg: try cfg(["SOLVER.MAX_ITER", "100", "SOLVER.STEPS", "(50, 200)", "SOLVER.WARMUP_ITERS", "0"]))
        XCTAssertEqual(m.shape, .multiStep(steps: [50], gamma: 0.1))
        XCTAssertEqual(m.multiplier(0), 1)
        XCTAssertThrowsError(try LRSchedule(cfg: try cfg(["SOLVER.LR_SCHEDULER_NAME", "Poly"]))) {
            XCTAssertTrue("\($0)".contains("SOLVER.LR_SCHEDULER_NAME"), "\($0)")
        }
    }

    /// Frozen stages are left out; norm parameters take WEIGHT_DECAY_NORM and biases
    /// BIAS_LR_FACTOR, with biases of norm layers keeping the norm decay unless WEIGHT_DECAY_BIAS is set.
    func testParameterGroups() throws {
        let c = CfgNode.defaults()
        try c.mergeFromFile(try Fixtures.path("random/config.yaml"))
        try c.mergeFromList(["MODEL.RESNETS.NORM", "GN", "MODEL.FPN.NORM", "GN", "MODEL.BACKBONE.FREEZE_AT", "2", "MODEL.RESNETS.STEM_OUT_CHANNELS", "32",
                         "MODEL.RESNETS.WIDTH_PER_GROUP", "32", "MODEL.RESNETS.RES2_OUT_CHANNELS", "128",
                         "SOLVER.BASE_LR", "0.01", "SOLVER.BIAS_LR_FACTOR", "2.0", "SOLVER.WEIGHT_DECAY", "0.0001", "SOLVER.WEIGHT_DECAY_NORM", "0.0"])
        let model = try GeneralizedRCNN(cfg: c, initialize: false)
        let sgd = try Solver.optimizer(cfg: c, model: model)
        let settings = sgd.groups.map { "\($0.lr)/\($0.weightDecay)" }
        XCTAssertEqual(settings, ["0.01/0.0001", "0.01/0.0", "0.02/0.0", "0.02/0.0001"])
        let trainable = model.namedParameters().filter { $0.slot.tensor.requiresGrad }
        XCTAssertEqual(sgd.groups.map(\.parameters.count).reduce(0, +), trainable.count)
        XCTAssertFalse(trainable.contains { $0.name.contains("res2.") || $0.name.contains("stem.") })
        let names = Dictionary(uniqueKeysWithValues: model.namedParameters().map { (ObjectIdentifier($0.slot), $0.name) })
        XCTAssertTrue(sgd.groups[1].parameters.allSatisfy { names[ObjectIdentifier($0)]!.hasSuffix("norm.weight") })
        XCTAssertTrue(sgd.groups[2].parameters.allSatisfy { names[ObjectIdentifier($0)]!.hasSuffix("norm.bias") })
        XCTAssertTrue(sgd.groups[3].parameters.allSatisfy { names[ObjectIdentifier($0)]!.hasSuffix(".bias") && !names[ObjectIdentifier($0)]!.contains("norm") })
    }

    func testGradientClippingPerParameter() throws {
        let a = Parameter(try Tensor([Float(3), 4]).requiresGrad()), b = Parameter(try Tensor([Float(0.3), -0.4]).requiresGrad())
        try a.tensor.setGrad(try Tensor([Float(3), 4]))
        try b.tensor.setGrad(try Tensor([Float(0.3), -0.4]))
        let sgd = try SGD(groups: [.init(parameters: [a, b], lr: 0)])
        try XCTUnwrap(try GradientClipping(cfg: try cfg(["SOLVER.CLIP_GRADIENTS.ENABLED", "True", "SOLVER.CLIP_GRADIENTS.CLIP_TYPE", "norm",
                                                          "SOLVER.CLIP_GRADIENTS.CLIP_VALUE", "1.0"]))).apply(sgd)
        // |(3, 4)| = 5 is scaled to 1 (by 1 / (5 + 1e-6)); |(0.3, -0.4)| = 0.5 is left alone.
        let ga = try a.tensor.grad!.toArray(Float.self), gb = try b.tensor.grad!.toArray(Float.self)
        XCTAssertEqual(Double(ga[0]), 3 / (5 + 1e-6), accuracy: 1e-6)
        XCTAssertEqual(Double(ga[1]), 4 / (5 + 1e-6), accuracy: 1e-6)
        XCTAssertEqual(gb, [0.3, -0.4])
        try XCTUnwrap(try GradientClipping(cfg: try cfg(["SOLVER.CLIP_GRADIENTS.ENABLED", "True", "SOLVER.CLIP_GRADIENTS.CLIP_VALUE", "0.35"]))).apply(sgd)
        XCTAssertEqual(try b.tensor.grad!.toArray(Float.self), [0.3, -0.35])
        XCTAssertNil(try GradientClipping(cfg: try cfg([])))
    }

    func testNesterovMomentum() throws {
        // torch.optim.SGD(lr=0.1, momentum=0.9, nesterov=True) on grad 1 twice from p = 0:
        // step 1: buf = 1, p -= 0.1 * (1 + 0.9) = -0.19; step 2: buf = 1.9, p -= 0.1 * (1 + 1.71) -> -0.461.
        let p = Parameter(try Tensor([Float(0)]).requiresGrad())
        let sgd = try SGD(groups: [.init(parameters: [p], lr: 0.1, momentum: 0.9, nesterov: true)])
        for _ in 0..<2 {
            try p.tensor.setGrad(try Tensor([Float(1)]))
            try sgd.step()
        }
        XCTAssertEqual(Double(try p.tensor.toArray(Float.self)[0]), -0.461, accuracy: 1e-6)
    }
}

extension SolverTests {
    /// auto_scale_workers: Detectron2's 3x recipe (16 images on 8 workers) on one worker.
    func testAutoScaleWorkersFromAReferenceWorldSize() throws {
        let c = try cfg(["SOLVER.REFERENCE_WORLD_SIZE", "8", "SOLVER.IMS_PER_BATCH", "16", "SOLVER.BASE_LR", "0.02", "SOLVER.MAX_ITER", "270000",
                         "SOLVER.STEPS", "(210000, 250000)", "SOLVER.WARMUP_ITERS", "1000", "TEST.EVAL_PERIOD", "5", "SOLVER.CHECKPOINT_PERIOD", "5000"])
        let s = try DefaultTrainer.autoScaleWorkers(c, workers: 1)
        XCTAssertEqual(try s.int("SOLVER.IMS_PER_BATCH"), 2)
        XCTAssertEqual(try s.double("SOLVER.BASE_LR"), 0.0025, accuracy: 1e-15)
        XCTAssertEqual(try s.int("SOLVER.MAX_ITER"), 2_160_000)
        XCTAssertEqual(try s.ints("SOLVER.STEPS"), [1_680_000, 2_000_000])
        XCTAssertEqual(try s.int("SOLVER.WARMUP_ITERS"), 8000)
        XCTAssertEqual(try s.int("TEST.EVAL_PERIOD"), 40)
        XCTAssertEqual(try s.int("SOLVER.CHECKPOINT_PERIOD"), 40000)
        XCTAssertEqual(try s.int("SOLVER.REFERENCE_WORLD_SIZE"), 1)
        XCTAssertEqual(try c.int("SOLVER.IMS_PER_BATCH"), 16, "the caller's config is left alone")
        let unchanged = try cfg([])
        XCTAssertTrue(try DefaultTrainer.autoScaleWorkers(unchanged, workers: 1) === unchanged)
        XCTAssertThrowsError(try DefaultTrainer.autoScaleWorkers(try cfg(["SOLVER.REFERENCE_WORLD_SIZE", "3", "SOLVER.IMS_PER_BATCH", "16"]), workers: 1)) {
            XCTAssertTrue("\($0)".contains("REFERENCE_WORLD_SIZE"), "\($0)")
        }
    }

    /// The condition a grid search's shared prefix rests on: schedules that differ only in
    /// MAX_ITER give bit-identical learning rates below the shorter one when warm-up and steps
    /// lie inside both (fvcore's fractions would differ in the last bit at most warm-up
    /// iterations), and a difference is found where warm-up is longer than a trial or the curve
    /// is a cosine.
    func testSchedulesThatDifferOnlyInMaxIterAgreeBitForBit() throws {
        for warmup in [0, 1, 10, 50, 100, 299] {
            let lead = try LRSchedule(cfg: try cfg(["SOLVER.MAX_ITER", "1000", "SOLVER.STEPS", "(700,)", "SOLVER.WARMUP_ITERS", String(warmup)]))
            for m in [300, 500] {
                let short = try LRSchedule(cfg: try cfg(["SOLVER.MAX_ITER", String(m), "SOLVER.STEPS", "(700,)", "SOLVER.WARMUP_ITERS", String(warmup)]))
                XCTAssertNil(short.firstDifference(from: lead, below: m), "warm-up \(warmup), MAX_ITER \(m)")
            }
        }
        let lead = try LRSchedule(cfg: try cfg(["SOLVER.MAX_ITER", "1000", "SOLVER.STEPS", "()", "SOLVER.WARMUP_ITERS", "1000"]))
        let short = try LRSchedule(cfg: try cfg(["SOLVER.MAX_ITER", "300", "SOLVER.STEPS", "()", "SOLVER.WARMUP_ITERS", "1000"]))
        XCTAssertEqual(short.firstDifference(from: lead, below: 300), 1, "a warm-up longer than the trial is squeezed into it")
        let steps = try LRSchedule(cfg: try cfg(["SOLVER.MAX_ITER", "1000", "SOLVER.STEPS", "(200,)", "SOLVER.WARMUP_ITERS", "10"]))
        let stepsShort = try LRSchedule(cfg: try cfg(["SOLVER.MAX_ITER", "150", "SOLVER.STEPS", "(200,)", "SOLVER.WARMUP_ITERS", "10"]))
        XCTAssertNil(stepsShort.firstDifference(from: steps, below: 150), "a step after the shorter run does not matter")
        let cosine = ["SOLVER.LR_SCHEDULER_NAME", "WarmupCosineLR", "SOLVER.WARMUP_ITERS", "10"]
        let c1 = try LRSchedule(cfg: try cfg(cosine + ["SOLVER.MAX_ITER", "1000"])), c2 = try LRSchedule(cfg: try cfg(cosine + ["SOLVER.MAX_ITER", "300"]))
        XCTAssertEqual(c2.firstDifference(from: c1, below: 300), 1)
        // The values are still fvcore's, but for the last bit.
        let d2 = try LRSchedule(cfg: try cfg(["SOLVER.MAX_ITER", "300", "SOLVER.STEPS", "()", "SOLVER.WARMUP_ITERS", "100"]))
        for i in 0..<100 {
            let fraction = Double(i) / 300 / (100.0 / 300)
            XCTAssertEqual(d2.multiplier(i), fraction + 0.001 * (1 - fraction), accuracy: 1e-15)
        }
    }
}
