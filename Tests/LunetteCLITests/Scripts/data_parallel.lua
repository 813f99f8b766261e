-- Data-parallel training against one process with the whole batch. arg: fixtures folder,
-- output folder, tiny_config.lua, and the global batch (IMS_PER_BATCH). Run alone, or by
-- lunette --launch N: each run trains 10 iterations from the same seed and rank 0 prints the
-- losses of every iteration and the run's folder (the test compares the weights).
local d2 = require "detectron2"
local comm = d2.utils.comm
local data, out, tiny, batch = arg[1] .. "/data", arg[2], dofile(arg[3]), tonumber(arg[4] or "2")
d2.data.datasets.register_coco_instances("dp_train", {}, data .. "/annotations/instances_train.json", data .. "/train")
d2.data.datasets.register_coco_instances("dp_val", {}, data .. "/annotations/instances_val.json", data .. "/val")
local cfg
if os.getenv("DP_MODEL") == "trained" then
  -- The fixture model Detectron2 trained (FrozenBN ResNet-50, slim): confident proposals.
  cfg = d2.config.get_cfg()
  cfg:merge_from_file(arg[1] .. "/trained/config.yaml")
  cfg.MODEL.WEIGHTS = arg[1] .. "/trained/model_final.pth"
  cfg.MODEL.DEVICE = "cpu"
  cfg.DATASETS.TRAIN = {"dp_train"}
  cfg.DATALOADER.NUM_WORKERS = 0
  cfg.SOLVER.STEPS = {}
else
  cfg = tiny("dp_train", 5)
  cfg.MODEL.RESNETS.NORM = "GN"; cfg.MODEL.FPN.NORM = "GN"; cfg.MODEL.BACKBONE.FREEZE_AT = 0   -- trainable from scratch
end
cfg.SOLVER.MAX_ITER = tonumber(os.getenv("DP_ITERATIONS") or "10")
cfg.SOLVER.CHECKPOINT_PERIOD = 5
cfg.SOLVER.WARMUP_ITERS = 2
cfg.SOLVER.IMS_PER_BATCH = batch
cfg.SOLVER.BASE_LR = tonumber(os.getenv("DP_LR") or "0.005")
cfg.DATALOADER.ASPECT_RATIO_GROUPING = false
cfg.DATASETS.TEST = os.getenv("DP_EVAL") and {"dp_val"} or {}
cfg.MODEL.ROI_HEADS.SCORE_THRESH_TEST = 0.001   -- an untrained model's detections still count
cfg.SEED = 11
cfg.OUTPUT_DIR = out
local trainer = d2.engine.DefaultTrainer(cfg)
trainer:resume_or_load{ resume = os.getenv("DP_RESUME") ~= nil }
-- The starting weights (rank 0's, which every rank takes when training starts): the test
-- measures differences against how far training moved the weights.
if not os.getenv("DP_RESUME") then trainer:checkpoint("model_init") end
-- DP_KILL_RANK dies (kill -9) after iteration DP_KILL_AT: the others must stop, naming it.
local kill_rank, kill_at = tonumber(os.getenv("DP_KILL_RANK") or ""), tonumber(os.getenv("DP_KILL_AT") or "")
if kill_rank == comm.get_rank() then
  trainer:register_hooks{{ after_step = function(t) if t.iter == kill_at then os.execute("kill -9 $PPID") end end }}
end
trainer:train()
if comm.is_main_process() then
  local names = {"total_loss", "loss_cls", "loss_box_reg", "loss_rpn_cls", "loss_rpn_loc", "roi_head/num_fg_samples", "roi_head/num_bg_samples"}
  for _, name in ipairs(names) do
    local h = trainer:history(name)
    local parts = {}
    for i, v in ipairs(h) do parts[i] = string.format("%.9g", v) end
    print(name .. " " .. table.concat(parts, " "))
  end
end
-- Evaluation gathers every rank's predictions: every rank calls test(), rank 0 reports.
if os.getenv("DP_EVAL") then
  local results = trainer:test()
  if comm.is_main_process() then print("AP " .. string.format("%.9g", results["AP"] or -1)) end
end
print("rank " .. comm.get_rank() .. " of " .. comm.get_world_size() .. " done")
