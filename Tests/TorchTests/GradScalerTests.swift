import XCTest
@testable import Torch

/// The fp16 loss scaler: gradients unscaled, overflow found in any of them, the scale backing
/// off and growing as PyTorch's GradScaler does (its defaults: 2^16, x2, x0.5, 2000).
final class GradScalerTests: XCTestCase {
    func testUnscaleDividesEveryGradientAndFindsOverflow() throws {
        let s = try GradScaler(initScale: 8)
        XCTAssertEqual(try s.scaled(try Tensor([Float(1.5)])).item(), 12)
        let a = try Tensor([Float(8), -16]), b = try Tensor([Float(4)])
        XCTAssertFalse(try s.unscale([a, b]))
        XCTAssertEqual(try a.toArray(Float.self), [1, -2])
        XCTAssertEqual(try b.toArray(Float.self), [0.5])
        for bad in [Float.infinity, -Float.infinity, Float.nan] {
            XCTAssertTrue(try s.unscale([try Tensor([Float(1)]), try Tensor([Float(2), bad])]), "\(bad)")
        }
        XCTAssertFalse(try s.unscale([]))
    }

    func testScaleBacksOffOnOverflowAndGrowsAfterTheInterval() throws {
        let s = try GradScaler(initScale: 1024, growthInterval: 3)
        s.update(foundInf: false); s.update(foundInf: false)
        XCTAssertEqual(s.scale, 1024)
        XCTAssertEqual(s.growthTracker, 2)
        s.update(foundInf: true)                      // an overflow resets the run of good steps
        XCTAssertEqual(s.scale, 512)
        XCTAssertEqual(s.growthTracker, 0)
        for _ in 0..<3 { s.update(foundInf: false) }
        XCTAssertEqual(s.scale, 1024)
        XCTAssertEqual(s.growthTracker, 0)
        let d = try GradScaler()
        XCTAssertEqual([d.scale, d.growthFactor, d.backoffFactor, Double(d.growthInterval)], [65536, 2, 0.5, 2000])
    }

    func testBadSettingsAndStatesAreErrors() throws {
        XCTAssertThrowsError(try GradScaler(initScale: 0))
        XCTAssertThrowsError(try GradScaler(growthFactor: 1))
        XCTAssertThrowsError(try GradScaler(backoffFactor: 1))
        XCTAssertThrowsError(try GradScaler(growthInterval: 0))
        let s = try GradScaler()
        XCTAssertThrowsError(try s.restore(scale: .infinity, growthTracker: 0)) { XCTAssertTrue("\($0)".contains("positive and finite"), "\($0)") }
        try s.restore(scale: 128, growthTracker: 7)
        XCTAssertEqual(s.scale, 128)
        XCTAssertEqual(s.growthTracker, 7)
    }
}
