-- detectron2.model_zoo: the model-zoo configs shipped in stdlib/configs, by Detectron2's names.
local model_zoo = {}

local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local configs = here .. "/../configs"

--- The path of a model-zoo config: get_config_file("COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml").
function model_zoo.get_config_file(name)
  assert(type(name) == "string", "get_config_file: the config's name is a string")
  local path = configs .. "/" .. name
  local f = io.open(path, "r")
  if not f then
    error(("%s is not in the model zoo (looked in %s); shipped: Base-RCNN-FPN.yaml and COCO-Detection/faster_rcnn_{R_50_FPN_1x, R_50_FPN_3x, R_101_FPN_3x, X_101_32x8d_FPN_3x}.yaml")
      :format(name, configs), 2)
  end
  f:close()
  return path
end

--- A config with the model-zoo file merged in (get_config in Detectron2).
function model_zoo.get_config(name)
  local cfg = require("detectron2.config").get_cfg()
  cfg:merge_from_file(model_zoo.get_config_file(name))
  return cfg
end

return model_zoo
