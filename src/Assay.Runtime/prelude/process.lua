-- process.wait_idle on top of the natives (ProcessModule.cs).
local is_running, sleep, time, type, error, ipairs = process.is_running, sleep, time, type, error, ipairs

-- Waits until none of `names` (a name or an array of names) is running. Returns true when idle,
-- false after `timeout` seconds (default 30), polling every `interval` seconds (default 1).
function process.wait_idle(names, timeout, interval)
  if type(names) == "string" then names = { names }
  elseif type(names) ~= "table" then
    error("process.wait_idle: names must be a string or an array of strings, got " .. type(names), 2)
  end
  for i, n in ipairs(names) do
    if type(n) ~= "string" then error("process.wait_idle: names[" .. i .. "] must be a string", 2) end
  end
  timeout = timeout == nil and 30 or timeout
  interval = interval == nil and 1 or interval
  if type(timeout) ~= "number" or timeout ~= timeout or timeout < 0 or timeout == math.huge then
    error("process.wait_idle: timeout must be a finite number of seconds >= 0", 2)
  end
  if type(interval) ~= "number" or interval ~= interval or interval <= 0 or interval == math.huge then
    error("process.wait_idle: interval must be a positive number of seconds", 2)
  end
  local deadline = time() + timeout
  while true do
    local busy = false
    for _, n in ipairs(names) do
      if is_running(n) then busy = true; break end
    end
    if not busy then return true end
    local left = deadline - time()
    if left <= 0 then return false end
    sleep(interval < left and interval or left)
  end
end
