-- bulk.sh's Lunette side: detect_batch with five R50-FPN models (DIR/m1.pth ... m5.pth, one
-- class, sharing a frozen stem and res2) over the creatives in LIST at MIN_SIZE_TEST 800.
-- Prints "lunette creatives models seconds peak_rss_mb detections".
local d2 = require "detectron2"
local util = require "benchutil"
local dir, list = arg[1], arg[2]
local cfg = d2.model_zoo.get_config("COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml")
cfg.MODEL.DEVICE = "cpu"; cfg.MODEL.WEIGHTS = ""; cfg.MODEL.ROI_HEADS.NUM_CLASSES = 1
cfg.INPUT.MIN_SIZE_TEST = 800; cfg.INPUT.MAX_SIZE_TEST = 1333
cfg.DATASETS.TRAIN = {}; cfg.DATASETS.TEST = {}
local models = {}
for k = 1, 5 do models["m" .. k] = { weights = ("%s/m%d.pth"):format(dir, k), config = cfg, classes = { "object" } } end
os.remove(dir .. "/lunette.sqlite")
local job = d2.engine.detect_batch{ models = models, images = list, out = dir .. "/lunette.sqlite", batch_size = 200 }
local s = job:summary()
local n = 0
local all = d2.engine.open_detections(dir .. "/lunette.sqlite")
all:save_csv(dir .. "/lunette.csv", { all = true })
for _ in io.lines(dir .. "/lunette.csv") do n = n + 1 end
io.stderr:write(tostring(job) .. "\n")
print(("lunette %d 5 %.2f %.0f %d"):format(s.done, s.seconds, util.peak_rss_mb(), n - 1))
