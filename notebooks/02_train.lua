-- %% [markdown]
-- # Training a detector
--
-- The Detectron2 training notebook, in Lunette: a Faster R-CNN config from the model zoo, the
-- learning rate scaled to our batch, `DefaultTrainer`, the training curves from `metrics.json`, and
-- a run continued from its last checkpoint. The model is a small ResNet-18 trained from scratch
-- on the demo creatives so that it trains in a minute or two on a laptop's CPU; the study
-- fine-tunes X101-32x8d from the model zoo's COCO weights with the same calls.

-- %% Parameters tags=["parameters"]
out = "out/tutorials"
iterations = 200
train_images = 60
val_images = 20

-- %% Imports and the data
local d2 = require "detectron2"
local lunette = require "lunette"
local data = out .. "/data"
-- The demo creatives, built as 01_datasets.lua builds them when they are not there yet.
if not lunette.fs.exists(data .. "/annotations/instances_train.json") then
  local here = (arg and arg[0] or "notebooks/"):match("^(.*)/[^/]*$") or "."
  assert(loadfile(here .. "/../scripts/make_demo_dataset.lua"))(data, 1, train_images, val_images)
end
for _, split in ipairs({ "train", "val" }) do
  local name = "demo_" .. split
  d2.data.DatasetCatalog.remove(name)
  d2.data.MetadataCatalog.remove(name)
  d2.data.datasets.register_coco_instances(name, {}, ("%s/annotations/instances_%s.json"):format(data, split), data .. "/" .. split)
end
local meta = d2.data.MetadataCatalog.get("demo_train")
d2.data.DatasetCatalog.get("demo_train")

-- %% [markdown]
-- ## A config from the model zoo
--
-- ```python
-- cfg = get_cfg()
-- cfg.merge_from_file(model_zoo.get_config_file("COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml"))
-- cfg.DATASETS.TRAIN = ("demo_train",)
-- cfg.DATASETS.TEST = ()
-- cfg.DATALOADER.NUM_WORKERS = 0
-- cfg.MODEL.ROI_HEADS.NUM_CLASSES = len(meta.thing_classes)
-- ```
--
-- ```lua
-- local cfg = d2.config.get_cfg()
-- cfg:merge_from_file(d2.model_zoo.get_config_file("COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml"))
-- cfg.DATASETS.TRAIN = { "demo_train" }
-- ...
-- cfg.MODEL.ROI_HEADS.NUM_CLASSES = #meta.thing_classes
-- ```
--
-- To fine-tune, `cfg.MODEL.WEIGHTS = d2.model_zoo.get_checkpoint_url(...)` reads the zoo's file
-- from the local model zoo. Here there are no pretrained weights, so the network is shrunk
-- (ResNet-18, narrow FPN and box head, 256-pixel images) and uses GroupNorm, a norm that learns,
-- instead of the frozen BatchNorm that pretrained weights bring.

-- %% Configure
local cfg = d2.config.get_cfg()
cfg:merge_from_file(d2.model_zoo.get_config_file("COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml"))
cfg.DATASETS.TRAIN = { "demo_train" }
cfg.DATASETS.TEST = {}
cfg.DATALOADER.NUM_WORKERS = 0
cfg.MODEL.ROI_HEADS.NUM_CLASSES = #meta.thing_classes
cfg.MODEL.ROI_HEADS.BATCH_SIZE_PER_IMAGE = 128
cfg.MODEL.WEIGHTS = ""                      -- from scratch
cfg.MODEL.DEVICE = "auto"                   -- a GPU where there is one, else the CPU
cfg.MODEL.RESNETS.DEPTH = 18
cfg.MODEL.RESNETS.RES2_OUT_CHANNELS = 64
cfg.MODEL.RESNETS.STEM_OUT_CHANNELS = 32
cfg.MODEL.RESNETS.NORM = "GN"
cfg.MODEL.FPN.NORM = "GN"
cfg.MODEL.FPN.OUT_CHANNELS = 64
cfg.MODEL.BACKBONE.FREEZE_AT = 0            -- nothing pretrained to keep frozen
cfg.MODEL.ROI_BOX_HEAD.FC_DIM = 64
cfg.INPUT.MIN_SIZE_TRAIN = { 256 }
cfg.INPUT.MAX_SIZE_TRAIN = 384
cfg.INPUT.MIN_SIZE_TEST = 256
cfg.INPUT.MAX_SIZE_TEST = 384
cfg.SEED = 1                                -- the same losses on every run
print(("%s, %d classes (%s), R%d-FPN"):format(cfg.DATASETS.TRAIN[1], cfg.MODEL.ROI_HEADS.NUM_CLASSES,
  table.concat(meta.thing_classes, ", "), cfg.MODEL.RESNETS.DEPTH))
help(cfg.MODEL.RESNETS)

-- %% [markdown]
-- ## The learning rate follows the batch
--
-- The zoo's recipes were tuned on 8 GPUs with 2 images each: `IMS_PER_BATCH = 16` at
-- `BASE_LR = 0.02`. One iteration averages the loss over its batch, so a batch of 2 gives a
-- noisier gradient from an eighth of the images. The **linear scaling rule** keeps the learning
-- rate per image: scale `BASE_LR` by the same factor as the batch,
-- 0.02 × 2 / 16 = **0.0025**. It is where to start when you change `IMS_PER_BATCH` (a bigger GPU
-- fitting 4 images: 0.005), then a grid search refines it.
--
-- ```python
-- cfg.SOLVER.IMS_PER_BATCH = 2
-- cfg.SOLVER.BASE_LR = 0.02 * 2 / 16   # 0.0025
-- ```
--
-- `SOLVER.MAX_ITER` counts iterations, not epochs: one epoch of 60 images at 2 a step is 30
-- iterations. The zoo's warm-up (1000 iterations) and decay steps (210000, 250000) are for
-- 270000 iterations, so they shrink with the run.

-- %% Learning rate
print(("model zoo: BASE_LR %g at IMS_PER_BATCH %d"):format(cfg.SOLVER.BASE_LR, cfg.SOLVER.IMS_PER_BATCH))
cfg.SOLVER.IMS_PER_BATCH = 2
cfg.SOLVER.BASE_LR = d2.solver.linear_scaled_lr{ base = 0.02, base_batch = 16, batch = cfg.SOLVER.IMS_PER_BATCH }
cfg.SOLVER.WARMUP_ITERS = iterations // 10
cfg.SOLVER.STEPS = {}                       -- a constant rate after the warm-up
local images = #d2.data.DatasetCatalog.get("demo_train")
print(("ours: BASE_LR %g at IMS_PER_BATCH %d; %d iterations = %.1f epochs of %d images"):format(
  cfg.SOLVER.BASE_LR, cfg.SOLVER.IMS_PER_BATCH, iterations, iterations * cfg.SOLVER.IMS_PER_BATCH / images, images))
cfg:get("SOLVER.BASE_LR")

-- %% [markdown]
-- ## Train (the first half)
--
-- ```python
-- os.makedirs(cfg.OUTPUT_DIR, exist_ok=True)
-- trainer = DefaultTrainer(cfg)
-- trainer.resume_or_load(resume=False)
-- trainer.train()
-- ```
--
-- Training stops halfway here (`MAX_ITER` is half the run), to show resuming below. The trainer
-- writes `metrics.json` (losses every 20 iterations and at the end), a checkpoint every
-- `SOLVER.CHECKPOINT_PERIOD` iterations (5000: none in a run this short) and `model_final.pth`
-- into `OUTPUT_DIR`, and a progress bar (in a notebook, one output that updates in place). The
-- folder is emptied first so that the notebook starts from scratch each time.

-- %% Train
cfg.OUTPUT_DIR = out .. "/train"
os.execute(("rm -rf %q"):format(cfg.OUTPUT_DIR))
cfg.SOLVER.MAX_ITER = math.max(1, iterations // 2)
local trainer = d2.engine.DefaultTrainer(cfg)
trainer:resume_or_load{ resume = false }
local timer = lunette.Timer()
trainer:train()
print(("trained iterations 0-%d in %.0f s, loss %.3f"):format(trainer.max_iter - 1, timer:elapsed(), trainer:metrics().total_loss))
print(trainer)

-- %% [markdown]
-- ## Watch the curves
--
-- `d2.evaluation.plot_training(metrics_json)` draws every loss against the iteration (each point
-- is the median of 20 iterations, as Detectron2 writes them) with the learning rate on a second
-- axis: the warm-up ramp, then the constant rate. It returns a Figure; `:save` writes PNG, SVG or
-- PDF and returns the figure, so the cell shows it.

-- %% Curves
local metrics_json = cfg.OUTPUT_DIR .. "/metrics.json"
d2.evaluation.plot_training(metrics_json, { title = "demo creatives, first half" }):save(out .. "/training_first_half.png")

-- %% [markdown]
-- ## Resume: train longer from the last checkpoint
--
-- ```python
-- cfg.SOLVER.MAX_ITER = 200
-- trainer = DefaultTrainer(cfg)
-- trainer.resume_or_load(resume=True)
-- trainer.train()
-- ```
--
-- `resume_or_load{ resume = true }` reads `OUTPUT_DIR/last_checkpoint` and restores the weights,
-- the optimizer's momentum and the iteration, so `train()` continues at the next iteration up to
-- the new `MAX_ITER` (the same call continues a run stopped with Ctrl-C or killed). With `SEED`
-- set and the warm-up inside the first half, the two halves give the same losses as one run of
-- the whole length. `resume = false` would start again from `MODEL.WEIGHTS`.

-- %% Resume
cfg.SOLVER.MAX_ITER = iterations
trainer = d2.engine.DefaultTrainer(cfg)
local resumed_from = trainer:resume_or_load{ resume = true }
local resumed_at = trainer.start_iter
print(("resumed from %s at iteration %d of %d"):format(resumed_from, resumed_at, trainer.max_iter))
trainer:train()
d2.evaluation.plot_training(metrics_json, { title = "demo creatives, resumed" }):save(out .. "/training.png")

-- %% [markdown]
-- ## What the run left
--
-- Reading the curves: `loss_rpn_cls` falls first as the proposal network learns where the
-- objects are; more proposals then overlap real boxes, so `loss_box_reg` (computed on those)
-- rises for a while and the total stays flat. That is normal this early; a real run trains for
-- thousands of iterations, and the grid search judges models by their accuracy, not their loss.
--
-- `model_final.pth` is in Detectron2's format (`torch.load` gives `{"model": state_dict, ...}`),
-- with a `.safetensors` copy beside it. Give it to `cfg.MODEL.WEIGHTS` for `DefaultPredictor`
-- or evaluation.

-- %% Result
local weights = cfg.OUTPUT_DIR .. "/model_final.pth"
local final_loss = trainer:metrics().total_loss
print(("weights: %s (%s)"):format(weights, lunette.fs.exists(weights) and "written" or "missing"))
print(("final loss: %.3f after %d iterations (the median of the last %d)"):format(final_loss, trainer.max_iter,
  math.min(20, trainer.max_iter - resumed_at)))
print("OUTPUT_DIR: " .. table.concat(lunette.fs.listdir(cfg.OUTPUT_DIR), ", "))
trainer:metrics()
