-- detectron2.utils: Detectron2's utilities; here, the visualizer.
local utils = {}

--- Visualizer(img_rgb, metadata, scale): draws predictions and ground truth (detectron2.utils.visualizer).
utils.visualizer = require "detectron2.utils.visualizer"

return utils
