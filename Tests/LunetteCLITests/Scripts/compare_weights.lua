-- How far two checkpoints' weights are apart, relative to how far training moved them from
-- the starting weights: sqrt(sum (a - b)^2 / sum (a - init)^2) over every tensor.
-- arg: a.pth, b.pth, init.pth.
local torch = require "torch"
local a, b, init = torch.load(arg[1]), torch.load(arg[2]), torch.load(arg[3])
local diff, moved, n = 0, 0, 0
for name, t in pairs(a) do
  assert(b[name], "only in " .. arg[1] .. ": " .. name)
  local d, m = t:double() - b[name]:double(), t:double() - init[name]:double()
  diff = diff + (d * d):sum():item()
  moved = moved + (m * m):sum():item()
  n = n + 1
end
print(string.format("tensors %d relative %.9g moved %.9g", n, math.sqrt(diff / moved), math.sqrt(moved)))
