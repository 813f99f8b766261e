import Foundation
import XCTest
import TestFixtures

/// The bad-input catalogue: each case is Lua run by a fresh `lunette` process in a scratch
/// folder holding broken files (see `makeBadFiles`). No case may kill the process with a signal;
/// each must fail with a message that contains every `expect` string (what was wrong, where).
/// Adding a case is one line.
final class BadInputCatalogueTests: XCTestCase {
    struct Case {
        let name: String
        let lua: String
        let expect: [String]
    }

    static let fixtureConfig = "(os.getenv('FIXTURES') .. '/random/config.yaml')"
    /// A config of the small fixture model, then `changes` (Lua statements on cfg), then `action`.
    static func model(_ changes: String, _ action: String = "d2.modeling.build_model(cfg)") -> String {
        "local d2 = require 'detectron2'; local cfg = d2.config.get_cfg(); cfg:merge_from_file(\(fixtureConfig)); \(changes); \(action)"
    }

    static let cases: [Case] = [
        // ---- numbers that do not fit ----
        Case(name: "draw_rectangle NaN", lua: "local cv = require 'cv'; cv.new_image(10, 10):draw_rectangle({0/0, 0, 5, 5})", expect: ["box[1] is NaN"]),
        Case(name: "draw_rectangle inf", lua: "local cv = require 'cv'; cv.new_image(10, 10):draw_rectangle({0, 0, math.huge, 5})", expect: ["box[3] is infinite"]),
        Case(name: "draw_rectangle 1e300", lua: "local cv = require 'cv'; cv.new_image(10, 10):draw_rectangle({0, 0, 1e300, 5})", expect: ["box[3] = 1e+300 is too large"]),
        Case(name: "draw_line NaN", lua: "local cv = require 'cv'; cv.new_image(10, 10):draw_line({0/0, 0}, {5, 5})", expect: ["from[1] is NaN"]),
        Case(name: "draw_line 1e300", lua: "local cv = require 'cv'; cv.new_image(10, 10):draw_line({0, 0}, {1e300, 5})", expect: ["to[1] = 1e+300"]),
        Case(name: "draw_text NaN", lua: "local cv = require 'cv'; cv.new_image(10, 10):draw_text('hi', 0/0, 3)", expect: ["x is NaN"]),
        Case(name: "draw_text 1e300", lua: "local cv = require 'cv'; cv.new_image(10, 10):draw_text('hi', 3, 1e300)", expect: ["y = 1e+300"]),
        Case(name: "visualizer NaN box", lua: "local cv, d2 = require 'cv', require 'detectron2'; d2.utils.visualizer.Visualizer(cv.new_image(10, 10)):draw_instance_predictions({{box = {0/0, 0, 4, 4}, score = 0.5, class = 0}})", expect: ["box[1] is NaN"]),
        Case(name: "visualizer 1e300 box", lua: "local cv, d2 = require 'cv', require 'detectron2'; d2.utils.visualizer.Visualizer(cv.new_image(10, 10)):draw_instance_predictions({{box = {0, 0, 1e300, 4}, score = 0.5, class = 0}})", expect: ["box[3] = 1e+300 is too large"]),
        // ---- model inputs ----
        Case(name: "model with an empty batch", lua: model("", "d2.modeling.build_model(cfg)({})"), expect: ["batch"]),
        Case(name: "model with three empty tables", lua: model("", "d2.modeling.build_model(cfg)({}, {}, {})"), expect: ["batch"]),
        Case(name: "model with a 2-D image", lua: model("", "local torch = require 'torch'; d2.modeling.build_model(cfg)({{image = torch.zeros({8, 8})}})"), expect: ["image", "(3, H, W)"]),
        // ---- checkpoints ----
        Case(name: "a folder as MODEL.WEIGHTS", lua: model("cfg.MODEL.WEIGHTS = 'folder.safetensors'", "d2.engine.DefaultPredictor(cfg)"), expect: ["folder.safetensors", "folder"]),
        Case(name: "a folder to model:load", lua: model("", "d2.modeling.build_model(cfg):load('folder.safetensors')"), expect: ["folder.safetensors", "folder"]),
        Case(name: "a folder to DetectionCheckpointer", lua: model("", "d2.checkpoint.DetectionCheckpointer(d2.modeling.build_model(cfg)):load('folder.safetensors')"), expect: ["folder.safetensors"]),
        Case(name: "safetensors of random bytes", lua: model("", "d2.modeling.build_model(cfg):load('random.safetensors')"), expect: ["random.safetensors"]),
        Case(name: "safetensors header length 2^64-1", lua: model("", "d2.modeling.build_model(cfg):load('huge_header.safetensors')"), expect: ["huge_header.safetensors"]),
        Case(name: "safetensors shape overflow", lua: model("", "d2.modeling.build_model(cfg):load('overflow.safetensors')"), expect: ["overflow.safetensors"]),
        Case(name: "safetensors offsets past the end", lua: "local torch = require 'torch'; torch.load('short.safetensors')", expect: ["short.safetensors"]),
        Case(name: "torch.load of a folder", lua: "local torch = require 'torch'; torch.load('folder.safetensors')", expect: ["folder.safetensors"]),
        Case(name: "empty checkpoint", lua: model("", "d2.modeling.build_model(cfg):load('empty.pth')"), expect: ["empty.pth"]),
        // ---- configs ----
        Case(name: "RPN on p3..p6", lua: model("cfg.MODEL.RPN.IN_FEATURES = {'p3', 'p4', 'p5', 'p6'}; cfg.MODEL.ANCHOR_GENERATOR.SIZES = {{32}, {64}, {128}, {256}}", "print(d2.modeling.build_model(cfg)); error('built')"), expect: ["built"]),
        Case(name: "MASK_ON", lua: model("cfg.MODEL.MASK_ON = true"), expect: ["MODEL.MASK_ON = True is not supported"]),
        Case(name: "ROI_HEADS.NAME", lua: model("cfg.MODEL.ROI_HEADS.NAME = 'CascadeROIHeads'"), expect: ["MODEL.ROI_HEADS.NAME 'CascadeROIHeads' is not supported"]),
        Case(name: "a _BASE_ that is a folder", lua: "local d2 = require 'detectron2'; d2.config.get_cfg():merge_from_file('base_folder.yaml')", expect: ["folder"]),
        Case(name: "a config that is a folder", lua: "local d2 = require 'detectron2'; d2.config.get_cfg():merge_from_file('folder.safetensors')", expect: ["folder.safetensors"]),
        // ---- config values, checked when set ----
        Case(name: "a key set to nil", lua: model("cfg.SOLVER.MAX_ITER = nil"), expect: ["cfg.SOLVER.MAX_ITER = nil: config keys cannot be removed"]),
        Case(name: "a node set to nil", lua: model("cfg.MODEL = nil"), expect: ["cfg.MODEL = nil", "a config node"]),
        Case(name: "a list of mixed values", lua: model("cfg.INPUT.MIN_SIZE_TRAIN = {256, 'x', {}}"), expect: ["INPUT.MIN_SIZE_TRAIN", "element 2", "numbers"]),
        Case(name: "unsorted steps", lua: model("cfg.SOLVER.STEPS = {300, 100}"), expect: ["SOLVER.STEPS = [300, 100]: must increase"]),
        Case(name: "unsorted steps from a list", lua: model("cfg:merge_from_list({'SOLVER.STEPS', '(5, 3)'})"), expect: ["SOLVER.STEPS", "must increase"]),
        Case(name: "negative warm-up factor", lua: model("cfg.SOLVER.WARMUP_FACTOR = -1"), expect: ["SOLVER.WARMUP_FACTOR = -1.0: must be from 0 to 1"]),
        Case(name: "negative MIN_SIZE_TEST", lua: model("cfg.INPUT.MIN_SIZE_TEST = -5"), expect: ["INPUT.MIN_SIZE_TEST = -5", "from 0 to 16384"]),
        Case(name: "huge MIN_SIZE_TEST", lua: model("cfg.INPUT.MIN_SIZE_TEST = 100000"), expect: ["INPUT.MIN_SIZE_TEST = 100000", "GB"]),
        Case(name: "huge MAX_SIZE_TEST", lua: model("cfg.INPUT.MAX_SIZE_TEST = 100000"), expect: ["INPUT.MAX_SIZE_TEST = 100000"]),
        Case(name: "negative NUM_WORKERS", lua: model("cfg.DATALOADER.NUM_WORKERS = -1"), expect: ["DATALOADER.NUM_WORKERS = -1: must be 0 or more"]),
        Case(name: "NaN score threshold", lua: model("cfg.MODEL.ROI_HEADS.SCORE_THRESH_TEST = 0/0"), expect: ["MODEL.ROI_HEADS.SCORE_THRESH_TEST", "from 0 to 1"]),
        Case(name: "zero batch", lua: model("cfg.SOLVER.IMS_PER_BATCH = 0"), expect: ["SOLVER.IMS_PER_BATCH = 0: must be positive"]),
        Case(name: "a million threads", lua: "require('torch').set_num_threads(1e6)", expect: ["thread count must be from 1 to 1024"]),
        Case(name: "a Lua loader's NaN box", lua: "local d2 = require 'detectron2'; d2.data.DatasetCatalog.register('n', function() return {{file_name = 'a.jpg', height = 4, width = 4, image_id = 1, annotations = {{bbox = {0/0, 0, 1, 1}, bbox_mode = 1, category_id = 0}}}} end); print(d2.data.DatasetCatalog.get('n'))", expect: ["bbox", "finite"]),
        Case(name: "a Lua loader's 3-number box", lua: "local d2 = require 'detectron2'; d2.data.DatasetCatalog.register('n', function() return {{file_name = 'a.jpg', height = 4, width = 4, image_id = 1, annotations = {{bbox = {0, 0, 1}, bbox_mode = 1, category_id = 0}}}} end); print(d2.data.DatasetCatalog.get('n'))", expect: ["bbox must have 4 numbers, has 3"]),
        Case(name: "a YAML billion laughs", lua: "require('detectron2').config.get_cfg():merge_from_file('laughs.yaml')", expect: ["laughs.yaml", "YAML aliases"]),
        Case(name: "a config that is not UTF-8", lua: "require('detectron2').config.get_cfg():merge_from_file('latin1.yaml')", expect: ["latin1.yaml is not valid UTF-8"]),
        // ---- images ----
        Case(name: "a truncated JPEG", lua: "require('cv').imread('truncated.jpg')", expect: ["truncated.jpg: the JPEG ends before its end-of-image marker"]),
        Case(name: "a truncated PNG", lua: "require('cv').imread('truncated.png')", expect: ["truncated.png: the PNG ends before its IEND chunk"]),
        Case(name: "an image that is a folder", lua: "require('cv').imread('a_folder')", expect: ["a_folder: it is a folder"]),
        Case(name: "an image that is a FIFO", lua: "require('cv').imread('fifo.jpg')", expect: ["fifo.jpg: it is a pipe"]),
        Case(name: "an image of random bytes", lua: "require('cv').imread('random.safetensors')", expect: ["random.safetensors"]),
        Case(name: "an empty image file", lua: "require('cv').imread('empty.pth')", expect: ["empty.pth"]),
        // ---- COCO ----
        Case(name: "COCO bbox 1e300", lua: "local d2 = require 'detectron2'; local ds = d2.data.datasets.load_coco_json('huge_box.json', '.', 'h'); print(ds)", expect: ["huge_box.json: annotation 1", "beyond ten million pixels"]),
        Case(name: "COCO JSON that is a folder", lua: "local d2 = require 'detectron2'; d2.data.datasets.load_coco_json('folder.safetensors', '.', 'x')", expect: ["folder.safetensors"]),
    ]

    nonisolated(unsafe) static var scratch = ""

    override class func setUp() {
        super.setUp()
        scratch = (try? scratchDirectory()) ?? NSTemporaryDirectory()
        try? makeBadFiles(in: scratch)
    }

    override class func tearDown() {
        try? FileManager.default.removeItem(atPath: scratch)
        super.tearDown()
    }

    static func makeBadFiles(in dir: String) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/folder.safetensors", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: dir + "/a_folder", withIntermediateDirectories: true)
        try "_BASE_: a_folder\nMODEL:\n  MASK_ON: false\n".write(toFile: dir + "/base_folder.yaml", atomically: true, encoding: .utf8)
        var random = [UInt8](repeating: 0, count: 4096)
        var g = SystemRandomNumberGenerator()
        for i in random.indices { random[i] = UInt8.random(in: 0...255, using: &g) }
        random[8] = UInt8(ascii: "{")   // looks like a safetensors header to the format sniffing
        try Data(random).write(to: URL(fileURLWithPath: dir + "/random.safetensors"))
        func safetensors(_ header: String, lengthField: UInt64? = nil, data: Int = 0) -> Data {
            var d = Data()
            var n = (lengthField ?? UInt64(header.utf8.count)).littleEndian
            withUnsafeBytes(of: &n) { d.append(contentsOf: $0) }
            d.append(Data(header.utf8))
            d.append(Data(repeating: 0, count: data))
            return d
        }
        try safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", lengthField: UInt64.max, data: 4)
            .write(to: URL(fileURLWithPath: dir + "/huge_header.safetensors"))
        try safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,4]}}", data: 4)
            .write(to: URL(fileURLWithPath: dir + "/overflow.safetensors"))
        try safetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[100],\"data_offsets\":[0,400]}}", data: 8)
            .write(to: URL(fileURLWithPath: dir + "/short.safetensors"))
        try Data().write(to: URL(fileURLWithPath: dir + "/empty.pth"))
        mkfifo(dir + "/fifo.jpg", 0o644)
        var laughs = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        for i in 1...9 { laughs += "\(Character(UnicodeScalar(97 + i)!)): &\(Character(UnicodeScalar(97 + i)!)) [" + Array(repeating: "*\(Character(UnicodeScalar(96 + i)!))", count: 9).joined(separator: ",") + "]\n" }
        try laughs.write(toFile: dir + "/laughs.yaml", atomically: true, encoding: .utf8)
        try Data([0x4D, 0x4F, 0x44, 0x45, 0x4C, 0x3A, 0x0A, 0x20, 0x20, 0x44, 0x45, 0x56, 0x49, 0x43, 0x45, 0x3A, 0x20, 0x63, 0xE9, 0x0A])
            .write(to: URL(fileURLWithPath: dir + "/latin1.yaml"))
        // A real JPEG and PNG, cut in half.
        let sample = "/usr/share/doc/opencv-doc/examples/data/"
        for (source, name) in [("apple.jpg", "truncated.jpg"), ("box.png", "truncated.png")] {
            if let d = FileManager.default.contents(atPath: sample + source) {
                try d.prefix(d.count / 2).write(to: URL(fileURLWithPath: dir + "/" + name))
            }
        }
        try """
            {"images": [{"id": 1, "file_name": "a.jpg", "height": 10, "width": 10}],
             "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1e300, 5], "iscrowd": 0}],
             "categories": [{"id": 1, "name": "logo"}]}
            """.write(toFile: dir + "/huge_box.json", atomically: true, encoding: .utf8)
    }

    func testNoBadInputKillsTheProcess() throws {
        let fixtures = Fixtures.root
        guard FileManager.default.fileExists(atPath: fixtures) else { throw Missing.requirement("fixtures at \(fixtures)") }
        var failures: [String] = []
        for c in Self.cases {
            let r = try runLunette(["-e", c.lua], environment: ["FIXTURES": fixtures], directory: Self.scratch)
            if let signal = r.signal {
                failures.append("\(c.name): killed by signal \(signal)\n\(r.stderr.suffix(600))")
            } else if r.status == 0 {
                failures.append("\(c.name): succeeded, but it should fail")
            } else if let missing = c.expect.first(where: { !r.stderr.contains($0) }) {
                failures.append("\(c.name): the message does not say '\(missing)': \(r.stderr.suffix(400))")
            }
        }
        XCTAssertTrue(failures.isEmpty, "\(failures.count) of \(Self.cases.count) cases:\n" + failures.joined(separator: "\n"))
    }
}

/// The argument-type sweep (Scripts/argument_sweep.lua): every function of every module and
/// every method of an object of each class, called with nil, booleans, extreme numbers,
/// strings, tables, functions, wrong objects, frozen configs and "." for ":". Any Lua error is
/// fine; a signal fails the test and names the call that caused it.
final class ArgumentSweepTests: XCTestCase {
    func testNoArgumentsKillTheProcess() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts/argument_sweep.lua").path
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try runLunette([script], directory: dir)
        let lines = r.stdout.split(separator: "\n")
        XCTAssertNil(r.signal, "killed by signal \(r.signal ?? 0) at \(lines.last ?? "the start"):\n\(r.stderr.suffix(1500))")
        XCTAssertEqual(r.status, 0, r.stderr.suffix(800).description)
        let done = lines.last.flatMap { $0.hasPrefix("sweep done ") ? Int($0.dropFirst(11)) : nil } ?? 0
        XCTAssertGreaterThan(done, 20_000, "the sweep made \(done) calls")
    }
}

/// A short kill campaign (scripts/reliability/kill.sh): training killed with SIGKILL at random
/// moments and resumed; every checkpoint loads after each kill, each leg resumes right after the
/// newest complete checkpoint, and the finished run has all its artefacts. The long campaign
/// (100+ trials) is `scripts/reliability/kill.sh train 100`.
final class KillCampaignTests: XCTestCase {
    func testTrainingSurvivesKillNine() throws {
        guard FileManager.default.fileExists(atPath: "/usr/share/doc/opencv-doc/examples/data/apple.jpg") else {
            throw Missing.requirement("opencv-doc is not installed (the demo dataset needs it)")
        }
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [repository + "/scripts/reliability/kill.sh", "train", "3", "12"]
        var env = ProcessInfo.processInfo.environment
        env["LUNETTE"] = lunettePath
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, e)
        XCTAssertTrue(o.contains("kill campaign train: 3 trials, 0 failures"), o + e)
    }
}
