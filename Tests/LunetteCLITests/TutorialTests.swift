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
        // The progress bar is one output holding its last state (not lines of terminal codes).
        let bars = r.outputs("Train").filter { NotebookCLITests.text($0["data"]?["text/html"]).contains("<progress") }
        XCTAssertEqual(bars.count, 1)
        XCTAssertEqual(bars.first?["output_type"], .string("display_data"))
        XCTAssertTrue(NotebookCLITests.text(bars.first?["data"]?["text/plain"]).hasPrefix("train 10/10"), "\(String(describing: bars.first))")
        XCTAssertFalse(r.outputs("Train").contains { NotebookCLITests.text($0["text"]).contains("\u{1B}[") })
    }

    /// The sizes every later tutorial takes in the test (01 built the data at these sizes).
    static let small = ["train_images": "8", "val_images": "4"]

    func test03Evaluate() throws {
        let r = try run("03_evaluate", Self.small.merging(["iterations": "20"]) { a, _ in a })
        XCTAssertTrue(r.printed("Data").contains("classes:\tlogo, product"), r.printed("Data"))
        XCTAssertTrue(r.printed("COCO AP").contains("Evaluation results for bbox:"))
        let ap = try XCTUnwrap(r.number(after: "AP = "))
        XCTAssertTrue((0...100).contains(ap), "AP \(ap)")
        XCTAssertTrue(r.printed("Presence accuracy").contains("overall"))
        XCTAssertTrue(r.printed("Confusion matrices").contains("logo at 0.80"))
        XCTAssertTrue(r.printed("Confusion matrices").contains("truth \\ predicted"))
        XCTAssertGreaterThanOrEqual(r.pictures("Model"), 1)            // the training curves
        XCTAssertGreaterThanOrEqual(r.pictures("COCO AP"), 1)          // the PR curves
        XCTAssertGreaterThanOrEqual(r.pictures("Presence accuracy"), 1)
        XCTAssertEqual(r.pictures("Confusion matrices"), 2)
        // The Haar baseline does not depend on the model: exact counts.
        for s in ["basketball1.png      2 face(s) found", "messi5.jpg           2 face(s) found", "Megamind_000080.jpg  4 face(s) found"] {
            XCTAssertTrue(r.printed("Haar cascades").contains(s), s)
        }
        XCTAssertEqual(r.pictures("Haar cascades"), 1)
        XCTAssertTrue(r.printed("Haar baseline").contains("face          0.20   8   1   0   5    0.9286"), r.printed("Haar baseline"))
        XCTAssertTrue(r.printed("Haar baseline").contains("Haar presence accuracy on 14 images: 0.929"))
    }

    func test04Tune() throws {
        let r = try run("04_tune", Self.small.merging(["scale": "0.02", "grid_size": "2", "brand": "brandA"]) { a, _ in a })
        XCTAssertTrue(r.printed("Data").contains("validation images have a logo"), r.printed("Data"))
        XCTAssertTrue(r.printed("Base config").contains("SOLVER.MAX_ITER:\t6, 10\t  BATCH_SIZE_PER_IMAGE:\t256, 512"), r.printed("Base config"))
        XCTAssertTrue(r.printed("Grid search").contains("grid search: 4 trials in"))
        XCTAssertEqual(r.pictures("Heat maps"), 1)
        let threshold = try XCTUnwrap(r.number(after: "logo: threshold"))
        XCTAssertTrue((0.2...0.99).contains(threshold), "threshold \(threshold)")
        XCTAssertEqual(r.pictures("Thresholds"), 1)
        // One row for the brand and object given as parameters.
        let table = r.printed("Final models").split(separator: "\n").filter { $0.hasPrefix("brandA ") && !$0.contains(" / ") }
        XCTAssertEqual(table.count, 1, r.printed("Final models"))
        XCTAssertTrue(table.first?.contains("logo") == true)
        XCTAssertTrue(r.printed("Rerun").contains("second run: 4 trials"), r.printed("Rerun"))
        XCTAssertFalse(r.outputs("Rerun").contains { NotebookCLITests.text($0["text"]).contains("Starting training") })
    }

    func test05Detect() throws {
        let r = try run("05_detect", Self.small.merging(["iterations": "20", "n_creatives": "4", "every": "90"]) { a, _ in a })
        // Four images, a video and a broken file: the broken one is recorded, the job goes on.
        XCTAssertTrue(r.printed("Bulk detection").contains("creatives: 5 done, 1 failed, 0 left"), r.printed("Bulk detection"))
        XCTAssertTrue(r.printed("Bulk detection").contains("broken.jpg: the JPEG ends before its end-of-image marker"))
        // The rerun finds everything done and tries only the failed file again.
        XCTAssertTrue(r.printed("Resume").contains("this run: 1 creatives"), r.printed("Resume"))
        XCTAssertTrue(r.printed("Resume").contains("after 5 already done"))
        XCTAssertTrue(r.printed("Feature table").contains("feature table: 5 creatives"), r.printed("Feature table"))
        XCTAssertTrue(r.printed("Marketing-mix table").contains("3 weeks x 21 columns"), r.printed("Marketing-mix table"))
        let dir = try Self.scratch()
        let features = try String(contentsOfFile: dir + "/out/detect/demo_features.csv", encoding: .utf8)
        XCTAssertEqual(features.split(separator: "\n").count, 6)
        XCTAssertTrue(features.contains(",video,"))
        let weekly = try String(contentsOfFile: dir + "/out/detect/demo_mmm_weekly.csv", encoding: .utf8)
        XCTAssertTrue(weekly.hasPrefix("DATE,meta_I,meta_S,meta_logo_I,meta_nologo_I"), weekly)
        XCTAssertEqual(weekly.split(separator: "\n").count, 4)
    }
}
