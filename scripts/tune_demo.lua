-- The tuning half of the analysts' workflow on the demo creatives, top to bottom: a grid search
-- over SOLVER.MAX_ITER x ROI_HEADS.BATCH_SIZE_PER_IMAGE judged by image-level accuracy at 20, 40,
-- 60 and 80%, its heat maps, the best model's confusion matrices, a per-class threshold sweep
-- from 20% to 99% by 1%, and the table of final models. Rerun it: nothing finished is trained
-- again (Ctrl-C or a kill stops it; the next run continues).
--
--   lunette scripts/tune_demo.lua [out=out/tune_demo] [scale=0.1]
--
-- scale multiplies the study's MAX_ITERs {300, 500, 1000}; the default trains a small R18 for
-- 30, 50 and 100 iterations (a few minutes on two cores), scale 1 is the study's grid.
local d2, lunette = require "detectron2", require "lunette"
local out = arg[1] or "out/tune_demo"
local scale = tonumber(arg[2] or "0.1")
local data = out .. "/data"

-- 1. The datasets: the demo creatives (logos and products on photographs), built once.
if not lunette.fs.exists(data .. "/annotations/instances_train.json") then
  assert(loadfile((arg[0]:match("^(.*)/[^/]*$") or ".") .. "/make_demo_dataset.lua"))(data, 1, 60, 20)
end
d2.data.datasets.register_coco_instances("demo_train", {}, data .. "/annotations/instances_train.json", data .. "/train")
d2.data.datasets.register_coco_instances("demo_valid", {}, data .. "/annotations/instances_val.json", data .. "/val")

-- 2. The base config: Faster R-CNN from the model zoo, shrunk to a small ResNet-18 trained from
--    scratch so the demo runs on a laptop (the study fine-tunes X101-32x8d from COCO weights).
local cfg = d2.model_zoo.get_config("COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml")
cfg.MODEL.WEIGHTS = ""; cfg.MODEL.DEVICE = "cpu"
cfg.MODEL.RESNETS.DEPTH = 18; cfg.MODEL.RESNETS.RES2_OUT_CHANNELS = 64; cfg.MODEL.RESNETS.STEM_OUT_CHANNELS = 32
cfg.MODEL.RESNETS.NORM = "GN"; cfg.MODEL.FPN.NORM = "GN"; cfg.MODEL.BACKBONE.FREEZE_AT = 0
cfg.MODEL.FPN.OUT_CHANNELS = 64; cfg.MODEL.ROI_BOX_HEAD.FC_DIM = 64; cfg.MODEL.ROI_HEADS.NUM_CLASSES = 2
cfg.INPUT.MIN_SIZE_TRAIN = { 256 }; cfg.INPUT.MAX_SIZE_TRAIN = 384; cfg.INPUT.MIN_SIZE_TEST = 256; cfg.INPUT.MAX_SIZE_TEST = 384
cfg.DATALOADER.NUM_WORKERS = 0
cfg.SOLVER.IMS_PER_BATCH = 2; cfg.SOLVER.BASE_LR = 0.01; cfg.SOLVER.STEPS = {}
-- A warm-up inside the shortest trial keeps the three MAX_ITERs on one schedule, so they
-- share one training run per batch size (a longer warm-up would make them train apart).
cfg.SOLVER.WARMUP_ITERS = math.floor(30 * scale)
cfg.SEED = 1

-- 3. The grid search: one call, resumable; trials that differ only in MAX_ITER train once.
local iterations = {}
for i, m in ipairs({ 300, 500, 1000 }) do iterations[i] = math.max(1, math.floor(m * scale + 0.5)) end
local search = d2.tuning.grid_search{
  config = cfg,
  grid = { ["SOLVER.MAX_ITER"] = iterations, ["MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE"] = { 256, 512, 1024 } },
  train = "demo_train", valid = "demo_valid",
  thresholds = { 0.2, 0.4, 0.6, 0.8 }, metric = "accuracy",
  output_dir = out .. "/grid",
}
print(search)
search:save_csv(out .. "/grid.csv")

-- 4. The study's figure: one heat map per threshold, the best cell marked.
search:heatmaps():save(out .. "/heatmaps.png")

-- 5. The best model at 80%: a confusion matrix per class.
for _, m in ipairs(search:confusion_matrices{ threshold = 0.8 }) do
  print(m)
  m:save(out .. "/confusion_" .. m.labels[2] .. ".png")
end

-- 6. Its threshold, per class, at 1% steps from 20% to 99% (from the stored predictions).
local best = search:best()
print(string.format("best: MAX_ITER %d, batch %d, accuracy %.3f at %.2f",
                    best.params["SOLVER.MAX_ITER"], best.params["MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE"], best.value, best.threshold))
local sweep = d2.tuning.threshold_sweep{ trial = best, from = 0.20, to = 0.99, step = 0.01, metric = "accuracy" }
print(sweep)
sweep:plot():save(out .. "/thresholds.png")

-- 7. The table of final models: one row per brand and object, what bulk detection reads.
local models = d2.tuning.final_models(out .. "/models.sqlite")
models:record{ brand = "demo", object = "logo", search = search, sweep = sweep }
models:record{ brand = "demo", object = "product", search = search, sweep = sweep }
print(models)
models:save_markdown(out .. "/final_models.md")
print("pictures and tables in " .. out)
