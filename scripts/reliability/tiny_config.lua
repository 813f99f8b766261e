-- The kill campaign's model: a tiny GN ResNet-18 FPN at 128 px, a checkpoint every 2 iterations.
local d2 = require "detectron2"
return function(maxIter)
  local cfg = d2.config.get_cfg()
  cfg:merge_from_file(d2.model_zoo.get_config_file("COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml"))
  cfg.MODEL.WEIGHTS = ""
  cfg.MODEL.DEVICE = "cpu"
  cfg.MODEL.RESNETS.DEPTH = 18
  cfg.MODEL.RESNETS.RES2_OUT_CHANNELS = 64
  cfg.MODEL.RESNETS.STEM_OUT_CHANNELS = 32
  cfg.MODEL.RESNETS.NORM = "GN"
  cfg.MODEL.FPN.NORM = "GN"
  cfg.MODEL.FPN.OUT_CHANNELS = 32
  cfg.MODEL.BACKBONE.FREEZE_AT = 0
  cfg.MODEL.ROI_BOX_HEAD.FC_DIM = 32
  cfg.MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE = 64
  cfg.MODEL.ROI_HEADS.NUM_CLASSES = 2
  cfg.INPUT.MIN_SIZE_TRAIN = { 128 }
  cfg.INPUT.MAX_SIZE_TRAIN = 192
  cfg.DATASETS.TRAIN = { "kill_train" }
  cfg.DATASETS.TEST = {}
  cfg.DATALOADER.NUM_WORKERS = 0
  cfg.SOLVER.IMS_PER_BATCH = 1
  cfg.SOLVER.BASE_LR = 0.005
  cfg.SOLVER.MAX_ITER = maxIter
  cfg.SOLVER.STEPS = {}
  cfg.SOLVER.WARMUP_ITERS = 2
  cfg.SOLVER.CHECKPOINT_PERIOD = 2
  cfg.SEED = 7
  return cfg
end
