-- %%
print(1)

-- %% [raw]
-- r