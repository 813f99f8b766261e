#!/usr/bin/python3
# Run beside a Detectron2 checkout (with Debian python3-torch):
#   PYTHONPATH=<detectron2>:<its deps> /usr/bin/python3 scripts/reference/train_losses.py ../shared/fixtures/detectron2/public
# The numbers it prints are pinned in Tests/DetectionTests/TrainingLossTests.swift.
"""Reference training losses from Detectron2 v0.6 for lunette's parity test.

Trained fixture model (../shared/fixtures/detectron2/public/trained), train mode, images
train_00000.jpg and train_00001.jpg at their own size (384x512: ResizeShortestEdge(384, 512)
is the identity), no flip. RPN and ROI sampling take every labelled anchor/proposal
(BATCH_SIZE_PER_IMAGE huge), so the losses do not depend on random sampling.
"""
import json, sys, types
import numpy as np, torch
sys.modules["detectron2._C"] = types.ModuleType("detectron2._C")
from detectron2.config import get_cfg
from detectron2.modeling import build_model
from detectron2.checkpoint import DetectionCheckpointer
from detectron2.data.detection_utils import read_image
from detectron2.structures import Instances, Boxes

FIX = sys.argv[1]
torch.set_num_threads(2)
cfg = get_cfg(); cfg.set_new_allowed(True)
cfg.merge_from_file(f"{FIX}/trained/config.yaml")
cfg.MODEL.RPN.BATCH_SIZE_PER_IMAGE = 1000000
cfg.MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE = 100000
cfg.MODEL.ROI_HEADS.POSITIVE_FRACTION = 1.0
model = build_model(cfg)
DetectionCheckpointer(model).load(f"{FIX}/trained/model_final.pth")
model.train()
ann = json.load(open(f"{FIX}/data/annotations/instances_train.json"))
inputs = []
for name in ["train_00000.jpg", "train_00001.jpg"]:
    img = [i for i in ann["images"] if i["file_name"].endswith(name)][0]
    bgr = read_image(f"{FIX}/data/train/{name}", "BGR")
    t = torch.as_tensor(np.ascontiguousarray(bgr.transpose(2, 0, 1)))
    objs = [a for a in ann["annotations"] if a["image_id"] == img["id"] and not a.get("iscrowd", 0)]
    inst = Instances((bgr.shape[0], bgr.shape[1]))
    inst.gt_boxes = Boxes(torch.tensor([[a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2], a["bbox"][1] + a["bbox"][3]] for a in objs], dtype=torch.float32))
    inst.gt_classes = torch.tensor([a["category_id"] - 1 for a in objs], dtype=torch.int64)
    inputs.append({"image": t, "height": bgr.shape[0], "width": bgr.shape[1], "instances": inst})
from detectron2.utils.events import EventStorage
with EventStorage(0) as storage:
    losses = model(inputs)
    total = sum(losses.values())
    total.backward()
    scalars = {k: v[0] for k, v in storage.latest().items()}
out = {"losses": {k: float(v) for k, v in losses.items()}, "metrics": scalars, "grad_norms": {}}
for n in ["roi_heads.box_predictor.cls_score.weight", "roi_heads.box_predictor.bbox_pred.bias", "roi_heads.box_head.fc1.weight",
          "proposal_generator.rpn_head.conv.weight", "backbone.fpn_output2.weight", "backbone.bottom_up.res5.2.conv3.weight",
          "backbone.bottom_up.res3.0.conv1.weight"]:
    p = dict(model.named_parameters())[n]
    out["grad_norms"][n] = float(p.grad.double().norm())
print(json.dumps(out, indent=1, sort_keys=True))
