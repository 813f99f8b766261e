-- detectron2.utils: Detectron2's utilities; here, the visualizer and the logger setup.
local utils = {}

--- Visualizer(img_rgb, metadata, scale): draws predictions and ground truth (detectron2.utils.visualizer).
utils.visualizer = require "detectron2.utils.visualizer"

--- setup_logger(): Detectron2's logging setup, accepted so notebooks carry over (Lunette logs to stderr already).
utils.logger = require "detectron2.utils.logger"

--- comm: get_world_size(), get_rank(), get_local_rank(), is_main_process(), synchronize() (detectron2.utils.comm).
utils.comm = require "detectron2.utils.comm"

return utils
