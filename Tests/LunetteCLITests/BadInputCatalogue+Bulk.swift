import Foundation

/// Bad input to bulk detection: creatives, models, stores, shards.
extension BadInputCatalogueTests {
    /// The fixture's random R50 (5 classes) as W with its config, a validation image V, then `body`.
    static func bulk(_ body: String) -> String {
        "local d2 = require 'detectron2'; local F = os.getenv('FIXTURES'); local cfg = d2.config.get_cfg(); "
            + "cfg:merge_from_file(F .. '/random/config.yaml'); cfg.MODEL.DEVICE = 'cpu'; cfg.DATASETS.TEST = {}; cfg.DATASETS.TRAIN = {}; "
            + "local W = F .. '/random/model_final.pth'; local V = F .. '/data/val/val_00000.jpg'; local C = {'a', 'b', 'c', 'd', 'e'}; "
            + "local M = {m = {weights = W, config = cfg, classes = C}}; " + body
    }

    /// detect_batch with the one good model, `images` and `extra` options.
    static func detect(_ images: String, _ extra: String) -> String {
        bulk("d2.engine.detect_batch{models = M, images = \(images), \(extra)}")
    }

    static let bulkCases: [Case] = [
        Case(name: "detect: an empty folder", lua: "os.execute('mkdir -p empty_creatives'); " + detect("'empty_creatives'", "out = 'bulk1_o.sqlite'"), expect: ["empty_creatives", "the folder holds no file"]),
        Case(name: "detect: a folder of non-images", lua: "os.execute('mkdir -p texts && echo hi > texts/a.txt'); " + detect("'texts'", "out = 'bulk2_o.sqlite'"),
             expect: ["texts", "holds no image or video (1 other file: a.txt)"]),
        Case(name: "detect: a glob that matches nothing", lua: detect("'nothing/*.jpg'", "out = 'bulk3_o.sqlite'"), expect: ["nothing/*.jpg", "matches no file"]),
        Case(name: "detect: a corrupt image in the middle is recorded and skipped", lua: detect("{V, 'truncated.jpg', F .. '/data/val/val_00001.jpg'}", "out = 'bulk4_o.sqlite'")
             + "; local j = d2.engine.open_detections('bulk4_o.sqlite'); local f = j:failed(); assert(#f == 1 and f[1].path == 'truncated.jpg', 'failed: ' .. #f); "
             + "assert(j:summary().done == 2)", warns: ["truncated.jpg", "recorded as failed, going on"]),
        Case(name: "detect: a FIFO among the creatives is recorded, not waited on", lua: detect("{'fifo.jpg', V}", "out = 'bulk5_o.sqlite'"), warns: ["fifo.jpg", "recorded as failed"]),
        Case(name: "detect: a missing file in a list is recorded", lua: detect("{'no_such_creative.jpg', V}", "out = 'bulk6_o.sqlite'"), warns: ["no_such_creative.jpg", "recorded as failed"]),
        Case(name: "detect: an unsupported file in a list is recorded", lua: detect("{'list.yaml', V}", "out = 'bulk7_o.sqlite'"), warns: ["list.yaml", "unsupported file type '.yaml'"]),
        Case(name: "detect: a model file that is not a checkpoint", lua: bulk("d2.engine.detect_batch{models = {m = {weights = 'random.safetensors', config = cfg, classes = C}}, images = {V}, out = 'bulk8_o.sqlite'}"),
             expect: ["model 'm'", "random.safetensors"]),
        Case(name: "detect: a model's weights missing", lua: bulk("d2.engine.detect_batch{models = {m = {weights = 'nothing.pth', config = cfg, classes = C}}, images = {V}, out = 'bulk9_o.sqlite'}"),
             expect: ["model 'm'", "nothing.pth: no such file"]),
        Case(name: "detect: a model without weights", lua: bulk("d2.engine.detect_batch{models = {m = {config = cfg}}, images = {V}, out = 'bulk10_o.sqlite'}"), expect: ["models.m needs weights"]),
        Case(name: "detect: a model field misspelt", lua: bulk("d2.engine.detect_batch{models = {m = {weights = W, config = cfg, treshold = 0.4}}, images = {V}, out = 'bulk11_o.sqlite'}"),
             expect: ["models.m: unknown field 'treshold'", "threshold"]),
        Case(name: "detect: two models with the same name", lua: bulk("d2.engine.detect_batch{models = {{object = 'm', weights = W, config = cfg, classes = C}, {object = 'm', weights = W, config = cfg, classes = C}}, images = {V}, out = 'bulk12_o.sqlite'}"),
             expect: ["two models are named 'm'"]),
        Case(name: "detect: a threshold for a class the model lacks", lua: bulk("d2.engine.detect_batch{models = {m = {weights = W, config = cfg, classes = C, thresholds = {logo = 0.4}}}, images = {V}, out = 'bulk13_o.sqlite'}"),
             expect: ["model 'm'", "thresholds name class 'logo', which the model lacks", "a, b, c, d, e"]),
        Case(name: "detect: a threshold below the score floor", lua: bulk("d2.engine.detect_batch{models = {m = {weights = W, config = cfg, classes = C, threshold = 0.01}}, images = {V}, out = 'bulk14_o.sqlite'}"),
             expect: ["the threshold of class 'a' is 0.01", "score floor (0.05)"]),
        Case(name: "detect: class names that do not match NUM_CLASSES", lua: bulk("d2.engine.detect_batch{models = {m = {weights = W, config = cfg, classes = {'logo'}}}, images = {V}, out = 'bulk15_o.sqlite'}"),
             expect: ["model 'm' has 5 classes", "1 class names are given (logo)"]),
        Case(name: "detect: out a folder", lua: detect("{V}", "out = 'a_folder'"), expect: ["out = \"a_folder\" is a folder"]),
        Case(name: "detect: out not writable", lua: detect("{V}", "out = '/proc/lunette_out/o.sqlite'"), expect: ["/proc/lunette_out", "cannot create its folder"]),
        Case(name: "detect: a store of other models", lua: detect("{V}", "out = 'bulk18_o.sqlite'") + "; d2.engine.detect_batch{models = {n = {weights = W, config = cfg, classes = C}}, images = {V}, out = 'bulk18_o.sqlite'}",
             expect: ["bulk18_o.sqlite holds the detections of models m; this job has n", "lunette detect merge"]),
        Case(name: "detect: a store written with another frame step", lua: detect("{V}", "out = 'bulk19_o.sqlite'") + "; d2.engine.detect_batch{models = M, images = {V}, out = 'bulk19_o.sqlite', every = 5}",
             expect: ["was written with every = 10; this job has 5"]),
        Case(name: "detect: reduced precision", lua: detect("{V}", "out = 'bulk20_o.sqlite', precision = 'fp16'"), expect: ["precision = \"fp16\" on cpu", "not offered on the CPU", "fp32"]),
        Case(name: "detect: every 0", lua: detect("{V}", "out = 'bulk21_o.sqlite', every = 0"), expect: ["every must be at least 1"]),
        Case(name: "detect: an option misspelt", lua: detect("{V}", "out = 'bulk22_o.sqlite', batchsize = 5"), expect: ["unknown option 'batchsize'", "batch_size"]),
        Case(name: "detect: a shard out of range", lua: detect("{V}", "out = 'bulk23_o.sqlite', shard = {index = 9, count = 8}"), expect: ["shard index must be 1 to count (8), not 9"]),
        Case(name: "detect: a store that does not exist", lua: "require('detectron2').engine.open_detections('nothing.sqlite')", expect: ["detection store nothing.sqlite: no such file"]),
        Case(name: "detect: a store that is not SQLite", lua: "require('detectron2').engine.open_detections('list.yaml')", expect: ["list.yaml is not a SQLite file"]),
        Case(name: "detect: merging stores of different jobs", lua: detect("{V}", "out = 'bulk26_o.sqlite'") + "; d2.engine.detect_batch{models = {n = {weights = W, config = cfg, classes = C}}, images = {V}, out = 'bulk26_p.sqlite'}; "
             + "d2.engine.detect_command{'merge', 'bulk26_o.sqlite', 'bulk26_p.sqlite', '--into', 'bulk26_q.sqlite'}", expect: ["cannot merge bulk26_p.sqlite with bulk26_o.sqlite", "different jobs"]),
        Case(name: "detect: a command option misspelt", lua: "require('detectron2').engine.detect_command{'--model', 'x'}", expect: ["unknown option --model", "models"]),
        Case(name: "detect: two creatives with one file stem", lua: "os.execute('mkdir -p sub && cp ' .. os.getenv('FIXTURES') .. '/data/val/val_00000.jpg sub/'); "
             + detect("{V, 'sub/val_00000.jpg'}", "out = 'bulk28_o.sqlite'") + "; d2.engine.open_detections('bulk28_o.sqlite'):features{out = 'bulk28_f.csv'}",
             expect: ["both get the creative id 'val_00000' (their file stem)", "ids ="]),
        Case(name: "detect: a DetectJob to mmm with a delivery file missing", lua: detect("{V}", "out = 'bulk29_o.sqlite'")
             .replacingOccurrences(of: "d2.engine.detect_batch{", with: "local job = d2.engine.detect_batch{") + "; d2.export.mmm{features = job, delivery = 'no_delivery.csv', out = 'bulk29.csv'}",
             expect: ["no_delivery.csv"]),
        Case(name: "detect: a FIFO named like a video is recorded, not waited on", lua: "os.execute('mkfifo fifo_video.mp4'); " + detect("{'fifo_video.mp4', V}", "out = 'bulk30_o.sqlite'"),
             warns: ["fifo_video.mp4", "recorded as failed"]),
        Case(name: "detect: out is the final-models registry", lua: "require('detectron2').tuning.final_models('bulk31_models.sqlite'); " + detect("{V}", "out = 'bulk31_models.sqlite'"),
             expect: ["bulk31_models.sqlite is a final models registry, not a detection store"]),
    ]
}
