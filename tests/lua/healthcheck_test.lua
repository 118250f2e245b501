-- assay.healthcheck against a local HTTP server: every probe's ok and failure results, JSON
-- paths into arrays, number/string comparison, methods, latency limits, transport failures,
-- multi with a raising check, and wait (on rest.wait_until) succeeding and timing out.
local hc = require("assay.healthcheck")
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local mock_api = dofile(here .. "/fixtures/mock_api.lua")
local raises = mock_api.raises
local mock = mock_api.start()
local base = mock.url

mock:on("GET", "/ok", { body = "all healthy here" })
mock:on("GET", "/fail", { status = 500, body = "down" })
mock:on("GET", "/unavailable", { status = 503, body = "unavailable" })
mock:on("POST", "/created", { status = 201 })
mock:on("GET", "/no-content", { status = 204 })
mock:on("GET", "/json", { json = { status = { ready = true, version = "1.2", replicas = 3 },
                                   items = { { name = "a" }, { name = "b", ok = false } } } })
mock:on("GET", "/not-ready", { json = { status = { ready = false } } })
mock:on("GET", "/empty-status", { json = { status = json.object() } })
mock:on("GET", "/text", { body = "not json" })
mock:on("GET", "/slow", function() sleep(0.3) return { body = "slow" } end)
mock:on("DELETE", "/thing", { status = 202 })

-- http: status, latency, errors, methods
local r = hc.http(base .. "/ok")
assert.eq(r.ok, true)
assert.eq(r.status, 200)
assert.eq(r.error, nil)
assert.eq(type(r.latency_ms), "number")
r = hc.http(base .. "/fail")
assert.eq(r.ok, false)
assert.eq(r.status, 500)
assert.eq(r.error, "expected status 200, got 500")
assert.eq(hc.http(base .. "/created", { method = "post", expected_status = 201 }).ok, true)
assert.eq(mock:last().method, "POST")
assert.eq(mock:last().body, "")
hc.http(base .. "/created", { method = "POST", body = '{"a":1}', headers = { ["X-Probe"] = "1" }, expected_status = 201 })
assert.eq(mock:last().body, '{"a":1}')
assert.eq(mock:last().headers["x-probe"], "1")
-- other methods are really sent (the original quietly did a GET)
assert.eq(hc.http(base .. "/thing", { method = "DELETE", expect_status = 202 }).ok, true)
assert.eq(mock:last().method, "DELETE")
-- transport failure: ok=false, status 0, never raises
local closed = "http://127.0.0.1:1/health"
r = hc.http(closed)
assert.eq(r.ok, false)
assert.eq(r.status, 0)
assert.not_nil(r.error)
-- a per-probe timeout
r = hc.http(base .. "/slow", { timeout = 0.05 })
assert.eq(r.ok, false)
assert.eq(r.status, 0)

-- json_path
r = hc.json_path(base .. "/json", "status.ready", true)
assert.eq(r, { ok = true, actual = true, expected = true })
r = hc.json_path(base .. "/not-ready", "status.ready", true)
assert.eq(r.ok, false)
assert.eq(r.actual, false)
assert.eq(r.error, "expected true, got false")
r = hc.json_path(base .. "/empty-status", "status.ready", true)
assert.eq(r.ok, false)
assert.eq(r.actual, nil)
assert.eq(r.error, "path 'status.ready': key 'ready' not found")
-- array elements, by [n] or .n (1-based)
assert.eq(hc.json_path(base .. "/json", "items[2].name", "b").ok, true)
assert.eq(hc.json_path(base .. "/json", "items.1.name", "a").ok, true)
assert.eq(hc.json_path(base .. "/json", "items[2].ok", false).ok, true)
-- a number compares with the same number written as a string, both ways
assert.eq(hc.json_path(base .. "/json", "status.replicas", "3").ok, true)
assert.eq(hc.json_path(base .. "/json", "status.version", 1.2).ok, true)
assert.eq(hc.json_path(base .. "/json", "status.replicas", "4").ok, false)
assert.eq(hc.json_path(base .. "/json", "status.version.major", 1).error, "path traversal failed at 'major': not a table")
assert.eq(hc.json_path(base .. "/fail", "a", 1).error, "HTTP 500")
assert(hc.json_path(base .. "/text", "a", 1).error:find("^JSON parse error: "))
assert.eq(hc.json_path(closed, "a", 1).ok, false)

-- status_code, body_contains, endpoint
assert.eq(hc.status_code(base .. "/no-content", 204), { ok = true, status = 204 })
r = hc.status_code(base .. "/unavailable", 200)
assert.eq(r.ok, false)
assert.eq(r.status, 503)
assert.eq(r.error, "expected status 200, got 503")
assert.eq(hc.status_code(closed, 200).status, 0)
assert.eq(hc.body_contains(base .. "/ok", "healthy"), { ok = true, found = true })
r = hc.body_contains(base .. "/ok", "broken")
assert.eq(r.ok, false)
assert.eq(r.error, "pattern not found in response body")
assert.eq(hc.body_contains(base .. "/fail", "down").ok, true) -- whatever the status
assert.eq(hc.body_contains(base .. "/ok", "all.h").ok, false)  -- plain text, not a Lua pattern
r = hc.endpoint(base .. "/ok")
assert.eq(r.ok, true)
assert.eq(type(r.latency_ms), "number")
r = hc.endpoint(base .. "/unavailable")
assert.eq(r.ok, false)
assert.eq(r.status, 503)
r = hc.endpoint(base .. "/slow", { max_latency_ms = 100 })
assert.eq(r.ok, false)
assert.eq(r.status, 200)
assert(r.error:find("^latency %d+ms exceeds threshold 100ms$"), r.error)

-- multi: in order, copies fields, a raising check fails
r = hc.multi({
  { name = "api", check = function() return hc.http(base .. "/ok") end },
  { name = "db", check = function() return hc.status_code(base .. "/no-content", 204) end },
})
assert.eq(r.ok, true)
assert.eq(r.passed, 2)
assert.eq(r.total, 2)
assert.eq(r.results[1].name, "api")
assert.eq(r.results[1].status, 200)
assert.eq(r.results[2].name, "db")
r = hc.multi({
  { name = "api", check = function() return hc.http(base .. "/ok") end },
  { name = "down", check = function() return hc.http(base .. "/unavailable") end },
  { name = "boom", check = function() error("check exploded") end },
})
assert.eq(r.ok, false)
assert.eq(r.passed, 1)
assert.eq(r.failed, 2)
assert.eq(r.results[2].status, 503)
assert.eq(r.results[3].ok, false)
assert(r.results[3].error:find("check exploded", 1, true))

-- wait: first attempt, later attempt, timeout (raises with the last status)
r = hc.wait(base .. "/ok", { timeout = 5, interval = 0.1 })
assert.eq(r, { ok = true, status = 200, attempts = 1 })
mock:on("GET", "/warming", { status = 200 })
mock:on("GET", "/warming", { status = 503 }, { times = 2 })
r = hc.wait(base .. "/warming", { timeout = 5, interval = 0.05 })
assert.eq(r.attempts, 3)
assert.eq(hc.wait(base .. "/no-content", { timeout = 1, interval = 0.05, expected_status = 204 }).status, 204)
local started = os.monotonic()
local err = raises(function() hc.wait(base .. "/unavailable", { timeout = 0.5, interval = 0.2 }) end,
  "healthcheck.wait: " .. base .. "/unavailable not healthy after 0.5s")
assert(err:find("HTTP 503", 1, true), err)
assert(os.monotonic() - started < 2, "wait overran its timeout")
raises(function() hc.wait(closed, { timeout = 0.2, interval = 0.1 }) end, "not healthy after 0.2s")

-- bad input names the function
raises(function() hc.http(nil) end, "healthcheck.http: url must be a non-empty string, got nil")
raises(function() hc.http(base, "x") end, "healthcheck.http: opts must be a table, got string")
raises(function() hc.json_path(base .. "/json", nil, 1) end, "healthcheck.json_path: path_expr must be a non-empty string")
raises(function() hc.status_code(base, "200") end, "healthcheck.status_code: expected must be a status number, got string")
raises(function() hc.multi("x") end, "healthcheck.multi: checks must be a list")
raises(function() hc.multi({ { name = "x" } }) end, "healthcheck.multi: checks[1].check must be a function")
http.stop()
