# Writes a COCO instances JSON of N images and M annotations (deterministic), for loading benchmarks.
import json
import random
import sys

out, n_images, n_annotations = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(0)
images = [{"id": i + 1, "file_name": f"img_{i:06d}.jpg", "width": 1280, "height": 720, "license": 1} for i in range(n_images)]
categories = [{"id": c + 1, "name": f"class_{c}", "supercategory": "creative"} for c in range(19)]
annotations = []
for a in range(n_annotations):
    w, h = rng.uniform(10, 400), rng.uniform(10, 300)
    x, y = rng.uniform(0, 1280 - w), rng.uniform(0, 720 - h)
    annotations.append({"id": a + 1, "image_id": rng.randint(1, n_images), "category_id": rng.randint(1, 19),
                        "bbox": [round(x, 2), round(y, 2), round(w, 2), round(h, 2)], "area": round(w * h, 2), "iscrowd": 0,
                        "segmentation": []})
with open(out, "w") as f:
    json.dump({"info": {"description": "benchmark"}, "licenses": [], "images": images, "annotations": annotations,
               "categories": categories}, f)
