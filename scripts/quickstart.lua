-- The main job for now: what Lunette runs on, then the demo "creatives" dataset built,
-- registered and summarised the way an analyst starts a notebook.
local lunette = require "lunette"
local torch = require "torch"
local d2 = require "detectron2"

local v = lunette.versions()
print(("Lunette %s on %s, libtorch %s (%d threads), OpenCV %s, CUDA %s"):format(
  v.lunette, v.lua, v.torch, v.threads, v.opencv, v.cuda and ("available, " .. torch.cuda.device_count() .. " device(s)") or "not available"))

local here = arg[0]:match("^(.*)/[^/]*$") or "."
local out = arg[1] or "out/demo_creatives"
assert(loadfile(here .. "/make_demo_dataset.lua"))(out)

for _, split in ipairs { "train", "val" } do
  d2.data.datasets.register_coco_instances("demo_" .. split, {},
    ("%s/annotations/instances_%s.json"):format(out, split), ("%s/%s"):format(out, split))
  print(d2.data.DatasetCatalog.get("demo_" .. split))
end
