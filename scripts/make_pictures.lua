-- Draws one picture of each kind of chart into docs/pictures (the README's gallery), from
-- made-up numbers shaped like a grid search, a sweep and a training run.
--   lunette scripts/make_pictures.lua [out folder]
local d2, cv, lunette = require "detectron2", require "cv", require "lunette"
local ev = d2.evaluation
local out = arg[1] or "docs/pictures"
lunette.fs.makedirs(out)

-- The grid search's heat maps, one panel per threshold.
local function grid(offset)
  return { { 0.81 + offset, 0.84 + offset, 0.86 + offset }, { 0.85 + offset, 0.88 + offset, 0.90 + offset }, { 0.87 + offset, 0.90 + offset, 0.93 + offset } }
end
ev.plot_heatmap{ rows = { 300, 500, 1000 }, cols = { 256, 512, 1024 }, row_title = "SOLVER.MAX_ITER",
  col_title = "MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE", title = "Presence accuracy of the Nestlé café logo", bar_label = "accuracy",
  panels = { { title = "threshold 0.2", values = grid(-0.03) }, { title = "threshold 0.4", values = grid(0) },
             { title = "threshold 0.6", values = grid(0.02) }, { title = "threshold 0.8", values = grid(-0.06) } } }
  :save(out .. "/heatmaps.png")

-- Precision against recall, per class.
local function curve(f)
  local pts = {}
  for i = 0, 20 do local r = i / 20; pts[#pts + 1] = { r, f(r) } end
  return pts
end
ev.plot_curves{ series = { logo = curve(function(r) return 1 - 0.6 * r ^ 3 end), ["Nestlé café"] = curve(function(r) return 0.95 - 0.5 * r ^ 2 end),
                           smile = curve(function(r) return 0.9 - 0.7 * r end) },
  x_label = "recall", y_label = "precision", title = "Precision against recall at IoU 0.50" }:save(out .. "/pr_curves.png")

-- Training curves from a metrics.json.
local lines = {}
for i = 0, 49 do
  local it = i * 20 + 19
  lines[#lines + 1] = lunette.json_encode{ iteration = it, total_loss = 1.2 * math.exp(-it / 400) + 0.35, loss_cls = 0.6 * math.exp(-it / 300) + 0.12,
    loss_box_reg = 0.3 * math.exp(-it / 600) + 0.1, lr = 0.00025 * math.min(1, (it + 1) / 200) }
end
local f = io.open(out .. "/metrics.json", "w"); f:write(table.concat(lines, "\n")); f:close()
ev.plot_training(out .. "/metrics.json", { title = "Training brandA_logo" }):save(out .. "/training.png")
os.remove(out .. "/metrics.json")

-- A box confusion matrix: counts and row shares.
ev.ConfusionMatrix{ rows = { "logo", "Nestlé café", "background" }, counts = { { 41, 3, 6 }, { 2, 17, 4 }, { 9, 5, 0 } },
  title = "Boxes at score 0.5, IoU 0.5" }:save(out .. "/confusion.png")

-- AP per class.
ev.plot_bars{ bars = { { "logo", 61.4 }, { "Nestlé café", 48.9 }, { "brand_cue", 35.2 }, { "face", 72.8 }, { "smile", 0 / 0 } },
  title = "AP per class", x_label = "AP (%)", x_range = { 0, 100 } }:save(out .. "/ap_bars.png")

-- Accuracy against the threshold with each class's best point, and AP per class.
local thresholds = {}
for i = 0, 79 do thresholds[#thresholds + 1] = 0.2 + i * 0.01 end
local function accuracy(peak, width)
  local pts = {}
  for _, t in ipairs(thresholds) do pts[#pts + 1] = { t, 0.95 - ((t - peak) / width) ^ 2 } end
  return pts
end
ev.plot_curves{ series = { logo = accuracy(0.43, 0.6), ["Nestlé café"] = accuracy(0.61, 0.5), smile = accuracy(0.3, 0.7) },
  marks = { logo = { 0.43, 0.95 }, ["Nestlé café"] = { 0.61, 0.95 }, smile = { 0.3, 0.95 } },
  x_label = "confidence threshold", y_label = "accuracy", title = "Accuracy by confidence threshold (best marked)", x_range = { 0.2, 0.99 }, y_range = { 0.5, 1 } }
  :save(out .. "/threshold.png")

-- Predictions on a demo creative, as the Visualizer draws them.
local img = cv.imread("/usr/share/doc/opencv-doc/examples/data/messi5.jpg")
if img then
  d2.utils.visualizer.Visualizer(img:rgb(), { thing_classes = { "logo", "Nestlé café", "face" } })
    :draw_instance_predictions{ { box = { 212, 40, 300, 180 }, score = 0.97, class = 2 }, { box = { 30, 250, 200, 330 }, score = 0.81, class = 1 },
                                { box = { 420, 20, 530, 90 }, score = 0.64, class = 0 } }
    :save(out .. "/predictions.jpg")
end

print("pictures in " .. out)
