#!/usr/bin/python3
"""Writes the fuzzers' seed corpora (Tests/Fuzz/seeds/<target>/): small valid inputs of each
format, made by the tools that make them in the wild (torch.save, pickle, OpenCV's writers), so
the fuzzer starts from real structure. Run once; the seeds are committed. Needs python3-torch,
python3-numpy and python3-opencv."""
import collections
import json
import os
import pickle
import struct
import sys

import cv2
import numpy as np
import torch

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "Fuzz", "seeds")


def folder(target):
    path = os.path.join(root, target)
    os.makedirs(path, exist_ok=True)
    return path


def small_state():
    g = torch.Generator().manual_seed(0)
    return collections.OrderedDict([
        ("backbone.conv.weight", torch.randn(2, 3, 1, 1, generator=g)),
        ("backbone.conv.bias", torch.zeros(2)),
        ("roi_heads.box_predictor.cls_score.weight", torch.randn(3, 2, generator=g).half()),
        ("steps", torch.arange(4)),
        ("mask", torch.tensor([True, False])),
    ])


# torch.save, zip layout (what DetectionCheckpointer writes) and the legacy layout.
zip_dir, pickle_dir = folder("torchzip"), folder("pickle")
state = small_state()
torch.save({"model": state, "iteration": 9}, os.path.join(zip_dir, "checkpoint.pth"))
torch.save(state, os.path.join(zip_dir, "state_dict.pth"))
view = torch.arange(12.0).reshape(3, 4)[:, 1:3]   # a strided view sharing a storage
torch.save({"model": {"a": view, "b": view.t()}}, os.path.join(zip_dir, "views.pth"))
torch.save({"model": state, "iteration": 9}, os.path.join(pickle_dir, "legacy.pth"), _use_new_zipfile_serialization=False)
torch.save({"model": {"a": view}}, os.path.join(pickle_dir, "legacy_views.pth"), _use_new_zipfile_serialization=False)

# Detectron2's model-zoo .pkl: pickled numpy arrays, protocols 2 and 4, with its bookkeeping keys.
arrays = {k: v.float().numpy() if v.dtype == torch.float16 else v.numpy() for k, v in state.items()}
for protocol in (2, 4):
    with open(os.path.join(pickle_dir, f"zoo_protocol{protocol}.pkl"), "wb") as f:
        pickle.dump({"model": arrays, "__author__": "Detectron2 Model Zoo", "matching_heuristics": True}, f, protocol=protocol)
with open(os.path.join(pickle_dir, "caffe2_blobs.pkl"), "wb") as f:
    pickle.dump({"blobs": {"conv1_w": arrays["backbone.conv.weight"], "conv1_b": arrays["backbone.conv.bias"]}}, f, protocol=2)
with open(os.path.join(pickle_dir, "values.pkl"), "wb") as f:
    pickle.dump({"model": {"w": np.arange(3, dtype=np.float32)}, "numbers": [1, -2, 2**40, 1.5, True, None], "text": ("é", b"\x00\x01"),
                 "set": {1, 2}, "frozen": frozenset([3]), "nested": [[{}], ()]}, f, protocol=2)

# safetensors, written by hand to the format's rules (8-byte length, JSON header, raw data).
def safetensors(tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    codes = {torch.float32: "F32", torch.float16: "F16", torch.int64: "I64", torch.bool: "BOOL", torch.uint8: "U8"}
    for name, t in tensors.items():
        raw = t.contiguous().numpy().tobytes()
        header[name] = {"dtype": codes[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


st = folder("safetensors")
with open(os.path.join(st, "model.safetensors"), "wb") as f:
    f.write(safetensors(state, {"iteration": "9", "format": "pt"}))
with open(os.path.join(st, "empty_tensor.safetensors"), "wb") as f:
    f.write(safetensors({"empty": torch.zeros(0, 3), "scalar": torch.tensor(2.0)}))

# COCO instances JSON.
coco = folder("coco")
with open(os.path.join(coco, "instances.json"), "w") as f:
    json.dump({
        "info": {"description": "seed"},
        "images": [{"id": 1, "file_name": "a.jpg", "width": 64, "height": 48},
                   {"id": 7, "file_name": "b/c.png", "width": 10, "height": 10}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 3, "bbox": [1.5, 2, 10, 20], "area": 200, "iscrowd": 0},
                        {"id": 2, "image_id": 1, "category_id": 5, "bbox": [0, 0, 64, 48], "area": 3072, "iscrowd": 1,
                         "segmentation": {"counts": [0, 3072], "size": [48, 64]}},
                        {"id": 3, "image_id": 7, "category_id": 3, "bbox": [2, 2, 3, 3], "area": 9, "iscrowd": 0,
                         "segmentation": [[2, 2, 5, 2, 5, 5]]}],
        "categories": [{"id": 5, "name": "smile", "supercategory": "face"}, {"id": 3, "name": "logo"}],
    }, f)
with open(os.path.join(coco, "empty.json"), "w") as f:
    json.dump({"images": [], "annotations": [], "categories": []}, f)

# Configs: the model zoo's shape (a _BASE_ beside it, then overrides).
cfg = folder("config")
with open(os.path.join(cfg, "zoo.yaml"), "w") as f:
    f.write('_BASE_: "../Base.yaml"\nMODEL:\n  WEIGHTS: "detectron2://ImageNetPretrained/FAIR/X-101-32x8d.pkl"\n'
            '  PIXEL_STD: [57.375, 57.120, 58.395]\n  RESNETS:\n    STRIDE_IN_1X1: False\n    NUM_GROUPS: 32\n'
            '    WIDTH_PER_GROUP: 8\n    DEPTH: 101\n  ROI_HEADS:\n    BATCH_SIZE_PER_IMAGE: 512\n    NUM_CLASSES: 3\n'
            'SOLVER:\n  STEPS: (210000, 250000)\n  MAX_ITER: 270000\nINPUT:\n  MIN_SIZE_TRAIN: (640, 672, 704)\n'
            'DATASETS:\n  TRAIN: ("logos_train",)\n  TEST: ()\n')
with open(os.path.join(cfg, "plain.yaml"), "w") as f:
    f.write("VERSION: 2\nSEED: 7\nMODEL:\n  DEVICE: cpu\n  ANCHOR_GENERATOR:\n    SIZES: [[32], [64], [128], [256], [512]]\n"
            "    ASPECT_RATIOS: [[0.5, 1.0, 2.0]]\nTEST:\n  DETECTIONS_PER_IMAGE: 50\nOUTPUT_DIR: ./out\n")

# Images: OpenCV's encoders, the formats imread meets.
img = folder("image")
picture = np.zeros((6, 8, 3), np.uint8)
picture[:, :, 0] = np.arange(8) * 30
picture[:, :, 1] = np.arange(6)[:, None] * 40
for name, params in [("p.jpg", [cv2.IMWRITE_JPEG_QUALITY, 80]), ("progressive.jpg", [cv2.IMWRITE_JPEG_PROGRESSIVE, 1]),
                     ("p.png", []), ("p.bmp", []), ("p.ppm", []), ("p.tiff", []), ("p.webp", [])]:
    ok, data = cv2.imencode(os.path.splitext(name)[1], picture, params)
    if ok:
        with open(os.path.join(img, name), "wb") as f:
            f.write(data.tobytes())
ok, data = cv2.imencode(".png", np.dstack([picture, np.full((6, 8), 128, np.uint8)]))
open(os.path.join(img, "alpha.png"), "wb").write(data.tobytes())
ok, data = cv2.imencode(".png", picture[:, :, 0])
open(os.path.join(img, "gray.png"), "wb").write(data.tobytes())

# Videos: tiny clips in the containers creatives come in.
vid = folder("video")
for name, fourcc in [("mjpg.avi", "MJPG"), ("mp4v.mp4", "mp4v")]:
    path = os.path.join(vid, name)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*fourcc), 5, (16, 16))
    for i in range(3):
        frame = np.full((16, 16, 3), i * 60, np.uint8)
        writer.write(frame)
    writer.release()
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        sys.exit(f"OpenCV could not write {name}")

for target in sorted(os.listdir(root)):
    files = os.listdir(os.path.join(root, target))
    print(f"{target}: {len(files)} seeds, {sum(os.path.getsize(os.path.join(root, target, n)) for n in files)} bytes")
