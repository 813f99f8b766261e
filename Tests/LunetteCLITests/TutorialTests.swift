import Foundation
import Support
import TestFixtures
import XCTest

/// The tutorials in notebooks/, run as an analyst runs them (`lunette notebook run`) at the
/// small sizes their parameters allow, in one shared `out` folder as a new team member would
/// run them in order. Each is checked for what it teaches: its tables, numbers in range, and
/// pictures — not only that it finished.
final class TutorialTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("notebooks").path
    nonisolated(unsafe) static var shared: String?

    /// One scratch folder for the whole class: 01 builds the data 02 trains on, and so on.
    static func scratch() throws -> String {
        if let s = shared { return s }
        let s = try scratchDirectory()
        shared = s
        return s
    }

    override class func tearDown() {
        if let s = shared { try? FileManager.default.removeItem(atPath: s) }
        shared = nil
    }

    /// A run notebook: its cells by title, everything it printed.
    struct Run {
        let cells: [JSONValue]
        let path: String

        var code: [JSONValue] { cells.filter { $0["cell_type"] == .string("code") } }

        func cell(_ title: String, file: StaticString = #filePath, line: UInt = #line) -> JSONValue {
            guard let c = code.first(where: { $0["metadata"]?["title"] == .string(title) }) else {
                XCTFail("no cell titled \(title)", file: file, line: line)
                return .null
            }
            return c
        }

        func outputs(_ title: String) -> [JSONValue] { cell(title)["outputs"]?.array ?? [] }

        /// What the cell printed to stdout.
        func printed(_ title: String) -> String {
            outputs(title).filter { $0["output_type"] == .string("stream") && $0["name"] == .string("stdout") }
                .map { NotebookCLITests.text($0["text"]) }.joined()
        }

        var stdout: String { code.map { c in
            (c["outputs"]?.array ?? []).filter { $0["name"] == .string("stdout") }.map { NotebookCLITests.text($0["text"]) }.joined()
        }.joined() }

        /// The text of the cell's result (its last expression).
        func result(_ title: String) -> String {
            outputs(title).filter { $0["output_type"] == .string("execute_result") }.map { NotebookCLITests.text($0["data"]?["text/plain"]) }.joined(separator: "\t")
        }

        /// How many pictures the cell shows (results and display() calls).
        func pictures(_ title: String) -> Int {
            outputs(title).filter { $0["data"]?["image/png"] != nil }.count
        }

        /// The first number after `prefix` in the notebook's printed text.
        func number(after prefix: String, file: StaticString = #filePath, line: UInt = #line) -> Double? {
            guard let r = stdout.range(of: prefix) else { XCTFail("no \"\(prefix)\" in the output", file: file, line: line); return nil }
            let rest = stdout[r.upperBound...].drop { $0 == " " }
            return Double(String(rest.prefix { $0.isNumber || $0 == "." || $0 == "-" || $0 == "e" }))
        }
    }

    func run(_ name: String, _ parameters: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) throws -> Run {
        let dir = try Self.scratch()
        var args = ["notebook", "run", Self.folder + "/\(name).lua", "--to", dir + "/\(name).ipynb", "--html", dir + "/\(name).html",
                    "-p", "out", dir + "/out", "--timeout", "600"]
        for (k, v) in parameters.sorted(by: { $0.key < $1.key }) { args += ["-p", k, v] }
        let r = try runLunette(args, environment: ["OMP_NUM_THREADS": "2"], directory: dir)
        XCTAssertEqual(r.status, 0, "\(name): \(r.stderr.suffix(4000))", file: file, line: line)
        try assertValidNotebooks([dir + "/\(name).ipynb"], file: file, line: line)
        let nb = try JSON.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/\(name).ipynb"))))
        let run = Run(cells: nb["cells"]?.array ?? [], path: dir + "/\(name).ipynb")
        // Every code cell ran and none failed.
        for c in run.code {
            XCTAssertEqual(c["metadata"]?["papermill"]?["status"], .string("completed"), "\(name): \(c["metadata"]?["title"] ?? .null)", file: file, line: line)
        }
        return run
    }

    func test00LuaForPythonUsers() throws {
        let r = try run("00_lua_for_python_users")
        XCTAssertEqual(r.result("A config"), "0.0025")
        for s in ["{ logo = 0.43, product = 0.61 }", "1\t0\tlogo", "2\t1\tproduct", "3\t0\tlogo",
                  "unknown option 'bach'; did you mean batch?", "Type mismatch (float vs. str) with values (0.0025 vs. 'fast') for config key: SOLVER.BASE_LR",
                  "detectron2.solver.linear_scaled_lr(options) -> number"] {
            XCTAssertTrue(r.stdout.contains(s), s)
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: try Self.scratch() + "/out/faster_rcnn_small.yaml"))
    }

    func test01Datasets() throws {
        let r = try run("01_datasets", ["train_images": "8", "val_images": "4"])
        XCTAssertTrue(r.printed("Look at the training set").contains("Dataset 'demo_train': 8 images, 17 annotations"), r.printed("Look at the training set"))
        XCTAssertTrue(r.printed("Look at the training set").contains("thing_classes:\t{ \"logo\", \"product\" }"))
        XCTAssertEqual(r.result("Register"), "{ \"demo_train\", \"demo_val\" }")
        XCTAssertTrue(r.printed("A record").contains("box 1: product  x 241 y 114 w 124 h 124"), r.printed("A record"))
        XCTAssertEqual(r.result("Draw one creative"), "cv.Image 512x384 rgb")
        XCTAssertEqual(r.pictures("Draw one creative"), 1)
        XCTAssertTrue(r.printed("Frames").contains("7 frames written to"), r.printed("Frames"))
        XCTAssertTrue(r.printed("Frames").contains("tree_000060.jpg"))
        XCTAssertEqual(r.pictures("Frames"), 2)       // display() of the first frame, and the last as the result
    }

    func test02Train() throws {
        let r = try run("02_train", ["iterations": "20", "train_images": "8", "val_images": "4"])
        XCTAssertEqual(r.result("Learning rate"), "0.0025")
        XCTAssertTrue(r.stdout.contains("ours: BASE_LR 0.0025 at IMS_PER_BATCH 2; 20 iterations"), r.stdout)
        XCTAssertTrue(r.stdout.contains("resumed from") && r.stdout.contains("at iteration 10 of 20"), r.stdout)
        let loss = try XCTUnwrap(r.number(after: "final loss:"))
        XCTAssertTrue(loss.isFinite && loss > 0 && loss < 2.5, "final loss \(loss)")
        XCTAssertEqual(r.pictures("Curves"), 1)
        XCTAssertEqual(r.pictures("Resume"), 1)
        XCTAssertTrue(r.result("Result").contains("total_loss"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: try Self.scratch() + "/out/train/model_final.pth"))
        // The training log lines (stderr, at the fd level) are in the notebook too.
        XCTAssertTrue(r.outputs("Train").contains { $0["name"] == .string("stderr") && NotebookCLITests.text($0["text"]).contains("Starting training from iteration 0") })
    }
}
