local fixtures, out = arg[1], arg[2]
local data = fixtures .. "/data"
local d2, cv, torch, lunette = require "detectron2", require "cv", require "torch", require "lunette"
local function try(f, ...) local ok, e = pcall(f, ...); return ok and "ok" or tostring(e) end
-- 1. Instances
local cfg = d2.config.get_cfg()
cfg:merge_from_file(fixtures .. "/random/config.yaml")
cfg.MODEL.WEIGHTS = fixtures .. "/random/model_final.pth"
d2.data.datasets.register_coco_instances("fr_train", {}, data .. "/annotations/instances_train.json", data .. "/train")
cfg.DATASETS.TRAIN = {"fr_train"}; cfg.DATASETS.TEST = {"fr_typo"}
local predictor = d2.engine.DefaultPredictor(cfg)
local img = cv.imread("/usr/share/doc/opencv-doc/examples/data/messi5.jpg")
local inst = predictor(img).instances
print("P1", #inst, inst:len(), inst.pred_boxes.tensor:size(1), inst.pred_boxes.tensor:size(2), #inst.pred_boxes, inst.scores:size(1), inst.pred_classes:size(1))
local det = inst[1]
print("P2", det.class, det.label, ("%.5f"):format(det.score), ("%.2f"):format(det.box[1]), det.label == d2.data.MetadataCatalog.get("fr_train").thing_classes[det.class + 1])
local n = 0; for i, d in ipairs(inst) do n = i end
local nb = 0; for i, b in ipairs(inst.pred_boxes) do nb = i; assert(b:size(1) == 4) end
print("P3", n, nb, #inst:labels(), inst:labels(d2.data.MetadataCatalog.get("fr_train"))[1], #inst.pred_classes:tolist(), inst:to("cpu").scores:size(1))
local sel = inst[inst.scores:gt(0.35)]
print("P4", #sel, sel[1].label, inst[#inst + 1] == nil)
local batch = predictor.model{ {image = torch.zeros{3, 64, 80}, height = 64, width = 80} }
print("P5", #batch, tostring(batch[1].instances):match("^Instances%(num_instances=%d+, image_height=64, image_width=80") ~= nil)
print("P6", tostring(inst):match("^Instances%(num_instances=%d+, image_height=342, image_width=548, fields=%[pred_boxes, scores, pred_classes%]%)") ~= nil)
-- 2. metadata round trip and conflicts
local m = d2.data.MetadataCatalog.get("fr_train")
d2.data.datasets.register_coco_instances("fr_val", {thing_classes = m.thing_classes, thing_dataset_id_to_contiguous_id = m.thing_dataset_id_to_contiguous_id}, data .. "/annotations/instances_val.json", data .. "/val")
print("M1", #d2.data.DatasetCatalog.get("fr_val"), lunette.json_encode(d2.data.MetadataCatalog.get("fr_val").thing_dataset_id_to_contiguous_id))
lunette.pp(m.thing_dataset_id_to_contiguous_id)
d2.data.datasets.register_coco_instances("fr_bad", {thing_classes = {"logo", "product"}}, data .. "/annotations/instances_val.json", data .. "/val")
print("M2", try(d2.data.DatasetCatalog.get, "fr_bad"))
-- 3. model zoo
print("Z1", d2.model_zoo.get_checkpoint_url("COCO-Detection/faster_rcnn_X_101_32x8d_FPN_3x.yaml"))
print("Z2", try(d2.model_zoo.get_checkpoint_url, "COCO-Detection/mask_rcnn_R_50_FPN_3x.yaml"))
print("Z3", try(d2.model_zoo.get, "COCO-Detection/faster_rcnn_R_50_FPN_1x.yaml", {trained = true}))
print("Z4", try(d2.model_zoo.get, "COCO-Detection/faster_rcnn_R_50_FPN_1x.yaml", {trainde = true}))
-- 4. options
print("O1", try(d2.evaluation.COCOEvaluator, "fr_val", {outptu_dir = out}))
print("O2", try(d2.evaluation.COCOEvaluator, "fr_val", {output_dir = out, distributed = false, tasks = {"bbox"}}))
print("O3", try(d2.evaluation.COCOEvaluator, "fr_val", cfg, false, {output_dir = out}))
print("O4", try(d2.evaluation.COCOEvaluator, "fr_val", {tasks = {"segm"}}))
print("O5", try(torch.zeros, {2}, {dtyp = "float64"}))
-- 5. silent mistakes
print("S1", d2.data.MetadataCatalog.get("fr_trian").thing_classes)
local tcfg = dofile(arg[3])("fr_train", 9)
local trainer = d2.engine.DefaultTrainer(tcfg)
print("S2", try(d2.evaluation.inference_on_dataset, trainer, d2.data.build_detection_test_loader(tcfg, "fr_val"), d2.evaluation.COCOEvaluator("fr_val")))
-- 6/8. presence overall, fs, json, print
local evaluator = d2.evaluation.COCOEvaluator("fr_val")
local results = d2.evaluation.inference_on_dataset(trainer.model, d2.data.build_detection_test_loader(tcfg, "fr_val"), evaluator)
local pres = d2.evaluation.presence("fr_val", results.predictions, {thresholds = {0.2, 0.4}})
local overall = pres:counts("overall", 0.2)
print("E1", pres:accuracy("overall", 0.2) == overall.accuracy, pres:precision("overall", 0.4) == pres:counts("overall", 0.4).precision, overall.tp + overall.fp + overall.fn + overall.tn)
print("E2", tostring(pres):find(("overall.-%.3f"):format(overall.accuracy)) ~= nil)
-- 8. fs, json, print
local fs = lunette.fs
fs.makedirs(out .. "/imgs/a/b"); fs.makedirs(out .. "/imgs/a/b")
for _, p in ipairs{"imgs/x.jpg", "imgs/a/y.jpg", "imgs/a/b/z.jpg", "imgs/a/n.png"} do local f = io.open(out .. "/" .. p, "w"); f:write("x"); f:close() end
local found = fs.glob(out .. "/imgs/**/*.jpg")
for i, p in ipairs(found) do found[i] = p:sub(#out + 2) end
print("F1", table.concat(found, " "), table.concat(fs.listdir(out .. "/imgs"), " "), fs.exists(out .. "/imgs/x.jpg"), fs.exists(out .. "/nothing"))
print("F2", try(fs.makedirs, out .. "/imgs/x.jpg"))
print("J1", lunette.json_encode({boxes = lunette.array(), classes = lunette.array{1, 2}, empty = {}}))
print("J2", lunette.json_encode(lunette.json_decode('{"a":[],"b":{}}')))
print("T1", {})
lunette.pp({a = 1})
print("T2", {1, 2})
-- 8. OpenCV's video loop and cascades
local cap = cv.VideoCapture("/usr/share/doc/opencv-doc/examples/data/tree.avi")
local frames = 0
while cap:isOpened() do local ok, frame = cap:read(); if not ok then break end; frames = frames + 1 end
print("V1", frames, cap:get(cv.CAP_PROP_POS_FRAMES), cap:get(cv.CAP_PROP_FRAME_WIDTH), cap:get(cv.CAP_PROP_FRAME_HEIGHT))
cap:release()
print("V2", cap:isOpened(), cap:read())
print("V3", try(cv.VideoCapture, out .. "/missing.mp4"))
local face = cv.CascadeClassifier("haarcascade_frontalface_default.xml")

local rects = face:detectMultiScale(img:gray(), {scaleFactor = 1.1, minNeighbors = 3, minSize = {20, 20}})
local dets = face:detect(img:gray(), {scale_factor = 1.1, min_neighbors = 3, min_size = {20, 20}})
local same = #rects == #dets
for i, r in ipairs(rects) do same = same and r[1] == dets[i].box[1] and r[1] + r[3] == dets[i].box[3] and r[2] + r[4] == dets[i].box[4] end
print("C1", #rects, same)
print("C2", try(face.detectMultiScale, face, img, {scalefactor = 1.2}))
