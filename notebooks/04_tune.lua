-- %% [markdown]
-- # 04 · Tune: grid search, thresholds, the final models
--
-- The study trains one detector per **brand and object** (the demo brand's logo here) and picks
-- its settings the same way every time:
--
-- 1. a **grid search** over `SOLVER.MAX_ITER` x `MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE`, each trial
--    judged by image-level presence accuracy at confidence thresholds 20, 40, 60 and 80%;
-- 2. **heat maps** of that accuracy, one panel per threshold (the study's figure);
-- 3. a **threshold sweep** for the best trial, from 20% to 99% by 1%, per class;
-- 4. the **final-models table**: one row per brand and object, which bulk detection (notebook 05) reads.
--
-- Detectron2 has no grid search: in Python this was a loop of `DefaultTrainer` runs, an evaluation
-- per trial and a spreadsheet. Here it is one call, and it is resumable: rerun the notebook and
-- nothing finished is trained again.
--
-- The first cell makes the datasets. The demo creatives have two classes, logo and product; the
-- study's datasets hold one object each (`brandA_logo_train`), so it writes a copy of the COCO files
-- with only `object`'s boxes. Images without it stay in: they are the negatives presence accuracy
-- needs (training leaves them out, as Detectron2 does with images without boxes, and says so).
--
-- `scale` multiplies the study's MAX_ITERs {300, 500, 1000} (0.1: 30, 50, 100 iterations, a few
-- minutes on a laptop CPU; 1: the study's grid). `grid_size` keeps the first 2 or 3 values of each axis.

-- %% Parameters tags=["parameters"]
brand = "demo"
object = "logo"
out = "out/tutorials"
train_images = 60
val_images = 20
scale = 0.1
grid_size = 3

-- %% Data
local d2 = require "detectron2"
local lunette = require "lunette"
local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "notebooks"
local data = out .. "/data"
if not lunette.fs.exists(data .. "/annotations/instances_train.json") then
  assert(loadfile(here .. "/../scripts/make_demo_dataset.lua"))(data, 1, train_images, val_images)
end
local name = brand .. "_" .. object                 -- "demo_logo": every file and dataset name below
local work = out .. "/tune/" .. name
lunette.fs.makedirs(work)

local function only_object(split)                    -- instances_<split>.json with one category
  local f = assert(io.open(("%s/annotations/instances_%s.json"):format(data, split)))
  local coco = lunette.json_decode(f:read("a")); f:close()
  local id
  for _, c in ipairs(coco.categories) do if c.name == object then id = c.id end end
  assert(id, "the dataset has no class " .. object)
  local kept = lunette.array()
  for _, a in ipairs(coco.annotations) do
    if a.category_id == id then a.category_id = 1; kept[#kept + 1] = a end
  end
  coco.annotations, coco.categories = kept, { { id = 1, name = object } }
  local path = ("%s/%s_%s.json"):format(work, name, split)
  f = assert(io.open(path, "w")); f:write(lunette.json_encode(coco)); f:close()
  return path
end
d2.data.datasets.register_coco_instances(name .. "_train", {}, only_object("train"), data .. "/train")
d2.data.datasets.register_coco_instances(name .. "_valid", {}, only_object("val"), data .. "/val")

local valid = d2.data.DatasetCatalog.get(name .. "_valid")
local with = 0
for _, record in ipairs(valid) do if #record.annotations > 0 then with = with + 1 end end
print(("%d of %d validation images have a %s: a model that always says yes scores %.3f"):format(with, #valid, object, with / #valid))
d2.data.DatasetCatalog.get(name .. "_train")

-- %% [markdown]
-- ## The base config
--
-- Every trial starts from this config and changes only the grid's keys. It is Detectron2's
-- R50-FPN recipe shrunk to a ResNet-18 with GroupNorm at 256 px, trained from scratch so the demo
-- runs on a CPU (the study fine-tunes X101-32x8d from COCO weights). `help(...)` explains any key.

-- %% Base config
local cfg = d2.model_zoo.get_config("COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml")
cfg.MODEL.WEIGHTS = ""; cfg.MODEL.DEVICE = "cpu"
cfg.MODEL.RESNETS.DEPTH = 18; cfg.MODEL.RESNETS.RES2_OUT_CHANNELS = 64; cfg.MODEL.RESNETS.STEM_OUT_CHANNELS = 32
cfg.MODEL.RESNETS.NORM = "GN"; cfg.MODEL.FPN.NORM = "GN"; cfg.MODEL.BACKBONE.FREEZE_AT = 0
cfg.MODEL.FPN.OUT_CHANNELS = 64; cfg.MODEL.ROI_BOX_HEAD.FC_DIM = 64
cfg.MODEL.ROI_HEADS.NUM_CLASSES = 1
cfg.INPUT.MIN_SIZE_TRAIN = { 256 }; cfg.INPUT.MAX_SIZE_TRAIN = 384
cfg.INPUT.MIN_SIZE_TEST = 256; cfg.INPUT.MAX_SIZE_TEST = 384
cfg.DATALOADER.NUM_WORKERS = 0
cfg.SOLVER.IMS_PER_BATCH = 2; cfg.SOLVER.BASE_LR = 0.01; cfg.SOLVER.STEPS = {}
-- A warm-up inside the shortest trial keeps all MAX_ITERs on one schedule, so trials that differ
-- only in MAX_ITER share one training run (the shorter ones are its checkpoints).
cfg.SOLVER.WARMUP_ITERS = math.floor(30 * scale)
cfg.SEED = 1

local max_iters, batch_sizes = {}, {}
for i = 1, grid_size do
  max_iters[i] = math.max(1, math.floor(({ 300, 500, 1000 })[i] * scale + 0.5))
  batch_sizes[i] = ({ 256, 512, 1024 })[i]
end
print("SOLVER.MAX_ITER:", table.concat(max_iters, ", "), "  BATCH_SIZE_PER_IMAGE:", table.concat(batch_sizes, ", "))
help(cfg.MODEL.ROI_HEADS)

-- %% [markdown]
-- ## The grid search
--
-- In Python the study looped over the grid by hand:
--
-- ```python
-- for max_iter, batch in itertools.product([300, 500, 1000], [256, 512, 1024]):
--     cfg.SOLVER.MAX_ITER = max_iter; cfg.MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE = batch
--     trainer = DefaultTrainer(cfg); trainer.resume_or_load(resume=False); trainer.train()
--     ...  # predict on valid, score presence at each threshold, write a row
-- ```
--
-- `grid_search` does all of it, stores every trial in `output_dir/search.sqlite`, and trains each
-- batch size once to the longest MAX_ITER. `print(search)` lists each trial's accuracy at every
-- threshold; `search:best()` is the winner (ties go to fewer iterations, then the smaller batch).

-- %% Grid search
local grid = {
  config = cfg,
  grid = { ["SOLVER.MAX_ITER"] = max_iters, ["MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE"] = batch_sizes },
  train = name .. "_train", valid = name .. "_valid",
  thresholds = { 0.2, 0.4, 0.6, 0.8 }, metric = "accuracy",
  output_dir = work .. "/grid",
}
local timer = lunette.Timer()
local search = d2.tuning.grid_search(grid)
print(("grid search: %d trials in %.1f s"):format(#search:trials(), timer:elapsed()))
print(search)
search:save_csv(work .. "/grid.csv")
local best = search:best()
print(("best: MAX_ITER %d, batch %d, accuracy %.3f at threshold %.2f"):format(
  best.params["SOLVER.MAX_ITER"], best.params["MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE"], best.value, best.threshold))
search:best()

-- %% [markdown]
-- ## Heat maps: the study's figure
--
-- One panel per threshold, MAX_ITER down, batch size across, one colour scale; the best cell is
-- marked. A flat panel means the threshold, not the training, decides.

-- %% Heat maps
search:heatmaps():save(work .. "/heatmaps.png")
search:heatmaps()

-- %% [markdown]
-- ## The threshold, to the percent
--
-- Four thresholds are coarse. The sweep scores the best trial at every threshold from 20% to 99%
-- by 1% and keeps, per class, the one with the highest accuracy (ties go to the higher threshold).
-- It reads the predictions the search stored: no model runs again.

-- %% Thresholds
local sweep = d2.tuning.threshold_sweep{ trial = best, from = 0.20, to = 0.99, step = 0.01, metric = "accuracy" }
print(sweep)
local chosen = sweep:best_per_class()[object]
print(("%s: threshold %.2f, accuracy %.3f"):format(object, chosen.threshold, chosen.accuracy))
local title = ("%s %s: accuracy by threshold (best trial)"):format(brand, object)
sweep:plot{ title = title }:save(work .. "/thresholds.png")
sweep:plot{ title = title }

-- %% [markdown]
-- ## The final-models table
--
-- One row per brand and object: the best trial's weights and settings, its threshold from the
-- sweep, its accuracy and AP. Recording the same brand and object again replaces the row. Bulk
-- detection takes a brand's models from here: `d2.engine.detect_batch{ models = models:for_brand("demo"), ... }`.

-- %% Final models
local models = d2.tuning.final_models(out .. "/tune/models.sqlite")
models:record{ brand = brand, object = object, search = search, sweep = sweep }
print(models)
models:save_markdown(out .. "/tune/final_models.md")
local final = models:get{ brand = brand, object = object }
print(("%s / %s: MAX_ITER %d, batch %d, threshold %.2f, accuracy %.3f, weights %s"):format(
  final.brand, final.object, final.max_iter, final.batch_size, final.threshold, final.value, final.weights))
models:get{ brand = brand, object = object }

-- %% [markdown]
-- ## Resumable: run it again
--
-- The same call a second time finds every trial done in its store and trains nothing: a rerun after
-- a crash, a Ctrl-C or a new day costs seconds. (A longer MAX_ITER added to the grid later continues
-- the finished runs instead of starting over.)
--
-- Then: set `object = "product"` and rerun to give the table a second row. `grid.csv`,
-- `heatmaps.png` and `thresholds.png` are in `out .. "/tune/" .. brand .. "_" .. object`, the table in
-- `out .. "/tune/final_models.md"`. **05 · Detect** runs every creative through a brand's models.

-- %% Rerun
timer:reset()
local again = d2.tuning.grid_search(grid)
print(("second run: %d trials, %.1f s, best accuracy %.3f (the same)"):format(#again:trials(), timer:elapsed(), again:best().value))
again:best()
