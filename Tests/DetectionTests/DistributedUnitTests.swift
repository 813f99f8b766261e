import Foundation
import Support
import Torch
import XCTest
@testable import Detection

/// The parts of data-parallel training that need no second process: where the environment
/// places a process, Slurm's host lists, the test-set shards, prediction exchange, DDP's buckets.
final class DistributedUnitTests: XCTestCase {
    func testTorchrunVariables() throws {
        let p = try XCTUnwrap(try Placement.fromEnvironment(["RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1", "MASTER_ADDR": "node7", "MASTER_PORT": "29500"]))
        XCTAssertEqual(p, Placement(rank: 3, worldSize: 4, localRank: 1, masterAddress: "node7", masterPort: 29500, source: "torchrun"))
        XCTAssertNil(try Placement.fromEnvironment([:]))
        XCTAssertNil(try Placement.fromEnvironment(["RANK": "0", "WORLD_SIZE": "1"]), "a world of one is a single process")
        func message(_ env: [String: String]) -> String {
            do { _ = try Placement.fromEnvironment(env); return "no error" } catch { return "\(error)" }
        }
        XCTAssertTrue(message(["WORLD_SIZE": "2"]).contains("RANK and WORLD_SIZE must be set together"))
        XCTAssertTrue(message(["RANK": "x", "WORLD_SIZE": "2"]).contains("RANK must be a whole number, got 'x'"))
        XCTAssertTrue(message(["RANK": "2", "WORLD_SIZE": "2"]).contains("RANK 2 is not a rank of a world of 2"))
        XCTAssertTrue(message(["RANK": "0", "WORLD_SIZE": "0"]).contains("WORLD_SIZE must be at least 1"))
        XCTAssertTrue(message(["RANK": "0", "WORLD_SIZE": "2", "MASTER_PORT": "1"]).contains("MASTER_ADDR is not set"))
        XCTAssertTrue(message(["RANK": "0", "WORLD_SIZE": "2", "MASTER_ADDR": "h"]).contains("MASTER_PORT is not set"))
        XCTAssertTrue(message(["RANK": "0", "WORLD_SIZE": "2", "MASTER_ADDR": "h", "MASTER_PORT": "70000"]).contains("MASTER_PORT must be a port from 1 to 65535, got 70000"))
    }

    func testSlurmVariablesCountOnlyInsideASrunStep() throws {
        let step = ["SLURM_PROCID": "1", "SLURM_STEP_NUM_TASKS": "4", "SLURM_NTASKS": "4", "SLURM_LOCALID": "1", "SLURM_STEP_ID": "0",
                    "SLURM_JOB_NODELIST": "gpu[07-08,10]", "SLURM_JOB_ID": "123456"]
        let p = try XCTUnwrap(try Placement.fromEnvironment(step))
        XCTAssertEqual(p, Placement(rank: 1, worldSize: 4, localRank: 1, masterAddress: "gpu07", masterPort: 20000 + 123456 % 20000, source: "slurm"))
        var batch = step
        batch["SLURM_STEP_ID"] = nil
        XCTAssertNil(try Placement.fromEnvironment(batch), "the batch script is not a rank")
        var given = step
        given["MASTER_ADDR"] = "10.0.0.1"
        given["MASTER_PORT"] = "29400"
        XCTAssertEqual(try Placement.fromEnvironment(given)?.masterAddress, "10.0.0.1")
        XCTAssertEqual(try Placement.fromEnvironment(given)?.masterPort, 29400)
        // torchrun's variables win inside an srun step (torchrun started by srun).
        XCTAssertEqual(try Placement.fromEnvironment(step.merging(["RANK": "0", "WORLD_SIZE": "8", "MASTER_ADDR": "a", "MASTER_PORT": "1"]) { $1 })?.worldSize, 8)
    }

    func testHostLists() throws {
        XCTAssertEqual(try HostList.expand("node[01-03,07],gpu5"), ["node01", "node02", "node03", "node07", "gpu5"])
        XCTAssertEqual(try HostList.expand("a,b"), ["a", "b"])
        XCTAssertEqual(try HostList.expand("c[9-11]"), ["c9", "c10", "c11"])
        XCTAssertEqual(try HostList.expand(""), [])
        XCTAssertThrowsError(try HostList.expand("n[1-")) { XCTAssertTrue("\($0)".contains("'[' without ']'")) }
        XCTAssertThrowsError(try HostList.expand("n[3-1]")) { XCTAssertTrue("\($0)".contains("bad range '3-1'")) }
    }

    func testTestSetShardsCoverEveryImageOnceInOrder() {
        for n in [0, 1, 5, 40, 41] {
            for size in 1...5 {
                let shards = (0..<size).map { GatherPredictions.shard(count: n, rank: $0, size: size) }
                XCTAssertEqual(shards.flatMap { Array($0) }, Array(0..<n), "\(n) images over \(size)")
                XCTAssertLessThanOrEqual((shards.map(\.count).max() ?? 0) - (shards.map(\.count).min() ?? 0), 1)
            }
        }
    }

    func testPredictionsSurviveTheExchange() throws {
        let a = Instances(imageSize: (384, 512), boxes: try Tensor([Float(1.5), 2, 30.25, 40, 0, 0, 511, 383], shape: [2, 4]),
                          scores: try Tensor([Float(0.9), 0.0625], shape: [2]), classes: try Tensor([Int64(3), 0], shape: [2]), imageID: 17)
        let empty = Instances(imageSize: (10, 20), boxes: try Tensor([Float](), shape: [0, 4]), scores: try Tensor([Float](), shape: [0]),
                              classes: try Tensor([Int64](), shape: [0]), imageID: 4)
        let back = try GatherPredictions.decode(try GatherPredictions.encode([a, empty]))
        XCTAssertEqual(back.count, 2)
        XCTAssertEqual(back[0].imageID, 17)
        XCTAssertEqual(back[0].imageSize.0, 384)
        XCTAssertEqual(back[0].imageSize.1, 512)
        XCTAssertEqual(try back[0].asLists().boxes, try a.asLists().boxes)
        XCTAssertEqual(try back[0].asLists().scores, try a.asLists().scores)
        XCTAssertEqual(try back[0].asLists().classes, [3, 0])
        XCTAssertEqual(back[1].count, 0)
        XCTAssertThrowsError(try GatherPredictions.decode([1, 2, 3]))
        XCTAssertThrowsError(try GatherPredictions.decode(Array(try GatherPredictions.encode([a]).dropLast(8))))
    }

    func testBucketsFollowDDPsPlan() throws {
        // 300 KiB, 900 KiB, 2 MiB, 30 MiB, 10 MiB of float32 parameters.
        let sizes = [300 << 8, 900 << 8, 2 << 18, 30 << 18, 10 << 18]
        let parameters = try sizes.map { Parameter(try Tensor.zeros([$0])) }
        let buckets = try DistributedDataParallel.plan(parameters)
        // The first bucket holds at most 1 MiB, the others 25 MiB; a larger parameter goes alone.
        XCTAssertEqual(buckets.map { $0.map { $0.tensor.numel } }, [[300 << 8], [900 << 8, 2 << 18], [30 << 18], [10 << 18]])
    }
}
