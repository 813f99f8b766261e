import Foundation

/// Bad input to the tuning half: grid searches, sweeps, the final-models registry, the baseline.
extension BadInputCatalogueTests {
    /// The fixture datasets as t (train) and v (valid), the fixture model's config, then `body`.
    static func tuning(_ body: String) -> String {
        "local d2 = require 'detectron2'; local F = os.getenv('FIXTURES') .. '/data'; "
            + "d2.data.datasets.register_coco_instances('t', {}, F .. '/annotations/instances_train.json', F .. '/train'); "
            + "d2.data.datasets.register_coco_instances('v', {}, F .. '/annotations/instances_val.json', F .. '/val'); "
            + "local cfg = d2.config.get_cfg(); cfg:merge_from_file(\(fixtureConfig)); cfg.MODEL.DEVICE = 'cpu'; " + body
    }

    /// grid_search with `options` added to a valid call (output_dir g/<dir>).
    static func grid(_ dir: String, _ options: String) -> String {
        tuning("d2.tuning.grid_search{config = cfg, train = 't', valid = 'v', output_dir = 'g/\(dir)', \(options)}")
    }

    /// A search whose every trial fails at once (too few classes): a store and a Search to misuse.
    static func failingSearch(_ dir: String) -> String {
        "cfg.MODEL.ROI_HEADS.NUM_CLASSES = 1; local s = d2.tuning.grid_search{config = cfg, train = 't', valid = 'v', output_dir = 'g/\(dir)', "
            + "grid = {['SOLVER.MAX_ITER'] = {1, 2}, ['MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE'] = {16}}}; "
    }

    static let tuningCases: [Case] = [
        Case(name: "grid key misspelt", lua: grid("a", "grid = {['SOLVER.MAX_ITERS'] = {300}}"), expect: ["Non-existent config key: SOLVER.MAX_ITERS", "SOLVER.MAX_ITER"]),
        Case(name: "grid key a node", lua: grid("b", "grid = {['SOLVER'] = {1}}"), expect: ["SOLVER is a config node"]),
        Case(name: "grid value of the wrong type", lua: grid("c", "grid = {['SOLVER.MAX_ITER'] = {'300'}}"), expect: [#"grid["SOLVER.MAX_ITER"][1]"#]),
        Case(name: "grid value a fraction for an integer key", lua: grid("d", "grid = {['SOLVER.MAX_ITER'] = {300.5}}"), expect: [#"grid["SOLVER.MAX_ITER"][1]"#]),
        Case(name: "grid empty", lua: grid("e", "grid = {}"), expect: ["the grid is empty"]),
        Case(name: "grid key without values", lua: grid("f", "grid = {['SOLVER.MAX_ITER'] = {}}"), expect: [#"grid["SOLVER.MAX_ITER"] has no values"#]),
        Case(name: "grid value twice", lua: grid("g", "grid = {['SOLVER.MAX_ITER'] = {300, 300}}"), expect: ["lists 300 twice"]),
        Case(name: "grid MAX_ITER zero", lua: grid("h", "grid = {['SOLVER.MAX_ITER'] = {0}}"), expect: ["SOLVER.MAX_ITER values must be positive integers"]),
        Case(name: "grid over OUTPUT_DIR", lua: grid("i", "grid = {['OUTPUT_DIR'] = {'a', 'b'}}"), expect: ["OUTPUT_DIR cannot be a grid key"]),
        Case(name: "grid as a list", lua: grid("j", "grid = {{300, 500}}"), expect: ["give keys and values", "not a list"]),
        Case(name: "threshold above 1", lua: grid("k", "grid = {['SOLVER.MAX_ITER'] = {1}}, thresholds = {0.2, 1.5}"), expect: ["threshold 1.5 is outside 0..1"]),
        Case(name: "threshold NaN", lua: grid("l", "grid = {['SOLVER.MAX_ITER'] = {1}}, thresholds = {0/0}"), expect: ["is outside 0..1"]),
        Case(name: "thresholds empty", lua: grid("m", "grid = {['SOLVER.MAX_ITER'] = {1}}, thresholds = {}"), expect: ["thresholds is empty"]),
        Case(name: "metric misspelt", lua: grid("n", "grid = {['SOLVER.MAX_ITER'] = {1}}, metric = 'acuracy'"), expect: ["unknown metric 'acuracy'", "accuracy"]),
        Case(name: "train dataset unknown", lua: tuning("d2.tuning.grid_search{config = cfg, train = 'tt', valid = 'v', output_dir = 'g/o', grid = {['SOLVER.MAX_ITER'] = {1}}}"),
             expect: ["train dataset 'tt' is not registered"]),
        Case(name: "output_dir not writable", lua: tuning("d2.tuning.grid_search{config = cfg, train = 't', valid = 'v', output_dir = '/proc/lunette_grid', grid = {['SOLVER.MAX_ITER'] = {1}}}"),
             expect: ["output_dir '/proc/lunette_grid' cannot be created"]),
        Case(name: "a config named by one letter whose base is missing", lua: tuning("local f = io.open('b', 'w'); f:write('_BASE_: missing_base.yaml\\n'); f:close(); cfg:merge_from_file('b')"),
             expect: ["missing_base.yaml"]),
        Case(name: "a registry named by one letter that is a folder", lua: tuning("os.execute('mkdir -p r'); d2.tuning.final_models('r')"), expect: ["final models registry r cannot be opened"]),
        Case(name: "grid_search option misspelt", lua: grid("p", "grid = {['SOLVER.MAX_ITER'] = {1}}, treshold = {0.2}"), expect: ["treshold"]),
        Case(name: "a second grid in the same folder", lua: tuning(failingSearch("q") + "d2.tuning.grid_search{config = cfg, train = 't', valid = 'v', output_dir = 'g/q', grid = {['SOLVER.MAX_ITER'] = {1}, ['SOLVER.BASE_LR'] = {0.01}}}"),
             expect: ["holds a search over MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE × SOLVER.MAX_ITER", "SOLVER.BASE_LR is new", "MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE is missing"]),
        Case(name: "a trial whose config fails is recorded, the search returns", lua: tuning(failingSearch("r") + "error(s:trials()[1].state .. ': ' .. s:trials()[1].reason)"),
             expect: ["failed: MODEL.ROI_HEADS.NUM_CLASSES is 1"]),
        Case(name: "heatmap over a key not in the grid", lua: tuning(failingSearch("s") + "s:heatmap{rows = 'SOLVER.MAX_ITER', cols = 'SOLVER.BASE_LR'}"),
             expect: ["SOLVER.BASE_LR is not a key of this grid"]),
        Case(name: "heatmap of a one-key grid", lua: tuning("cfg.MODEL.ROI_HEADS.NUM_CLASSES = 1; local s = d2.tuning.grid_search{config = cfg, train = 't', valid = 'v', output_dir = 'g/t', grid = {['SOLVER.MAX_ITER'] = {1}}}; s:heatmaps()"),
             expect: ["a heat map needs a grid of two keys"]),
        Case(name: "confusion matrices with nothing finished", lua: tuning(failingSearch("u") + "s:confusion_matrices{threshold = 0.8}"), expect: ["no trial is finished yet"]),
        Case(name: "threshold sweep of a failed trial", lua: tuning(failingSearch("w") + "d2.tuning.threshold_sweep{trial = s:trials()[1]}"), expect: ["is failed; it has no predictions"]),
        Case(name: "threshold sweep from above to", lua: tuning("d2.tuning.threshold_sweep{dataset = 'v', predictions = 'nothing.json', from = 0.9, to = 0.2}"), expect: ["nothing.json"]),
        Case(name: "threshold sweep of nothing", lua: tuning("d2.tuning.threshold_sweep{from = 0.2}"), expect: ["threshold_sweep needs trial = search:best()"]),
        Case(name: "threshold sweep, a table that is no trial", lua: tuning("d2.tuning.threshold_sweep{trial = {threshold = 0.4}}"), expect: ["it has no id and search_dir"]),
        Case(name: "final models: an empty registry", lua: tuning("d2.tuning.final_models('g/models.sqlite'):get{brand = 'brandA', object = 'logo'}"), expect: ["no model for brand 'brandA'", "the registry is empty"]),
        Case(name: "final models: a registry that is a folder", lua: tuning("d2.tuning.final_models('g')"), expect: ["final models registry g cannot be opened"]),
        Case(name: "final models: record without a search", lua: tuning("d2.tuning.final_models('g/m2.sqlite'):record{brand = 'b', object = 'logo'}"), expect: ["record needs search = <Search> or trial = search:best()"]),
        Case(name: "final models: record a search with nothing finished", lua: tuning(failingSearch("x") + "d2.tuning.final_models('g/m3.sqlite'):record{brand = 'b', object = 'logo', search = s}"),
             expect: ["the search has no finished trial"]),
        Case(name: "haar baseline for a class the dataset lacks", lua: tuning("d2.tuning.haar_baseline{dataset = 'v', class = 'dog'}"), expect: ["dataset 'v' has no class 'dog'"]),
        Case(name: "haar baseline with a missing cascade", lua: tuning("d2.tuning.haar_baseline{dataset = 'v', class = 'face', cascade = 'no_such_cascade.xml'}"), expect: ["cannot find cascade no_such_cascade.xml"]),
        Case(name: "tune worker on a folder without a search", lua: "require('detectron2').tuning.worker('v')", expect: ["v holds no grid search"]),
    ]
}
