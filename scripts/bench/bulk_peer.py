# The study's way in Detectron2, beside bulk.lua: for each model, DefaultPredictor over the
# creatives with cv2.imread, results saved as JSON after every 200 images.
#   bulk_peer.py make DIR          writes DIR/m1.pth ... m5.pth: R50-FPN, one class, random heads,
#                                  one shared frozen stem and res2 (as fine-tuning from one
#                                  model-zoo checkpoint with FREEZE_AT 2 gives)
#   bulk_peer.py run DIR LIST      times the loop; prints "detectron2 creatives models seconds peak_rss_mb detections"
import json
import resource
import sys
import time

import cv2
import torch
from detectron2 import model_zoo
from detectron2.config import get_cfg
from detectron2.engine import DefaultPredictor
from detectron2.modeling import build_model

torch.set_num_threads(2)
MODELS = 5


def config():
    cfg = get_cfg()
    cfg.merge_from_file(model_zoo.get_config_file("COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml"))
    cfg.MODEL.DEVICE = "cpu"
    cfg.MODEL.WEIGHTS = ""
    cfg.MODEL.ROI_HEADS.NUM_CLASSES = 1
    cfg.INPUT.MIN_SIZE_TEST = 800
    cfg.INPUT.MAX_SIZE_TEST = 1333
    return cfg


def make(folder):
    shared = None
    for k in range(1, MODELS + 1):
        torch.manual_seed(k)
        sd = build_model(config()).state_dict()
        if shared is None:
            shared = {n: t.clone() for n, t in sd.items() if n.startswith(("backbone.bottom_up.stem.", "backbone.bottom_up.res2."))}
        sd.update(shared)
        torch.save({"model": sd}, f"{folder}/m{k}.pth")


def run(folder, listing):
    paths = [p.strip() for p in open(listing) if p.strip()]
    detections = 0
    start = time.perf_counter()
    for k in range(1, MODELS + 1):
        cfg = config()
        cfg.MODEL.WEIGHTS = f"{folder}/m{k}.pth"
        predictor = DefaultPredictor(cfg)
        results = []
        for i, path in enumerate(paths):
            inst = predictor(cv2.imread(path))["instances"].to("cpu")
            detections += len(inst)
            results.append({"file": path, "boxes": inst.pred_boxes.tensor.tolist(), "scores": inst.scores.tolist(),
                            "classes": inst.pred_classes.tolist()})
            if (i + 1) % 200 == 0 or i + 1 == len(paths):
                with open(f"{folder}/d2_m{k}.json", "w") as f:
                    json.dump(results, f)
    seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"detectron2 {len(paths)} {MODELS} {seconds:.2f} {rss:.0f} {detections}")


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        run(sys.argv[2], sys.argv[3])
