import Foundation
import XCTest
import TestFixtures

/// On a real scheduler: a one-node Slurm cluster on this machine (scripts/slurm/local-cluster.sh:
/// munged, slurmctld and slurmd on localhost, everything in a scratch folder), given the jobs
/// scripts/slurm submits: a grid as an array of 4 tasks with a collect job after them, a bulk
/// job as 2 shards with a merge after them (--dependency=afterok), and a 2-task srun of
/// distributed training. Results must equal the single-process runs'.
final class SlurmTests: XCTestCase {
    var repository: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }
    var fixtures: String {
        URL(fileURLWithPath: repository).deletingLastPathComponent().appendingPathComponent("shared/fixtures/detectron2/public").path
    }
    var scripts: String { repository + "/Tests/LunetteCLITests/Scripts" }

    func shell(_ script: String, _ env: [String: String]) throws -> RunResult {
        try runBuilt("/bin/bash", ["-c", "set -euo pipefail; " + script], environment: env)
    }

    func testGridBulkAndDistributedTrainingOnSlurm() throws {
        for tool in ["/usr/sbin/munged", "/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/bin/sbatch"] where !FileManager.default.fileExists(atPath: tool) {
            throw Missing.requirement("\(tool) is missing: apt-get install slurm-wlm munge (scripts/test installs them)")
        }
        _ = try Fixtures.path("data/annotations/instances_train.json")
        let dir = try scratchDirectory()
        let cluster = dir + "/cluster"
        let port = 20000 + Int(getpid() % 20000)
        let start = try shell("\(repository)/scripts/slurm/local-cluster.sh start \(cluster)", ["SLURM_LOCAL_PORT": String(port)])
        defer {
            _ = try? shell("\(repository)/scripts/slurm/local-cluster.sh stop \(cluster)", [:])
            try? FileManager.default.removeItem(atPath: dir)
        }
        XCTAssertEqual(start.status, 0, start.stderr)
        guard start.status == 0 else { return }
        let env = ["SLURM_CONF": cluster + "/slurm.conf", "LUNETTE": lunettePath, "OMP_NUM_THREADS": "1", "ARRAY_BATCHES": "16,32,48,64"]
        let lua = "\"$LUNETTE\" \(scripts)/tuning_search.lua \(fixtures) \(dir) \(scripts)/tiny_config.lua"
        // sbatch --wait returns when its job ends; every job is bounded by `timeout`.
        let wait = "timeout 900 sbatch --wait --parsable -o \(dir)/%x-%j.out"

        // 1. The grid: plan here, 4 array tasks, collect after them (afterok).
        let grid = try shell("""
            \(lua) plan
            n=$("$LUNETTE" tune tasks \(dir)/array)
            tasks=$(sbatch --parsable --array=0-$((n - 1)) --cpus-per-task=1 -o \(dir)/task-%a.out \(repository)/scripts/slurm/grid-task.sbatch \(dir)/array)
            \(wait) --dependency=afterok:$tasks \(repository)/scripts/slurm/grid-collect.sbatch \(dir)/array
            echo "tasks $n"
            """, env)
        XCTAssertEqual(grid.status, 0, grid.stderr + ((try? String(contentsOfFile: dir + "/task-0.out", encoding: .utf8)) ?? ""))
        XCTAssertTrue(grid.stdout.contains("tasks 4"), grid.stdout)
        let collectOut = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix("lunette-grid-collect-") }
        XCTAssertEqual(collectOut.count, 1)
        let collected = try String(contentsOfFile: dir + "/" + (collectOut.first ?? ""), encoding: .utf8)
        XCTAssertTrue(collected.contains("collected 4 finished and 0 failed trials; every trial has a result"), collected)
        let reference = try shell("\(lua) reference && \(lua) arrays && \(lua) registry", env)
        XCTAssertEqual(reference.status, 0, reference.stderr.suffix(2000).description)
        let trials = reference.stdout.split(separator: "\n").filter { $0.hasPrefix("array trial") }
        XCTAssertEqual(trials.count, 4, reference.stdout)
        for line in trials { XCTAssertTrue(line.hasSuffix("\tdone\ttrue\tweights differ\t0"), String(line)) }

        // 2. Bulk detection: 2 shards as an array, the merge after them; then one process alone.
        let detectArgs = "--models \(dir)/models.sqlite --brand brandA --images '\(fixtures)/data/val/val_0000[0-7].jpg' --batch-size 2"
        let bulk = try shell("""
            shards=$(sbatch --parsable --array=1-2 --cpus-per-task=1 -o \(dir)/shard-%a.out \(repository)/scripts/slurm/bulk-shard.sbatch \(detectArgs) --out \(dir)/bulk/brandA.sqlite)
            \(wait) --dependency=afterok:$shards \(repository)/scripts/slurm/bulk-merge.sbatch \(dir)/bulk/brandA.sqlite 2
            "$LUNETTE" detect \(detectArgs) --out \(dir)/alone/brandA.sqlite > /dev/null
            "$LUNETTE" detect export \(dir)/bulk/brandA.sqlite --csv \(dir)/bulk.csv --all > /dev/null
            "$LUNETTE" detect export \(dir)/alone/brandA.sqlite --csv \(dir)/alone.csv --all > /dev/null
            """, env)
        XCTAssertEqual(bulk.status, 0, bulk.stderr + ((try? String(contentsOfFile: dir + "/shard-1.out", encoding: .utf8)) ?? ""))
        let shardLog = (try? String(contentsOfFile: dir + "/shard-2.out", encoding: .utf8)) ?? ""
        XCTAssertTrue(shardLog.contains("shard 2/2 from SLURM_ARRAY_TASK_ID 2 of SLURM_ARRAY_TASK_COUNT 2"), shardLog)
        let merged = try String(contentsOfFile: dir + "/bulk.csv", encoding: .utf8), alone = try String(contentsOfFile: dir + "/alone.csv", encoding: .utf8)
        XCTAssertGreaterThan(merged.split(separator: "\n").count, 1, merged)
        XCTAssertEqual(merged, alone, "the merged shards hold what one process finds")

        // 3. Distributed training: srun starts 2 tasks, which find their ranks in Slurm's variables.
        let train = try shell("""
            \(wait) -n 2 --cpus-per-task=1 \(repository)/scripts/slurm/train.sbatch \(scripts)/data_parallel.lua \(fixtures) \(dir)/ddp \(scripts)/tiny_config.lua 2
            cat \(dir)/lunette-train-*.out
            """, env.merging(["DP_LR": "0.0001", "DP_ITERATIONS": "3"]) { $1 })
        XCTAssertEqual(train.status, 0, train.stdout + train.stderr)
        XCTAssertTrue(train.stdout.contains("joined the world as rank 0 of 2") && train.stdout.contains("from slurm"), train.stdout)
        XCTAssertTrue(train.stdout.contains("rank 0 of 2 done") && train.stdout.contains("rank 1 of 2 done"), train.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/ddp/model_final.pth"))
    }
}
