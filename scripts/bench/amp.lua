-- Mixed-precision training (SOLVER.AMP.ENABLED) against fp32: the loss curve of a short run
-- beside fp32's noise band, and the speed.
--
--   lunette scripts/bench/amp.lua DATASET [iterations=60] [seeds=1,2,3] [model=demo | R_50 | X_101_32x8d]
--
-- DATASET: a folder from scripts/make_demo_dataset.lua. Each seed trains once in fp32 and once
-- with AMP from the same start (same data order and sampling). The noise band at a block of
-- 10 iterations is the spread of fp32's mean total_loss over the seeds: an AMP run is within
-- it when its block means lie inside [min, max] of fp32's. Prints, per block, "block
-- <first>-<last> fp32 <min> <max> amp <min> <max> inside <k>/<seeds> amp_moved <largest
-- |amp - fp32| of one seed's block mean> band <fp32 max - min>", the share of AMP's block
-- means inside beside the share expected were AMP merely another seed, then
-- "speed fp32 <median s/iter> amp <median s/iter> ratio <fp32/amp>" and the precision AMP ran.
local d2 = require "detectron2"
local util = require "benchutil"
local data, iters, seeds_arg, model = arg[1], tonumber(arg[2] or "60"), arg[3] or "1,2,3", arg[4] or "demo"
assert(data and iters and iters >= 20, "usage: amp.lua DATASET [iterations >= 20] [seeds] [model]")
local seeds = {}
for s in seeds_arg:gmatch("[^,]+") do seeds[#seeds + 1] = tonumber(s) end
assert(#seeds >= 2, "a noise band needs two seeds or more")

d2.data.datasets.register_coco_instances("amp_train", {}, data .. "/annotations/instances_train.json", data .. "/train")

local function config(seed, amp)
  local cfg = d2.config.get_cfg()
  if model == "demo" then
    -- The demo creatives' detector (scripts/detect_demo.lua): R18, GN, 64 channels, 256 px.
    cfg:merge_from_file(d2.model_zoo.get_config_file("COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml"))
    cfg.MODEL.RESNETS.DEPTH = 18; cfg.MODEL.RESNETS.RES2_OUT_CHANNELS = 64; cfg.MODEL.RESNETS.STEM_OUT_CHANNELS = 32
    cfg.MODEL.RESNETS.NORM = "GN"; cfg.MODEL.FPN.NORM = "GN"; cfg.MODEL.BACKBONE.FREEZE_AT = 0
    cfg.MODEL.FPN.OUT_CHANNELS = 64; cfg.MODEL.ROI_BOX_HEAD.FC_DIM = 64
    cfg.INPUT.MIN_SIZE_TRAIN = { 256 }; cfg.INPUT.MAX_SIZE_TRAIN = 384
    cfg.SOLVER.BASE_LR = 0.02
  else
    cfg:merge_from_file(d2.model_zoo.get_config_file(("COCO-Detection/faster_rcnn_%s_FPN_3x.yaml"):format(model)))
    cfg.INPUT.MIN_SIZE_TRAIN = { 384 }; cfg.INPUT.MAX_SIZE_TRAIN = 512
    cfg.SOLVER.BASE_LR = 0.0025
  end
  cfg.MODEL.WEIGHTS = ""; cfg.MODEL.DEVICE = "cpu"
  cfg.MODEL.ROI_HEADS.NUM_CLASSES = 2
  cfg.DATASETS.TRAIN = { "amp_train" }; cfg.DATASETS.TEST = {}
  cfg.DATALOADER.NUM_WORKERS = 0
  cfg.SOLVER.IMS_PER_BATCH = 2; cfg.SOLVER.MAX_ITER = iters; cfg.SOLVER.STEPS = {}
  cfg.SOLVER.WARMUP_ITERS = 10; cfg.SOLVER.CHECKPOINT_PERIOD = 100000
  cfg.SOLVER.CLIP_GRADIENTS.ENABLED = true; cfg.SOLVER.CLIP_GRADIENTS.CLIP_TYPE = "norm"
  cfg.SOLVER.AMP.ENABLED = amp
  cfg.SEED = seed
  cfg.OUTPUT_DIR = os.tmpname() .. "_amp_bench"
  return cfg
end

local function run(seed, amp)
  local cfg = config(seed, amp)
  local trainer = d2.engine.DefaultTrainer(cfg)
  trainer:resume_or_load{ resume = false }
  trainer:train()
  local losses, times = trainer:history("total_loss"), trainer:history("time")
  os.execute(("rm -rf %q"):format(cfg.OUTPUT_DIR))
  return losses, util.median(times), trainer.precision
end

local curves, speed, precision = { fp32 = {}, amp = {} }, { fp32 = {}, amp = {} }, "fp32"
for _, seed in ipairs(seeds) do
  for _, mode in ipairs({ "fp32", "amp" }) do
    local losses, s, p = run(seed, mode == "amp")
    curves[mode][#curves[mode] + 1] = losses
    speed[mode][#speed[mode] + 1] = s
    if mode == "amp" then precision = p end
  end
end

local function block_mean(losses, first, last)
  local sum = 0
  for i = first, last do sum = sum + losses[i] end
  return sum / (last - first + 1)
end
local inside_total, blocks = 0, 0
for first = 1, iters, 10 do
  local last = math.min(first + 9, iters)
  local lo, hi, alo, ahi, inside = math.huge, -math.huge, math.huge, -math.huge, 0
  local means = {}
  for k = 1, #seeds do
    local m = block_mean(curves.fp32[k], first, last)
    lo, hi = math.min(lo, m), math.max(hi, m)
  end
  for k = 1, #seeds do
    local m = block_mean(curves.amp[k], first, last)
    alo, ahi = math.min(alo, m), math.max(ahi, m)
    if m >= lo and m <= hi then inside = inside + 1 end
  end
  inside_total, blocks = inside_total + inside, blocks + 1
  -- How far AMP moved each seed's run, beside how far the seeds are from each other.
  local moved = 0
  for k = 1, #seeds do moved = math.max(moved, math.abs(block_mean(curves.amp[k], first, last) - block_mean(curves.fp32[k], first, last))) end
  print(("block %d-%d fp32 %.4f %.4f amp %.4f %.4f inside %d/%d amp_moved %.4f band %.4f"):format(first - 1, last - 1, lo, hi, alo, ahi, inside, #seeds, moved, hi - lo))
end
-- Were AMP just another seed, each of its block means would fall inside the range of n fp32
-- ones with probability (n - 1) / (n + 1) (exchangeable draws): the rate to compare "inside" with.
print(("inside_total %d/%d expected_if_amp_were_another_seed %.2f"):format(inside_total, blocks * #seeds, (#seeds - 1) / (#seeds + 1)))
local f, a = util.median(speed.fp32), util.median(speed.amp)
print(("speed fp32 %.4f amp %.4f ratio %.2f"):format(f, a, f / a))
print(("amp_precision %s model %s iterations %d seeds %s"):format(precision, model, iters, seeds_arg))
