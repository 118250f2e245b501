-- http.serve under SIGTERM with a handler that never returns (issue 12, item 7): the process
-- exits within shutdown_timeout; the waiting client gets an answer or a closed connection.
local bin = assert(os.getenv("ASSAY_BIN"), "run through `assay test` (sets ASSAY_BIN)")
local port = dofile((debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or ".") .. "/fixtures/free_port.lua")()

local function uptime()
  local f = io.open("/proc/uptime")
  local t = f:read("n")
  f:close()
  return t
end

local script = os.tmpname() .. ".lua"
fs.write(script, string.format([[
  local r = http.serve(%d, { GET = {
    ["/hang"] = function() sleep(1e6) return { body = "never" } end,
    ["/ok"] = function() return { body = "ok" } end,
  } }, { host = "127.0.0.1", shutdown_timeout = 2 })
  print("serve returned", r)
]], port))
local child = async.spawn(function() return process.run({ bin, script }, { timeout = 20 }) end)
local base = "http://127.0.0.1:" .. port
for _ = 1, 200 do
  if pcall(http.get, base .. "/ok", { timeout = 1 }) then break end
  sleep(0.05)
end
assert.eq(http.get(base .. "/ok").body, "ok")

local hung = async.spawn(function() return { pcall(http.get, base .. "/hang", { timeout = 15 }) } end)
sleep(0.2)
local pid
for _, p in ipairs(process.list()) do
  if p.cmdline == bin .. " " .. script then pid = p.pid end
end
assert.not_nil(pid)
local t0 = uptime()
process.kill(pid, "TERM")
local r = child.await()[1]
local took = uptime() - t0
fs.remove(script)
assert.eq(r.timed_out, false, "the server process did not exit")
assert.lt(took, 2.9, "exit took " .. took .. " s with shutdown_timeout = 2")
assert.gt(took, 1.5, "the in-flight handler got less than its shutdown_timeout")
assert.eq(r.status, 0)
assert.contains(r.stdout, "serve returned\ttrue")
-- the waiting client was answered (503) or cut; either way it is not left hanging
local got = hung.await()[1]
if got[1] then assert.eq(got[2].status, 503) end
print(string.format("shutdown ok (exit %.1f s after SIGTERM)", took))
