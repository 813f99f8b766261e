-- The grid-search kill campaign's checks.
--   tune_check.lua A       prints "done <id> <finished time>" for every finished trial of A
--   tune_check.lua A REF   A must equal the uninterrupted REF: the same trials, all done, the
--                          same metrics, byte-identical predictions, bit-identical weights.
--                          Prints "same <n>".
local d2, torch = require "detectron2", require "torch"
local a = d2.tuning.open(arg[1])
local function byID(search)
  local t = {}
  for _, trial in ipairs(search:trials()) do t[trial.id] = trial end
  return t
end
if not arg[2] then
  for _, t in ipairs(a:trials()) do
    if t.state == "done" then print(string.format("done %s %.6f", t.id, t.finished)) end
  end
  return
end
local ref = byID(d2.tuning.open(arg[2]))
local function same(x, y, path)
  if type(x) ~= type(y) then error(path .. ": " .. tostring(x) .. " against " .. tostring(y)) end
  if type(x) ~= "table" then
    if x ~= y then error(path .. ": " .. tostring(x) .. " against " .. tostring(y)) end
    return
  end
  for k, v in pairs(x) do same(v, y[k], path .. "." .. tostring(k)) end
  for k in pairs(y) do if x[k] == nil then error(path .. "." .. tostring(k) .. " is missing") end end
end
local function read(path) local f = assert(io.open(path, "rb")); local s = f:read("a"); f:close(); return s end
local n = 0
for id, t in pairs(byID(a)) do
  local r = ref[id] or error("trial " .. id .. " is not in the reference")
  assert(t.state == "done", "trial " .. id .. " is " .. t.state .. (t.reason and (": " .. t.reason) or ""))
  same(t.metrics, r.metrics, id .. ".metrics")
  assert(read(t.predictions) == read(r.predictions), id .. ": the predictions differ")
  local wa, wb = torch.load(t.weights), torch.load(r.weights)
  for name, w in pairs(wa) do assert(wb[name] and w:equal(wb[name]), id .. ": weight " .. name .. " differs") end
  n = n + 1
end
for id in pairs(ref) do assert(byID(a)[id], "trial " .. id .. " is missing") end
print("same " .. n)
