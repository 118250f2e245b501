-- assert: the standard function, callable as before, plus assertion helpers.
-- Failures raise at the caller's line (level 2), so messages name the test file:line.
local std_assert = assert
local type, tostring, pairs, error, select = type, tostring, pairs, error, select
local string_format, string_find = string.format, string.find

local function show(v)
  if type(v) == "string" then return string_format("%q", v) end
  if type(v) == "table" and json and json.encode then
    local ok, s = pcall(json.encode, v)
    if ok then return s end
  end
  return tostring(v)
end

local function fail(what, msg)
  if msg ~= nil then what = what .. " - " .. tostring(msg) end
  error(what, 3)
end

-- Deep equality: numbers compare numerically (1 == 1.0), tables by content (cycle-safe).
local function equal(a, b, seen)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  seen = seen or {}
  if seen[a] == b then return true end
  seen[a] = b
  for k, v in pairs(a) do
    if not equal(v, b[k], seen) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

local A = {}

function A.eq(a, b, msg)
  if not equal(a, b) then fail("assert.eq failed: " .. show(a) .. " != " .. show(b), msg) end
end

function A.ne(a, b, msg)
  if equal(a, b) then fail("assert.ne failed: " .. show(a) .. " == " .. show(b), msg) end
end

local function numbers(name, a, b)
  if type(a) ~= "number" or type(b) ~= "number" then
    error("assert." .. name .. ": both arguments must be numbers, got " .. type(a) .. " and " .. type(b), 3)
  end
end

function A.gt(a, b, msg)
  numbers("gt", a, b)
  if not (a > b) then fail("assert.gt failed: " .. show(a) .. " is not > " .. show(b), msg) end
end

function A.lt(a, b, msg)
  numbers("lt", a, b)
  if not (a < b) then fail("assert.lt failed: " .. show(a) .. " is not < " .. show(b), msg) end
end

function A.contains(haystack, needle, msg)
  if type(haystack) == "table" then
    for _, v in pairs(haystack) do
      if equal(v, needle) then return end
    end
    fail("assert.contains failed: table does not contain " .. show(needle), msg)
  end
  if type(haystack) ~= "string" or type(needle) ~= "string" then
    error("assert.contains: expected (string, string) or (table, value)", 2)
  end
  if not string_find(haystack, needle, 1, true) then
    fail("assert.contains failed: " .. show(haystack) .. " does not contain " .. show(needle), msg)
  end
end

function A.not_nil(v, msg)
  if v == nil then fail("assert.not_nil failed: value is nil", msg) end
end

function A.matches(text, pattern, msg)
  if type(text) ~= "string" or type(pattern) ~= "string" then
    error("assert.matches: expected (string, pattern)", 2)
  end
  if not string_find(text, pattern) then
    fail("assert.matches failed: " .. show(text) .. " does not match pattern " .. show(pattern), msg)
  end
end

function A.is_true(v, msg) if v ~= true then fail("assert.is_true failed: got " .. show(v), msg) end end
function A.is_false(v, msg) if v ~= false then fail("assert.is_false failed: got " .. show(v), msg) end end

-- assert.error(fn, pattern?): fn must raise; returns the error value.
function A.error(fn, pattern, msg)
  local ok, err = pcall(fn)
  if ok then fail("assert.error failed: function did not raise", msg) end
  if pattern ~= nil and not string_find(tostring(err), pattern) then
    fail("assert.error failed: error " .. show(tostring(err)) .. " does not match " .. show(pattern), msg)
  end
  return err
end
A.raises = A.error

A.deep_equal = equal

assert = setmetatable(A, {
  __call = function(_, v, ...)
    if v then return v, ... end
    local n = select("#", ...)
    error(n > 0 and (...) or "assertion failed!", 2)
  end,
})
