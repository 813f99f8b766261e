-- %% [markdown]
-- # Datasets: register, look, draw, and frames from videos
--
-- The study's data are COCO instances datasets: one JSON file of boxes per split and a folder of
-- images. This notebook builds the demo "creatives" (logos and products from Debian's opencv-doc
-- pasted onto photographs, with exact boxes), registers them as Detectron2 does, looks at what
-- is inside, draws the boxes of one creative, and turns a video spot into still frames.
-- `02_train.lua` trains on the same folder.

-- %% Parameters tags=["parameters"]
out = "out/tutorials"
train_images = 60
val_images = 20
every = 10

-- %% Imports
local d2 = require "detectron2"
local cv = require "cv"
local lunette = require "lunette"
local register_coco_instances = d2.data.datasets.register_coco_instances
local DatasetCatalog, MetadataCatalog = d2.data.DatasetCatalog, d2.data.MetadataCatalog
local data = out .. "/data"

-- %% [markdown]
-- ## The demo creatives
--
-- `scripts/make_demo_dataset.lua` writes `data/train/*.jpg`, `data/val/*.jpg` and
-- `data/annotations/instances_{train,val}.json`, the same every time for the same seed. With
-- your own data, this is the folder your annotation tool exported.

-- %% Build the demo dataset
local here = (arg and arg[0] or "notebooks/"):match("^(.*)/[^/]*$") or "."
assert(loadfile(here .. "/../scripts/make_demo_dataset.lua"))(data, 1, train_images, val_images)
lunette.fs.listdir(data)

-- %% [markdown]
-- ## Register the splits
--
-- ```python
-- from detectron2.data.datasets import register_coco_instances
-- register_coco_instances("demo_train", {}, "data/annotations/instances_train.json", "data/train")
-- ```
--
-- ```lua
-- register_coco_instances("demo_train", {}, data .. "/annotations/instances_train.json", data .. "/train")
-- ```
--
-- The same four arguments. As in Detectron2, a name is registered once: running this cell
-- again would be an error, so it removes the names first (`DatasetCatalog.remove`).

-- %% Register
for _, split in ipairs({ "train", "val" }) do
  local name = "demo_" .. split
  DatasetCatalog.remove(name)
  MetadataCatalog.remove(name)
  register_coco_instances(name, {}, ("%s/annotations/instances_%s.json"):format(data, split), data .. "/" .. split)
end
DatasetCatalog.list()

-- %% [markdown]
-- ## What is inside
--
-- ```python
-- dicts = DatasetCatalog.get("demo_train")
-- len(dicts), dicts[0]["file_name"]
-- MetadataCatalog.get("demo_train").thing_classes
-- ```
--
-- `DatasetCatalog.get` gives the list of records (`#dicts`, `dicts[1]`, `ipairs(dicts)`); printed,
-- it summarises images, boxes per class and box sizes. The metadata's `thing_classes` are the
-- class names in id order: id 0 is `thing_classes[1]`.

-- %% Look at the training set
local dicts = DatasetCatalog.get("demo_train")
local meta = MetadataCatalog.get("demo_train")
print(dicts)
print("thing_classes:", meta.thing_classes)
local n = #dicts[1].annotations
print(("%d images; the first is %s with %d box%s"):format(#dicts, dicts[1].file_name, n, n == 1 and "" or "es"))
DatasetCatalog.get("demo_val")

-- %% [markdown]
-- ## One record
--
-- The first creative with three boxes or more (`break` leaves the loop, as in Python). A record is a table with Detectron2's fields: `file_name`, `height`, `width`, `image_id`, and
-- `annotations`, each with `bbox` (`bbox_mode` 1 is XYWH_ABS: x, y, width, height in pixels) and
-- a 0-based `category_id`.

-- %% A record
local record = dicts[1]
for _, d in ipairs(dicts) do
  if #d.annotations >= 3 then record = d break end
end
print(record.file_name)
for i, a in ipairs(record.annotations) do
  print(("box %d: %-8s x %.0f y %.0f w %.0f h %.0f"):format(i, meta.thing_classes[a.category_id + 1],
    a.bbox[1], a.bbox[2], a.bbox[3], a.bbox[4]))
end
lunette.pp(record)

-- %% [markdown]
-- ## Draw the boxes
--
-- ```python
-- img = cv2.imread(d["file_name"])
-- v = Visualizer(img[:, :, ::-1], metadata=meta)
-- out = v.draw_dataset_dict(d)
-- cv2_imshow(out.get_image()[:, :, ::-1])
-- ```
--
-- `cv.imread` gives a BGR image, as OpenCV does; `img:rgb()` is `img[:, :, ::-1]`. The drawing is
-- also saved beside the data.

-- %% Draw one creative
local img = cv.imread(record.file_name)
local drawn = d2.utils.visualizer.Visualizer(img:rgb(), meta):draw_dataset_dict(record)
drawn:save(out .. "/first_creative.png")
print("saved " .. out .. "/first_creative.png")
drawn:get_image()

-- %% [markdown]
-- ## Videos to frames
--
-- Video spots are annotated as still frames. `cv.extract_frames` writes every `every`-th frame as
-- `<video>_<frame>.jpg` (frame numbers from 0) and reads the video to its real end, whatever the
-- container claims its length is. Python would loop over `cv2.VideoCapture` and `cv2.imwrite`.

-- %% Frames
local video = "/usr/share/doc/opencv-doc/examples/data/tree.avi"
local frames = cv.extract_frames(video, { every = every, out = out .. "/frames" })
print(("%d frames written to %s (one in %d of the %d frames read)"):format(frames.written, out .. "/frames", every, frames.frames_read))
for _, file in ipairs(frames.files) do print("  " .. file:match("[^/]+$")) end
display(cv.imread(frames.files[1]))
cv.imread(frames.files[#frames.files])
