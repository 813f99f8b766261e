-- %% [markdown]
-- # Lua for Python users
--
-- Lunette notebooks are written in Lua 5.4, with Detectron2's module paths, function names and
-- config keys. If you know Detectron2 from Python notebooks, a few idioms are all that is new:
-- imports are `require`, lists and dicts are both *tables*, lists start at 1 (class ids still
-- start at 0), methods are called with `:`, keyword arguments travel as one table, and `None` is
-- `nil`. Each is shown here next to the Python you already write. Nothing trains or reads a
-- dataset; the notebook runs in a second or two.
--
-- Comments start with `--` (Python's `#`). A cell's last expression is shown as its result, as in
-- Jupyter; `display(x)` shows a value in the middle of a cell.
--
-- ```python
-- import detectron2
-- from detectron2 import model_zoo
-- from detectron2.engine import DefaultTrainer
-- ```
--
-- ```lua
-- local d2 = require "detectron2"
-- local model_zoo = d2.model_zoo                        -- or require "detectron2.model_zoo"
-- local DefaultTrainer = require("detectron2.engine").DefaultTrainer
-- ```
--
-- `require "x"` is `require("x")`: a call whose one argument is a string (or a table) needs no
-- parentheses. `local` makes a variable local to the notebook (leave it out and the name is a
-- global). Besides `detectron2` there are `lunette` (files, JSON, timers), `cv` (OpenCV) and
-- `torch` (libtorch).

-- %% Parameters tags=["parameters"]
out = "out/tutorials"

-- %% Imports
local d2 = require "detectron2"
local lunette = require "lunette"
local model_zoo = d2.model_zoo
local DefaultTrainer = require("detectron2.engine").DefaultTrainer
print(("Lunette %s on %s"):format(lunette.version, _VERSION))
lunette.versions()

-- %% [markdown]
-- ## Lists and dicts are both tables
--
-- ```python
-- classes = ["logo", "product"]
-- classes[0], len(classes)       # ('logo', 2)
-- classes.append("face")
-- for i, name in enumerate(classes, start=1): print(i, name)
--
-- thresholds = {"logo": 0.43, "product": 0.61}
-- thresholds.get("smile")        # None
-- for name in sorted(thresholds): print(name, thresholds[name])
-- ```
--
-- In Lua the first item of a list is `classes[1]`, `#classes` is the length, and a missing item
-- or key reads as `nil` (no `IndexError`, no `KeyError`). `t.logo` and `t["logo"]` are the same
-- field; assigning `nil` deletes it. `ipairs` walks a list in order; `pairs` walks every key in
-- **no particular order**, so sort the keys when the order matters.

-- %% Lists
local classes = { "logo", "product" }
print(classes[1], #classes)             --> logo   2
classes[#classes + 1] = "face"          -- classes.append("face"); table.insert(classes, "face") is the same
for i, name in ipairs(classes) do       -- for i, name in enumerate(classes, start=1)
  print(i, name)
end
print(classes[0], classes[4])           --> nil   nil   (no IndexError)
print(table.concat(classes, ", "))      -- ", ".join(classes)

-- %% Dicts
local thresholds = { logo = 0.43, product = 0.61 }
thresholds["face"] = 0.5                -- the same as thresholds.face = 0.5
print(thresholds.logo, thresholds["product"], thresholds.smile)   --> 0.43   0.61   nil
local names = {}
for name in pairs(thresholds) do names[#names + 1] = name end
table.sort(names)                       -- sorted(thresholds)
for _, name in ipairs(names) do
  print(("%-8s %.2f"):format(name, thresholds[name]))
end
thresholds.face = nil                   -- del thresholds["face"]
lunette.pp(thresholds)                  -- prints a table's contents (print alone shows its address)

-- %% nil and truth
-- nil is None. Only nil and false are false: 0, "" and an empty table are all TRUE in Lua,
-- so test emptiness with #t == 0, not with `if not t` as in Python. `a or b` gives a default,
-- ~= is !=, and `and`, `or`, `not` are spelt out.
local options = { out = "frames" }
local every = options.every or 10       -- options.get("every", 10)
print(every, options.every == nil, options.out ~= nil)   --> 10   true   true
local detections = {}
if detections then print("an empty table is true in Lua") end
if #detections == 0 then print("no detections") end
print(0 and "0 is true", "" and "'' is true")

-- %% Strings
-- ("%s %.1f"):format(a, b) is C's printf (string.format("%s %.1f", a, b) is the same) where
-- Python has f-strings; %% writes a percent sign; .. joins strings. Lua's patterns (match, gsub)
-- look like regular expressions but escape with %, not \.
local name, ap, share = "logo", 61.437, 0.4
print(("%s AP %.1f"):format(name, ap))             -- f"{name} AP {ap:.1f}"       --> logo AP 61.4
print(("%.0f%% of the creatives"):format(share * 100))   -- f"{share:.0%} of the creatives"
print(out .. "/" .. name .. ".png")                -- os.path.join(out, name + ".png")
print(("ad_001.jpg"):match("^(.-)%.%w+$"))         -- Path("ad_001.jpg").stem     --> ad_001
print(10 / 4, 10 // 4, 2 ^ 10)                     --> 2.5   2   1024.0

-- %% [markdown]
-- ## Keyword arguments are one table; methods take a colon
--
-- ```python
-- trainer.resume_or_load(resume=False)
-- cfg = model_zoo.get_config("COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml")
-- cfg.SOLVER.BASE_LR = 0.0025
-- cfg.DATASETS.TRAIN = ("brand_train",)
-- cfg.merge_from_list(["SOLVER.MAX_ITER", 300])
-- ```
--
-- ```lua
-- trainer:resume_or_load{ resume = false }
-- local cfg = model_zoo.get_config("COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml")
-- cfg.SOLVER.BASE_LR = 0.0025
-- cfg.DATASETS.TRAIN = { "brand_train" }
-- cfg:merge_from_list{ "SOLVER.MAX_ITER", 300 }
-- ```
--
-- Lua has no keyword arguments: Lunette's functions take one *options table*, and `f{a = 1}` is
-- `f({a = 1})`. A misspelt option is an error that says what you meant. Config keys are read and
-- set with `.` as in Python, and each assignment is checked against the key's type. Methods are
-- called with `:`: `cfg:merge_from_list(x)` is `cfg.merge_from_list(cfg, x)`, the colon passing
-- the object as the first argument (Python's `self`). `pcall` is `try`/`except`: it returns
-- `false` and the message instead of stopping the notebook.

-- %% Options tables
local function scaled_lr(o)             -- def scaled_lr(base, batch, base_batch=16):
  return o.base * o.batch / (o.base_batch or 16)
end
print(scaled_lr{ base = 0.02, batch = 2 })                                     --> 0.0025
print(d2.solver.linear_scaled_lr{ base = 0.02, base_batch = 16, batch = 2 })   -- Lunette's own
local ok, message = pcall(d2.solver.linear_scaled_lr, { base = 0.02, bach = 2 })
print(ok, message)                      --> false   ... unknown option 'bach'; did you mean batch? ...

-- %% A config
local cfg = model_zoo.get_config("COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml")
print(cfg.SOLVER.BASE_LR, cfg.SOLVER.IMS_PER_BATCH)     --> 0.02   16
cfg.SOLVER.BASE_LR = 0.0025
cfg.SOLVER.IMS_PER_BATCH = 2
cfg.DATASETS.TRAIN = { "brand_train" }                  -- ("brand_train",)
cfg:merge_from_list{ "SOLVER.MAX_ITER", 300 }            -- a method: a colon
print(cfg.SOLVER.BASE_LR, cfg.SOLVER.IMS_PER_BATCH, cfg.SOLVER.MAX_ITER)   --> 0.0025   2   300
print(pcall(function() cfg.SOLVER.BASE_LR = "fast" end))  --> false   ... Type mismatch ...
cfg:get("SOLVER.BASE_LR")

-- %% [markdown]
-- ## Class ids are 0-based, Lua lists are 1-based
--
-- Detectron2's class ids (`pred_classes`, `category_id` after registration, checkpoints, COCO
-- results) stay 0..K-1 in Lunette. The list of names, `meta.thing_classes`, is a Lua list, so the
-- one idiom to remember is `+ 1`:
--
-- ```python
-- meta.thing_classes[class_id]
-- [meta.thing_classes[c] for c in instances.pred_classes.tolist()]
-- ```
--
-- ```lua
-- meta.thing_classes[class_id + 1]
-- instances:labels(meta)                 -- or det.label for each detection
-- ```

-- %% Class ids
local torch = require "torch"
local meta = { thing_classes = { "logo", "product" } }   -- as MetadataCatalog.get(name) gives
local pred_classes = torch.tensor({ 0, 1, 0 })           -- as instances.pred_classes
local ids = pred_classes:tolist()                        --> { 0, 1, 0 }: a Lua list of 0-based ids
for i, class_id in ipairs(ids) do
  print(i, class_id, meta.thing_classes[class_id + 1])   --> 1   0   logo ...
end

-- %% Files and help
-- lunette.fs has Python's makedirs, exists, listdir and glob; io.open is open() (close the
-- file yourself); assert(x) stops with the error when io.open fails, as open() would.
-- help(x) documents any module, function, class, object or config node (in the REPL, ?x does
-- the same and Tab completes names and config keys).
lunette.fs.makedirs(out)                                  -- os.makedirs(out, exist_ok=True)
local path = out .. "/faster_rcnn_small.yaml"
local f = assert(io.open(path, "w"))                      -- with open(path, "w") as f:
f:write(cfg:dump())                                       --     f.write(cfg.dump())
f:close()
print(("wrote %s: %s"):format(path, tostring(lunette.fs.exists(path))))
help(d2.solver.linear_scaled_lr)
help(cfg.SOLVER.CLIP_GRADIENTS)

-- %% [markdown]
-- ## At a glance
--
-- | Python (Detectron2) | Lua (Lunette) |
-- |---|---|
-- | `from detectron2.engine import DefaultTrainer` | `local DefaultTrainer = require("detectron2.engine").DefaultTrainer` |
-- | `x[0]`, `len(x)`, `x.append(v)` | `x[1]`, `#x`, `x[#x + 1] = v` |
-- | `for i, v in enumerate(x)` / `for k, v in d.items()` | `for i, v in ipairs(x) do ... end` / `for k, v in pairs(d) do ... end` |
-- | `None`, `is None`, `!=` | `nil`, `== nil`, `~=` |
-- | `f"{ap:.1f}"`, `a + b` (strings) | `("%.1f"):format(ap)`, `a .. b` |
-- | `trainer.resume_or_load(resume=False)` | `trainer:resume_or_load{ resume = false }` |
-- | `meta.thing_classes[c]` | `meta.thing_classes[c + 1]` |
-- | `try: ... except Exception as e:` | `local ok, e = pcall(function() ... end)` |
--
-- Next: `01_datasets.lua` registers the demo creatives and draws their boxes.
