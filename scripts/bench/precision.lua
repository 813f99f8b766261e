-- The quality of each inference precision against fp32 on one model and one COCO dataset: COCO
-- AP, presence accuracy at 20/40/60/80 %, and the share of fp32's detections (score >= 0.3)
-- found again at IoU >= 0.9 with the score within 0.02 — and seconds per image.
--
--   lunette scripts/bench/precision.lua CONFIG WEIGHTS ANNOTATIONS IMAGES [precisions=fp32,bf16,fp16] [label]
--
-- CONFIG: a YAML (or "demo": the config scripts/detect_demo.lua trains). Prints one line per
-- precision: label precision AP delta_AP acc20 acc40 acc60 acc80 matched total matched_share s_per_image
local d2 = require "detectron2"
local lunette = require "lunette"

local config, weights, annotations, images = arg[1], arg[2], arg[3], arg[4]
assert(config and weights and annotations and images, "usage: precision.lua CONFIG WEIGHTS ANNOTATIONS IMAGES [precisions] [label]")
local precisions = {}
for p in (arg[5] or "fp32,bf16,fp16"):gmatch("[^,]+") do precisions[#precisions + 1] = p end
local label = arg[6] or "model"
local thresholds = { 0.2, 0.4, 0.6, 0.8 }

d2.data.datasets.register_coco_instances("precision_eval", {}, annotations, images)
local cfg = d2.config.get_cfg()
if config == "demo" then
  -- The demo creatives' detectors (scripts/detect_demo.lua): R18, GN, 64 channels, 256 px.
  cfg = d2.model_zoo.get_config("COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml")
  cfg.MODEL.RESNETS.DEPTH = 18; cfg.MODEL.RESNETS.RES2_OUT_CHANNELS = 64; cfg.MODEL.RESNETS.STEM_OUT_CHANNELS = 32
  cfg.MODEL.RESNETS.NORM = "GN"; cfg.MODEL.FPN.NORM = "GN"
  cfg.MODEL.FPN.OUT_CHANNELS = 64; cfg.MODEL.ROI_BOX_HEAD.FC_DIM = 64; cfg.MODEL.ROI_HEADS.NUM_CLASSES = 2
  cfg.INPUT.MIN_SIZE_TEST = 256; cfg.INPUT.MAX_SIZE_TEST = 384
else
  cfg:merge_from_file(config)
end
cfg.MODEL.WEIGHTS = weights; cfg.MODEL.DEVICE = "cpu"
cfg.DATASETS.TEST = { "precision_eval" }; cfg.DATALOADER.NUM_WORKERS = 0
local predictor = d2.engine.DefaultPredictor(cfg)
local loader = d2.data.build_detection_test_loader(cfg, "precision_eval")
local count = #d2.data.DatasetCatalog.get("precision_eval")

local reference, reference_ap
for _, p in ipairs(precisions) do
  local ok, err = pcall(function()
    local timer = lunette.Timer()
    local r = d2.evaluation.inference_on_dataset(predictor.model, loader, d2.evaluation.COCOEvaluator("precision_eval"), { precision = p })
    local seconds = timer:elapsed() / count
    local presence = d2.evaluation.presence("precision_eval", r.predictions, { thresholds = thresholds })
    local acc = {}
    for i, t in ipairs(thresholds) do acc[i] = ("%.4f"):format(presence:accuracy("overall", t)) end
    if not reference then reference, reference_ap = r.predictions, r.bbox.AP end
    local a = d2.evaluation.agreement(reference, r.predictions, { min_score = 0.3, iou = 0.9, score_delta = 0.02 })
    print(("%s %s %.3f %+.3f %s %d %d %.4f %.3f"):format(label, p, r.bbox.AP, r.bbox.AP - reference_ap, table.concat(acc, " "),
                                                        a.matched, a.total, a.share, seconds))
  end)
  if not ok then print(("%s %s not offered: %s"):format(label, p, tostring(err):gsub("\n.*", ""))) end
end
