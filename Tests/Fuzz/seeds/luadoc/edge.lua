-- m: a module
local M = {}
---
--- doc
M.x = 1
--- f(a,
function M:f(a, b
M.g = function(
---=
M.h == 2
