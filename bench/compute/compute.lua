-- A pure-Lua workload mixing what scripts do: calls, arithmetic, tables, strings, closures.
local shared = dofile((arg[0]:match("^(.*)/") or ".") .. "/workloads.lua")
local closures, records = shared.closures, shared.records

local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end

local function sieve(n)
  local composite, count = {}, 0
  for i = 2, n do
    if not composite[i] then
      count = count + 1
      for j = i * i, n, i do composite[j] = true end
    end
  end
  return count
end

local function strings(n)
  local parts = {}
  for i = 1, n do parts[#parts + 1] = ("item-%d"):format(i):upper():sub(2, 6) end
  return #table.concat(parts, ",")
end

local function sorting(n)
  local t = {}
  local seed = 42
  for i = 1, n do seed = (seed * 1103515245 + 12345) % 2147483648; t[i] = seed end
  table.sort(t)
  return t[1]
end

local r = fib(27) + sieve(2000000) + strings(200000) + records(1000000) + closures(1000000) + sorting(300000)
io.write(string.format("%d\n", r))
