-- Lunette's main job, top to bottom: the demo "creatives" dataset built and registered, a small
-- Faster R-CNN trained on it from scratch on the CPU, evaluated (COCO AP and image-level
-- presence accuracy) and its predictions drawn on validation images.
--
--   lunette scripts/quickstart.lua [out_folder] [iterations]
--
-- Everything lands in out_folder (default out/quickstart): the dataset, the training run
-- (checkpoints, metrics.json), evaluation results and drawings.
local lunette = require "lunette"
local torch = require "torch"
local cv = require "cv"
local d2 = require "detectron2"

local v = lunette.versions()
print(("Lunette %s on %s, libtorch %s (%d threads), OpenCV %s, CUDA %s"):format(
  v.lunette, v.lua, v.torch, v.threads, v.opencv, v.cuda and ("available, " .. torch.cuda.device_count() .. " device(s)") or "not available"))

local out = arg[1] or "out/quickstart"
local iterations = tonumber(arg[2] or os.getenv("QUICKSTART_ITERS") or "400")
local here = arg[0]:match("^(.*)/[^/]*$") or "."

-- 1. Data: 60 train and 20 val images of logos and products pasted on photos, COCO format.
local data = out .. "/demo_creatives"
assert(loadfile(here .. "/make_demo_dataset.lua"))(data)
for _, split in ipairs { "train", "val" } do
  d2.data.datasets.register_coco_instances("demo_" .. split, {},
    ("%s/annotations/instances_%s.json"):format(data, split), ("%s/%s"):format(data, split))
end
local meta = d2.data.MetadataCatalog.get("demo_train")
print(d2.data.DatasetCatalog.get("demo_train"))

-- 2. Configure: Detectron2's R50-FPN recipe, shrunk to train in minutes on a CPU. With no
--    pretrained weights the network needs a norm that learns (GN), not frozen BN.
local cfg = d2.config.get_cfg()
cfg:merge_from_file(d2.model_zoo.get_config_file("COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml"))
cfg.MODEL.WEIGHTS = ""                      -- from scratch; give a model-zoo file to fine-tune
cfg.MODEL.DEVICE = "auto"                   -- a GPU where there is one, else the CPU (Detectron2's "cuda" would warn)
cfg.MODEL.RESNETS.DEPTH = 18
cfg.MODEL.RESNETS.RES2_OUT_CHANNELS = 64
cfg.MODEL.RESNETS.STEM_OUT_CHANNELS = 32
cfg.MODEL.RESNETS.NORM = "GN"
cfg.MODEL.FPN.NORM = "GN"
cfg.MODEL.FPN.OUT_CHANNELS = 64
cfg.MODEL.BACKBONE.FREEZE_AT = 0            -- nothing pretrained to keep
cfg.MODEL.ROI_BOX_HEAD.FC_DIM = 64
cfg.MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE = 128
cfg.MODEL.ROI_HEADS.NUM_CLASSES = #meta.thing_classes
cfg.INPUT.MIN_SIZE_TRAIN = { 256 }
cfg.INPUT.MAX_SIZE_TRAIN = 512
cfg.INPUT.MIN_SIZE_TEST = 256
cfg.INPUT.MAX_SIZE_TEST = 512
cfg.DATASETS.TRAIN = { "demo_train" }
cfg.DATASETS.TEST = {}                     -- evaluated below, once training is done
cfg.DATALOADER.NUM_WORKERS = 1
cfg.SOLVER.IMS_PER_BATCH = 2
cfg.SOLVER.BASE_LR = 0.01                  -- from scratch, 2 images a step: steadier than the zoo's 0.02 at 16
cfg.SOLVER.MAX_ITER = iterations
cfg.SOLVER.WARMUP_ITERS = math.min(50, iterations // 4)
cfg.SOLVER.STEPS = { math.floor(iterations * 0.8) }
cfg.SOLVER.CHECKPOINT_PERIOD = 100
cfg.SOLVER.CLIP_GRADIENTS.ENABLED = true    -- per-parameter norm clipping keeps early steps sane
cfg.SOLVER.CLIP_GRADIENTS.CLIP_TYPE = "norm"
cfg.SEED = 1
cfg.OUTPUT_DIR = out .. "/train"
os.execute(("rm -rf %q"):format(cfg.OUTPUT_DIR))

-- 3. Train: a progress bar on a terminal, metrics.json and checkpoints in OUTPUT_DIR.
local trainer = d2.engine.DefaultTrainer(cfg)
trainer:resume_or_load{ resume = false }
local timer = lunette.Timer()
trainer:train()
print(("trained %d iterations in %.0f s"):format(iterations, timer:elapsed()))

-- 4. Evaluate on the validation images: COCO AP, then "is there a logo in this creative?".
local evaluator = d2.evaluation.COCOEvaluator("demo_val", { output_dir = out .. "/eval" })
local loader = d2.data.build_detection_test_loader(cfg, "demo_val")
local results = d2.evaluation.inference_on_dataset(trainer.model, loader, evaluator)
local presence = d2.evaluation.presence("demo_val", results.predictions, { thresholds = { 0.2, 0.4, 0.6, 0.8 } })
print(presence)
for _, class in ipairs(meta.thing_classes) do
  print(("presence accuracy of %-8s at 40%%: %.3f"):format(class, presence:accuracy(class, 0.4)))
end
presence:confusion_matrix{ class = "logo", threshold = 0.4 }:save(out .. "/eval/confusion_logo.png")
results:save_json(out .. "/eval/bbox.json")

-- 5. Draw predictions of the final weights on a few validation images.
cfg.MODEL.WEIGHTS = cfg.OUTPUT_DIR .. "/model_final.pth"
cfg.MODEL.ROI_HEADS.SCORE_THRESH_TEST = 0.5
local predictor = d2.engine.DefaultPredictor(cfg)
local drawn = {}
for i, record in ipairs(d2.data.DatasetCatalog.get("demo_val")) do
  if i > 4 then break end
  local img = cv.imread(record.file_name)
  local viz = d2.utils.visualizer.Visualizer(img:rgb(), meta)
  local path = ("%s/predictions/%s.png"):format(out, record.file_name:match("([^/]+)%.%w+$"))
  os.execute(("mkdir -p %q"):format(out .. "/predictions"))
  viz:draw_instance_predictions(predictor(img)):save(path)
  drawn[#drawn + 1] = path
end

print(("\nDone. Look at:\n  %s/train/metrics.json   losses and lr every 20 iterations\n  %s/train/model_final.pth   the weights (Detectron2 format; .safetensors beside it)\n  %s/eval/                   COCO results, bbox.json, confusion_logo.png\n  %s"):format(
  out, out, out, table.concat(drawn, "\n  ")))
