-- The team's Detectron2 notebook, carried over line by line: each Python line became the Lua
-- line below it, changing only what Lua's syntax needs (see the README's "Python -> Lua").
-- Lines marked [test] are not in the notebook: they point it at the fixture data and shrink
-- the X101 model so the test trains in seconds.
local data, out = arg[1], arg[2]                                                    -- [test]

-- from detectron2.data.datasets import register_coco_instances
-- from detectron2.data import MetadataCatalog, DatasetCatalog
local register_coco_instances = require("detectron2.data.datasets").register_coco_instances
local MetadataCatalog = require("detectron2.data").MetadataCatalog
local DatasetCatalog = require("detectron2.data").DatasetCatalog
local get_cfg = require("detectron2.config").get_cfg
local model_zoo = require "detectron2.model_zoo"
local DefaultTrainer = require("detectron2.engine").DefaultTrainer
local DefaultPredictor = require("detectron2.engine").DefaultPredictor
local COCOEvaluator = require("detectron2.evaluation").COCOEvaluator
local inference_on_dataset = require("detectron2.evaluation").inference_on_dataset
local build_detection_test_loader = require("detectron2.data").build_detection_test_loader
local os_ = require("lunette").fs
local cv2 = require "cv"

-- register_coco_instances("brand_train", {}, "labels/train.json", "images/train")
register_coco_instances("brand_train", {}, data .. "/annotations/instances_train.json", data .. "/train")
-- train_meta = MetadataCatalog.get("brand_train")
local train_meta = MetadataCatalog.get("brand_train")
-- train_dicts = DatasetCatalog.get("brand_train")
local train_dicts = DatasetCatalog.get("brand_train")
-- register_coco_instances("brand_valid", {"thing_classes": train_meta.thing_classes,
--     "thing_dataset_id_to_contiguous_id": train_meta.thing_dataset_id_to_contiguous_id}, ...)
register_coco_instances("brand_valid", {thing_classes = train_meta.thing_classes,
    thing_dataset_id_to_contiguous_id = train_meta.thing_dataset_id_to_contiguous_id},
    data .. "/annotations/instances_val.json", data .. "/val")
-- print(len(train_dicts), train_meta.thing_classes)
print(#train_dicts, table.concat(train_meta.thing_classes, ","))

-- cfg = get_cfg()
local cfg = get_cfg()
-- cfg.merge_from_file(model_zoo.get_config_file("COCO-Detection/faster_rcnn_X_101_32x8d_FPN_3x.yaml"))
cfg:merge_from_file(model_zoo.get_config_file("COCO-Detection/faster_rcnn_X_101_32x8d_FPN_3x.yaml"))
-- cfg.DATASETS.TRAIN = ("brand_train",)
cfg.DATASETS.TRAIN = {"brand_train"}
-- cfg.DATASETS.TEST = ()
cfg.DATASETS.TEST = {}
-- cfg.DATALOADER.NUM_WORKERS = 2
cfg.DATALOADER.NUM_WORKERS = 2
-- cfg.MODEL.WEIGHTS = model_zoo.get_checkpoint_url("COCO-Detection/faster_rcnn_X_101_32x8d_FPN_3x.yaml")
cfg.MODEL.WEIGHTS = model_zoo.get_checkpoint_url("COCO-Detection/faster_rcnn_X_101_32x8d_FPN_3x.yaml")
-- cfg.SOLVER.IMS_PER_BATCH = 2
cfg.SOLVER.IMS_PER_BATCH = 2
-- cfg.SOLVER.BASE_LR = 0.00025
cfg.SOLVER.BASE_LR = 0.00025
-- cfg.SOLVER.MAX_ITER = 300
cfg.SOLVER.MAX_ITER = 300
-- cfg.SOLVER.STEPS = []
cfg.SOLVER.STEPS = {}
-- cfg.MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE = 256
cfg.MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE = 256
-- cfg.MODEL.ROI_HEADS.NUM_CLASSES = len(train_meta.thing_classes)
cfg.MODEL.ROI_HEADS.NUM_CLASSES = #train_meta.thing_classes
-- cfg.OUTPUT_DIR = "./output"
cfg.OUTPUT_DIR = out .. "/output"

-- [test] the X101 shrunk to a tiny model, a few iterations on small images, on the CPU
cfg.MODEL.RESNETS.DEPTH = 18; cfg.MODEL.RESNETS.NUM_GROUPS = 1; cfg.MODEL.RESNETS.WIDTH_PER_GROUP = 64         -- [test]
cfg.MODEL.RESNETS.RES2_OUT_CHANNELS = 64; cfg.MODEL.RESNETS.STEM_OUT_CHANNELS = 32; cfg.MODEL.FPN.OUT_CHANNELS = 32 -- [test]
cfg.MODEL.ROI_BOX_HEAD.FC_DIM = 32; cfg.INPUT.MIN_SIZE_TRAIN = {128}; cfg.INPUT.MAX_SIZE_TRAIN = 192            -- [test]
cfg.INPUT.MIN_SIZE_TEST = 128; cfg.INPUT.MAX_SIZE_TEST = 192; cfg.SOLVER.MAX_ITER = 4; cfg.MODEL.DEVICE = "cpu"   -- [test]

-- os.makedirs(cfg.OUTPUT_DIR, exist_ok=True)
os_.makedirs(cfg.OUTPUT_DIR)
-- trainer = DefaultTrainer(cfg)
local trainer = DefaultTrainer(cfg)
-- trainer.resume_or_load(resume=False)
trainer:resume_or_load{resume = false}
-- trainer.train()
trainer:train()

-- cfg.MODEL.WEIGHTS = os.path.join(cfg.OUTPUT_DIR, "model_final.pth")
cfg.MODEL.WEIGHTS = cfg.OUTPUT_DIR .. "/model_final.pth"
-- cfg.MODEL.ROI_HEADS.SCORE_THRESH_TEST = 0.7
cfg.MODEL.ROI_HEADS.SCORE_THRESH_TEST = 0.7
cfg.MODEL.ROI_HEADS.SCORE_THRESH_TEST = 0.1                                         -- [test] an untrained model scores low
-- predictor = DefaultPredictor(cfg)
local predictor = DefaultPredictor(cfg)

-- evaluator = COCOEvaluator("brand_valid", cfg, False, output_dir="./output/")
local evaluator = COCOEvaluator("brand_valid", cfg, false, {output_dir = out .. "/output/"})
-- val_loader = build_detection_test_loader(cfg, "brand_valid")
local val_loader = build_detection_test_loader(cfg, "brand_valid")
-- print(inference_on_dataset(trainer.model, val_loader, evaluator))
print(inference_on_dataset(trainer.model, val_loader, evaluator))

-- def get_predictions(path):
local function get_predictions(path)
  -- im = cv2.imread(path)
  local im = cv2.imread(path)
  -- outputs = predictor(im)
  local outputs = predictor(im)
  -- instances = outputs["instances"].to("cpu")
  local instances = outputs["instances"]:to("cpu")
  -- classes = instances.pred_classes.tolist()
  local classes = instances.pred_classes:tolist()
  -- boxes = instances.pred_boxes.tensor.tolist()
  local boxes = instances.pred_boxes.tensor:tolist()
  -- scores = instances.scores.tolist()
  local scores = instances.scores:tolist()
  -- names = [train_meta.thing_classes[c] for c in classes]
  local names = {}
  for i, c in ipairs(classes) do names[i] = train_meta.thing_classes[c + 1] end
  -- return list(zip(names, scores, boxes))
  local rows = {}
  for i = 1, #names do rows[i] = {names[i], scores[i], boxes[i]} end
  return rows, instances
end

-- for d in DatasetCatalog.get("brand_valid")[:3]:
local valid = DatasetCatalog.get("brand_valid")
for k = 1, 3 do
  local d = valid[k]
  -- for name, score, box in get_predictions(d["file_name"]): print(name, round(score, 3), box)
  local rows, instances = get_predictions(d["file_name"])
  -- [test] each row agrees with the list view of the same instances: det.label, det.score, det.box
  for i, row in ipairs(rows) do                                                     -- [test]
    local det = instances[i]                                                        -- [test]
    assert(row[1] == det.label and math.abs(row[2] - det.score) < 1e-6 and math.abs(row[3][1] - det.box[1]) < 1e-3, "row " .. i) -- [test]
  end                                                                               -- [test]
  print(d["file_name"]:match("[^/]*$"), #rows, rows[1] and rows[1][1] or "-")
end
