import Foundation
import XCTest

/// The fuzzers' inputs through the ordinary build (`lunette-fuzz TARGET FOLDER` replays each once):
/// every seed of every target is read without error (so the fuzzer starts deep in the format, not
/// at its first check), and every input that once crashed a reader (Tests/Fuzz/regressions) now
/// ends in an error or a result, never a signal. libFuzzer itself runs in scripts/fuzz/run.
final class FuzzReplayTests: XCTestCase {
    static let targets = ["pickle", "torchzip", "safetensors", "coco", "config", "image", "video", "luadoc", "metrics", "results", "delivery", "notebook", "ipynb", "jupyter", "scheduler"]
    static let fuzzFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz").path

    func replay(_ target: String, _ folder: String) throws -> (outcomes: [String: String], run: RunResult) {
        let binary = URL(fileURLWithPath: lunettePath).deletingLastPathComponent().appendingPathComponent("lunette-fuzz").path
        let run = try runBuilt(binary, [target, folder], environment: ["LUNETTE_FUZZ_VERBOSE": "1"])
        var outcomes: [String: String] = [:]
        for line in run.stdout.split(separator: "\n") where line.hasPrefix(folder) {
            let rest = line.dropFirst(folder.count + 1)
            guard let colon = rest.firstIndex(of: ":") else { continue }
            outcomes[String(rest[..<colon])] = String(rest[rest.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        }
        return (outcomes, run)
    }

    func testEverySeedIsRead() throws {
        for t in Self.targets {
            let folder = Self.fuzzFolder + "/seeds/" + t
            let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasPrefix(".") }
            XCTAssertFalse(names.isEmpty, "\(t) has no seeds")
            let (outcomes, run) = try replay(t, folder)
            XCTAssertNil(run.signal, "\(t): killed by signal \(run.signal ?? 0)\n\(run.stderr.suffix(800))")
            XCTAssertEqual(run.status, 0, run.stderr)
            for name in names {
                XCTAssertEqual(outcomes[name], "read", "\(t) seed \(name)")
            }
        }
    }

    func testInputsThatOnceCrashedNoLongerDo() throws {
        var replayed = 0
        for t in Self.targets {
            let folder = Self.fuzzFolder + "/regressions/" + t
            // A target the fuzzer never crashed has no folder (luadoc, so far).
            guard FileManager.default.fileExists(atPath: folder) else { continue }
            let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasPrefix(".") }
            let (outcomes, run) = try replay(t, folder)
            XCTAssertNil(run.signal, "\(t): killed by signal \(run.signal ?? 0)\n\(run.stderr.suffix(800))")
            XCTAssertEqual(run.status, 0, run.stderr)
            XCTAssertEqual(Set(outcomes.keys), Set(names), "\(t): every regression input has an outcome")
            replayed += names.count
        }
        XCTAssertGreaterThan(replayed, 0)
    }
}
