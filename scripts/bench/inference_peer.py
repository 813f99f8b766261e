# The peers of inference.lua, same image, same sizes, random weights, 2 threads:
# torchvision's fasterrcnn_resnet50_fpn and, when importable (PYTHONPATH), Detectron2's
# DefaultPredictor for the same model-zoo configs. Prints "name image median_s peak_rss_mb".
import resource
import statistics
import sys
import time

import numpy as np
import torch
from PIL import Image

reps, which, image_paths = int(sys.argv[1]), sys.argv[2], sys.argv[3].split(",")
torch.set_num_threads(2)
torch.manual_seed(0)
# (tag, RGB array) per image; the tag is the file name without its extension, as inference.lua.
images = [(p.split("/")[-1].rsplit(".", 1)[0], np.asarray(Image.open(p).convert("RGB"))) for p in image_paths]


def timed(f):
    f()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


with torch.no_grad():
    if which == "torchvision":
        import torchvision
        model = torchvision.models.detection.fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None, min_size=800,
                                                                     max_size=1333, box_score_thresh=0.0).eval()
        for tag, rgb in images:
            x = torch.from_numpy(rgb.copy()).permute(2, 0, 1).float() / 255
            s, m = timed(lambda: model([x]))
            print(f"torchvision_R_50 {tag} {s:.3f} {m:.0f}")
    else:
        try:
            import detectron2._C  # noqa: F401
        except ImportError:
            # Built from source without its C++ extension: Faster R-CNN does not use it (ROIAlign
            # and NMS come from torchvision.ops in v0.6), so an empty module lets the import pass.
            import types
            sys.modules["detectron2._C"] = types.ModuleType("detectron2._C")
        from detectron2.config import get_cfg
        from detectron2.engine import DefaultPredictor
        cfg = get_cfg()
        cfg.merge_from_file(sys.argv[4] + f"/configs/COCO-Detection/faster_rcnn_{which}_FPN_3x.yaml")
        cfg.MODEL.WEIGHTS = ""
        cfg.MODEL.DEVICE = "cpu"
        cfg.MODEL.ROI_HEADS.SCORE_THRESH_TEST = 0.0
        predictor = DefaultPredictor(cfg)
        for tag, rgb in images:
            bgr = rgb[:, :, ::-1].copy()
            s, m = timed(lambda: predictor(bgr))
            print(f"detectron2_{which} {tag} {s:.3f} {m:.0f}")
