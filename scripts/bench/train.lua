-- Training speed: seconds per iteration of R50-FPN (Detectron2's config, random init, frozen BN,
-- gradient clipping on) at IMS_PER_BATCH 2 on the demo creatives (512x384, no resize).
-- Prints: lunette_<model> <median s/iter over iterations 10-30> <peak RSS MB>
--   lunette scripts/bench/train.lua <dataset folder> [iterations=31] [model=R_50 | X_101_32x8d]
local d2 = require "detectron2"
local util = require "benchutil"
local data, iters, model = arg[1], tonumber(arg[2] or "31"), arg[3] or "R_50"
assert(data and iters >= 11, "usage: train.lua <dataset folder> [iterations >= 11]")

d2.data.datasets.register_coco_instances("bench_train", {}, data .. "/annotations/instances_train.json", data .. "/train")
local cfg = d2.config.get_cfg()
cfg:merge_from_file(d2.model_zoo.get_config_file(("COCO-Detection/faster_rcnn_%s_FPN_3x.yaml"):format(model)))
cfg.MODEL.WEIGHTS = ""
cfg.MODEL.ROI_HEADS.NUM_CLASSES = 2
cfg.INPUT.MIN_SIZE_TRAIN = { 384 }
cfg.INPUT.MAX_SIZE_TRAIN = 512
cfg.DATASETS.TRAIN = { "bench_train" }
cfg.DATASETS.TEST = {}
cfg.DATALOADER.NUM_WORKERS = 0
cfg.SOLVER.IMS_PER_BATCH = 2
cfg.SOLVER.BASE_LR = 0.0025
cfg.SOLVER.MAX_ITER = iters
cfg.SOLVER.CHECKPOINT_PERIOD = 100000
cfg.SOLVER.CLIP_GRADIENTS.ENABLED = true
cfg.SOLVER.CLIP_GRADIENTS.CLIP_TYPE = "norm"
cfg.SEED = 1
cfg.OUTPUT_DIR = os.tmpname() .. "_train_bench"
local trainer = d2.engine.DefaultTrainer(cfg)
trainer:resume_or_load{ resume = false }
trainer:train()
-- "time" is recorded from the 4th iteration on (the first 3 are warm-up, as Detectron2 does).
local times = trainer:history("time")
local window = {}
for it = 10, math.min(30, iters - 1) do window[#window + 1] = times[it - 3 + 1] end
print(("lunette_%s %.4f %.0f"):format(model, util.median(window), util.peak_rss_mb()))
os.execute(("rm -rf %q"):format(cfg.OUTPUT_DIR))
