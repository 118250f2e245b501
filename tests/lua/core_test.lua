-- Core builtins as a script author sees them.
local t0 = time()
assert.eq(math.type(t0), "float")
assert.gt(t0, 1.7e9)

-- sleep validates its argument and never crashes the process
for _, bad in ipairs({ -1, 0/0, math.huge }) do
  local ok, err = pcall(sleep, bad)
  assert.eq(ok, false)
  assert.contains(err, "sleep: duration must be")
end
assert.error(function() sleep("soon") end, "number expected")

-- env
env.set("ASSAY_TEST_VAR", "hello world")
assert.eq(env.get("ASSAY_TEST_VAR"), "hello world")
assert.eq(os.getenv("ASSAY_TEST_VAR"), "hello world")
local found = false
for _, e in ipairs(env.list()) do
  if e.key == "ASSAY_TEST_VAR" then found = e.value == "hello world" end
end
assert.is_true(found)
env.set("ASSAY_TEST_VAR", nil)
assert.eq(env.get("ASSAY_TEST_VAR"), nil)

-- os: standard functions kept, extras added
assert.eq(type(os.time()), "number")
assert.eq(type(os.date("%Y")), "string")
-- the original's third argument: a fixed offset from UTC in hours (fractions allowed)
assert.eq(os.date("%Y-%m-%d %H:%M", 0, 5.5), "1970-01-01 05:30")
assert.eq(os.date("!%Y-%m-%d %H:%M", 0, -3), "1969-12-31 21:00")
assert.eq(os.date("*t", 86400, 1).hour, 1)
assert.eq(os.date("!%H:%M", 3600), "01:00")                  -- without it, Lua's own os.date
assert.error(function() os.date("%H", 0, "x") end, "bad argument #3 to 'date'")
assert.eq(type(os.tmpname), "function")
assert.eq(os.platform(), "linux")
assert.matches(os.arch(), "^[%w_]+$")
assert.ne(os.hostname(), "")

-- assert: standard function and helpers
assert.eq(select("#", assert(1, 2, 3)), 3)
local ok, err = pcall(assert, false, "custom message")
assert.eq(err, "custom message")
assert.eq({ a = { 1, 2, { b = true } } }, { a = { 1, 2, { b = true } } })
assert.ne({ 1, 2 }, { 1, 2, 3 })
assert.eq(1, 1.0)
assert.contains({ "x", "y" }, "y")
assert.not_nil(false)
local e = assert.error(function() assert.eq(1, 2, "ctx") end)
assert.contains(e, "assert.eq failed: 1 != 2 - ctx")
assert.contains(e, "core_test.lua:") -- failures point at the test line

-- log writes to stderr and never fails on odd values
log.info("structured", { user = "ann", n = 3 })
log.debug("hidden at info level")
log.warn({})

-- arg table
assert.eq(type(arg), "table")
assert.matches(arg[0], "core_test%.lua$")
print("core ok")
