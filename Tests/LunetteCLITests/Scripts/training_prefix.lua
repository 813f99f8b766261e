-- A 30-iteration run against the 30-iteration checkpoint of a 50-iteration run with the same
-- SEED: the weights must agree bit for bit (what lets a grid search train shared MAX_ITER
-- prefixes once). arg: fixtures folder, output folder, tiny_config.lua.
local d2, torch = require "detectron2", require "torch"
local data, out, tiny = arg[1] .. "/data", arg[2], dofile(arg[3])
d2.data.datasets.register_coco_instances("prefix_train", {}, data .. "/annotations/instances_train.json", data .. "/train")
local function run(iterations, period, folder)
  local cfg = tiny("prefix_train", 5)
  cfg.SOLVER.MAX_ITER = iterations
  cfg.SOLVER.CHECKPOINT_PERIOD = period
  cfg.SOLVER.WARMUP_ITERS = 5
  cfg.SOLVER.STEPS = {}
  cfg.SOLVER.IMS_PER_BATCH = 2
  cfg.SOLVER.BASE_LR = 0.005
  cfg.MODEL.RESNETS.NORM = "GN"; cfg.MODEL.FPN.NORM = "GN"; cfg.MODEL.BACKBONE.FREEZE_AT = 0   -- trainable from scratch
  cfg.SEED = 3
  cfg.OUTPUT_DIR = folder
  local trainer = d2.engine.DefaultTrainer(cfg)
  trainer:resume_or_load{ resume = false }
  trainer:train()
end
run(30, 1000, out .. "/short")
run(50, 30, out .. "/long")
-- torch.load gives a checkpoint's state dict (the model's weights by their names).
local a = torch.load(out .. "/short/model_final.pth")
local b = torch.load(out .. "/long/model_0000029.pth")
local compared, differ = 0, 0
for name, t in pairs(a) do
  compared = compared + 1
  if b[name] == nil or not t:equal(b[name]) then differ = differ + 1; print("differs", name) end
end
for name in pairs(b) do if a[name] == nil then differ = differ + 1; print("only in the long run", name) end end
print("compared", compared, "differ", differ)
-- The comparison can fail: the 50-iteration weights differ from the 30-iteration ones.
local c, changed = torch.load(out .. "/long/model_final.pth"), 0
for name, t in pairs(a) do if not t:equal(c[name]) then changed = changed + 1 end end
print("changed by iterations 30 to 49", changed)
