-- The event loop: concurrency, user coroutines, non-yieldable contexts.
local t0 = time()
local handles = {}
for i = 1, 50 do handles[i] = async.spawn(function() sleep(0.3) return i * 2 end) end
local sum = 0
for i = 1, 50 do sum = sum + handles[i].await()[1] end
assert.eq(sum, 2550)
assert.lt(time() - t0, 1.0, "50 concurrent sleeps of 0.3 s must finish together")

-- sleep inside coroutine.wrap; the user's own yields still reach the user's resume
local gen = coroutine.wrap(function(a)
  sleep(0.01)
  local b = coroutine.yield(a + 1)
  sleep(0.01)
  coroutine.yield(b * 2)
  return "done"
end)
assert.eq(gen(1), 2)
assert.eq(gen(5), 10)
assert.eq(gen(), "done")

-- nested user coroutines, each waiting
local outer = coroutine.wrap(function()
  local inner = coroutine.wrap(function()
    sleep(0.01)
    coroutine.yield("inner-1")
    sleep(0.01)
    return "inner-2"
  end)
  local a = inner()
  sleep(0.01)
  coroutine.yield(a)
  return inner()
end)
assert.eq(outer(), "inner-1")
assert.eq(outer(), "inner-2")

-- coroutine.status / isyieldable keep their meaning
local co = coroutine.create(function()
  assert.is_true(coroutine.isyieldable())
  sleep(0)
  coroutine.yield()
end)
assert.eq(coroutine.status(co), "suspended")
coroutine.resume(co)
assert.eq(coroutine.status(co), "suspended")
coroutine.resume(co)
assert.eq(coroutine.status(co), "dead")

-- a wrap whose body errors reports the error at the caller with the body's message
local bad = coroutine.wrap(function() sleep(0) error("inside wrap") end)
local ok, err = pcall(bad)
assert.eq(ok, false)
assert.contains(err, "inside wrap")

-- waiting where Lua cannot yield falls back to a synchronous wait
local list = { 4, 2, 5, 1, 3 }
table.sort(list, function(a, b) sleep(0) return a < b end)
assert.eq(list, { 1, 2, 3, 4, 5 })
assert.eq((("xyz"):gsub(".", function(c) sleep(0) return c:upper() end)), "XYZ")

-- pcall around a wait works; errors inside tasks come back through await
local ok2, err2 = pcall(function()
  return async.spawn(function() sleep(0.01) error("task failed") end).await()
end)
assert.eq(ok2, false)
assert.contains(err2, "task failed")
print("coroutines ok")
