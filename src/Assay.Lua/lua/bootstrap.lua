-- The Lua half of the event loop (see Loop/EventLoop.cs). Loaded once per VM, before any script.
--
-- A builtin that waits yields (MARK, op id) to whoever resumed the running coroutine. For the
-- event loop that is the signal to park the coroutine until the operation completes. A user's own
-- coroutine.resume must not see MARK: the replaced resume below relays it upward (yielding it
-- further, or waiting synchronously where Lua cannot yield) and hands the result back down, so
-- user coroutines keep their own yields and values while the code inside them waits.
local native = ...
local MARK = native.mark
local wait = native.wait -- raw builtin: wait(id) -> flag, results... (never raises)
local raw_resume, raw_status = native.resume, coroutine.status -- resume: tracked for interrupts
local raw_create, raw_close = coroutine.create, coroutine.close
local traceback = debug.traceback
local type, error, select, tostring, setmetatable, rawget = type, error, select, tostring, setmetatable, rawget

local function relay(co, ok, first, ...)
  if ok and first == MARK then
    return relay(co, raw_resume(co, wait((...))))
  end
  return ok, first, ...
end

function coroutine.resume(co, ...)
  return relay(co, raw_resume(co, ...))
end

local function wrap_results(co, ok, ...)
  if ok then return ... end
  local err = ...
  if raw_status(co) == "dead" then raw_close(co) end
  -- as the standard wrap does: position info for string errors, other values unchanged
  if type(err) == "string" then error(err, 2) end
  error(err, 0)
end

function coroutine.wrap(fn)
  local co = raw_create(fn)
  return function(...)
    return wrap_results(co, relay(co, raw_resume(co, ...)))
  end
end

-- Every execution (main chunk, spawned task, request handler) runs through task_main, so a failure
-- keeps its traceback and the original error value (for await to re-raise).
local ErrorBox = {}
ErrorBox.__index = ErrorBox

local function describe(e)
  if type(e) == "string" then return e end
  if type(e) == "table" then
    local m = rawget(e, "message") or rawget(e, "error")
    if m ~= nil then return tostring(m) end
  end
  local ok, s = pcall(tostring, e)
  return ok and s or "(error object is a " .. type(e) .. " value)"
end

local function on_error(e)
  if getmetatable(e) == ErrorBox then return e end
  return setmetatable({ value = e, message = describe(e), traceback = traceback(describe(e), 2) }, ErrorBox)
end

local function task_main(fn, ...)
  return xpcall(fn, on_error, ...)
end

return { task_main = task_main, error_box = ErrorBox }
