-- %% [markdown]
-- # A test
--
-- Some *text*.

-- %% Parameters tags=["parameters"]
brand = "demo"
n = 3

-- %%
local x = 41
print("hello", brand)
io.stderr:write("to stderr\n")
x + 1

-- %% Pictures
local cv = require "cv"
local img = cv.imread("/usr/share/doc/opencv-doc/examples/data/apple.jpg")
display(img)
print("after")
{ {a = 1, b = "x"}, {a = 2, b = "y"} }

-- %%
x * n
