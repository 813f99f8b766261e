-- The argument-type sweep: every function of every Lunette module, and every method of one
-- object of each class, called with wrong arguments under pcall. A wrong argument must raise a
-- Lua error; nothing may kill the process. Prints one line per call before making it, so a
-- crash names the call that caused it, and "sweep done N" at the end.
local torch, cv, lunette, d2 = require "torch", require "cv", require "lunette", require "detectron2"
io.stdout:setvbuf("no")

-- Values of every kind, including ones that trip numeric conversions.
local cfg = d2.config.get_cfg()
local frozen = d2.config.get_cfg(); frozen:freeze()
local values = {
  { "nil", nil }, { "true", true }, { "false", false }, { "0", 0 }, { "-1", -1 }, { "1e300", 1e300 }, { "-1e300", -1e300 },
  { "nan", 0 / 0 }, { "inf", math.huge }, { "maxint", math.maxinteger }, { "minint", math.mininteger }, { "0.5", 0.5 },
  { "empty string", "" }, { "string", "x" }, { "path-like", "/nonexistent/x.jpg" }, { "empty table", {} },
  { "list", { 1, 2, 3 } }, { "nested", { { 1 }, { 2 } } }, { "map", { a = 1 } }, { "function", print },
  { "tensor", torch.zeros({ 2, 2 }) }, { "image", cv.new_image(4, 4) }, { "cfg", cfg }, { "frozen cfg", frozen },
  { "coroutine", coroutine.create(function() end) },
}

-- Calls that are slow or have effects by design with some valid-looking values.
local skip = { ["lunette.sleep"] = true, ["detectron2.engine.DefaultTrainer"] = true }

local calls = 0
local function try(name, f, ...)
  calls = calls + 1
  print("call " .. name)
  pcall(f, ...)
end

local function sweep(name, f, self)
  if skip[name] then return end
  local prefix = self ~= nil and { self } or {}
  try(name .. "()", f, table.unpack(prefix))
  for _, a in ipairs(values) do
    try(name .. "(" .. a[1] .. ")", f, self ~= nil and self or a[2], self ~= nil and a[2] or nil)
    for _, b in ipairs({ values[1], values[6], values[8], values[16], values[21] }) do
      if self ~= nil then try(name .. "(" .. a[1] .. ", " .. b[1] .. ")", f, self, a[2], b[2])
      else try(name .. "(" .. a[1] .. ", " .. b[1] .. ")", f, a[2], b[2]) end
    end
  end
  -- A method called with "." instead of ":".
  if self ~= nil then try(name .. " with .", f) end
end

local modules = {
  torch = torch, cv = cv, lunette = lunette,
  ["detectron2.data"] = d2.data, ["detectron2.data.datasets"] = d2.data.datasets, ["detectron2.evaluation"] = d2.evaluation,
  ["detectron2.config"] = d2.config, ["detectron2.model_zoo"] = d2.model_zoo, ["detectron2.modeling"] = d2.modeling,
  ["detectron2.checkpoint"] = d2.checkpoint, ["detectron2.engine"] = d2.engine, ["detectron2.solver"] = d2.solver,
  ["detectron2.utils.visualizer"] = d2.utils.visualizer,
}
local names = {}
for n in pairs(modules) do names[#names + 1] = n end
table.sort(names)
for _, mname in ipairs(names) do
  local keys = {}
  for k, v in pairs(modules[mname]) do if type(v) == "function" then keys[#keys + 1] = k end end
  table.sort(keys)
  for _, k in ipairs(keys) do sweep(mname .. "." .. k, modules[mname][k]) end
end

-- Methods of one object of each class that can be made without files.
local objects = {
  tensor = torch.zeros({ 2, 3 }), image = cv.new_image(6, 4), cfg = d2.config.get_cfg(),
  metadata = d2.data.MetadataCatalog.get("sweep"), timer = lunette.Timer and lunette.Timer() or nil,
}
local onames = {}
for n in pairs(objects) do onames[#onames + 1] = n end
table.sort(onames)
for _, oname in ipairs(onames) do
  local o = objects[oname]
  local mt = getmetatable(o)
  local index = mt and (mt.__methods or (type(mt.__index) == "table" and mt.__index))
  if type(index) == "table" then
    local keys = {}
    for k, v in pairs(index) do if type(v) == "function" then keys[#keys + 1] = k end end
    table.sort(keys)
    for _, k in ipairs(keys) do sweep(oname .. ":" .. k, index[k], o) end
  end
end
print("sweep done " .. calls)
