-- Workloads both bench scripts run: short-lived closures and small records, the garbage a script makes
-- when it builds callbacks and records in a loop. Loaded with dofile by compute.lua and alloc.lua.
local W = {}

function W.closures(n)
  local acc = 0
  for i = 1, n do
    local f = function(x) return x + i end
    acc = acc + f(1)
  end
  return acc
end

function W.records(n)
  local total = 0
  for i = 1, n do
    local p = { x = i, y = i * 2, name = "p" .. (i % 100) }
    total = total + p.x + p.y + #p.name
  end
  return total
end

return W
