-- A grid search's promises on the fixture data, at a tiny config. arg: fixtures folder, output
-- folder, tiny_config.lua, then a step:
--   shared     MAX_ITER {6, 10} x BATCH_SIZE_PER_IMAGE {64}: one training run
--   alone      MAX_ITER {6}: an independent run, in its own folder
--   compare    the shared run's 6-iteration trial against the independent one, bit for bit
--   extend     MAX_ITER {6, 10, 14}: resumes the finished run
--   changed    after extend: BASE_LR 0.004 in the same folder makes a new trial
--   warmup     WARMUP_ITERS 8 with MAX_ITER {6, 10}: the 6-iteration trial trains alone
--   diverge    BASE_LR 1e4 next to 0.005: the diverged trial fails, the search goes on
--   results    after shared: heat-map cells against the stored values, sweep, final models, baseline
--   plan       MAX_ITER {6} x BATCH_SIZE_PER_IMAGE {32, 64} (ARRAY_BATCHES) in "array" (ARRAY_NAME),
--              planned only (array tasks follow)
--   reference  the same grid run by one process in "array_reference"
--   arrays     after plan, tasks, collect and reference: each trial's metrics and weights, both ways
--   registry   after reference: its best trial as brandA's logo model in models.sqlite
local d2, torch = require "detectron2", require "torch"
local data, out, tiny, step = arg[1] .. "/data", arg[2], dofile(arg[3]), arg[4]
d2.data.datasets.register_coco_instances("tune_train", {}, data .. "/annotations/instances_train.json", data .. "/train")
-- The validation set: the first 12 images of the fixture's val split.
local val = d2.data.datasets.load_coco_json(data .. "/annotations/instances_val.json", data .. "/val", "tune_val_all")
d2.data.DatasetCatalog.register("tune_valid", function() local t = {} for i = 1, 12 do t[i] = val[i] end return t end)
d2.data.MetadataCatalog.get("tune_valid").thing_classes = d2.data.MetadataCatalog.get("tune_val_all").thing_classes

local function config()
  local cfg = tiny("tune_train", 5)
  cfg.SOLVER.WARMUP_ITERS = 3; cfg.SOLVER.STEPS = {}; cfg.SOLVER.IMS_PER_BATCH = 2; cfg.SOLVER.BASE_LR = 0.005
  cfg.MODEL.RESNETS.NORM = "GN"; cfg.MODEL.FPN.NORM = "GN"; cfg.MODEL.BACKBONE.FREEZE_AT = 0
  cfg.SEED = 3
  return cfg
end
local function search(dir, grid, cfg, run)
  return d2.tuning.grid_search{ config = cfg or config(), grid = grid, train = "tune_train", valid = "tune_valid",
                                thresholds = { 0.05, 0.3 }, output_dir = out .. "/" .. dir, checkpoint_period = 4, run = run }
end
local array_name, batches = os.getenv("ARRAY_NAME") or "array", {}
for b in (os.getenv("ARRAY_BATCHES") or "32,64"):gmatch("%d+") do batches[#batches + 1] = tonumber(b) end
local array_grid = { ["SOLVER.MAX_ITER"] = { 6 }, ["MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE"] = batches }
local function trialOf(s, iterations)
  for _, t in ipairs(s:trials()) do if t.params["SOLVER.MAX_ITER"] == iterations then return t end end
end

if step == "shared" or step == "extend" then
  local s = search("shared", { ["SOLVER.MAX_ITER"] = step == "shared" and { 6, 10 } or { 6, 10, 14 },
                               ["MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE"] = { 64 } })
  print(s)
  for _, t in ipairs(s:trials()) do print("trial", t.params["SOLVER.MAX_ITER"], t.state, t.run, t.weights) end
elseif step == "changed" then
  local cfg = config()
  cfg.SOLVER.BASE_LR = 0.004
  local s = search("shared", { ["SOLVER.MAX_ITER"] = { 6 }, ["MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE"] = { 64 } }, cfg)
  for _, t in ipairs(s:trials()) do print("trial", t.params["SOLVER.MAX_ITER"], t.state) end
elseif step == "alone" then
  local s = search("alone", { ["SOLVER.MAX_ITER"] = { 6 }, ["MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE"] = { 64 } })
  print("trial", 6, trialOf(s, 6).state)
elseif step == "compare" then
  local a, b = trialOf(d2.tuning.open(out .. "/shared"), 6), trialOf(d2.tuning.open(out .. "/alone"), 6)
  print("ids", a.id == b.id)
  local wa, wb = torch.load(a.weights), torch.load(b.weights)
  local compared, differ = 0, 0
  for name, t in pairs(wa) do
    compared = compared + 1
    if wb[name] == nil or not t:equal(wb[name]) then differ = differ + 1 end
  end
  print("compared", compared, "differ", differ)
  local function read(p) local f = assert(io.open(p, "rb")); local s = f:read("a"); f:close(); return s end
  print("predictions", read(a.predictions) == read(b.predictions), #read(a.predictions) > 2)
  print("accuracy", a.metrics.at[1].accuracy == b.metrics.at[1].accuracy, a.metrics.AP == b.metrics.AP)
  local ten = trialOf(d2.tuning.open(out .. "/shared"), 10)
  local w10, changed = torch.load(ten.weights), 0
  for name, t in pairs(wa) do if not t:equal(w10[name]) then changed = changed + 1 end end
  print("changed by iterations 6 to 9", changed)
elseif step == "warmup" then
  local cfg = config()
  cfg.SOLVER.WARMUP_ITERS = 8
  print(search("warmup", { ["SOLVER.MAX_ITER"] = { 6, 10 }, ["MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE"] = { 64 } }, cfg))
elseif step == "results" then
  local s = d2.tuning.open(out .. "/shared")
  -- Each cell of each panel shows the trial's stored value (the texts of the drawn figure).
  local fig = s:heatmaps{ rows = "SOLVER.MAX_ITER", cols = "MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE" }
  local texts = {}
  for _, t in ipairs(fig:texts()) do texts[t.text] = (texts[t.text] or 0) + 1 end
  local cells, missing = 0, 0
  for _, t in ipairs(s:trials()) do
    for _, at in ipairs(t.metrics.at) do
      cells = cells + 1
      if not texts[string.format("%.3f", at.accuracy)] then missing = missing + 1; print("missing cell", t.id, at.threshold, at.accuracy) end
    end
  end
  print("cells", cells, "missing", missing, "best marks", texts["best"])
  -- The same trials scored at another threshold, from the stored predictions.
  local again = s:trials{ thresholds = { 0.05, 0.3, 0.5 } }
  print("rescored", #again[1].metrics.at, again[1].metrics.at[1].accuracy == s:trials()[1].metrics.at[1].accuracy)
  local best = s:best()
  print("best", best.threshold, best.value == best.trial.metrics.at[best.threshold == 0.05 and 1 or 2].accuracy)
  local sweep = d2.tuning.threshold_sweep{ trial = best, from = 0.05, to = 0.95, step = 0.05 }
  local chosen = sweep:best_per_class()
  local n = 0
  for name, c in pairs(chosen) do n = n + 1; assert(c.threshold >= 0.05 and c.threshold <= 0.95 and c.accuracy, name) end
  print("sweep classes", n)
  local m = s:confusion_matrices{ threshold = 0.3 }
  print("matrices", #m, m[1].counts[1][1] + m[1].counts[1][2] + m[1].counts[2][1] + m[1].counts[2][2])
  s:save_csv(out .. "/grid.csv")
  local f = io.open(out .. "/grid.csv"); print("csv", f:read("l")); f:close()
  local face = d2.tuning.haar_baseline{ dataset = "tune_valid", class = "face" }
  print("baseline", face.name, face:value() ~= nil)
  local models = d2.tuning.final_models(out .. "/models.sqlite")
  models:record{ brand = "brandA", object = "logo", search = s, sweep = sweep, baseline = face }
  local got = models:get{ brand = "brandA", object = "logo" }
  print("model", got.threshold == chosen.logo.threshold, got.value == chosen.logo.accuracy, got.weights == best.weights,
        #got.sha256, got.config.MODEL.WEIGHTS == best.weights, got.max_iter, got.batch_size)
  print("for_brand", #models:for_brand("brandA"))
  print(models)
elseif step == "diverge" then
  local s = search("diverge", { ["SOLVER.MAX_ITER"] = { 4 }, ["SOLVER.BASE_LR"] = { 0.005, 10000.0 } })
  print(s)
  for _, t in ipairs(s:trials()) do print("trial", t.params["SOLVER.BASE_LR"], t.state, t.reason) end
  local best = s:best()
  print("best", best.params["SOLVER.BASE_LR"])
elseif step == "plan" then
  search(array_name, array_grid, nil, false)
  print("tasks", d2.tuning.task_count(out .. "/" .. array_name))
elseif step == "reference" then
  search(array_name .. "_reference", array_grid)
elseif step == "registry" then
  local s = d2.tuning.open(out .. "/" .. array_name .. "_reference")
  local sweep = d2.tuning.threshold_sweep{ trial = s:best(), from = 0.05, to = 0.95, step = 0.05 }
  d2.tuning.final_models(out .. "/models.sqlite"):record{ brand = "brandA", object = "logo", search = s, sweep = sweep }
  print("registry", out .. "/models.sqlite")
elseif step == "arrays" then
  local a, b = d2.tuning.open(out .. "/" .. array_name), d2.tuning.open(out .. "/" .. array_name .. "_reference")
  local byId = {}
  for _, t in ipairs(b:trials()) do byId[t.id] = t end
  for _, t in ipairs(a:trials()) do
    local r = byId[t.id]
    local same = r ~= nil and t.state == "done" and r.state == "done" and t.metrics.AP == r.metrics.AP and t.metrics.AP50 == r.metrics.AP50
    for i, at in ipairs(t.metrics.at) do same = same and at.accuracy == r.metrics.at[i].accuracy and at.f1 == r.metrics.at[i].f1 end
    local wa, wb = torch.load(t.weights), torch.load(r.weights)
    local differ = 0
    for name, x in pairs(wa) do if not x:equal(wb[name]) then differ = differ + 1 end end
    print("array trial", t.params["MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE"], t.state, same, "weights differ", differ)
  end
end
