# The Python peers of data.lua: pycocotools' COCO(path), and Detectron2's test-time image path
# (detection_utils.read_image: Pillow open, EXIF transpose, RGB, flip to BGR; ResizeShortestEdge
# with Pillow BILINEAR; HWC -> CHW tensor) re-created with the same libraries, one process.
import sys
import time

mode = sys.argv[1]
if mode == "coco":
    from pycocotools.coco import COCO
    import contextlib, io
    best = 1e9
    for _ in range(int(sys.argv[3])):
        t = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            COCO(sys.argv[2])
        best = min(best, time.perf_counter() - t)
    print(f"coco_load {best * 1000:.1f}")
else:
    import numpy as np
    import torch
    from PIL import Image, ImageOps
    files = sys.argv[2:]
    def read(path):
        img = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
        return np.asarray(img)[:, :, ::-1]
    def resize(img, short=800, max_size=1333):
        h, w = img.shape[:2]
        scale = short / min(h, w)
        nh, nw = (short, scale * w) if h < w else (scale * h, short)
        if max(nh, nw) > max_size:
            s = max_size / max(nh, nw); nh, nw = nh * s, nw * s
        nh, nw = int(nh + 0.5), int(nw + 0.5)
        return np.asarray(Image.fromarray(img).resize((nw, nh), Image.BILINEAR))
    for f in files[:5]:
        resize(read(f))
    t = time.perf_counter()
    for f in files:
        torch.as_tensor(np.ascontiguousarray(resize(read(f)).transpose(2, 0, 1)))
    print(f"decode_resize {len(files) / (time.perf_counter() - t):.1f}")
