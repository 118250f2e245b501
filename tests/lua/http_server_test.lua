-- http.serve through real sockets on 127.0.0.1 (issue 5, "How it is checked").
local HERE = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local STATIC = HERE .. "/fixtures/static"
local function start(routes, opts)
  _SERVER_PORT = nil
  opts = opts or {}
  opts.host = opts.host or "127.0.0.1"
  local h = async.spawn(function() return http.serve(0, routes, opts) end)
  while not _SERVER_PORT do sleep(0.005) end
  return "http://127.0.0.1:" .. _SERVER_PORT, h
end

local SECRET = "s3cret-db-password"
local base = start({
  GET = {
    ["/hello"] = function(req) return { json = { hello = "world", n = 1 } } end,
    ["/slow"] = function(req) sleep(0.5) return { body = "done" } end,
    ["/self"] = function(req)
      local r = http.get("http://127.0.0.1:" .. _SERVER_PORT .. "/hello")
      return { status = 200, body = "inner:" .. r.body }
    end,
    ["/cookies"] = function() return { headers = { ["Set-Cookie"] = { "a=1; Path=/", "b=2; Path=/" } }, body = "ok" } end,
    ["/boom"] = function() error("database failed: " .. SECRET) end,
    ["/badreturn"] = function() return "not a table" end,
    ["/reflect"] = function(req) return { headers = { ["X-Echo"] = req.params.v }, body = "reflected" } end,
    ["/users/:id"] = function(req) return { json = { id = req.params.id, q = req.params.q, route = req.route } } end,
    ["/users/:id/posts/:post"] = function(req) return { body = req.params.id .. "/" .. req.params.post } end,
    ["/users/me"] = function() return { body = "me" } end,
    ["/files/*"] = function(req) return { body = "wild:" .. req.wildcard } end,
    ["/raw/*"] = function(req) return { json = { path = req.path, raw_path = req.raw_path, query = req.query } } end,
    ["/req"] = function(req)
      return { json = { method = req.method, path = req.path, query = req.query, params = req.params,
                        ua = req.headers["x-test"], body_len = #req.body } }
    end,
    ["/static/*"] = http.static(STATIC),
    ["/events"] = function(req)
      return {
        sse = function(send)
          send({ event = "greeting", data = "hello", id = "1" })
          sleep(0.05)
          send({ data = "line one\nline two", id = "2" })
          send({ event = "json", data = { x = 1 } })
          send("plain")
        end,
      }
    end,
    ["/ws"] = function(req)
      return {
        ws = function(conn)
          while true do
            local msg, kind = conn:recv()
            if msg == nil then break end
            if msg == "bye" then conn:close() break end
            conn:send("echo:" .. msg, kind)
          end
        end,
      }
    end,
  },
  POST = {
    ["/echo"] = function(req)
      return { status = 201, body = req.body, headers = { ["Content-Type"] = "application/octet-stream" } }
    end,
    ["/json"] = function(req)
      local data = req:json()
      return { json = { sum = data.a + data.b } }
    end,
  },
  PUT = { ["/hello"] = function() return { body = "put" } end },
})

-- _SERVER_PORT is set and port 0 picked a free port
assert.gt(_SERVER_PORT, 0)

-- JSON response
local r = http.get(base .. "/hello")
assert.eq(r.status, 200)
assert.eq(r.headers["content-type"], "application/json")
assert.eq(r:json(), { hello = "world", n = 1 })

-- 10 concurrent requests to a handler that sleeps 0.5 s finish well under the 5 s they would take
-- one after another (the bound leaves room for a JIT test run on a loaded machine)
local t0 = time()
local hs = {}
for i = 1, 10 do hs[i] = async.spawn(function() return http.get(base .. "/slow").body end) end
for i = 1, 10 do assert.eq(hs[i].await()[1], "done") end
local elapsed = time() - t0
assert.lt(elapsed, 2.5, "10 concurrent slow requests took " .. elapsed .. " s")

-- a handler calling http.get on its own server
r = http.get(base .. "/self")
assert.eq(r.body, 'inner:{"hello":"world","n":1}')

-- two Set-Cookie headers arrive as two
r = http.get(base .. "/cookies")
assert.eq(r.headers_all["set-cookie"], { "a=1; Path=/", "b=2; Path=/" })
assert.eq(r.headers["set-cookie"], "b=2; Path=/")

-- unknown path → 404; wrong method → 405 with Allow
r = http.get(base .. "/nope")
assert.eq(r.status, 404)
r = http.delete(base .. "/hello")
assert.eq(r.status, 405)
assert.eq(r.headers["allow"], "GET, PUT, HEAD")
r = http.post(base .. "/slow", "x")
assert.eq(r.status, 405)

-- HEAD is answered by the GET route, without a body
r = http.request({ method = "HEAD", url = base .. "/hello" })
assert.eq(r.status, 200)
assert.eq(r.body, "")
assert.eq(r.headers["content-length"], "23")

-- a handler's error text never reaches the client
r = http.get(base .. "/boom")
assert.eq(r.status, 500)
assert.eq(r.body, "internal server error\n")
assert.eq(r.body:find(SECRET, 1, true), nil)
r = http.get(base .. "/badreturn")
assert.eq(r.status, 500)

-- a header value with CR/LF is refused (500) and the server keeps serving
r = http.get(base .. "/reflect?v=" .. http.urlencode("x\r\nSet-Cookie: evil=1"))
assert.eq(r.status, 500)
assert.eq(r.headers["set-cookie"], nil)
r = http.get(base .. "/reflect?v=fine")
assert.eq(r.status, 200)
assert.eq(r.headers["x-echo"], "fine")
assert.eq(http.get(base .. "/hello").status, 200)

-- path parameters, precedence, wildcards
assert.eq(http.get(base .. "/users/42?q=x+y").body, '{"id":"42","q":"x y","route":"/users/:id"}')
assert.eq(http.get(base .. "/users/me").body, "me")
assert.eq(http.get(base .. "/users/7/posts/9").body, "7/9")
assert.eq(http.get(base .. "/files/a/b.txt").body, "wild:a/b.txt")
assert.eq(http.get(base .. "/files").status, 404)

-- request fields
r = http.get(base .. "/req?a=1&b=two%20words", { headers = { ["X-Test"] = "yes" } })
local info = r:json()
assert.eq(info.method, "GET")
assert.eq(info.path, "/req")
assert.eq(info.query, "a=1&b=two%20words")
assert.eq(info.params, { a = "1", b = "two words" })
assert.eq(info.ua, "yes")
assert.eq(info.body_len, 0)
-- raw_path: the path as sent, escapes and all (what a SigV4 check signs); path is decoded
info = http.get(base .. "/raw/a%2Bb%20c/%C3%A9//x?q=%2F"):json()
assert.eq(info.raw_path, "/raw/a%2Bb%20c/%C3%A9//x")
assert.eq(info.path, "/raw/a+b c/é//x")
assert.eq(info.query, "q=%2F")

-- binary-safe bodies both ways
local bytes = {}
for i = 0, 255 do bytes[#bytes + 1] = string.char(i) end
local blob = table.concat(bytes):rep(4)
r = http.post(base .. "/echo", blob)
assert.eq(r.status, 201)
assert.eq(#r.body, 1024)
assert.eq(r.body == blob, true)

-- req:json() and table bodies
r = http.post(base .. "/json", { a = 2, b = 3 })
assert.eq(r:json().sum, 5)

-- 20 MB body → 413
local ok, resp = pcall(http.post, base .. "/echo", string.rep("x", 20 * 1024 * 1024))
if ok then assert.eq(resp.status, 413) else assert.contains(tostring(resp), "http.post") end
-- ...and the server is still fine
assert.eq(http.get(base .. "/hello").status, 200)

-- static files, no traversal
r = http.get(base .. "/static/hello.txt")
assert.eq(r.status, 200)
assert.eq(r.body, "hello static\n")
assert.eq(r.headers["content-type"], "text/plain; charset=utf-8")
assert.eq(http.get(base .. "/static/sub/").body, "<h1>index</h1>\n")
assert.eq(http.get(base .. "/static/missing.txt").status, 404)
local static = http.static(STATIC)
for _, evil in ipairs({ "../http_server_test.lua", "/../../etc/passwd", "%2e%2e/http_server_test.lua", "sub/../../x", "..%2f..%2fetc/passwd", "a\\..\\..\\b" }) do
  local res = static({ path = evil, wildcard = evil })
  assert.ne(res.status, nil, "traversal must be refused: " .. evil)
  assert.eq(res.file, nil, "traversal must be refused: " .. evil)
end

-- SSE: events arrive in order with correct framing (raw body, then through on_event)
r = http.get(base .. "/events")
assert.eq(r.headers["content-type"], "text/event-stream")
assert.eq(r.body, "event: greeting\ndata: hello\nid: 1\n\n" ..
  "data: line one\ndata: line two\nid: 2\n\n" ..
  "event: json\ndata: {\"x\":1}\n\n" ..
  "data: plain\n\n")
local events = {}
r = http.get(base .. "/events", { on_event = function(ev) events[#events + 1] = ev end })
assert.eq(r.status, 200)
assert.eq(r.body, nil)
assert.eq(#events, 4)
assert.eq(events[1], { event = "greeting", data = "hello", id = "1" })
assert.eq(events[2], { data = "line one\nline two", id = "2" })
assert.eq(events[3].event, "json")
assert.eq(events[4].data, "plain")
-- "close" stops the stream early
local seen = 0
http.get(base .. "/events", { on_event = function() seen = seen + 1 return "close" end })
assert.eq(seen, 1)

-- WebSocket echo round trip (text and binary)
local conn = ws.connect("ws://127.0.0.1:" .. _SERVER_PORT .. "/ws")
conn:send("hi")
local msg, kind = conn:recv(5)
assert.eq(msg, "echo:hi")
assert.eq(kind, "text")
conn:send("\0\1\2\255", "binary")
msg, kind = conn:recv(5)
assert.eq(msg, "echo:\0\1\2\255")
assert.eq(kind, "binary")
conn:send("bye")
assert.eq(conn:recv(5), nil)
-- a ws route answered without an upgrade
assert.eq(http.get(base .. "/ws").status, 426)

-- argument and bind errors are Lua errors at the caller's line, never crashes
local ok, err = pcall(http.serve, 70000, {})
assert.contains(err, "out of range")
ok, err = pcall(http.serve, "80", {})
assert.contains(err, "first argument must be a port number")
ok, err = pcall(http.serve, 0, { GET = { ["/x"] = 42 } })
assert.contains(err, "handler for GET /x must be a function")
ok, err = pcall(http.serve, 0, { GET = { ["x"] = function() end } })
assert.contains(err, "must start with '/'")
ok, err = pcall(http.serve, _SERVER_PORT, { GET = {} }, { host = "127.0.0.1" })
assert.contains(err, "bind failed")
assert.contains(err, "address already in use")
ok, err = pcall(http.serve, 0, {}, { max_body = "big" })
assert.contains(err, "max_body")

-- graceful stop: http.serve returns
assert.eq(http.stop(), 1)
