--- no module comment
local m = {}
--- été: café
function m.café() end
---
---
m["x"] = 1
return m
