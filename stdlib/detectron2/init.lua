-- detectron2: the Detectron2-shaped API. Each part is a module written in Swift
-- (detectron2.data, ...); this table gathers them under Detectron2's names.
local d2 = {}
d2.data = require "detectron2.data"
d2.evaluation = require "detectron2.evaluation"
d2.config = require "detectron2.config"
d2.model_zoo = require "detectron2.model_zoo"
d2.modeling = require "detectron2.modeling"
d2.checkpoint = require "detectron2.checkpoint"
d2.engine = require "detectron2.engine"
d2.solver = require "detectron2.solver"
d2.structures = require "detectron2.structures"
d2.tuning = require "detectron2.tuning"
d2.export = require "detectron2.export"
d2.utils = require "detectron2.utils"
return d2
