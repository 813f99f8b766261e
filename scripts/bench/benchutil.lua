-- Helpers shared by the Lua benchmark scripts (found by require beside them).
local M = {}

--- Peak resident memory of this process so far, in MB (VmHWM).
function M.peak_rss_mb()
  for line in io.lines("/proc/self/status") do
    local kb = line:match("^VmHWM:%s+(%d+)")
    if kb then return tonumber(kb) / 1024 end
  end
end

--- The median of a list of numbers (the mean of the middle two for an even count).
function M.median(values)
  local s = {}
  for i, v in ipairs(values) do s[i] = v end
  table.sort(s)
  local n = #s
  return n % 2 == 1 and s[(n + 1) // 2] or (s[n // 2] + s[n // 2 + 1]) / 2
end

return M
