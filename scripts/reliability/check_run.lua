-- After a kill: every checkpoint in OUT loads into the model (weights complete) and metrics.json
-- has no broken line except possibly a last one cut short; prints the newest checkpoint's iteration.
--   lunette scripts/reliability/check_run.lua <out folder>
local d2 = require "detectron2"
local out = assert(arg[1], "usage: check_run.lua <out folder>")
local cfg = dofile(arg[0]:match("^(.*)/[^/]*$") .. "/tiny_config.lua")(40)
local model = d2.modeling.build_model(cfg)
local newest = -1
for name in io.popen(("ls %q"):format(out)):lines() do
  local it = name:match("^model_(%d+)%.pth$")
  if it or name == "model_final.pth" then
    local ok, report = pcall(model.load, model, out .. "/" .. name)
    if not ok then error(("checkpoint %s/%s does not load: %s"):format(out, name, tostring(report))) end
    if #report.missing > 0 or report.loaded == 0 then error(("checkpoint %s/%s is incomplete"):format(out, name)) end
    newest = math.max(newest, it and tonumber(it) or math.huge)
  end
end
local f = io.open(out .. "/metrics.json")
if f then
  local lines = {}
  for line in f:lines() do lines[#lines + 1] = line end
  f:close()
  for i, line in ipairs(lines) do
    if i < #lines and not line:match("^{.*}$") then error(("metrics.json line %d is broken: %s"):format(i, line)) end
  end
end
print("newest " .. (newest == math.huge and "final" or tostring(newest)))
