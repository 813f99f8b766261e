#!/usr/bin/env lunette
-- brand.tools: helpers a team keeps beside its scripts.
-- A second line of the module's documentation.
--
-- A second paragraph.
local tools = {}
local private = {}

--- The creatives of a brand: tools.creatives("brandA", {every = 10}).
--- Wraps onto a second line.
function tools.creatives(brand, options)
  return { brand = brand, options = options }
end

--- A method-style member.
function tools:describe(x) return tostring(x) end

--- A value member.
tools.version = "1.2"

--- An assigned function.
tools.score = function(a, b) return a + b end

-- An undocumented helper.
function tools.plain() end

--- Documented but local: not a member.
local function hidden() end

--- A comparison is not an assignment.
if tools.version == "1.2" then private.x = 1 end

return tools
