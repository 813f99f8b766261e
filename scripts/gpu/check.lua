-- The GPU check's Lua half (scripts/gpu/check runs it with the bundle's lunette): parity of the
-- fixture's trained model on CUDA against the CPU and against Detectron2, inference speed at
-- fp32 / bf16 / fp16 with batches of 1 and 8, a short training run with and without AMP, and
-- bulk detection with 5 models. Writes "key value" lines to REPORT and says each step.
--   lunette scripts/gpu/check.lua FIXTURES REPORT [device=cuda] [quick=0]
-- FIXTURES: a folder with data/ and trained/ as in the public Detectron2 fixtures. quick=1 runs
-- each step small (the dry run on a CPU).
local d2 = require "detectron2"
local torch = require "torch"
local lunette = require "lunette"
local cv = require "cv"
local fixtures, report_path = arg[1], arg[2]
local device, quick = arg[3] or "cuda", arg[4] == "1"
assert(fixtures and report_path, "usage: check.lua FIXTURES REPORT [device] [quick]")
io.stdout:setvbuf("line")
local report = assert(io.open(report_path, "a"))
local function put(key, value)
  local line = ("%s %s"):format(key, tostring(value))
  report:write(line, "\n"); report:flush()
  print(line)
end
local function step(name, f)
  local t = lunette.Timer()
  local ok, err = pcall(f)
  put(name .. ".step_seconds", ("%.1f"):format(t:elapsed()))
  put(name .. ".ok", ok and "yes" or ("no: " .. tostring(err):gsub("\n", " | ")))
end
local function median(xs)
  table.sort(xs)
  return xs[math.ceil(#xs / 2)]
end
put("device", device)
put("cuda.available", torch.cuda.is_available())
put("cuda.device_count", torch.cuda.device_count())

d2.data.datasets.register_coco_instances("check_val", {}, fixtures .. "/data/annotations/instances_val.json", fixtures .. "/data/val")
d2.data.datasets.register_coco_instances("check_train", {}, fixtures .. "/data/annotations/instances_train.json", fixtures .. "/data/train")
local function trained_cfg(on)
  local cfg = d2.config.get_cfg()
  cfg:merge_from_file(fixtures .. "/trained/config.yaml")
  cfg.MODEL.WEIGHTS = fixtures .. "/trained/model_final.pth"
  cfg.MODEL.DEVICE = on
  cfg.DATASETS.TEST = { "check_val" }
  cfg.DATALOADER.NUM_WORKERS = 2
  return cfg
end

-- 1. Parity: the trained model on the device against the CPU (same weights, same inputs) and
-- against Detectron2's eval.json. The parity tests' bar on the CPU: AP equal to 1e-9, scores
-- within 1e-5; on CUDA (another convolution algorithm, TF32 off) the detections are compared
-- with the agreement measure at IoU >= 0.99 and scores within 1e-3.
step("parity", function()
  local expected = lunette.json_decode(assert(io.open(fixtures .. "/trained/eval.json")):read("a")).results.bbox.AP
  local results = {}
  for _, on in ipairs(device == "cpu" and { "cpu" } or { "cpu", device }) do
    local cfg = trained_cfg(on)
    local model = d2.engine.DefaultPredictor(cfg).model
    local loader = d2.data.build_detection_test_loader(cfg, "check_val")
    results[on] = d2.evaluation.inference_on_dataset(model, loader, d2.evaluation.COCOEvaluator("check_val"))
  end
  put("parity.detectron2_AP", ("%.6f"):format(expected))
  put("parity.cpu_AP", ("%.6f"):format(results.cpu.bbox.AP))
  if device ~= "cpu" then put("parity." .. device .. "_AP", ("%.6f"):format(results[device].bbox.AP)) end
  local a = d2.evaluation.agreement(results.cpu.predictions, results[device].predictions, { min_score = 0.05, iou = 0.99, score_delta = 1e-3 })
  put("parity.matched", ("%d/%d %.4f"):format(a.matched, a.total, a.share))
  local pass = math.abs(results.cpu.bbox.AP - expected) < 1e-9 and math.abs(results[device].bbox.AP - expected) < 0.05 and a.share >= 0.99
  put("parity.pass", pass and "yes" or "no")
end)

-- 2. Inference speed: R50-FPN and X101-32x8d-FPN (random weights, SCORE_THRESH_TEST 0, 800 px)
-- on messi5-sized images, batches of 1 and 8, at each precision.
step("speed", function()
  local img = cv.imread(d2.data.DatasetCatalog.get("check_val")[1].file_name)
  img = img:resize(1282, 800)
  local reps = quick and 2 or 10
  for _, name in ipairs(quick and { "R_50" } or { "R_50", "X_101_32x8d" }) do
    for _, precision in ipairs({ "fp32", "bf16", "fp16" }) do
      local cfg = d2.model_zoo.get_config("COCO-Detection/faster_rcnn_" .. name .. "_FPN_3x.yaml")
      cfg.MODEL.WEIGHTS = ""; cfg.MODEL.DEVICE = device; cfg.MODEL.ROI_HEADS.SCORE_THRESH_TEST = 0.0
      local ok, predictor = pcall(d2.engine.DefaultPredictor, cfg, { precision = precision })
      if not ok then
        -- A precision the device does not offer is reported; any other failure fails the step.
        assert(tostring(predictor):find("not offered"), predictor)
        put(("speed.%s.%s"):format(name, precision), "not offered: " .. tostring(predictor):gsub("\n.*", ""))
      else
        for _, batch in ipairs({ 1, 8 }) do
          local images = {}
          for i = 1, batch do images[i] = img end
          local function run() for _, out in ipairs(predictor:predict_batch(images)) do out.instances:to("cpu") end end
          run(); run()   -- warm-up (cuDNN picks its algorithms)
          local times = {}
          for r = 1, reps do
            local t = lunette.Timer(); run(); times[r] = t:elapsed() / batch
          end
          put(("speed.%s.%s.batch%d_s_per_image"):format(name, precision, batch), ("%.4f"):format(median(times)))
        end
      end
    end
  end
end)

-- 3. Training: the fixture's config from its trained weights, with and without AMP; seconds
-- per iteration, the losses at the start and the end, and the checkpoint's dtype.
step("training", function()
  local iters = quick and 4 or 60
  for _, amp in ipairs({ false, true }) do
    local cfg = trained_cfg(device)
    cfg.DATASETS.TRAIN = { "check_train" }; cfg.DATASETS.TEST = {}
    cfg.SOLVER.MAX_ITER = iters; cfg.SOLVER.STEPS = {}; cfg.SOLVER.CHECKPOINT_PERIOD = 100000
    cfg.SOLVER.IMS_PER_BATCH = 4; cfg.SEED = 1
    cfg.SOLVER.AMP.ENABLED = amp
    cfg.OUTPUT_DIR = os.tmpname() .. "_check_train"
    local trainer = d2.engine.DefaultTrainer(cfg)
    trainer:resume_or_load{ resume = false }
    trainer:train()
    local losses, times = trainer:history("total_loss"), trainer:history("time")
    local tag = amp and "amp" or "fp32"
    put(("training.%s.precision"):format(tag), trainer.precision)
    put(("training.%s.s_per_iter"):format(tag), ("%.4f"):format(#times > 0 and median(times) or 0 / 0))
    put(("training.%s.loss_first_last"):format(tag), ("%.4f %.4f"):format(losses[1], losses[#losses]))
    local dtypes = {}
    for _, t in pairs(torch.load(cfg.OUTPUT_DIR .. "/model_final.pth")) do dtypes[t:dtype()] = true end
    local list = {}
    for k in pairs(dtypes) do list[#list + 1] = k end
    table.sort(list)
    put(("training.%s.checkpoint_dtypes"):format(tag), table.concat(list, ","))
    os.execute(("rm -rf %q"):format(cfg.OUTPUT_DIR))
  end
end)

-- 4. Bulk detection: N creatives (512x384) through 5 models (the trained
-- weights, the heads of four of them perturbed so that each is its own model; the frozen stem
-- and res2 stay shared as in the study's fine-tuned models).
step("bulk", function()
  local n = quick and 20 or 500
  local work = os.tmpname() .. "_check_bulk"
  os.execute(("mkdir -p %q"):format(work))
  -- The creatives: the fixture's 160 images, copied to n files (the GPU machine has no opencv-doc).
  local sources = {}
  for _, split in ipairs({ "check_train", "check_val" }) do
    for _, d in ipairs(d2.data.DatasetCatalog.get(split)) do sources[#sources + 1] = d.file_name end
  end
  os.execute(("mkdir -p %q"):format(work .. "/creatives"))
  for i = 1, n do
    local bytes = assert(io.open(sources[(i - 1) % #sources + 1], "rb")):read("a")
    local f = assert(io.open(("%s/creatives/c%04d.jpg"):format(work, i), "wb")); f:write(bytes); f:close()
  end
  local cfg = trained_cfg(device)
  local base = torch.load(fixtures .. "/trained/model_final.pth")
  local models = {}
  for k = 1, 5 do
    local weights = {}
    torch.manual_seed(k)
    for name, t in pairs(base) do
      if k > 1 and t:dtype() == "float32" and not name:match("^backbone%.bottom_up%.stem") and not name:match("^backbone%.bottom_up%.res2") then
        weights[name] = t + torch.randn(t:size()) * 1e-3
      else
        weights[name] = t
      end
    end
    local path = ("%s/m%d.safetensors"):format(work, k)
    torch.save(weights, path)
    models["m" .. k] = { weights = path, config = cfg, classes = { "logo", "product", "brand_cue", "face", "smile" } }
  end
  local job = d2.engine.detect_batch{ models = models, images = work .. "/creatives", out = work .. "/bulk.sqlite", device = device, batch_size = 200 }
  local s = job:summary()
  put("bulk.creatives", s.done)
  put("bulk.model_images", s.model_images)
  put("bulk.seconds", ("%.1f"):format(s.seconds))
  put("bulk.creatives_x_models_per_s", ("%.2f"):format(s.model_images / s.seconds))
  os.execute(("rm -rf %q"):format(work))
end)
report:close()
