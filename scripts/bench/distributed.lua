-- Data-parallel training speed: images per second of R50-FPN (or X101) at IMS_PER_BATCH 2 on
-- the demo creatives, alone or under lunette --launch N (each rank then takes 2 / N images).
-- Rank 0 prints: lunette_<model>_<processes>x<threads> <median s/iter over iterations 10-30>
-- <images/s> <gradient MiB all-reduced per iteration>
--   lunette [--launch N] scripts/bench/distributed.lua <dataset folder> [iterations=31] [model=R_50 | X_101_32x8d]
local d2 = require "detectron2"
local util = require "benchutil"
local comm = d2.utils.comm
local data, iters, model = arg[1], tonumber(arg[2] or "31"), arg[3] or "R_50"
assert(data and iters >= 11, "usage: distributed.lua <dataset folder> [iterations >= 11] [model]")

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
cfg.SOLVER.CLIP_GRADIENTS.ENABLED = true   -- as train.lua: random init diverges without it
cfg.SOLVER.CLIP_GRADIENTS.CLIP_TYPE = "norm"
cfg.SEED = 1
cfg.OUTPUT_DIR = (os.getenv("BENCH_OUT") or os.tmpname()) .. "_dist_bench"
local trainer = d2.engine.DefaultTrainer(cfg)
trainer:resume_or_load{ resume = false }
trainer:train()
if comm.is_main_process() then
  local times = trainer:history("time")
  local window = {}
  for it = 10, math.min(30, iters - 1) do window[#window + 1] = times[it - 3 + 1] end
  local s = util.median(window)
  print(("lunette_%s_%dx%s %.4f %.3f %.1f"):format(model, comm.get_world_size(), os.getenv("OMP_NUM_THREADS") or "?", s, 2 / s,
                                                  trainer.gradient_bytes / 2^20))
  os.execute(("rm -rf %q"):format(cfg.OUTPUT_DIR))
end
