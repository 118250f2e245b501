-- async: task handles over the loop's natives (AsyncModule.cs).
local native = ...
local spawn, await, cancel, interrupt, release = native.spawn, native.await, native.cancel, native.interrupt, native.release
local setmetatable, type, error, pcall, tostring = setmetatable, type, error, pcall, tostring

local Handle = {}
Handle.__index = Handle
-- A handle that is garbage collected frees its task's results (finished tasks keep them for await).
Handle.__gc = function(h) if not h._awaited then pcall(release, h.id) end end

local function new_handle(id)
  local h = setmetatable({ id = id }, Handle)
  -- h.await() (the original's dot form) and h:await() both work.
  h.await = function()
    if h._awaited then error("async handle already awaited", 2) end
    h._awaited = true
    return await(id)
  end
  h.cancel = function() return cancel(id) end
  h.interrupt = function() return interrupt(id) end
  return h
end

async = {}

function async.spawn(fn, ...)
  if type(fn) ~= "function" then error("async.spawn: expected a function, got " .. type(fn), 2) end
  return new_handle(spawn(fn, ...))
end

-- Runs fn every `secs` seconds (first run after one period) until cancelled. Ticks keep a fixed
-- rate; an error in fn is logged and stops the interval.
function async.spawn_interval(secs, fn)
  if type(secs) ~= "number" or secs ~= secs or secs <= 0 then
    error("async.spawn_interval: interval must be a positive number of seconds", 2)
  end
  if type(fn) ~= "function" then error("async.spawn_interval: expected a function", 2) end
  local stopped = false
  local h = new_handle(spawn(function()
    local next_at = time() + secs
    while not stopped do
      local wait = next_at - time()
      if wait > 0 then sleep(wait) end
      if stopped then break end
      local ok, err = pcall(fn)
      if not ok then
        log.error("async.spawn_interval: task failed, interval stopped: " .. tostring(err))
        break
      end
      next_at = next_at + secs
    end
  end))
  return setmetatable({
    id = h.id,
    cancel = function() stopped = true; return h.cancel() end,
  }, Handle)
end
