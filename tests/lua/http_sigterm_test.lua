-- SIGTERM shuts http.serve down gracefully: the in-flight request finishes, new connections are
-- refused, http.serve returns true and the script goes on. (Run by the real binary only: it
-- signals its own process.)
local pid = io.open("/proc/self/stat"):read("a"):match("^(%d+)")
_SERVER_PORT = nil
local served = async.spawn(function()
  return http.serve(0, { GET = { ["/slow"] = function() sleep(0.5) return { body = "finished" } end } },
    { host = "127.0.0.1", shutdown_timeout = 5 })
end)
while not _SERVER_PORT do sleep(0.005) end
local url = "http://127.0.0.1:" .. _SERVER_PORT .. "/slow"
local inflight = async.spawn(function() return http.get(url) end)
sleep(0.1)
os.execute("kill -TERM " .. pid)
local r = inflight.await()[1]
assert.eq(r.status, 200)
assert.eq(r.body, "finished")
assert.eq(served.await()[1], true)
local ok = pcall(http.get, url, { timeout = 2 })
assert.eq(ok, false)
print("graceful shutdown ok")
