-- http client: verbs, http.request, http.client objects, timeouts, redirects, SSE framing
-- (CRLF, multi-line data), headers_all, binary bodies, error messages. Real sockets on 127.0.0.1.
local function start(routes, opts)
  _SERVER_PORT = nil
  opts = opts or {}
  opts.host = "127.0.0.1"
  async.spawn(function() return http.serve(0, routes, opts) end)
  while not _SERVER_PORT do sleep(0.005) end
  return "http://127.0.0.1:" .. _SERVER_PORT
end

local function echo(req)
  return { json = { method = req.method, path = req.path, query = req.query, params = req.params,
                    headers = req.headers, body = req.body } }
end

local base = start({
  GET = {
    ["/echo"] = echo,
    ["/slow"] = function() sleep(2) return { body = "late" } end,
    ["/redirect"] = function() return { status = 302, headers = { Location = "/echo?from=redirect" } } end,
    ["/loop"] = function() return { status = 302, headers = { Location = "/loop" } } end,
    ["/crlf-sse"] = function()
      return { headers = { ["Content-Type"] = "text/event-stream" },
               body = "event: a\r\ndata: one\r\ndata: two\r\n\r\n: comment\r\nid: 7\r\ndata:three\r\nretry: 1500\r\n\r\n" }
    end,
    ["/long-sse"] = function()
      return { sse = function(send)
        for i = 1, 3 do send({ data = tostring(i) }) sleep(0.3) end
      end }
    end,
    ["/bin"] = function()
      local t = {}
      for i = 0, 255 do t[#t + 1] = string.char(i) end
      return { body = table.concat(t), headers = { ["Content-Type"] = "application/octet-stream" } }
    end,
  },
  POST = { ["/echo"] = echo }, PUT = { ["/echo"] = echo }, PATCH = { ["/echo"] = echo },
  DELETE = { ["/echo"] = echo }, OPTIONS = { ["/echo"] = echo },
})

-- verbs and bodies
local r = http.post(base .. "/echo", "raw text", { headers = { ["X-A"] = "1" } })
local e = r:json()
assert.eq(e.method, "POST")
assert.eq(e.body, "raw text")
assert.eq(e.headers["x-a"], "1")
for _, m in ipairs({ "put", "patch" }) do
  e = http[m](base .. "/echo", { k = "v" }):json()
  assert.eq(e.method, m:upper())
  assert.eq(e.body, '{"k":"v"}')
  assert.eq(e.headers["content-type"], "application/json")
end
e = http.delete(base .. "/echo"):json()
assert.eq(e.method, "DELETE")
-- DELETE with a body (GitLab's file delete needs one); a table body is JSON as for POST
e = http.delete(base .. "/echo", { body = { branch = "main" } }):json()
assert.eq(e.body, '{"branch":"main"}')
assert.eq(e.headers["content-type"], "application/json")
e = http.client({ base_url = base }):delete("/echo", { body = "raw" }):json()
assert.eq(e.body, "raw")
-- an empty table body is an object; json.array() still forces []
assert.eq(http.post(base .. "/echo", {}):json().body, "{}")
assert.eq(http.request({ method = "POST", url = base .. "/echo", json = {} }):json().body, "{}")
assert.eq(http.post(base .. "/echo", json.array()):json().body, "[]")
assert.eq(http.post(base .. "/echo", { 1, 2 }):json().body, "[1,2]")
-- HEAD: the headers of the GET answer, no body read (S3's objects:head relies on it)
r = http.request({ method = "HEAD", url = base .. "/bin" })
assert.eq(r.status, 200)
assert.eq(r.headers["content-length"], "256")
assert.eq(r.body, "")
-- RFC 6761: any name under .localhost is the loopback host (virtual-host style URLs such as
-- S3's bucket.s3.localhost:<port> reach a local server); Host keeps the name
local port = base:match(":(%d+)$")
e = http.get("http://bucket.s3.localhost:" .. port .. "/echo"):json()
assert.eq(e.headers.host, "bucket.s3.localhost:" .. port)
assert.eq(http.get("http://API.LocalHost:" .. port .. "/echo").status, 200)
-- a User-Agent is sent unless the caller sets one
assert.matches(http.get(base .. "/echo"):json().headers["user-agent"], "^assay/%d+%.%d+")
assert.eq(http.get(base .. "/echo", { headers = { ["user-agent"] = "mine/1" } }):json().headers["user-agent"], "mine/1")
-- a user Content-Type with a table body is not duplicated
e = http.post(base .. "/echo", { a = 1 }, { headers = { ["content-type"] = "application/vnd.x+json" } }):json()
assert.eq(e.headers["content-type"], "application/vnd.x+json")

-- http.request with query, form, json, custom method
e = http.request({ method = "options", url = base .. "/echo", query = { q = "a b", list = { 1, 2 } } }):json()
assert.eq(e.method, "OPTIONS")
assert.eq(e.query, "list=1&list=2&q=a%20b")
e = http.request({ method = "POST", url = base .. "/echo", form = { name = "x y", n = 3 } }):json()
assert.eq(e.body, "n=3&name=x%20y")
assert.eq(e.headers["content-type"], "application/x-www-form-urlencoded")
e = http.request({ method = "POST", url = base .. "/echo", json = { z = true } }):json()
assert.eq(e.body, '{"z":true}')

-- binary-safe response bodies
r = http.get(base .. "/bin")
assert.eq(#r.body, 256)
assert.eq(r.body:byte(1), 0)
assert.eq(r.body:byte(256), 255)

-- redirects: followed by default, optional, bounded
e = http.get(base .. "/redirect"):json()
assert.eq(e.params.from, "redirect")
r = http.get(base .. "/redirect", { follow_redirects = false })
assert.eq(r.status, 302)
assert.eq(r.headers.location, "/echo?from=redirect")
assert.eq(http.get(base .. "/loop").status, 302) -- gives up after 10 hops

-- per-request total timeout
local t0 = time()
local ok, err = pcall(http.get, base .. "/slow", { timeout = 0.3 })
assert.eq(ok, false)
assert.contains(err, "timed out")
assert.lt(time() - t0, 1.5)
-- connect errors name the function
ok, err = pcall(http.get, "http://127.0.0.1:1/")
assert.eq(ok, false)
assert.contains(err, "http.get:")
-- argument errors point at the caller
ok, err = pcall(http.get, 42)
assert.contains(err, "http.get: first argument must be a URL string")
ok, err = pcall(http.post, base .. "/echo", true)
assert.contains(err, "second argument must be a string, table, or nil")
ok, err = pcall(http.get, base .. "/echo", { headers = { ["X-Bad"] = "a\r\nb" } })
assert.contains(err, "invalid value for header")

-- SSE client: CRLF framing, multi-line data, comments, id/retry
local events = {}
http.get(base .. "/crlf-sse", { on_event = function(ev) events[#events + 1] = ev end })
assert.eq(#events, 2)
assert.eq(events[1], { event = "a", data = "one\ntwo" })
assert.eq(events[2], { id = "7", data = "three", retry = 1500 })
-- a stream longer than the request timeout is not cut; on_event may wait
events = {}
http.get(base .. "/long-sse", { timeout = 0.5, on_event = function(ev) sleep(0.01) events[#events + 1] = ev.data end })
assert.eq(events, { "1", "2", "3" })

-- client objects: base_url, default headers, timeout, methods
local c = http.client({ base_url = base, headers = { ["X-Client"] = "yes" }, timeout = 0.3 })
e = c:get("/echo", { headers = { ["X-Extra"] = "1" } }):json()
assert.eq(e.headers["x-client"], "yes")
assert.eq(e.headers["x-extra"], "1")
e = c:post("echo", "body"):json()
assert.eq(e.body, "body")
e = c:request({ method = "PATCH", url = "/echo", json = { a = 1 } }):json()
assert.eq(e.method, "PATCH")
ok, err = pcall(c.get, c, "/slow")
assert.contains(err, "timed out")
-- insecure clients get their own pool (no TLS server here: just that they work for http)
local ic = http.client({ insecure = true })
assert.eq(ic:get(base .. "/echo").status, 200)
ok, err = pcall(http.client, { ca_cert = "not a pem" })
assert.eq(ok, false)
assert.contains(err, "http.client")

-- http.request is what assay.workflow calls
r = http.request({ method = "POST", url = base .. "/echo", headers = { ["Content-Type"] = "application/json" }, body = "{}" })
assert.eq(r.status, 200)
assert.eq(type(r.body), "string")

-- SSE server: keep-alive comments while idle; send raises once the client is gone
local gone_error
local sse_base = start({
  GET = {
    ["/quiet"] = function()
      return { sse = function(send) sleep(0.35) send({ data = "late" }) end }
    end,
    ["/forever"] = function()
      return { sse = function(send)
        local ok, err = pcall(function()
          for i = 1, 200 do send({ data = tostring(i) }) sleep(0.02) end
        end)
        gone_error = ok and "no error" or tostring(err)
      end }
    end,
  },
}, { sse_keepalive = 0.1 })
r = http.get(sse_base .. "/quiet")
assert.contains(r.body, ": keep-alive\n\n")
assert.contains(r.body, "data: late\n\n")
local first
http.get(sse_base .. "/forever", { on_event = function(ev) first = ev.data return "close" end })
assert.eq(first, "1")
-- "close" closes the connection: the server's next sends fail at once (not after the client drained it for 2 s)
for _ = 1, 25 do if gone_error then break end sleep(0.02) end
assert.contains(gone_error, "SSE stream closed")

http.stop()

-- non-ASCII bytes in a header value go out as they are (S3's x-amz-copy-source of "é.txt");
-- CR/LF stay refused. A raw socket server shows the bytes on the wire.
do
  local port = dofile((debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or ".") .. "/fixtures/free_port.lua")()
  local raw = async.spawn(function()
    return process.run({ "python3", "-c", [[
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); print("ready", flush=True)
c, _ = s.accept(); data = b""
while b"\r\n\r\n" not in data: data += c.recv(4096)
c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: " + str(len(data)).encode() + b"\r\nConnection: close\r\n\r\n" + data)
c.close()
]], tostring(port) }, { timeout = 10 })
  end)
  local got
  for _ = 1, 200 do
    local ok, r = pcall(http.get, "http://127.0.0.1:" .. port .. "/", { headers = { ["x-amz-copy-source"] = "/bucket/\195\169.txt" } })
    if ok then got = r.body break end
    sleep(0.025)
  end
  raw:await()
  assert.contains(got, "x-amz-copy-source: /bucket/\195\169.txt\r\n")
  assert.error(function() http.get(base .. "/echo", { headers = { ["X-Bad"] = "a\r\nInjected: 1" } }) end, "control characters")
end

-- errors of waiting calls point at the caller's line, not at the prelude
local okp, perr = pcall(function() local r = http.get("http://127.0.0.1:1/") return r end)
assert.matches(perr, "^[^%[]*http_client_test%.lua:%d+: http%.get: ")
okp, perr = pcall(function() local c = ws.connect("ws://127.0.0.1:1/") end)
assert.matches(perr, "^[^%[]*http_client_test%.lua:%d+: ws%.connect: ")
