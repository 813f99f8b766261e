-- Lunette's side of scripts/bench/eval.sh: load + evaluate + accumulate + summarize.
local d2 = require "detectron2"
local lunette = require "lunette"
d2.data.datasets.register_coco_instances("bench_gt", {}, arg[1], "")
local t = lunette.Timer()
local r = d2.evaluation.evaluate_results("bench_gt", arg[2])
local elapsed = t:elapsed()
print(("%.1f %.10f %.10f %.10f"):format(elapsed * 1000, r.stats[1], r.stats[2], r.stats[9]))
