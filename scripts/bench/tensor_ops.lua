-- Tensor benchmarks for scripts/bench/tensor.sh; the same workloads as tensor_ops.py.
-- Prints "name best_ms" lines.
local torch = require "torch"
local lunette = require "lunette"
local reps = tonumber(arg[1]) or 5
torch.set_num_threads(tonumber(arg[2]) or torch.get_num_threads())

local function bench(name, f)
  f()  -- warm-up
  local best = math.huge
  for _ = 1, reps do
    collectgarbage()  -- free the last result first, as Python's reference counting does
    local t = lunette.Timer()
    f()
    best = math.min(best, t:elapsed())
  end
  print(string.format("%s %.3f", name, best * 1000))
end

torch.manual_seed(0)
torch.no_grad(function()
  local x = torch.randn{1, 256, 200, 304}
  local w = torch.randn{256, 256, 3, 3}
  bench("conv2d", function() return torch.conv2d(x, w, nil, 1, 1) end)

  local a, b = torch.randn{1000, 1024}, torch.randn{1024, 1024}
  bench("matmul", function() return a:matmul(b) end)

  -- A 4-level FPN pyramid for an 800x1216 image, 1000 boxes assigned to levels as Detectron2 does.
  local feats = {}
  for level = 2, 5 do
    local s = 2 ^ level
    feats[level] = torch.randn{1, 256, math.floor(800 / s), math.floor(1216 / s)}
  end
  local per_level = { [2] = {}, [3] = {}, [4] = {}, [5] = {} }
  for i = 0, 999 do
    local x1, y1 = (i * 37) % 1000, (i * 53) % 700
    local bw, bh = 16 + (i * 97) % 400, 16 + (i * 89) % 300
    local level = math.floor(4 + math.log(math.sqrt(bw * bh) / 224 + 1e-8, 2))
    level = math.max(2, math.min(5, level))
    table.insert(per_level[level], { 0, x1, y1, x1 + bw, y1 + bh })
  end
  local rois = {}
  for level = 2, 5 do
    if #per_level[level] > 0 then rois[level] = torch.tensor(per_level[level]):float() end
  end
  bench("roi_align", function()
    for level = 2, 5 do
      if rois[level] then torch.roi_align(feats[level], rois[level], 7, 1 / 2 ^ level, 0, true) end
    end
  end)

  local boxes, scores = {}, {}
  for i = 0, 5999 do
    local x1, y1 = (i * 37) % 1000, (i * 53) % 700
    boxes[#boxes + 1] = { x1, y1, x1 + 16 + (i * 97) % 200, y1 + 16 + (i * 89) % 150 }
    scores[#scores + 1] = ((i * 7919) % 6000) / 6000
  end
  local B, S = torch.tensor(boxes):float(), torch.tensor(scores):float()
  bench("nms", function() return torch.nms(B, S, 0.7) end)
end)
