# The peer of tensor_ops.lua: the same workloads through Debian's python3-torch and
# python3-torchvision (the same libtorch build). Prints "name best_ms" lines.
import math
import sys
import time

import torch
import torchvision

reps = int(sys.argv[1]) if len(sys.argv) > 1 else 5
torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else torch.get_num_threads())


def bench(name, f):
    f()
    best = math.inf
    for _ in range(reps):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
    print(f"{name} {best * 1000:.3f}", flush=True)


torch.manual_seed(0)
with torch.no_grad():
    x = torch.randn(1, 256, 200, 304)
    w = torch.randn(256, 256, 3, 3)
    bench("conv2d", lambda: torch.nn.functional.conv2d(x, w, None, 1, 1))

    a, b = torch.randn(1000, 1024), torch.randn(1024, 1024)
    bench("matmul", lambda: a.matmul(b))

    feats = {lv: torch.randn(1, 256, 800 // 2**lv, 1216 // 2**lv) for lv in range(2, 6)}
    per_level = {lv: [] for lv in range(2, 6)}
    for i in range(1000):
        x1, y1 = (i * 37) % 1000, (i * 53) % 700
        bw, bh = 16 + (i * 97) % 400, 16 + (i * 89) % 300
        level = math.floor(4 + math.log2(math.sqrt(bw * bh) / 224 + 1e-8))
        level = max(2, min(5, level))
        per_level[level].append([0, x1, y1, x1 + bw, y1 + bh])
    rois = {lv: torch.tensor(v, dtype=torch.float32) for lv, v in per_level.items() if v}

    def pool():
        for lv, r in rois.items():
            torchvision.ops.roi_align(feats[lv], r, 7, 1 / 2**lv, 0, True)

    bench("roi_align", pool)

    boxes, scores = [], []
    for i in range(6000):
        x1, y1 = (i * 37) % 1000, (i * 53) % 700
        boxes.append([x1, y1, x1 + 16 + (i * 97) % 200, y1 + 16 + (i * 89) % 150])
        scores.append(((i * 7919) % 6000) / 6000)
    B, S = torch.tensor(boxes, dtype=torch.float32), torch.tensor(scores, dtype=torch.float32)
    bench("nms", lambda: torchvision.ops.nms(B, S, 0.7))
