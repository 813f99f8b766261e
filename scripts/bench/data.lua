-- Lunette's side of scripts/bench/data.sh.
local d2 = require "detectron2"
local lunette = require "lunette"
local mode = arg[1]
if mode == "coco" then
  local best = math.huge
  for _ = 1, tonumber(arg[3]) do
    local t = lunette.Timer()
    d2.data.datasets.load_coco_json(arg[2], "")
    best = math.min(best, t:elapsed())
  end
  print(("coco_load %.1f"):format(best * 1000))
else
  local workers = tonumber(arg[2])
  d2.data.datasets.register_coco_instances("bench", {}, arg[3], arg[4])
  local cfg = { INPUT = { MIN_SIZE_TEST = 800, MAX_SIZE_TEST = 1333 }, DATALOADER = { NUM_WORKERS = workers } }
  local n = #d2.data.DatasetCatalog.get("bench")
  local loader = d2.data.build_detection_test_loader(cfg, "bench")
  local t = lunette.Timer()
  local count = 0
  for batch in loader do
    count = count + #batch
    batch = nil
  end
  assert(count == n)
  print(("decode_resize_w%d %.1f"):format(workers, count / t:elapsed()))
end
