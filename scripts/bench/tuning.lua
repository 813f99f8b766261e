-- The study's 3 x 3 grid (SOLVER.MAX_ITER x ROI_HEADS.BATCH_SIZE_PER_IMAGE) at a tiny config on
-- the demo creatives, as one grid search (shared MAX_ITER prefixes) or as nine independent
-- single-trial searches. Prints "<mode> iterations <n> seconds <s>" and one "trial" line each.
--   lunette scripts/bench/tuning.lua <demo data> <out> shared|independent [scale=0.1]
-- scale multiplies the study's MAX_ITERs {300, 500, 1000} (0.1 gives {30, 50, 100}).
local d2 = require "detectron2"
local data, out, mode, scale = arg[1], arg[2], arg[3], tonumber(arg[4] or "0.1")
io.stdout:setvbuf("no")
d2.data.datasets.register_coco_instances("bench_train", {}, data .. "/annotations/instances_train.json", data .. "/train")
d2.data.datasets.register_coco_instances("bench_valid", {}, data .. "/annotations/instances_val.json", data .. "/val")
local cfg = dofile("scripts/reliability/tiny_config.lua")(1)
cfg.DATASETS.TRAIN = { "bench_train" }
cfg.SOLVER.IMS_PER_BATCH = 2
cfg.SOLVER.WARMUP_ITERS = math.floor(30 * scale)   -- inside every trial, so schedules agree
local iterations, batches = {}, { 256, 512, 1024 }
for i, m in ipairs({ 300, 500, 1000 }) do iterations[i] = math.max(1, math.floor(m * scale + 0.5)) end
local function grid(its, bs) return { ["SOLVER.MAX_ITER"] = its, ["MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE"] = bs } end
local function run(dir, g)
  return d2.tuning.grid_search{ config = cfg, grid = g, train = "bench_train", valid = "bench_valid",
                                thresholds = { 0.2, 0.4, 0.6, 0.8 }, output_dir = out .. "/" .. dir, checkpoint_period = 1000 }
end
local timer = require("lunette").Timer()
local trained, lines = 0, {}
local function account(search)
  local runs = {}
  for _, t in ipairs(search:trials()) do
    assert(t.state == "done", t.id .. " " .. t.state .. " " .. tostring(t.reason))
    runs[t.run] = math.max(runs[t.run] or 0, t.params["SOLVER.MAX_ITER"])
    lines[#lines + 1] = string.format("trial %d %d %.6f %.6f", t.params["SOLVER.MAX_ITER"], t.params["MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE"],
                                      t.metrics.at[2].accuracy, t.metrics.AP or 0)
  end
  for _, n in pairs(runs) do trained = trained + n end
end
if mode == "shared" then
  account(run("shared", grid(iterations, batches)))
elseif mode == "independent" then
  for _, m in ipairs(iterations) do for _, b in ipairs(batches) do account(run("alone_" .. m .. "_" .. b, grid({ m }, { b }))) end end
else
  error("mode is shared or independent")
end
local seconds = timer:elapsed()
table.sort(lines)
for _, l in ipairs(lines) do print(l) end
print(string.format("%s iterations %d seconds %.1f", mode, trained, seconds))
