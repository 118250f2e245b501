-- WebSocket limits (issue 12, item 5): messages are counted against max_message (server default
-- 1 MiB, ws_max_message; client default 16 MiB, max_message), oversized ones close the connection
-- with 1009 before they are buffered; ws_max_connections caps open sockets (503 beyond); and big
-- messages from many clients do not balloon the server's memory.
local bin = assert(os.getenv("ASSAY_BIN"), "run through `assay test` (sets ASSAY_BIN)")
local here = (debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or ".")

local echo = function() return { ws = function(conn)
  for msg, kind in function() return conn:recv() end do conn:send(msg, kind) end
end } end

-- "closed" when the peer closed the connection, else the size of what arrived (short failure messages)
local function next_message(conn)
  local m = conn:recv(5)
  return m == nil and "closed" or ("a message of " .. #m .. " bytes")
end

local function serve(routes, opts)
  _SERVER_PORT = nil
  opts.host = "127.0.0.1"
  async.spawn(function() http.serve(0, routes, opts) end)
  while not _SERVER_PORT do sleep(0.005) end
  return "ws://127.0.0.1:" .. _SERVER_PORT
end

-- the server's default cap: 1 MiB passes, one byte more closes the connection
local url = serve({ GET = { ["/echo"] = echo } }, {})
local c = ws.connect(url .. "/echo")
local mib = string.rep("m", 1024 * 1024)
c:send(mib)
assert.eq(#c:recv(5), #mib)
c:send(mib .. "!")
assert.eq(next_message(c), "closed") -- closed by the server (1009) instead of echoed
http.stop()

-- ws_max_message and ws_max_connections
url = serve({ GET = { ["/echo"] = echo } }, { ws_max_message = 4096, ws_max_connections = 2 })
local a, b = ws.connect(url .. "/echo"), ws.connect(url .. "/echo")
a:send(string.rep("a", 4096))
assert.eq(#a:recv(5), 4096)
local ok, err = pcall(ws.connect, url .. "/echo")
assert.eq(ok, false, "a third websocket was accepted over ws_max_connections = 2")
assert.contains(err, "ws.connect")
b:send(string.rep("b", 4097))
assert.eq(next_message(b), "closed")
sleep(0.2) -- the closed one no longer counts
local c3 = ws.connect(url .. "/echo")
c3:send("again")
assert.eq(c3:recv(5), "again")
a:close()
c3:close()
http.stop()

for _, bad in ipairs({ { ws_max_message = 0 }, { ws_max_message = "big" }, { ws_max_connections = -1 } }) do
  ok, err = pcall(http.serve, 0, { GET = { ["/x"] = echo } }, bad)
  assert.eq(ok, false)
  assert.matches(err, "option 'ws_max_%a+' must be")
end

-- the client's cap: ws.connect{max_message = n}; recv raises and the connection is closed
url = serve({ GET = { ["/big"] = function() return { ws = function(conn) conn:send(string.rep("x", 2000)) sleep(1) end } end } }, {})
c = ws.connect(url .. "/big", { max_message = 1000 })
ok, err = pcall(c.recv, c, 5)
assert.eq(ok, false)
assert.contains(err, "message larger than 1000 bytes")
assert.eq(next_message(c), "closed")
ok, err = pcall(ws.connect, url .. "/big", { max_message = 0 })
assert.contains(err, "option 'max_message' must be")
http.stop()

-- memory: 8 clients each sending a 32 MiB message to a server (its own process, default
-- options) leave it far below what buffering them would take (the original went to GBs)
local port = dofile(here .. "/fixtures/free_port.lua")()
local script = os.tmpname() .. ".lua"
fs.write(script, string.format([[
  http.serve(%d, { GET = { ["/echo"] = function() return { ws = function(conn)
    while true do
      local ok, msg = pcall(conn.recv, conn)
      if not ok or msg == nil then return end
      conn:send(msg)
    end
  end } end } }, { host = "127.0.0.1" })
]], port))
local server = async.spawn(function() return process.run({ bin, script }, { timeout = 60 }) end)
local pid
for _ = 1, 200 do
  for _, p in ipairs(process.list()) do
    if p.cmdline == bin .. " " .. script then pid = p.pid end
  end
  if pid and pcall(ws.connect, "ws://127.0.0.1:" .. port .. "/echo", { timeout = 1 }) then break end
  sleep(0.05)
end
assert.not_nil(pid)
local big = string.rep("z", 32 * 1024 * 1024)
local clients = {}
for i = 1, 8 do
  clients[i] = async.spawn(function()
    local conn = ws.connect("ws://127.0.0.1:" .. port .. "/echo", { timeout = 10 })
    pcall(conn.send, conn, big)
    local ok, got = pcall(conn.recv, conn, 20)
    return ok and got and #got or nil
  end)
end
for i = 1, 8 do assert.eq(clients[i].await()[1], nil, "an oversized message was echoed") end
local status = io.open("/proc/" .. pid .. "/status"):read("a")
local peak_kb = tonumber(status:match("VmHWM:%s*(%d+)"))
process.kill(pid, "TERM")
server.await()
fs.remove(script)
big = nil
assert.lt(peak_kb, 400 * 1024, "server peak RSS " .. peak_kb .. " kB")
print(string.format("ws limits ok (server peak RSS %d MiB)", peak_kb // 1024))
