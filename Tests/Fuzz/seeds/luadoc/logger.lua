-- detectron2.utils.logger: Detectron2's logging setup. Lunette writes its log (progress,
-- warnings, metrics) to stderr from the start, so there is nothing to set up; the function is
-- here so a notebook's first lines carry over.
local logger = {}

--- setup_logger(options): accepted as Detectron2's setup_logger(output, distributed_rank, color,
--- name, abbrev_name) and does nothing more: Lunette's log already goes to stderr. Returns nil.
function logger.setup_logger(...)
  return nil
end

return logger
