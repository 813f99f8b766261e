-- After a kill: the store is consistent (nothing twice, nothing orphaned). With REFERENCE, the
-- store also holds exactly the reference's detections and creatives (no gaps).
--   lunette scripts/reliability/detect_check.lua STORE [REFERENCE]
local d2 = require "detectron2"
local store, reference = arg[1], arg[2]
-- A kill while the job was starting can leave a store that holds no job yet (its tables made,
-- its models not recorded): nothing is in it to be lost or doubled, and the next run takes it
-- up; it counts as a store still starting.
local ok, job = pcall(d2.engine.open_detections, store)
if not ok then
  if not reference and tostring(job):find("holds no job", 1, true) then print("consistent 0") return end
  error(job, 0)
end
local problems = job:check()
if #problems > 0 then error(store .. ": " .. table.concat(problems, "; ")) end
if not reference then print("consistent " .. job:summary().done) return end
local function rows(j, path)
  j:save_csv(path, {all = true})
  local t = {}
  for line in io.lines(path) do t[#t + 1] = line end
  table.sort(t)
  return t
end
local a, b = rows(job, store .. ".csv"), rows(d2.engine.open_detections(reference), reference .. ".csv")
if #a ~= #b then error(("%d detections against the reference's %d"):format(#a, #b)) end
for i = 1, #a do if a[i] ~= b[i] then error("differs from the reference: " .. a[i] .. " / " .. b[i]) end end
local s, r = job:summary(), d2.engine.open_detections(reference):summary()
if s.done ~= r.done or s.failed ~= r.failed then error(("done %d failed %d against %d and %d"):format(s.done, s.failed, r.done, r.failed)) end
print("same " .. #a)
