import Foundation
import XCTest
import Torch
@testable import Detection

/// SOLVER.AMP.ENABLED on the CPU: the convolutions and linear layers train in bf16 where the CPU
/// has bf16 instructions (fp32 weights, losses, gradients and checkpoints; evaluation fp32), and
/// fp32, said once, where it has none.
extension TrainerTests {
    func testMixedPrecisionTrainsInBF16AndKeepsEverythingElseFP32() throws {
        let data = try catalog()
        let exact = try DefaultTrainer(cfg: try config(["SOLVER.MAX_ITER", "3"], output: scratch + "/fp32"), catalog: data)
        XCTAssertFalse(exact.ampEnabled)
        XCTAssertEqual(exact.trainingPrecision, .fp32)
        try exact.resumeOrLoad(resume: false)
        try exact.train()

        let amp = try DefaultTrainer(cfg: try config(["SOLVER.MAX_ITER", "3", "SOLVER.AMP.ENABLED", "True"], output: scratch + "/amp"), catalog: data)
        XCTAssertTrue(amp.ampEnabled)
        XCTAssertNil(amp.gradScaler, "bf16 has fp32's range: no loss scaler on the CPU")
        let native = TorchRuntime.cpuBF16Instructions != nil
        XCTAssertEqual(amp.trainingPrecision, native ? .bf16 : .fp32)
        try amp.resumeOrLoad(resume: false)
        try amp.train()
        XCTAssertEqual(amp.model.computeDType, .float32, "after training the model computes fp32 again")

        // Iteration 0 starts from the same weights with the same anchors sampled, so the RPN's
        // losses differ by bf16's rounding of the products only (8 significant bits: well under
        // 1 %); they must differ at all, or bf16 did not run.
        for name in ["loss_rpn_cls", "loss_rpn_loc"] {
            let a = exact.storage.history(name)[0], b = amp.storage.history(name)[0]
            if native {
                XCTAssertNotEqual(a, b, "\(name): bf16 gave fp32's value exactly")
                XCTAssertLessThan(abs(a - b) / a, 0.01, "\(name): fp32 \(a), bf16 \(b)")
            } else {
                XCTAssertEqual(a, b, "\(name): without bf16 instructions AMP trains fp32")
            }
        }
        // The checkpoint is fp32, whatever the layers computed in.
        let final = try Checkpoint.load(scratch + "/amp/model_final.pth")
        XCTAssertFalse(final.stateDict.isEmpty)
        for (name, t) in final.stateDict where t.dtype.isFloatingPoint { XCTAssertEqual(t.dtype, .float32, name) }
    }

    func testMixedPrecisionWithoutBF16InstructionsTrainsFP32AndSaysSoOnce() throws {
        let saved = TorchRuntime.cpuBF16Instructions
        TorchRuntime.cpuBF16Instructions = nil
        defer { TorchRuntime.cpuBF16Instructions = saved }
        _ = DetectionLog.shared.takeWarnings()
        DetectionLog.shared.forgetWarningsGivenOnce()
        let data = try catalog()
        for k in 0..<2 {
            let t = try DefaultTrainer(cfg: try config(["SOLVER.AMP.ENABLED", "True"], output: scratch + "/fallback\(k)"), catalog: data)
            XCTAssertEqual(t.trainingPrecision, .fp32)
            XCTAssertNil(t.gradScaler)
        }
        let said = DetectionLog.shared.takeWarnings().filter { $0.contains("SOLVER.AMP.ENABLED on cpu") }
        XCTAssertEqual(said.count, 1, "\(said)")
        XCTAssertTrue(said.first?.contains("no bf16 instructions") == true && said.first?.contains("training in fp32") == true, "\(said)")
    }
}
