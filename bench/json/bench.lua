-- JSON encode/parse throughput on a deterministic ~20 KB document. Runs under `assay`
-- (global json) and under `lua5.4` with lua-cjson; prints "encode OPS", "parse OPS", "bytes N".
-- Usage: bench.lua [iterations]
local J = rawget(_G, "json")
local impl = "assay"
if not (J and J.encode and J.parse) then J = require("cjson"); J.parse = J.decode; impl = "cjson" end
local iterations = tonumber(arg and arg[1]) or 2000

-- A fixed linear congruential generator: the same document on every run and every runtime.
local seed = 20240607
local function rand(n) seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n end
local words = { "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
  "india", "juliett", "kilo", "lima", "café", "naïve", "日本", "✓ ok" }
local function word() return words[rand(#words) + 1] end

local items = {}
for i = 1, 110 do
  items[i] = {
    id = 1000000 + i * 7919,
    name = word() .. " " .. word(),
    price = rand(1000000) / 100,
    ratio = rand(1000) / 997,
    active = rand(2) == 1,
    tags = { word(), word(), word() },
    size = { w = rand(500), h = rand(500), unit = "mm" },
    note = (rand(4) == 0) and ("say \"hi\"\n\tthen " .. word()) or word(),
  }
end
local doc = { version = 3, generated = "2026-01-01T00:00:00Z", count = #items, items = items,
  meta = { source = "bench", tags = { "a", "b" }, nested = { deep = { deeper = { 1, 2, 3 } } } } }

local text = J.encode(doc)
local back = J.parse(text)
assert(#back.items == #items and back.items[110].id == items[110].id, "round trip failed")

local function measure(fn)
  for _ = 1, math.max(1, iterations // 10) do fn() end   -- warm-up
  local t0 = os.clock()
  for _ = 1, iterations do fn() end
  return iterations / (os.clock() - t0)
end

local encode, parse = J.encode, J.parse
print("impl " .. impl)
print("bytes " .. #text)
print(string.format("encode %.0f", measure(function() return encode(doc) end)))
print(string.format("parse %.0f", measure(function() return parse(text) end)))
