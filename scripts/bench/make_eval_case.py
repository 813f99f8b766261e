# Ground truth (N images, about G boxes) and D detections near them, deterministic, as COCO JSON.
import json
import random
import sys

out_gt, out_dt, n_images, n_gt, n_dt = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rng = random.Random(1)
cats = [{"id": c + 1, "name": f"class_{c}"} for c in range(10)]
images = [{"id": i + 1, "file_name": f"{i}.jpg", "width": 1280, "height": 720} for i in range(n_images)]
anns, dets = [], []
for a in range(n_gt):
    w, h = rng.uniform(8, 300), rng.uniform(8, 250)
    box = [rng.uniform(0, 1280 - w), rng.uniform(0, 720 - h), w, h]
    anns.append({"id": a + 1, "image_id": rng.randint(1, n_images), "category_id": rng.randint(1, 10), "bbox": box,
                 "area": w * h, "iscrowd": 1 if rng.random() < 0.02 else 0})
while len(dets) < n_dt:
    g = anns[rng.randrange(len(anns))]
    x, y, w, h = g["bbox"]
    j = rng.uniform(0, 0.3)
    dets.append({"image_id": g["image_id"], "category_id": g["category_id"] if rng.random() < 0.8 else rng.randint(1, 10),
                 "bbox": [x + rng.uniform(-j, j) * w, y + rng.uniform(-j, j) * h, w * rng.uniform(0.7, 1.3), h * rng.uniform(0.7, 1.3)],
                 "score": rng.random()})
json.dump({"images": images, "annotations": anns, "categories": cats}, open(out_gt, "w"))
json.dump(dets, open(out_dt, "w"))
