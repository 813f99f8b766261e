-- One leg of the kill campaign: trains a tiny detector on the demo creatives in OUT, resuming
-- from whatever an earlier, killed leg left there. Prints "resumed <path> <start_iter>" (or
-- "fresh 0") before training and "finished <max_iter>" at the end.
--   lunette scripts/reliability/train_once.lua <demo dataset folder> <out folder> [max_iter=40]
local d2 = require "detectron2"
local data, out, maxIter = arg[1], arg[2], tonumber(arg[3] or "40")
assert(data and out, "usage: train_once.lua <dataset> <out> [max_iter]")
io.stdout:setvbuf("no")
d2.data.datasets.register_coco_instances("kill_train", {}, data .. "/annotations/instances_train.json", data .. "/train")
local cfg = dofile(arg[0]:match("^(.*)/[^/]*$") .. "/tiny_config.lua")(maxIter)
cfg.OUTPUT_DIR = out
local trainer = d2.engine.DefaultTrainer(cfg)
local loaded = trainer:resume_or_load{ resume = true }
print(loaded and ("resumed " .. loaded .. " " .. trainer.start_iter) or "fresh 0")
trainer:train()
print("finished " .. trainer.max_iter)
