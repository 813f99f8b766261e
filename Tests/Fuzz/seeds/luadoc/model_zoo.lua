-- detectron2.model_zoo: the model-zoo configs shipped in stdlib/configs and the trained
-- models' links, by Detectron2's names. A link (detectron2://...) is read from the local model
-- zoo: LUNETTE_MODEL_ZOO (default ~/.cache/lunette/model_zoo), or Detectron2's own cache
-- ~/.torch/iopath_cache/detectron2, under the link's path.
local model_zoo = {}

local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local configs = here .. "/../configs"

-- Detectron2's MODEL_ZOO.md: each config's trained model (model id / file), Faster R-CNN.
local trained = {
  ["COCO-Detection/faster_rcnn_R_50_C4_1x"] = "137257644/model_final_721ade.pkl",
  ["COCO-Detection/faster_rcnn_R_50_DC5_1x"] = "137847829/model_final_51d356.pkl",
  ["COCO-Detection/faster_rcnn_R_50_FPN_1x"] = "137257794/model_final_b275ba.pkl",
  ["COCO-Detection/faster_rcnn_R_50_C4_3x"] = "137849393/model_final_f97cb7.pkl",
  ["COCO-Detection/faster_rcnn_R_50_DC5_3x"] = "137849425/model_final_68d202.pkl",
  ["COCO-Detection/faster_rcnn_R_50_FPN_3x"] = "137849458/model_final_280758.pkl",
  ["COCO-Detection/faster_rcnn_R_101_C4_3x"] = "138204752/model_final_298dad.pkl",
  ["COCO-Detection/faster_rcnn_R_101_DC5_3x"] = "138204841/model_final_3e0943.pkl",
  ["COCO-Detection/faster_rcnn_R_101_FPN_3x"] = "137851257/model_final_f6e8b1.pkl",
  ["COCO-Detection/faster_rcnn_X_101_32x8d_FPN_3x"] = "139173657/model_final_68b088.pkl",
}

local shipped = "Base-RCNN-FPN.yaml and COCO-Detection/faster_rcnn_{R_50_FPN_1x, R_50_FPN_3x, R_101_FPN_3x, X_101_32x8d_FPN_3x}.yaml"

local function check_name(fname, name)
  if type(name) ~= "string" then
    error(("%s: the config's name is a string such as \"COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml\", not a %s"):format(fname, type(name)), 3)
  end
end

--- The path of a shipped model-zoo config, by its name under Detectron2's configs/ folder.
--- get_config_file("COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml")
function model_zoo.get_config_file(name)
  check_name("get_config_file", name)
  local path = configs .. "/" .. name
  local f = io.open(path, "r")
  if not f then
    error(("%s is not in the model zoo (looked in %s); shipped: %s"):format(name, configs, shipped), 2)
  end
  f:close()
  return path
end

--- The link of the model Detectron2 trained with a config (Detectron2's get_checkpoint_url):
--- get_checkpoint_url("COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml") is
--- "detectron2://COCO-Detection/faster_rcnn_R_50_FPN_3x/137849458/model_final_280758.pkl".
--- As MODEL.WEIGHTS it is read from the local model zoo (LUNETTE_MODEL_ZOO).
function model_zoo.get_checkpoint_url(name)
  check_name("get_checkpoint_url", name)
  local key = name:gsub("%.yaml$", ""):gsub("%.py$", "")
  local suffix = trained[key]
  if not suffix then
    local names = {}
    for k in pairs(trained) do names[#names + 1] = k .. ".yaml" end
    table.sort(names)
    error(("Pretrained model for %s is not available! The model zoo's Faster R-CNN models: %s"):format(name, table.concat(names, ", ")), 2)
  end
  return "detectron2://" .. key .. "/" .. suffix
end

--- A config with the model-zoo file merged in (Detectron2's get_config):
--- get_config(name, trained) also sets MODEL.WEIGHTS to the trained model's link when trained is true.
function model_zoo.get_config(name, trained_weights)
  check_name("get_config", name)
  if trained_weights ~= nil and type(trained_weights) ~= "boolean" then
    error(("get_config: trained is true or false, not a %s"):format(type(trained_weights)), 2)
  end
  local cfg = require("detectron2.config").get_cfg()
  cfg:merge_from_file(model_zoo.get_config_file(name))
  if trained_weights then cfg.MODEL.WEIGHTS = model_zoo.get_checkpoint_url(name) end
  return cfg
end

--- The model of a model-zoo config (Detectron2's model_zoo.get): get(name, {trained = true,
--- device = "cpu"}) loads the trained weights from the local model zoo; without trained, the
--- weights MODEL.WEIGHTS names (the ImageNet backbone). The device defaults to CUDA where there is one.
function model_zoo.get(name, options)
  check_name("get", name)
  options = options or {}
  if type(options) ~= "table" then
    error(("get: options are a table {trained = true, device = \"cpu\"}, not a %s"):format(type(options)), 2)
  end
  for k in pairs(options) do
    if k ~= "trained" and k ~= "device" then
      local close = require("lunette").suggest(tostring(k), { "device", "trained" })
      local hint = close and ("; did you mean %s?"):format(close) or ""
      error(("get: unknown option '%s'%s (the options are device, trained)"):format(tostring(k), hint), 2)
    end
  end
  local cfg = model_zoo.get_config(name, options.trained == true)
  cfg.MODEL.DEVICE = options.device or "auto"
  local d2 = { modeling = require "detectron2.modeling", checkpoint = require "detectron2.checkpoint" }
  local model = d2.modeling.build_model(cfg)
  if cfg.MODEL.WEIGHTS ~= "" then d2.checkpoint.DetectionCheckpointer(model):load(cfg.MODEL.WEIGHTS) end
  return model
end

return model_zoo
