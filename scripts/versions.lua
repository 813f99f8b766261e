-- The main job for now: show what this Lunette runs on.
local lunette = require "lunette"
local torch = require "torch"
local v = lunette.versions()
print(("Lunette %s"):format(v.lunette))
print(("  Lua      %s"):format(v.lua))
print(("  libtorch %s (%d threads)"):format(v.torch, v.threads))
print(("  OpenCV   %s"):format(v.opencv))
print(("  CUDA     %s"):format(v.cuda and ("available, " .. torch.cuda.device_count() .. " device(s)") or "not available"))
