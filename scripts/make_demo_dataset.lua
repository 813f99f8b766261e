-- Builds the demo "creatives" dataset: logos and products from Debian's opencv-doc pasted at
-- random positions, scales and flips onto its background photographs, with exact boxes, as a
-- COCO instances dataset with a train and a val split. Deterministic from the seed.
--
--   lunette scripts/make_demo_dataset.lua [out_folder] [seed] [train_images] [val_images]
--
-- Defaults: out/demo_creatives, seed 1, 60 train and 20 val images of 512x384.
local cv = require "cv"
local lunette = require "lunette"

-- Arguments come from the command line, or from a caller that loadfile()s this script.
local params = { ... }
if #params == 0 then params = arg or {} end
local out = params[1] or "out/demo_creatives"
local seed = tonumber(params[2] or "1")
local counts = { train = tonumber(params[3] or "60"), val = tonumber(params[4] or "20") }
local W, H = 512, 384
local DATA = os.getenv("OPENCV_SAMPLES") or "/usr/share/doc/opencv-doc/examples/data"

local categories = { { id = 1, name = "logo" }, { id = 2, name = "product" } }
local sources = {
  { file = "opencv-logo.png", category = 1 }, { file = "opencv-logo-white.png", category = 1 },
  { file = "LinuxLogo.jpg", category = 1 }, { file = "WindowsLogo.jpg", category = 1 },
  { file = "apple.jpg", category = 2 }, { file = "orange.jpg", category = 2 }, { file = "box.png", category = 2 },
}
local backgrounds = { "building.jpg", "home.jpg", "aero1.jpg", "aero3.jpg", "board.jpg", "leuvenA.jpg", "leuvenB.jpg", "graf1.png" }

local function load(name, mode)
  local path = DATA .. "/" .. name
  local ok, img = pcall(cv.imread, path, mode)
  if not ok then
    error(("cannot read %s (%s): install Debian's opencv-doc (scripts/install-deps does)"):format(path, img), 0)
  end
  return img
end

for _, s in ipairs(sources) do s.image = load(s.file, "unchanged") end
for i, b in ipairs(backgrounds) do backgrounds[i] = load(b) end

local function iou(a, b)
  local iw = math.min(a[1] + a[3], b[1] + b[3]) - math.max(a[1], b[1])
  local ih = math.min(a[2] + a[4], b[2] + b[4]) - math.max(a[2], b[2])
  if iw <= 0 or ih <= 0 then return 0 end
  local inter = iw * ih
  return inter / (a[3] * a[4] + b[3] * b[4] - inter)
end

-- A background: a random 4:3 crop of a photo, resized to W x H.
local function background()
  local bg = backgrounds[math.random(#backgrounds)]
  local cw = math.min(bg.width, math.floor(bg.height * 4 / 3))
  local ch = math.floor(cw * 3 / 4)
  local x, y = math.random(0, bg.width - cw), math.random(0, bg.height - ch)
  return bg:crop(x, y, cw, ch):resize(W, H, { pil = true }):bgr()
end

local function make_split(split, n, first_image_id, first_annotation_id)
  local folder = out .. "/" .. split
  os.execute(("mkdir -p %q"):format(folder))
  local images, annotations = {}, {}
  local annotation_id = first_annotation_id
  for i = 1, n do
    local image_id = first_image_id + i - 1
    local canvas = background()
    local placed = {}
    for _ = 1, math.random(1, 3) do
      local s = sources[math.random(#sources)]
      local longest = math.random(48, 160)
      local scale = longest / math.max(s.image.width, s.image.height)
      local w = math.max(8, math.floor(s.image.width * scale + 0.5))
      local h = math.max(8, math.floor(s.image.height * scale + 0.5))
      local object = s.image:resize(w, h)
      if math.random() < 0.5 then object = object:flip() end
      local opaque = object:opaque_box()
      for _ = 1, 30 do
        local x, y = math.random(0, W - w), math.random(0, H - h)
        local box = { x + opaque[1], y + opaque[2], opaque[3], opaque[4] }
        local clear = true
        for _, other in ipairs(placed) do
          if iou(box, other) > 0.1 then clear = false break end
        end
        if clear then
          canvas:paste(object, x, y)
          placed[#placed + 1] = box
          annotations[#annotations + 1] = {
            id = annotation_id, image_id = image_id, category_id = s.category,
            bbox = box, area = box[3] * box[4], iscrowd = 0,
          }
          annotation_id = annotation_id + 1
          break
        end
      end
    end
    local file_name = ("%s_%05d.jpg"):format(split, i - 1)
    canvas:save(folder .. "/" .. file_name, 92)
    images[#images + 1] = { id = image_id, file_name = file_name, width = W, height = H }
  end
  os.execute(("mkdir -p %q"):format(out .. "/annotations"))
  local f = assert(io.open(("%s/annotations/instances_%s.json"):format(out, split), "w"))
  f:write(lunette.json_encode({ images = images, annotations = annotations, categories = categories }))
  f:close()
  return #images, #annotations, annotation_id
end

math.randomseed(seed)
local timer = lunette.Timer()
local n_train, a_train, next_id = make_split("train", counts.train, 1, 1)
local n_val, a_val = make_split("val", counts.val, counts.train + 1, next_id)
print(("demo dataset in %s: train %d images / %d boxes, val %d images / %d boxes (seed %d, %.1f s)")
  :format(out, n_train, a_train, n_val, a_val, seed, timer:elapsed()))
