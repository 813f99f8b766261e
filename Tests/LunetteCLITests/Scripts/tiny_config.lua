local d2 = require "detectron2"
return function(train, classes)
  local cfg = d2.model_zoo.get_config("COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml")
  cfg.MODEL.WEIGHTS = ""; cfg.MODEL.DEVICE = "cpu"
  cfg.MODEL.RESNETS.DEPTH = 18; cfg.MODEL.RESNETS.RES2_OUT_CHANNELS = 64; cfg.MODEL.RESNETS.STEM_OUT_CHANNELS = 32
  cfg.MODEL.FPN.OUT_CHANNELS = 32; cfg.MODEL.ROI_BOX_HEAD.FC_DIM = 32; cfg.MODEL.ROI_HEADS.NUM_CLASSES = classes
  cfg.INPUT.MIN_SIZE_TRAIN = {128}; cfg.INPUT.MAX_SIZE_TRAIN = 192; cfg.INPUT.MIN_SIZE_TEST = 128; cfg.INPUT.MAX_SIZE_TEST = 192
  cfg.DATASETS.TRAIN = {train}; cfg.DATASETS.TEST = {}; cfg.DATALOADER.NUM_WORKERS = 0; cfg.SOLVER.IMS_PER_BATCH = 1
  cfg.SOLVER.MAX_ITER = 1; cfg.SOLVER.STEPS = {}; cfg.OUTPUT_DIR = arg[2] .. "/tiny"
  return cfg
end
