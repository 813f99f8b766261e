-- Faster R-CNN inference speed: R50-FPN and X101-32x8d-FPN from the model zoo configs, at
-- MIN_SIZE_TEST 800, on messi5.jpg (resized to 800x1282) and on a creative-like photo. Weights are
-- random (speed does not depend on them; tests check the detections against Detectron2).
-- Prints "model image median_s peak_rss_mb precision".
-- Usage: lunette inference.lua [reps] [models] [images, comma-separated; default messi5.jpg] [precision=fp32]
local d2 = require "detectron2"
local cv = require "cv"
local lunette = require "lunette"
local torch = require "torch"
local reps = tonumber(arg[1]) or 5
local which = arg[2] or "R_50,X_101_32x8d"
local precision = arg[4] or "fp32"
torch.manual_seed(0)

local peak_rss_mb = require("benchutil").peak_rss_mb

local images = {}
for path in (arg[3] or "/usr/share/doc/opencv-doc/examples/data/messi5.jpg"):gmatch("[^,]+") do
  images[#images + 1] = { tag = path:match("([^/]+)%.%w+$") or path, image = cv.imread(path) }
end

for name in which:gmatch("[^,]+") do
  local cfg = d2.model_zoo.get_config("COCO-Detection/faster_rcnn_" .. name .. "_FPN_3x.yaml")
  cfg.MODEL.WEIGHTS = ""
  cfg.MODEL.DEVICE = "cpu"
  cfg.MODEL.ROI_HEADS.SCORE_THRESH_TEST = 0.0   -- the worst case: every proposal goes through NMS
  local predictor = d2.engine.DefaultPredictor(cfg, { precision = precision })
  torch.no_grad(function()
    for _, p in pairs(predictor.model:state_dict()) do
      if p:dtype() == "float32" and p:dim() > 1 then p:copy_(torch.randn(p:size()) * 0.01) end
    end
  end)
  for _, entry in ipairs(images) do
    local tag, img = entry.tag, entry.image
    predictor(img)  -- warm-up
    local times = {}
    for i = 1, reps do
      local t = lunette.Timer()
      predictor(img)
      times[i] = t:elapsed()
      collectgarbage()
    end
    table.sort(times)
    print(("%s %s %.3f %.0f %s"):format(name, tag, times[math.ceil(reps / 2)], peak_rss_mb(), precision))
  end
end
