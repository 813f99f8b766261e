import Foundation
import XCTest
import Torch
@testable import Detection

final class CheckpointTests: XCTestCase {
    override func setUp() { DetectionLog.shared.echo = false }

    func testFixtureWeightsReadTheSameFromPthAndPkl() throws {
        let pth = try Checkpoint.load(try Fixtures.path("random/model_final.pth"))
        let pkl = try Checkpoint.load(try Fixtures.path("random/weights.pkl"))
        XCTAssertEqual(pth.format, "torch-zip")
        XCTAssertEqual(pkl.format, "pickle")
        XCTAssertEqual(pth.model.count, 295)
        XCTAssertEqual(pth.model.map(\.name), pkl.model.map(\.name))
        let manifest = try JSON.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: try Fixtures.path("random/weights_manifest.json")))))
        var values = 0
        for ((name, a), (_, b)) in zip(pth.model, pkl.model) {
            XCTAssertTrue(try a.equal(b), name)
            XCTAssertEqual(a.shape, manifest[name]?["shape"]?.array?.compactMap { $0.integer }.map { Int($0) }, name)
            values += a.numel
        }
        XCTAssertEqual(values, 1_678_105, "the README's count")
        // Through safetensors and back.
        let dir = try scratch("ckpt")
        try SafeTensors.write(pth.model, to: dir + "/m.safetensors")
        let st = try Checkpoint.load(dir + "/m.safetensors")
        XCTAssertEqual(st.format, "safetensors")
        for ((n, a), (_, b)) in zip(pth.model, st.model) { XCTAssertTrue(try a.equal(b), n) }
    }

    func testTrainedCheckpointWithOptimizerState() throws {
        let c = try Checkpoint.load(try Fixtures.path("trained/model_final.pth"))
        XCTAssertEqual(c.model.count, 295)
        XCTAssertNotNil(c.iteration)
    }

    func testHostilePicklesAreRefusedByName() throws {
        let dir = try scratch("pickle")
        // pickle.dumps(os.system) and a REDUCE of posix.system("echo hi"), protocol 2.
        let evil: [UInt8] = [0x80, 0x02, 0x63] + Array("posix\nsystem\n".utf8) + [0x71, 0x00, 0x58, 0x07, 0x00, 0x00, 0x00] + Array("echo hi".utf8) + [0x85, 0x52, 0x2E]
        try Data(evil).write(to: URL(fileURLWithPath: dir + "/evil.pkl"))
        XCTAssertThrowsError(try Checkpoint.load(dir + "/evil.pkl")) { error in
            XCTAssertTrue("\(error)".contains("refusing the global posix.system"), "\(error)")
        }
        try Data([0x80, 0x02, 0x7D, 0x71, 0x00, 0x28, 0x75, 0x2E]).write(to: URL(fileURLWithPath: dir + "/empty.pkl"))
        XCTAssertThrowsError(try Checkpoint.load(dir + "/empty.pkl")) { XCTAssertTrue("\($0)".contains("no tensors found")) }
        let pth = try Data(contentsOf: URL(fileURLWithPath: try Fixtures.path("random/model_final.pth")))
        try pth.prefix(pth.count / 2).write(to: URL(fileURLWithPath: dir + "/truncated.pth"))
        XCTAssertThrowsError(try Checkpoint.load(dir + "/truncated.pth"))
        XCTAssertThrowsError(try Checkpoint.load(dir + "/missing.pth")) { XCTAssertTrue("\($0)".contains("cannot open")) }
    }
}
