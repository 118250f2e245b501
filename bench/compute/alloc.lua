-- Allocation-heavy pure Lua: short-lived closures, small tables and short strings, the garbage a
-- script makes when it builds records, callbacks and iterators in a loop. Almost every object is
-- small and dies young, so this measures the allocator and the collector more than the VM.
local shared = dofile((arg[0]:match("^(.*)/") or ".") .. "/workloads.lua")
local closures, records = shared.closures, shared.records

local function lists(n)
  local total = 0
  for i = 1, n do
    local t = { i, i + 1, i + 2 }
    t[#t + 1] = i + 3
    total = total + #t
  end
  return total
end

local function iterators(n)
  local total = 0
  local items = { 1, 2, 3, 4, 5 }
  for _ = 1, n do
    local k = 0
    local function nxt() k = k + 1; return items[k] end
    for v in nxt do total = total + v end
  end
  return total
end

local r = closures(2000000) + records(1000000) + lists(1000000) + iterators(500000)
io.write(string.format("%d\n", r))
