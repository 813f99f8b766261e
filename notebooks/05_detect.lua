-- %% [markdown]
-- # 05 · Detect in bulk: from creatives to the marketing-mix table
--
-- The last step of the study: every creative of a brand (images and videos) through its final
-- models, then two tables:
--
-- 1. the **creative feature table**: one row per creative, whether each object is in it, how often,
--    how big, and for videos how long it is on screen;
-- 2. the **weekly marketing-mix table**: the ad platforms' delivery (impressions, spend) split into
--    creatives with and without each object, in the columns Robyn, Meridian or PyMC-Marketing read.
--
-- Bulk detection is one call, `d2.engine.detect_batch{...}`, and it is resumable: a job stopped by a
-- crash or Ctrl-C continues where it stopped, and a rerun does nothing that is already done.
--
-- This notebook trains its own tiny detector (a minute or two on a CPU); with notebook 04's
-- registry you would pass `models = d2.tuning.final_models(path):for_brand(brand)` instead.

-- %% Parameters tags=["parameters"]
brand = "demo"
out = "out/tutorials"
train_images = 60
val_images = 20
iterations = 150
n_creatives = 12
every = 24

-- %% [markdown]
-- ## A detector
--
-- The demo dataset (built when notebook 01 has not run) and a small Faster R-CNN for both of its
-- classes, logo and product, trained once into its own folder. Its per-class thresholds come from a
-- sweep on the validation images, 20% to 99% by 1%, as in notebook 04.

-- %% Models
local d2 = require "detectron2"
local cv = require "cv"
local lunette = require "lunette"
local here = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "notebooks"
local data = out .. "/data"
if not lunette.fs.exists(data .. "/annotations/instances_train.json") then
  assert(loadfile(here .. "/../scripts/make_demo_dataset.lua"))(data, 1, train_images, val_images)
end
d2.data.datasets.register_coco_instances("demo_train", {}, data .. "/annotations/instances_train.json", data .. "/train")
d2.data.datasets.register_coco_instances("demo_val", {}, data .. "/annotations/instances_val.json", data .. "/val")
local work = out .. "/detect"

local cfg = d2.model_zoo.get_config("COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml")
cfg.MODEL.WEIGHTS = ""; cfg.MODEL.DEVICE = "cpu"
cfg.MODEL.RESNETS.DEPTH = 18; cfg.MODEL.RESNETS.RES2_OUT_CHANNELS = 64; cfg.MODEL.RESNETS.STEM_OUT_CHANNELS = 32
cfg.MODEL.RESNETS.NORM = "GN"; cfg.MODEL.FPN.NORM = "GN"; cfg.MODEL.BACKBONE.FREEZE_AT = 0
cfg.MODEL.FPN.OUT_CHANNELS = 64; cfg.MODEL.ROI_BOX_HEAD.FC_DIM = 64; cfg.MODEL.ROI_HEADS.NUM_CLASSES = 2
cfg.INPUT.MIN_SIZE_TRAIN = { 256 }; cfg.INPUT.MAX_SIZE_TRAIN = 384; cfg.INPUT.MIN_SIZE_TEST = 256; cfg.INPUT.MAX_SIZE_TEST = 384
cfg.DATASETS.TRAIN = { "demo_train" }; cfg.DATASETS.TEST = {}
cfg.DATALOADER.NUM_WORKERS = 0
cfg.SOLVER.IMS_PER_BATCH = 2; cfg.SOLVER.BASE_LR = 0.01; cfg.SOLVER.STEPS = {}
cfg.SOLVER.MAX_ITER = iterations; cfg.SOLVER.WARMUP_ITERS = math.min(20, iterations // 4)
cfg.SEED = 1
cfg.OUTPUT_DIR = ("%s/model_%d"):format(work, iterations)
local weights = cfg.OUTPUT_DIR .. "/model_final.pth"
if not lunette.fs.exists(weights) then
  local trainer = d2.engine.DefaultTrainer(cfg)
  trainer:resume_or_load{ resume = true }
  trainer:train()
end

local sweep = d2.tuning.threshold_sweep{ weights = weights, config = cfg, dataset = "demo_val", from = 0.20, to = 0.99, step = 0.01 }
local thresholds = {}
for class, best in pairs(sweep:best_per_class()) do thresholds[class] = best.threshold end
print(sweep)
sweep:plot()

-- %% [markdown]
-- ## This week's creatives
--
-- A folder as an agency would send it: new images (made like the demo data, from another seed),
-- a video spot (a clip of OpenCV's sample film), and one JPEG cut short in transfer.

-- %% Creatives
local creatives = work .. "/creatives"
lunette.fs.makedirs(creatives)
if not lunette.fs.exists(("%s/ad_%05d.jpg"):format(creatives, n_creatives - 1)) then
  local campaign = work .. "/campaign"        -- the same seed gives the same first images: more is only added
  assert(loadfile(here .. "/../scripts/make_demo_dataset.lua"))(campaign, 7, 0, n_creatives)
  for _, file in ipairs(lunette.fs.listdir(campaign .. "/val")) do
    local target = creatives .. "/ad_" .. file:match("(%d+)%.jpg$") .. ".jpg"
    if not lunette.fs.exists(target) then cv.imwrite(target, cv.imread(campaign .. "/val/" .. file)) end
  end
end
local function copy(from, to)
  local src, dst = assert(io.open(from, "rb")), assert(io.open(to, "wb"))
  dst:write(src:read("a")); src:close(); dst:close()
end
if not lunette.fs.exists(creatives .. "/spot_megamind.avi") then
  copy("/usr/share/doc/opencv-doc/examples/data/Megamind.avi", creatives .. "/spot_megamind.avi")
end
local f = assert(io.open(creatives .. "/broken.jpg", "wb")); f:write("\255\216\255\224 cut short"); f:close()
lunette.fs.listdir(creatives)

-- %% [markdown]
-- ## Bulk detection
--
-- The Python version was a loop, started over whenever it crashed at file 9,000:
--
-- ```python
-- predictor = DefaultPredictor(cfg)
-- for path in glob.glob("creatives/demo/**/*.jpg", recursive=True):
--     instances = predictor(cv2.imread(path))["instances"]
--     ...  # rows to a CSV; videos: cv2.VideoCapture and every tenth frame
-- ```
--
-- `detect_batch` runs the same predictor on every creative and every `every`-th video frame,
-- commits `batch_size` creatives at a time to a SQLite store, and records unreadable files as
-- failed instead of stopping. Detections are stored above a low score floor (0.05), so changing a
-- threshold later needs no second run.

-- %% Bulk detection
local models = {
  [brand] = { weights = weights, config = cfg, classes = { "logo", "product" }, objects = { "logo", "product" },
              thresholds = thresholds },
}
local job_options = { models = models, images = creatives, every = every, batch_size = 4,
                      out = ("%s/%s_every%d.sqlite"):format(work, brand, every) }   -- one store per set of models and frame step
local timer = lunette.Timer()
local job = d2.engine.detect_batch(job_options)
local first_seconds = timer:elapsed()
print(job)
for _, failure in ipairs(job:failed()) do print("failed: " .. failure.path .. ": " .. failure.reason) end
job:save_csv(work .. "/" .. brand .. "_detections.csv")
job:summary()

-- %% [markdown]
-- ## Resume: run it again
--
-- The store knows which creative is finished for which model (by the model's weights hash and
-- config). The same call again skips all of them; only the failed file is tried once more. Add new
-- creatives to the folder and a rerun detects just those.

-- %% Resume
timer:reset()
local again = d2.engine.detect_batch(job_options)
local summary = again:summary()
print(again)
print(("first run %.1f s, second run %.1f s: %d done, %d failed, %d pending"):format(
  first_seconds, timer:elapsed(), summary.done, summary.failed, summary.pending))
again:summary()

-- %% [markdown]
-- ## The creative feature table
--
-- One row per creative: `creative_id` (the file name's stem), size and, for videos, duration; then
-- per object `_present` (any detection at its threshold), `_count`, `_max_score`, `_area_share`
-- (share of the picture its boxes cover) and, for videos, `_frame_share`, `_first_seen_s`,
-- `_screen_s`. The helper below prints a few columns of a CSV as a table. (A model trained for two
-- minutes makes mistakes: a "logo" in the film spot, which has none, is one of its false alarms.)

-- %% Feature table
local function show_csv(path, columns, max_rows)   -- a few columns of a CSV, aligned; numbers to 3 decimals
  local rows = {}
  for line in io.lines(path) do
    local cells = {}
    for cell in (line .. ","):gmatch("([^,]*),") do
      cells[#cells + 1] = cell:match("^%-?%d+%.%d%d%d%d+$") and ("%.3f"):format(tonumber(cell)) or cell
    end
    rows[#rows + 1] = cells
  end
  local index, widths = {}, {}
  for i, name in ipairs(rows[1]) do index[name] = i end
  columns = columns or rows[1]
  local shown = math.min(#rows, (max_rows or 20) + 1)
  for c, name in ipairs(columns) do
    widths[c] = 0
    for r = 1, shown do widths[c] = math.max(widths[c], #(rows[r][index[name]] or "")) end
  end
  local lines = {}
  for r = 1, shown do
    local cells = {}
    for c, name in ipairs(columns) do cells[c] = ("%" .. widths[c] .. "s"):format(rows[r][index[name]] or "") end
    lines[r] = table.concat(cells, "  ")
  end
  return table.concat(lines, "\n") .. ("\n(%d rows, %d columns)"):format(#rows - 1, #rows[1])
end

local features = job:features{ out = work .. "/" .. brand .. "_features.csv", long = work .. "/" .. brand .. "_features_long.csv" }
print(("feature table: %d creatives in %s (left out: %d)"):format(features.creatives, features.out, #features.excluded))
print(show_csv(features.out, { "creative_id", "kind", "duration_s", "logo_present", "logo_count", "logo_area_share",
                               "logo_screen_s", "product_present", "product_count" }))

-- %% [markdown]
-- ## The weekly marketing-mix table
--
-- The ad platforms' delivery file has one row per creative, day and channel. Here we make one up
-- for three weeks on two channels. `d2.export.mmm` joins it to the feature table and sums by ISO
-- week: per channel its impressions and spend, and the part of them from creatives with and without
-- each object. `preset = "robyn"` names the columns as Robyn's demo data (`DATE`, `<channel>_I`,
-- `<channel>_S`); `"meridian"` and `"pymc"` are the others.

-- %% Marketing-mix table
local delivery = { "creative_id,date,channel,impressions,spend" }
local days = { "2026-11-02", "2026-11-05", "2026-11-11", "2026-11-19", "2026-11-22" }
local n = 0
for line in io.lines(features.out) do
  local id = line:match("^([^,]+),")
  if id ~= "creative_id" then
    n = n + 1
    delivery[#delivery + 1] = ("%s,%s,%s,%d,%.2f"):format(id, days[n % #days + 1], n % 2 == 0 and "Meta" or "YouTube", 1000 * n, 12.5 * n)
  end
end
local file = assert(io.open(work .. "/" .. brand .. "_delivery.csv", "w"))
file:write(table.concat(delivery, "\n") .. "\n"); file:close()

local mix = d2.export.mmm{ features = features.out, delivery = work .. "/" .. brand .. "_delivery.csv", period = "week",
                           preset = "robyn", out = work .. "/" .. brand .. "_mmm_weekly.csv" }
print(("%d weeks x %d columns, channels %s, objects %s -> %s"):format(
  mix.periods, #mix.columns, table.concat(mix.channels, ", "), table.concat(mix.objects, ", "), mix.out))
print(show_csv(mix.out, { "DATE", "meta_I", "meta_S", "meta_logo_I", "meta_nologo_I", "youtube_I", "youtube_S", "youtube_logo_I" }))

-- %% [markdown]
-- ## From a shell, for the cluster
--
-- The same job runs without a notebook, split over machines (one store per shard, merged after):
--
-- ```sh
-- lunette detect --models out/tutorials/tune/models.sqlite --brand demo --images creatives/demo \
--                --out out/demo.sqlite --shard 3/8
-- lunette detect merge out/demo.shard-*-of-8.sqlite --into out/demo.sqlite
-- lunette detect features out/demo.sqlite --out out/demo_features.csv
-- ```
--
-- Everything this notebook wrote is under `out .. "/detect/"`, named after the brand: the store
-- (`demo_every24.sqlite`), `demo_detections.csv`, `demo_features.csv` (with `demo_features_long.csv`
-- and `demo_features.json`: thresholds, model hashes, creatives left out), `demo_delivery.csv` and
-- `demo_mmm_weekly.csv`.
