-- ---
-- jupyter:
--   kernelspec: {name: lunette}
-- ---

local x = 1

-- %%  Odd [md]
--x

-- still
-- %% tags=["a"] k={"b": [1, "c"]}
y


