import Foundation
import XCTest

/// The GPU bundle's launcher (scripts/gpu/launcher): it runs the bundle's lunette with a torch
/// found at run time only when that torch is the release and CUDA version the bundle was built
/// against, and otherwise refuses, naming both. Exercised on a bundle whose lunette is a stub.
final class GPUBundleTests: XCTestCase {
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    func write(_ text: String, _ path: String, executable: Bool = false) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        if executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path) }
    }

    func torch(_ dir: String, version: String, cuda: String?) throws -> String {
        try write("__version__ = '\(version)'\ndebug = False\ncuda: Optional[str] = \(cuda.map { "'\($0)'" } ?? "None")\n", dir + "/version.py")
        try write("", dir + "/lib/libtorch_cpu.so")
        return dir
    }

    func testTheLauncherRunsOnlyWithTheTorchItWasBuiltFor() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bundle = dir + "/bundle"
        try write("2.11.0+cu130\n", bundle + "/TORCH_VERSION")
        try write("13.0\n", bundle + "/TORCH_CUDA")
        try write("#!/bin/sh\necho \"ran $* with $LD_LIBRARY_PATH\"\n", bundle + "/bin/lunette", executable: true)
        try FileManager.default.copyItem(atPath: repository + "/scripts/gpu/launcher", toPath: bundle + "/lunette")
        func launch(_ torch: String?, python: String? = nil) throws -> RunResult {
            var env = ["LD_LIBRARY_PATH": "/elsewhere"]
            if let torch { env["LUNETTE_TORCH"] = torch }
            if let python { env["LUNETTE_PYTHON"] = python }
            return try runBuilt("/bin/sh", [bundle + "/lunette", "-e", "print(1)"], environment: env)
        }

        let same = try torch(dir + "/same", version: "2.11.0+cu130", cuda: "13.0")
        let ran = try launch(same)
        XCTAssertEqual(ran.status, 0, ran.stderr)
        XCTAssertEqual(ran.stdout, "ran -e print(1) with \(same)/lib:/elsewhere\n")
        // PyPI's build of the same release, without the local tag.
        let untagged = try launch(try torch(dir + "/untagged", version: "2.11.0", cuda: "13.0"))
        XCTAssertEqual(untagged.status, 0, untagged.stderr)

        let newer = try launch(try torch(dir + "/newer", version: "2.13.0+cpu", cuda: nil))
        XCTAssertEqual(newer.status, 1)
        XCTAssertEqual(newer.stdout, "")
        XCTAssertTrue(newer.stderr.contains("built against libtorch 2.11.0+cu130 (CUDA 13.0), but the torch found at run time is 2.13.0+cpu (CPU only) in \(dir)/newer"), newer.stderr)
        XCTAssertTrue(newer.stderr.contains("scripts/gpu/bundle --torch"), newer.stderr)
        // The same release built for the CPU: its libtorch has no CUDA for the bundle's lunette.
        let cpu = try launch(try torch(dir + "/cpu", version: "2.11.0+cpu", cuda: nil))
        XCTAssertEqual(cpu.status, 1)
        XCTAssertTrue(cpu.stderr.contains("2.11.0+cpu (CPU only)"), cpu.stderr)
        let otherCUDA = try launch(try torch(dir + "/cu128", version: "2.11.0+cu128", cuda: "12.8"))
        XCTAssertEqual(otherCUDA.status, 1)
        XCTAssertTrue(otherCUDA.stderr.contains("2.11.0+cu128 (CUDA 12.8)"), otherCUDA.stderr)

        let notTorch = try launch(dir)
        XCTAssertEqual(notTorch.status, 1)
        XCTAssertTrue(notTorch.stderr.contains("\(dir) is not a torch folder"), notTorch.stderr)
        let noPython = try launch(nil, python: dir + "/no-such-python")
        XCTAssertEqual(noPython.status, 1)
        XCTAssertTrue(noPython.stderr.contains("cannot import torch; this bundle needs torch 2.11.0+cu130"), noPython.stderr)
    }
}
