-- ws client against an http.serve WebSocket route: round trips, binary, recv timeout, close.
_SERVER_PORT = nil
async.spawn(function()
  http.serve(0, {
    GET = {
      ["/echo"] = function(req)
        return { ws = function(conn)
          for msg, kind in function() return conn:recv() end do
            if msg == "slow" then sleep(0.5) end
            conn:send(msg, kind)
          end
        end }
      end,
      ["/hdr"] = function(req)
        local token = req.headers["x-token"]
        return { ws = function(conn) conn:send(token or "none") conn:close() end }
      end,
    },
  }, { host = "127.0.0.1" })
end)
while not _SERVER_PORT do sleep(0.005) end
local url = "ws://127.0.0.1:" .. _SERVER_PORT

local c = ws.connect(url .. "/echo", { timeout = 5 })
ws.send(c, "hello")
assert.eq(ws.recv(c), "hello")
c:send(("x"):rep(100000))
assert.eq(#c:recv(), 100000)
-- recv with a timeout: nothing arrives in time, and the connection stays usable
c:send("slow")
local ok, err = pcall(c.recv, c, 0.1)
assert.eq(ok, false)
assert.contains(err, "timeout")
assert.eq(c:recv(2), "slow")
-- concurrent users of one connection
local hs = {}
for i = 1, 5 do hs[i] = async.spawn(function() c:send("m" .. i) end) end
for i = 1, 5 do hs[i].await() end
local got = {}
for i = 1, 5 do got[c:recv(2)] = true end
for i = 1, 5 do assert.is_true(got["m" .. i]) end
c:close()
assert.eq(c:recv(2), nil)

-- custom headers reach the server; a closed connection makes ws.recv raise
local h = ws.connect(url .. "/hdr", { headers = { ["X-Token"] = "abc" } })
assert.eq(h:recv(2), "abc")
ok, err = pcall(ws.recv, h)
assert.eq(ok, false)
assert.contains(err, "ws.recv: connection closed")

-- errors
ok, err = pcall(ws.connect, "ws://127.0.0.1:1/")
assert.eq(ok, false)
assert.contains(err, "ws.connect")
ok, err = pcall(ws.send, {}, "x")
assert.contains(err, "first argument must be a ws connection")

http.stop()
