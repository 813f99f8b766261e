-- One leg of the detect kill campaign: two tiny models (built once, deterministically, sharing
-- a stem) over the creatives in DATA, into STORE, in batches of 2.
--   lunette scripts/reliability/detect_once.lua DATA STORE
local d2 = require "detectron2"
local torch = require "torch"
local data, store = arg[1], arg[2]
-- A tiny R18-FPN at 128 px with Detectron2's FREEZE_AT 2 (a frozen stem and res2 to share).
local cfg = d2.model_zoo.get_config("COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml")
cfg.MODEL.WEIGHTS = ""; cfg.MODEL.DEVICE = "cpu"
cfg.MODEL.RESNETS.DEPTH = 18; cfg.MODEL.RESNETS.RES2_OUT_CHANNELS = 64; cfg.MODEL.RESNETS.STEM_OUT_CHANNELS = 32
cfg.MODEL.FPN.OUT_CHANNELS = 32; cfg.MODEL.ROI_BOX_HEAD.FC_DIM = 32; cfg.MODEL.ROI_HEADS.NUM_CLASSES = 2
cfg.INPUT.MIN_SIZE_TEST = 128; cfg.INPUT.MAX_SIZE_TEST = 192
local function model(path, seed)
  local f = io.open(path)
  if f then f:close() return end
  torch.manual_seed(seed)
  local m = d2.modeling.build_model(cfg)
  if seed ~= 1 then
    local a = d2.modeling.build_model(cfg); a:load(data .. "/a.safetensors")
    local sa, sm = a:state_dict(), m:state_dict()
    for k, v in pairs(sm) do if k:find("bottom_up.stem") or k:find("bottom_up.res2") then v:copy_(sa[k]) end end
  end
  m:save(path .. ".part"); os.rename(path .. ".part", path)
end
model(data .. "/a.safetensors", 1)
model(data .. "/b.safetensors", 2)
local job = d2.engine.detect_batch{
  models = { logo = {weights = data .. "/a.safetensors", config = cfg, classes = {"logo", "product"}, threshold = 0.3},
             face = {weights = data .. "/b.safetensors", config = cfg, classes = {"face", "smile"}, threshold = 0.3} },
  images = data .. "/creatives", out = store, batch_size = 2,
}
local s = job:summary()
print("done " .. s.done .. " failed " .. s.failed .. " pending " .. s.pending)
