import contextlib, io, sys, time
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
with contextlib.redirect_stdout(io.StringIO()):
    g = COCO(sys.argv[1]); d = g.loadRes(sys.argv[2])
    e = COCOeval(g, d, "bbox")
    t = time.perf_counter(); e.evaluate(); e.accumulate(); elapsed = time.perf_counter() - t
    e.summarize()
print(f"{elapsed * 1000:.1f} {e.stats[0]:.10f} {e.stats[1]:.10f} {e.stats[8]:.10f}")
