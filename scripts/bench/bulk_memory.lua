-- bulk_memory.sh's job: one tiny R18-FPN (128 px, FREEZE_AT 2) over the creatives in FOLDER in
-- batches of 200; prints "rss_first_batch_mb rss_end_mb creatives seconds".
local d2, torch = require "detectron2", require "torch"
local folder, out = arg[1], arg[2]
local cfg = d2.model_zoo.get_config("COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml")
cfg.MODEL.WEIGHTS = ""; cfg.MODEL.DEVICE = "cpu"
cfg.MODEL.RESNETS.DEPTH = 18; cfg.MODEL.RESNETS.RES2_OUT_CHANNELS = 64; cfg.MODEL.RESNETS.STEM_OUT_CHANNELS = 32
cfg.MODEL.FPN.OUT_CHANNELS = 32; cfg.MODEL.ROI_BOX_HEAD.FC_DIM = 32; cfg.MODEL.ROI_HEADS.NUM_CLASSES = 1
cfg.INPUT.MIN_SIZE_TEST = 128; cfg.INPUT.MAX_SIZE_TEST = 192; cfg.DATASETS.TRAIN = {}; cfg.DATASETS.TEST = {}
torch.manual_seed(1)
d2.modeling.build_model(cfg):save(out .. ".weights.safetensors")
local job = d2.engine.detect_batch{ models = { m = { weights = out .. ".weights.safetensors", config = cfg, classes = { "object" } } },
                                     images = folder, out = out, batch_size = 200 }
local s = job:summary()
print(("%.1f %.1f %d %.1f"):format(s.rss_first_batch_mb, s.rss_end_mb, s.done, s.seconds))
