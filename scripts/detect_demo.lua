-- The study's last step on the demo creatives, top to bottom: two small detectors fine-tuned
-- from one base (so they share a frozen stem and res2, as models fine-tuned from one model-zoo
-- checkpoint do), bulk detection over images and a video with a corrupt file among them, the
-- creative feature table, and the weekly marketing-mix table from a made-up delivery file.
-- Rerun it: nothing finished is trained or detected again (Ctrl-C or a kill stops it; the next
-- run continues).
--
--   lunette scripts/detect_demo.lua [out=out/detect_demo]
local d2, lunette, cv = require "detectron2", require "lunette", require "cv"
local out = arg[1] or "out/detect_demo"
local data = out .. "/data"
local here = arg[0]:match("^(.*)/[^/]*$") or "."

-- 1. The demo creatives (logos and products pasted on photographs), built once.
if not lunette.fs.exists(data .. "/annotations/instances_train.json") then
  assert(loadfile(here .. "/make_demo_dataset.lua"))(data, 1, 40, 12)
end
d2.data.datasets.register_coco_instances("demo_train", {}, data .. "/annotations/instances_train.json", data .. "/train")

-- 2. A base model trained whole (standing in for the model zoo's COCO checkpoint), then two
--    fine-tuned from it with Detectron2's default FREEZE_AT 2: their stem and res2 keep the
--    base's weights. (The study fine-tunes X101-32x8d from COCO weights.)
local cfg = d2.model_zoo.get_config("COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml")
cfg.MODEL.WEIGHTS = ""; cfg.MODEL.DEVICE = "cpu"
cfg.MODEL.RESNETS.DEPTH = 18; cfg.MODEL.RESNETS.RES2_OUT_CHANNELS = 64; cfg.MODEL.RESNETS.STEM_OUT_CHANNELS = 32
cfg.MODEL.RESNETS.NORM = "GN"; cfg.MODEL.FPN.NORM = "GN"   -- trains from scratch stably; FREEZE_AT stays 2
cfg.MODEL.FPN.OUT_CHANNELS = 64; cfg.MODEL.ROI_BOX_HEAD.FC_DIM = 64; cfg.MODEL.ROI_HEADS.NUM_CLASSES = 2
cfg.INPUT.MIN_SIZE_TRAIN = { 256 }; cfg.INPUT.MAX_SIZE_TRAIN = 384; cfg.INPUT.MIN_SIZE_TEST = 256; cfg.INPUT.MAX_SIZE_TEST = 384
cfg.DATASETS.TRAIN = { "demo_train" }; cfg.DATASETS.TEST = {}
cfg.DATALOADER.NUM_WORKERS = 0; cfg.SOLVER.IMS_PER_BATCH = 2; cfg.SOLVER.BASE_LR = 0.01; cfg.SOLVER.STEPS = {}
cfg.SOLVER.WARMUP_ITERS = 5; cfg.SEED = 1

local function train(name, weights, iterations, seed, freeze)
  local final = out .. "/" .. name .. "/model_final.pth"
  if lunette.fs.exists(final) then return final end
  local c = cfg:clone()
  c.MODEL.WEIGHTS = weights; c.SOLVER.MAX_ITER = iterations; c.OUTPUT_DIR = out .. "/" .. name; c.SEED = seed; c.MODEL.BACKBONE.FREEZE_AT = freeze
  local trainer = d2.engine.DefaultTrainer(c)
  trainer:resume_or_load{ resume = true }
  trainer:train()
  return final
end
local base = train("base", "", 80, 1, 0)
local models = {
  logo = { weights = train("logo", base, 40, 2, 2), config = cfg, classes = { "logo", "product" }, objects = { "logo" }, thresholds = { logo = 0.25 } },
  product = { weights = train("product", base, 40, 3, 2), config = cfg, classes = { "logo", "product" }, objects = { "product" }, thresholds = { product = 0.25 } },
}

-- 3. The creatives: the validation images, a video, and a file cut short.
local creatives = out .. "/creatives"
lunette.fs.makedirs(creatives)
for _, name in ipairs(lunette.fs.listdir(data .. "/val")) do
  if name:match("%.jpg$") then cv.imwrite(creatives .. "/" .. name, cv.imread(data .. "/val/" .. name)) end
end
os.execute(("cp /usr/share/doc/opencv-doc/examples/data/tree.avi %q"):format(creatives .. "/spot_tree.avi"))
local f = assert(io.open(creatives .. "/broken.jpg", "wb")); f:write("\255\216\255\224 cut short"); f:close()

-- 4. Bulk detection: one call, resumable, every creative through both models. (Models this
--    small, trained for seconds, score low: hence thresholds of 0.25; a sweep picks real ones.)
local job = d2.engine.detect_batch{
  models = models, images = creatives, every = 10, batch_size = 8, out = out .. "/detections.sqlite",
}
print(job)
for _, failure in ipairs(job:failed()) do print("failed: " .. failure.path .. ": " .. failure.reason) end

-- 5. The tables: detections at their thresholds, the creative feature table.
job:save_csv(out .. "/detections.csv")
local t = job:features{ out = out .. "/features.csv", long = out .. "/features_long.csv" }

-- 6. A made-up delivery file (three weeks, two channels), then the weekly marketing-mix table.
local delivery = { "creative_id,date,channel,impressions,spend" }
local day, n = { "2026-11-02", "2026-11-05", "2026-11-11", "2026-11-19", "2026-11-22" }, 0
for line in io.lines(out .. "/features.csv") do
  local id = line:match("^([^,]+),")
  if id and id ~= "creative_id" then
    n = n + 1
    delivery[#delivery + 1] = ("%s,%s,%s,%d,%.2f"):format(id, day[n % #day + 1], n % 2 == 0 and "Meta" or "YouTube", 1000 * n, 12.5 * n)
  end
end
f = assert(io.open(out .. "/delivery.csv", "w")); f:write(table.concat(delivery, "\n") .. "\n"); f:close()
local mix = d2.export.mmm{ features = t.out, delivery = out .. "/delivery.csv", period = "week", preset = "robyn", out = out .. "/mmm_weekly.csv" }

print("feature table (" .. t.creatives .. " creatives): " .. t.out .. " (thresholds and model hashes in " .. t.sidecar .. ")")
print("detections: " .. out .. "/detections.csv")
print("weekly marketing-mix table (" .. mix.periods .. " weeks, Robyn's columns): " .. mix.out)
