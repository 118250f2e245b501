-- assay.loki against a mock following Loki's HTTP API v1 shapes (no Loki runs offline here):
-- push bodies (integer ns timestamps, {} labels), queries with encoded LogQL, labels, series,
-- the WebSocket tail, ready/metrics, tenant and auth headers, errors and bad input.
local loki = require("assay.loki")
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local mock_api = dofile(here .. "/fixtures/mock_api.lua")
local raises = mock_api.raises
local mock = mock_api.start()
local c = loki.client(mock.url .. "///")

local function streams(result)
  return { json = { status = "success", data = { resultType = "streams", result = result } } }
end

-- health
mock:on("GET", "/ready", { body = "ready" })
assert.eq(c.health:ready(), true)
mock:on("GET", "/ready", { status = 503, body = "Ingester not ready" })
assert.eq(c.health:ready(), false)
mock:on("GET", "/metrics", { body = "# HELP x\nloki_ingester_streams 42\n" })
assert(c.health:metrics():find("loki_ingester_streams 42", 1, true))

-- push: string entries (now, integer ns) and timestamped ones; one JSON Content-Type
mock:on("POST", "/loki/api/v1/push", { status = 204 })
local before = time()
assert.eq(c.logs:push({ app = "myapp", env = "test" }, { "line one", "line two", "line three" }), true)
local body = mock:last():json()
assert.eq(mock:last().headers["content-type"], "application/json")
assert.eq(body.streams[1].stream, { app = "myapp", env = "test" })
assert.eq(#body.streams[1].values, 3)
local ts = body.streams[1].values[1][1]
assert(ts:match("^%d+$"), "timestamp is not an integer string: " .. ts)
assert(math.abs(tonumber(ts) / 1e9 - before) < 5, "timestamp is not now")
c.logs:push({ app = "myapp" }, { { 1234567890000000000, "first line" }, { "1234567890000000001", "second" }, { 1.7e18, "float" } })
body = mock:last():json()
assert.eq(body.streams[1].values[1], { "1234567890000000000", "first line" })
assert.eq(body.streams[1].values[2], { "1234567890000000001", "second" })
assert.eq(body.streams[1].values[3][1], "1700000000000000000") -- never 1.7e+18
c.logs:push({}, { "no labels" })
assert(mock:last().body:find('"stream":{}', 1, true), "empty labels must be an object: " .. mock:last().body)
mock:on("POST", "/loki/api/v1/push", { status = 400, body = "error at least one label pair is required per stream" })
raises(function() c.logs:push({}, { "x" }) end, "loki: POST /loki/api/v1/push HTTP 400: error at least one label pair is required per stream")

-- queries: LogQL encoded, results unwrapped
mock:on("GET", "/loki/api/v1/query", streams({ { stream = { app = "myapp" }, values = { { "1", "log line one" }, { "2", "log line two" } } } }))
local r = c.queries:instant('{app="myapp"} |= "a+b & c"', { limit = 10, direction = "backward" })
assert.eq(#r, 1)
assert.eq(r[1].stream.app, "myapp")
assert.eq(#r[1].values, 2)
assert.eq(r[1].values[1][2], "log line one")
assert.eq(mock:last().params.query, '{app="myapp"} |= "a+b & c"')
assert.eq(mock:last().params.limit, "10")
assert.eq(mock:last().params.direction, "backward")
mock:on("GET", "/loki/api/v1/query_range", streams({ { stream = { app = "myapp" }, values = { { "1", "line one" }, { "2", "line two" }, { "3", "line three" } } } }))
r = c.queries:range('{app="myapp"}', { start = 1700000000000000000, end_time = 1700000060000000000, limit = 100, step = "10s" })
assert.eq(r[1].values[3][2], "line three")
assert.eq(mock:last().query, "query=%7Bapp%3D%22myapp%22%7D&start=1700000000000000000&end=1700000060000000000&limit=100&step=10s")

-- labels and series
mock:on("GET", "/loki/api/v1/labels", { json = { status = "success", data = { "app", "env", "host", "level" } } })
assert.eq(c.labels:list(), { "app", "env", "host", "level" })
mock:on("GET", "/loki/api/v1/label/app/values", { json = { status = "success", data = { "api", "frontend", "worker" } } })
assert.eq(c.labels:values("app", { start = 1, end_time = 2 }), { "api", "frontend", "worker" })
assert.eq(mock:last().query, "start=1&end=2")
mock:on("GET", "/loki/api/v1/series", { json = { status = "success", data = { { app = "frontend", env = "prod" }, { app = "frontend", env = "dev" } } } })
local sel = loki.selector({ app = "frontend" })
assert.eq(sel, '{app="frontend"}')
assert.eq(#c.series:list({ sel, '{env="prod"}' }), 2)
assert.eq(mock:last().query, "match%5B%5D=%7Bapp%3D%22frontend%22%7D&match%5B%5D=%7Benv%3D%22prod%22%7D")

-- selector: sorted, values escaped
assert.eq(loki.selector({ env = "test", app = "myapp" }), '{app="myapp",env="test"}')
assert.eq(loki.selector({ msg = 'say "hi" \\ bye' }), '{msg="say \\"hi\\" \\\\ bye"}')

-- tail: Loki's WebSocket endpoint
mock:on("GET", "/loki/api/v1/tail", function(req)
  local q, limit = req.params.query, req.params.limit
  return { ws = function(conn)
    conn:send(json.encode({ streams = { { stream = { app = "tail" }, values = { { "1", "first " .. q .. " " .. tostring(limit) } } } } }))
    conn:send(json.encode({ streams = { { stream = { app = "tail" }, values = { { "2", "second" } } } },
                            dropped_entries = { { labels = { app = "tail" }, timestamp = "3" } } }))
    pcall(conn.recv, conn, 5) -- until the client closes
  end }
end)
local started = os.monotonic()
local t = c.queries:tail('{app="tail"}', { limit = 10, duration = 0.5 })
assert.eq(#t.streams, 2)
assert.eq(t.streams[1].values[1][2], 'first {app="tail"} 10')
assert.eq(#t.dropped_entries, 1)
assert(os.monotonic() - started < 2, "tail listened too long")
local seen = 0
t = c.queries:tail('{app="tail"}', { duration = 5, on_message = function(msg) seen = seen + 1 return false end })
assert.eq(seen, 1)
assert.eq(#t.streams, 1)
raises(function() loki.client("http://127.0.0.1:1").queries:tail("{a=\"b\"}", { duration = 0.2 }) end, "loki: TAIL /loki/api/v1/tail?query=")

-- tenant and auth headers
local mt = loki.client(mock.url, { tenant = "team-a", token = "tok" })
mt.labels:list()
assert.eq(mock:last().headers["x-scope-orgid"], "team-a")
assert.eq(mock:last().headers["authorization"], "Bearer tok")
loki.client(mock.url, { username = "u", password = "p" }).labels:list()
assert.eq(mock:last().headers["authorization"], "Basic dTpw")

-- errors and bad input
mock:on("GET", "/loki/api/v1/query", { status = 400, body = "parse error at line 1, col 1: syntax error" })
raises(function() c.queries:instant("{") end, "loki: GET /loki/api/v1/query?query=%7B HTTP 400: parse error at line 1")
raises(function() c.queries:instant(nil) end, "loki.queries:instant: logql must be a non-empty string, got nil")
raises(function() c.logs:push("app", { "x" }) end, "loki.logs:push: stream_labels must be a table, got string")
raises(function() c.logs:push({}, {}) end, "loki.logs:push: entries must be a non-empty list")
raises(function() c.logs:push({}, { { "soon", "x" } }) end, "loki.logs:push: timestamp must be an integer of nanoseconds")
raises(function() c.logs:push({}, { 42 }) end, "loki.logs:push: entry 1 must be a line or {timestamp_ns, line}")
raises(function() c.series:list({}) end, "loki.series:list: match_selectors must be a non-empty list")
raises(function() loki.selector("x") end, "loki.selector: labels must be a table, got string")
http.stop()
