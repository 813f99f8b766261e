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
        /// false: the input is accepted with a warning (the strings are the warning's), not refused.
        var fails = true

        init(name: String, lua: String, expect: [String]) {
            self.name = name
            self.lua = lua
            self.expect = expect
        }

        /// An input Lunette accepts, but only with a warning that says what is wrong.
        init(name: String, lua: String, warns: [String]) {
            self.init(name: name, lua: lua, expect: warns)
            fails = false
        }
    }

    /// Every case of every category (the tables live beside this file, one per category).
    static var allCases: [Case] { cases + fileCases + valueCases + tuningCases + marketingMixCases + bulkCases }

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
        // ---- more configs ----
        Case(name: "an unknown key", lua: model("cfg.SOLVER.MAX_ITERS = 5"), expect: ["SOLVER.MAX_ITERS", "did you mean SOLVER.MAX_ITER"]),
        Case(name: "a string for an int", lua: model("cfg.SOLVER.MAX_ITER = 'many'"), expect: ["SOLVER.MAX_ITER"]),
        Case(name: "a table for a string", lua: model("cfg.MODEL.DEVICE = {}"), expect: ["MODEL.DEVICE"]),
        Case(name: "a frozen config", lua: model("cfg:freeze(); cfg.SOLVER.MAX_ITER = 5"), expect: ["SOLVER.MAX_ITER", "immutable"]),
        Case(name: "a missing config file", lua: "require('detectron2').config.get_cfg():merge_from_file('nope.yaml')", expect: ["nope.yaml"]),
        Case(name: "a YAML that is a list", lua: "require('detectron2').config.get_cfg():merge_from_file('list.yaml')", expect: ["list.yaml", "mapping"]),
        Case(name: "a _BASE_ cycle", lua: "require('detectron2').config.get_cfg():merge_from_file('cycle_a.yaml')", expect: ["_BASE_ cycle"]),
        Case(name: "merge_from_list odd", lua: model("cfg:merge_from_list({'SOLVER.MAX_ITER'})"), expect: ["KEY, value pairs"]),
        Case(name: "RPN.IN_FEATURES naming p7", lua: model("cfg.MODEL.RPN.IN_FEATURES = {'p7'}"), expect: ["MODEL.RPN.IN_FEATURES names 'p7'"]),
        Case(name: "ROI pooler levels with a gap", lua: model("cfg.MODEL.ROI_HEADS.IN_FEATURES = {'p2', 'p4'}"), expect: ["consecutive levels"]),
        Case(name: "anchor ratios per level mismatch", lua: model("cfg.MODEL.ANCHOR_GENERATOR.ASPECT_RATIOS = {{0.5}, {1.0}}"), expect: ["ASPECT_RATIOS has 2 lists for 5 feature maps"]),
        Case(name: "R18 with groups", lua: model("cfg.MODEL.RESNETS.DEPTH = 18; cfg.MODEL.RESNETS.RES2_OUT_CHANNELS = 64; cfg.MODEL.RESNETS.NUM_GROUPS = 32"), expect: ["NUM_GROUPS = 32"]),
        Case(name: "depth 42", lua: model("cfg.MODEL.RESNETS.DEPTH = 42"), expect: ["MODEL.RESNETS.DEPTH must be 18, 34, 50, 101 or 152"]),
        Case(name: "an unknown norm", lua: model("cfg.MODEL.RESNETS.NORM = 'LN'"), expect: ["MODEL.RESNETS.NORM: unknown norm 'LN'"]),
        Case(name: "AMP from fp16 weights", lua: model("d2.data.datasets.register_coco_instances('t', {}, os.getenv('FIXTURES') .. '/data/annotations/instances_train.json', os.getenv('FIXTURES') .. '/data/train'); cfg.DATASETS.TRAIN = {'t'}; cfg.OUTPUT_DIR = 'out_amp'; cfg.SOLVER.AMP.ENABLED = true; local sd = d2.modeling.build_model(cfg):state_dict(); for k, v in pairs(sd) do sd[k] = v:half() end; require('torch').save(sd, 'amp_half.safetensors'); cfg.MODEL.WEIGHTS = 'amp_half.safetensors'",
                                                       "d2.engine.DefaultTrainer(cfg):resume_or_load{resume = false}"),
             expect: ["SOLVER.AMP.ENABLED", "amp_half.safetensors", "in fp16 or bf16", "fp32 master weights"]),
        Case(name: "a model-zoo link not on this machine", lua: model("cfg.MODEL.WEIGHTS = 'detectron2://ImageNetPretrained/MSRA/R-50.pkl'", "d2.engine.DefaultPredictor(cfg)"), expect: ["is not on this machine", "https://dl.fbaipublicfiles.com/detectron2/ImageNetPretrained/MSRA/R-50.pkl", "model_zoo/ImageNetPretrained/MSRA/R-50.pkl"]),
        Case(name: "a download link as weights", lua: model("cfg.MODEL.WEIGHTS = 'https://example.com/w.pth'", "d2.engine.DefaultPredictor(cfg)"), expect: ["download link"]),
        Case(name: "a missing weights file", lua: model("cfg.MODEL.WEIGHTS = 'nope.pth'", "d2.engine.DefaultPredictor(cfg)"), expect: ["nope.pth"]),
        Case(name: "four PIXEL_MEAN values", lua: model("cfg.MODEL.PIXEL_MEAN = {1, 2, 3, 4}"), expect: ["MODEL.PIXEL_MEAN"]),
        Case(name: "a zero PIXEL_STD", lua: model("cfg.MODEL.PIXEL_STD = {0, 1, 1}"), expect: ["MODEL.PIXEL_STD must be positive"]),
        Case(name: "IoU thresholds out of order", lua: model("cfg.MODEL.RPN.IOU_THRESHOLDS = {0.7, 0.3}"), expect: ["MODEL.RPN.IOU_THRESHOLDS must increase"]),
        Case(name: "three box-reg weights", lua: model("cfg.MODEL.ROI_BOX_HEAD.BBOX_REG_WEIGHTS = {1, 1, 1}"), expect: ["MODEL.ROI_BOX_HEAD.BBOX_REG_WEIGHTS must be four positive numbers"]),
        Case(name: "a huge freeze", lua: model("cfg.MODEL.BACKBONE.FREEZE_AT = 9"), expect: ["MODEL.BACKBONE.FREEZE_AT = 9"]),
        Case(name: "no box head layers", lua: model("cfg.MODEL.ROI_BOX_HEAD.NUM_FC = 0"), expect: ["NUM_CONV and NUM_FC are both 0"]),
        Case(name: "a bad device", lua: model("cfg.MODEL.DEVICE = 'tpu'", "d2.engine.DefaultPredictor(cfg)"), expect: ["tpu"]),
        // ---- trainer ----
        Case(name: "training with no dataset", lua: model("cfg.DATASETS.TRAIN = {}; cfg.OUTPUT_DIR = 'out_none'", "d2.engine.DefaultTrainer(cfg)"), expect: ["DATASETS.TRAIN names no dataset"]),
        Case(name: "training an unregistered dataset", lua: model("cfg.DATASETS.TRAIN = {'nope'}; cfg.OUTPUT_DIR = 'out_nope'", "d2.engine.DefaultTrainer(cfg)"), expect: ["nope"]),
        Case(name: "an OUTPUT_DIR that is a file", lua: model("d2.data.datasets.register_coco_instances('t', {}, os.getenv('FIXTURES') .. '/data/annotations/instances_train.json', os.getenv('FIXTURES') .. '/data/train'); cfg.DATASETS.TRAIN = {'t'}; cfg.OUTPUT_DIR = 'empty.pth'", "d2.engine.DefaultTrainer(cfg)"), expect: ["OUTPUT_DIR 'empty.pth' cannot be created"]),
        Case(name: "register_hooks with a number", lua: model("d2.data.datasets.register_coco_instances('t', {}, os.getenv('FIXTURES') .. '/data/annotations/instances_train.json', os.getenv('FIXTURES') .. '/data/train'); cfg.DATASETS.TRAIN = {'t'}; cfg.OUTPUT_DIR = 'out_hooks'", "d2.engine.DefaultTrainer(cfg):register_hooks{ 5 }"), expect: ["hook 1 is a number"]),
        Case(name: "register_hooks with an unknown event", lua: model("d2.data.datasets.register_coco_instances('t', {}, os.getenv('FIXTURES') .. '/data/annotations/instances_train.json', os.getenv('FIXTURES') .. '/data/train'); cfg.DATASETS.TRAIN = {'t'}; cfg.OUTPUT_DIR = 'out_hooks2'", "d2.engine.DefaultTrainer(cfg):register_hooks{ { after_stop = print } }"), expect: ["unknown field", "after_stop"]),
        Case(name: "a hook that errors", lua: model("d2.data.datasets.register_coco_instances('t', {}, os.getenv('FIXTURES') .. '/data/annotations/instances_train.json', os.getenv('FIXTURES') .. '/data/train'); cfg.DATASETS.TRAIN = {'t'}; cfg.OUTPUT_DIR = 'out_hooks3'; cfg.SOLVER.MAX_ITER = 2; cfg.DATALOADER.NUM_WORKERS = 0; cfg.SOLVER.IMS_PER_BATCH = 1", "local t = d2.engine.DefaultTrainer(cfg); t:register_hooks{ { after_step = function() error('hook says no') end } }; t:resume_or_load{resume = false}; t:train()"), expect: ["hook says no"]),
        // ---- tensors ----
        Case(name: "a tensor of a string", lua: "require('torch').tensor('abc')", expect: ["tensor"]),
        Case(name: "a ragged tensor", lua: "require('torch').tensor({{1, 2}, {3}})", expect: ["tensor"]),
        Case(name: "negative sizes", lua: "require('torch').zeros({-1, 2})", expect: ["-1"]),
        Case(name: "a dimension out of range", lua: "require('torch').zeros({2, 2}):sum(5)", expect: ["dimension 5 is out of range"]),
        Case(name: "a 4 TB tensor", lua: "require('torch').zeros({1000000, 1000000})", expect: ["torch.zeros", "can't allocate memory", "4000000000000 bytes"]),
        Case(name: "a 40 GB tensor", lua: "require('torch').ones({100000, 100000})", expect: ["torch.ones", "can't allocate memory"]),
        Case(name: "cat of nothing", lua: "local t = require('torch'); t.cat({}, 1)", expect: ["non-empty list of tensors"]),
        Case(name: "safetensors save to a folder", lua: "local t = require('torch'); t.save({a = t.zeros({2})}, 'a_folder')", expect: ["a_folder"]),
        Case(name: "an image written without extension", lua: "require('cv').imwrite('noext', require('cv').new_image(4, 4))", expect: ["noext", "extension"]),
        Case(name: "an image of negative size", lua: "require('cv').new_image(-4, 4)", expect: ["-4"]),
        Case(name: "a resize to 1e300", lua: "require('cv').new_image(4, 4):resize(1e300, 2)", expect: ["bad argument #1 to 'resize'"]),
        Case(name: "a video that is not one", lua: "require('cv').extract_frames('empty.pth', {out = 'frames'})", expect: ["empty.pth"]),
        // ---- COCO ----
        Case(name: "COCO bbox 1e300", lua: "local d2 = require 'detectron2'; local ds = d2.data.datasets.load_coco_json('huge_box.json', '.', 'h'); print(ds)", expect: ["huge_box.json: annotation 1", "beyond ten million pixels"]),
        Case(name: "COCO JSON that is a folder", lua: "local d2 = require 'detectron2'; d2.data.datasets.load_coco_json('folder.safetensors', '.', 'x')", expect: ["folder.safetensors"]),
    ]

    nonisolated(unsafe) static var scratch = ""

    override class func setUp() {
        super.setUp()
        scratch = (try? scratchDirectory()) ?? NSTemporaryDirectory()
        try? makeBadFiles(in: scratch)
        try? makeBadDataFiles(in: scratch)
        try? makeBadValueFiles(in: scratch)
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
        try "- 1\n- 2\n".write(toFile: dir + "/list.yaml", atomically: true, encoding: .utf8)
        try "_BASE_: cycle_b.yaml\n".write(toFile: dir + "/cycle_a.yaml", atomically: true, encoding: .utf8)
        try "_BASE_: cycle_a.yaml\n".write(toFile: dir + "/cycle_b.yaml", atomically: true, encoding: .utf8)
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
        let cases = Self.allCases
        let names = Dictionary(grouping: cases, by: \.name).filter { $0.value.count > 1 }.keys
        XCTAssertTrue(names.isEmpty, "case names must be unique: \(names.sorted())")
        // Four processes at a time: each case is mostly process start-up and waiting.
        let failures = Collected()
        let next = Counter()
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            while let i = next.take(below: cases.count) {
                let c = cases[i]
                let problem: String?
                do {
                    let r = try runLunette(["-e", c.lua], environment: ["FIXTURES": fixtures], directory: Self.scratch)
                    if let signal = r.signal {
                        problem = "killed by signal \(signal)\n\(r.stderr.suffix(600))"
                    } else if c.fails && r.status == 0 {
                        problem = "succeeded, but it should fail"
                    } else if !c.fails && r.status != 0 {
                        problem = "failed, but it should be accepted with a warning: \(r.stderr.suffix(400))"
                    } else if let missing = c.expect.first(where: { !r.stderr.contains($0) }) {
                        problem = "the message does not say '\(missing)': \(r.stderr.suffix(400))"
                    } else {
                        problem = nil
                    }
                } catch {
                    problem = "could not run: \(error)"
                }
                if let problem { failures.append("\(c.name): \(problem)") }
            }
        }
        XCTAssertGreaterThanOrEqual(cases.count, 400)
        let found = failures.items.sorted()
        XCTAssertTrue(found.isEmpty, "\(found.count) of \(cases.count) cases:\n" + found.joined(separator: "\n"))
    }
}

/// Hands out 0, 1, 2, ... to concurrent workers.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func take(below limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard value < limit else { return nil }
        value += 1
        return value - 1
    }
}

/// Lines gathered by concurrent workers.
final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    func append(_ line: String) {
        lock.lock()
        lines.append(line)
        lock.unlock()
    }

    var items: [String] {
        lock.lock()
        defer { lock.unlock() }
        return lines
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
        let (status, o, e) = try runKillCampaign(["train", "3", "12"])
        XCTAssertEqual(status, 0, e)
        XCTAssertTrue(o.contains("kill campaign train: 3 trials, 0 failures"), o + e)
    }
}

/// Runs scripts/reliability/kill.sh with this build's lunette: its status, stdout and stderr.
func runKillCampaign(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    let r = try runBuilt("/bin/bash", [repository + "/scripts/reliability/kill.sh"] + arguments, environment: ["LUNETTE": lunettePath])
    return (r.status, r.stdout, r.stderr)
}
