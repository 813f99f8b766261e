-- One leg of the grid-search kill campaign: a 2 x 2 grid (MAX_ITER 4, 8 x BATCH_SIZE_PER_IMAGE
-- 32, 64: two shared runs) of the tiny detector on the demo creatives, in OUT, resuming whatever
-- an earlier, killed leg left there. Prints "finished <trials done>" at the end.
--   lunette scripts/reliability/tune_once.lua <demo dataset folder> <out folder>
local d2 = require "detectron2"
local data, out = arg[1], arg[2]
assert(data and out, "usage: tune_once.lua <dataset> <out>")
io.stdout:setvbuf("no")
d2.data.datasets.register_coco_instances("kill_train", {}, data .. "/annotations/instances_train.json", data .. "/train")
d2.data.datasets.register_coco_instances("kill_valid", {}, data .. "/annotations/instances_val.json", data .. "/val")
local cfg = dofile(arg[0]:match("^(.*)/[^/]*$") .. "/tiny_config.lua")(8)
local search = d2.tuning.grid_search{
  config = cfg,
  grid = { ["SOLVER.MAX_ITER"] = { 4, 8 }, ["MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE"] = { 32, 64 } },
  train = "kill_train", valid = "kill_valid", thresholds = { 0.05, 0.2, 0.5 },
  output_dir = out, checkpoint_period = 2,
}
local done = 0
for _, t in ipairs(search:trials()) do if t.state == "done" then done = done + 1 end end
print("finished " .. done)
