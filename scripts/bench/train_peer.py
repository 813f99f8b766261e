#!/usr/bin/python3
"""Detectron2's training speed on the same recipe as scripts/bench/train.lua.

Prints: detectron2_<model> <median s/iter over iterations 10-30> <peak RSS MB>
Usage: PYTHONPATH=<detectron2 source>:<its deps> /usr/bin/python3 train_peer.py <dataset folder> [iterations=31] [model=R_50]
Detectron2's compiled extension is not needed for Faster R-CNN training (ROIAlign and NMS come
from torchvision), so an empty stand-in is registered when it is missing.
"""
import resource, statistics, sys, tempfile, types

import torch

try:
    import detectron2._C  # noqa: F401
except ImportError:
    sys.modules["detectron2._C"] = types.ModuleType("detectron2._C")
from detectron2 import model_zoo
from detectron2.config import get_cfg
from detectron2.data.datasets import register_coco_instances
from detectron2.engine import DefaultTrainer
from detectron2.utils.logger import setup_logger

data, iters = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 31
model = sys.argv[3] if len(sys.argv) > 3 else "R_50"
config_name = f"COCO-Detection/faster_rcnn_{model}_FPN_3x.yaml"
result = sys.stdout
sys.stdout = sys.stderr  # Detectron2's log goes to stdout; keep stdout for the one result line
torch.set_num_threads(2)
setup_logger(output=None)
register_coco_instances("bench_train", {}, f"{data}/annotations/instances_train.json", f"{data}/train")
cfg = get_cfg()
try:
    config_file = model_zoo.get_config_file(config_name)
except RuntimeError:  # a source checkout: the configs sit beside the package
    import detectron2, os
    config_file = os.path.join(os.path.dirname(detectron2.__file__), "..", "configs", config_name)
cfg.merge_from_file(config_file)
cfg.MODEL.WEIGHTS = ""
cfg.MODEL.DEVICE = "cpu"
cfg.MODEL.ROI_HEADS.NUM_CLASSES = 2
cfg.INPUT.MIN_SIZE_TRAIN = (384,)
cfg.INPUT.MAX_SIZE_TRAIN = 512
cfg.DATASETS.TRAIN = ("bench_train",)
cfg.DATASETS.TEST = ()
cfg.DATALOADER.NUM_WORKERS = 0
cfg.SOLVER.IMS_PER_BATCH = 2
cfg.SOLVER.BASE_LR = 0.0025
cfg.SOLVER.MAX_ITER = iters
cfg.SOLVER.CHECKPOINT_PERIOD = 100000
cfg.SOLVER.CLIP_GRADIENTS.ENABLED = True
cfg.SOLVER.CLIP_GRADIENTS.CLIP_TYPE = "norm"
cfg.SEED = 1
cfg.OUTPUT_DIR = tempfile.mkdtemp(suffix="_d2_train_bench")
class Trainer(DefaultTrainer):
    """Console and metrics.json writers, as Lunette writes (no TensorBoard, which Debian lacks)."""

    def build_writers(self):
        from detectron2.utils.events import CommonMetricPrinter, JSONWriter
        return [CommonMetricPrinter(self.max_iter), JSONWriter(f"{self.cfg.OUTPUT_DIR}/metrics.json")]


trainer = Trainer(cfg)
trainer.resume_or_load(resume=False)
trainer.train()
times = {it: v for v, it in trainer.storage.history("time").values()}
window = [times[it] for it in range(10, min(30, iters - 1) + 1) if it in times]
print(f"detectron2_{model} {statistics.median(window):.4f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}", file=result)
