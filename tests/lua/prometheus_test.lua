-- assay.prometheus against a real Prometheus (Debian `prometheus`, installed by test.sh) scraping
-- itself, plus a mock for the shapes a fresh server cannot produce (alerts, rules, multi-sample
-- vectors, reload failures).
local prometheus = require("assay.prometheus")
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local mock_api = dofile(here .. "/fixtures/mock_api.lua")
local raises = mock_api.raises

-- ---------------------------------------------------------------- the real server
local bin = io.popen("command -v prometheus"):read("l")
assert(bin, "prometheus is not installed (test.sh installs Debian's prometheus)")
local dir = os.tmpname()
os.remove(dir)
os.execute("mkdir -p " .. dir)
local port = dofile(here .. "/fixtures/free_port.lua")()
local f = assert(io.open(dir .. "/prometheus.yml", "w"))
f:write(string.format([[
global:
  scrape_interval: 200ms
  evaluation_interval: 200ms
rule_files: ["%s/rules.yml"]
scrape_configs:
  - job_name: self
    static_configs:
      - targets: ["127.0.0.1:%d"]
]], dir, port))
f:close()
f = assert(io.open(dir .. "/rules.yml", "w"))
f:write([[
groups:
  - name: example
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: AlwaysFiring
        expr: vector(1)
        labels: { severity: info }
]])
f:close()
os.execute(string.format("%s --config.file=%s/prometheus.yml --web.listen-address=127.0.0.1:%d --storage.tsdb.path=%s/tsdb --web.enable-lifecycle >%s/prom.log 2>&1 &",
  bin, dir, port, dir, dir))
local function stop() os.execute(string.format("pkill -f '[w]eb.listen-address=127.0.0.1:%d'", port)) end

local c = prometheus.client("http://127.0.0.1:" .. port .. "///")
local ok, err = pcall(function()
  -- wait for the first scrape of itself: Prometheus 2.42's scrape manager applies targets on a
  -- fixed 5 s tick (no flag shortens it), which is most of this file's run time
  local up
  for _ = 1, 200 do
    local got, v = pcall(c.queries.instant, c.queries, "up")
    if got and type(v) == "number" then up = v break end
    sleep(0.05)
  end
  assert.eq(up, 1, "prometheus never scraped itself")

  -- instant: the query really is sent; one sample → its number, scalars and strings by resultType
  assert.eq(c.queries:instant('up{job="self"} + 1'), 2)
  assert.eq(c.queries:instant("scalar(up) * 3"), 3)
  assert.eq(c.queries:instant("time()", 1700000000), 1700000000)
  assert.eq(c.queries:instant('"text"'), "text")
  local two = c.queries:instant('up or label_replace(up, "instance", "other", "", "")')
  assert.eq(#two, 2)
  assert.eq(two[1].value, 1)
  assert.not_nil(two[1].metric.instance)
  assert.eq(#c.queries:instant("absent_series_xyz"), 0)

  -- range: a matrix with samples at every step
  local now = time()
  sleep(0.5)
  local series = c.queries:range("up", now - 60, time(), 0.2)
  assert.eq(#series, 1)
  assert.eq(series[1].metric.__name__, "up")
  assert(#series[1].values >= 1, "range returned no samples")

  -- targets, labels, series, metadata
  local targets = c.targets:list()
  assert.eq(targets.activeTargets[1].health, "up")
  assert.eq(targets.activeTargets[1].labels.job, "self")
  assert.eq(#c.targets:list({ state = "dropped" }).activeTargets, 0)
  assert.eq(c.labels:values("job"), { "self" })
  local sets = c.series:list({ 'up{job="self"}', "prometheus_build_info" })
  assert.eq(#sets, 2)
  assert.eq(#c.series:list('up{job="self"}'), 1)
  local meta = c.targets:metadata({ match_target = '{job="self"}', metric = "up", limit = 1 })
  assert.eq(type(meta), "table")

  -- rules (recording and alerting) and the alert they fire
  local groups
  for _ = 1, 100 do
    groups = c.rules:list()
    if #groups > 0 and groups[1].rules[2].state == "firing" then break end
    sleep(0.05)
  end
  assert.eq(groups[1].name, "example")
  assert.eq(groups[1].rules[1].type, "recording")
  assert.eq(groups[1].rules[2].type, "alerting")
  assert.eq(#c.rules:list({ type = "alert" })[1].rules, 1)
  local alerts = c.alerts:list()
  assert.eq(alerts[1].labels.alertname, "AlwaysFiring")

  -- a bad PromQL: the server's 400 as a clear error with its message
  raises(function() c.queries:instant("sum(") end, "prometheus: GET /api/v1/query?query=sum%28 HTTP 400: bad_data")
  raises(function() c.queries:range("up", "yesterday", now, 1) end, "HTTP 400: bad_data")

  -- reload (the server runs with --web.enable-lifecycle)
  assert.eq(c.config:reload(), true)
end)
stop()
os.execute("rm -rf " .. dir)
if not ok then error(err, 0) end

-- ---------------------------------------------------------------- the mock
local mock = mock_api.start()
local m = prometheus.client(mock.url)
local function ok_env(data) return { json = { status = "success", data = data } } end

mock:on("GET", "/api/v1/query", ok_env({ resultType = "vector", result = {
  { metric = { __name__ = "up", instance = "host1:9090" }, value = { 1700000000, "1" } },
  { metric = { __name__ = "up", instance = "host2:9090" }, value = { 1700000000, "0" } } } }))
local multi = m.queries:instant("up")
assert.eq(mock:last().query, "query=up")
assert.eq(multi[1].metric.instance, "host1:9090")
assert.eq(multi[1].value, 1)
assert.eq(multi[2].value, 0)
-- PromQL with +, spaces, quotes and braces arrives intact
m.queries:instant('rate(x{a="b c"}[5m]) + 1', "2024-01-01T00:00:00Z")
assert.eq(mock:last().params.query, 'rate(x{a="b c"}[5m]) + 1')
assert.eq(mock:last().params.time, "2024-01-01T00:00:00Z")
-- scalar and special values
mock:on("GET", "/api/v1/query", ok_env({ resultType = "scalar", result = { 1700000000, "42" } }))
assert.eq(m.queries:instant("42"), 42)
mock:on("GET", "/api/v1/query", ok_env({ resultType = "vector", result = { { metric = {}, value = { 1, "NaN" } } } }))
assert.eq(m.queries:instant("0/0"), "NaN")
mock:on("GET", "/api/v1/query", ok_env({ resultType = "matrix", result = { { metric = {}, values = { { 1, "1" } } } } }))
assert.eq(m.queries:instant("up[1m]")[1].values[1][2], "1")
-- an error envelope in a 200, and no data at all
mock:on("GET", "/api/v1/query", { json = { status = "error", errorType = "execution", error = "boom" } })
raises(function() m.queries:instant("up") end, "prometheus: GET /api/v1/query?query=up HTTP 200: execution: boom")
mock:on("GET", "/api/v1/query", ok_env({ resultType = "vector" }))
raises(function() m.queries:instant("up") end, "prometheus: unexpected response format")
-- a proxy's non-JSON error page
mock:on("GET", "/api/v1/alerts", { status = 502, body = "<html>bad gateway</html>" })
raises(function() prometheus.client(mock.url, { retries = 0 }).alerts:list() end, "prometheus: GET /api/v1/alerts HTTP 502: <html>bad gateway")

-- range query parameters, encoded and in order
mock:on("GET", "/api/v1/query_range", ok_env({ resultType = "matrix", result = {
  { metric = { __name__ = "up" }, values = { { 1, "1" }, { 2, "1" } } } } }))
local r = m.queries:range("a + b", 100, 200, "15s")
assert.eq(mock:last().query, "query=a%20%2B%20b&start=100&end=200&step=15s")
assert.eq(#r[1].values, 2)

-- alerts, targets, rules, labels, series, metadata shapes
mock:on("GET", "/api/v1/alerts", ok_env({ alerts = {} }))
assert.eq(#m.alerts:list(), 0)
mock:on("GET", "/api/v1/targets", ok_env({ activeTargets = { { health = "up", labels = { instance = "a:1" } } },
  droppedTargets = { { discoveredLabels = {} } } }))
local t = m.targets:list()
assert.eq(t.activeTargets[1].labels.instance, "a:1")
assert.eq(#t.droppedTargets, 1)
mock:on("GET", "/api/v1/targets/metadata", ok_env({ { target = { job = "prometheus" }, metric = "go_goroutines", type = "gauge" } }))
local md = m.targets:metadata({ match_target = '{job="prometheus"}', metric = "go_goroutines", limit = "1" })
assert.eq(mock:last().query, "match_target=%7Bjob%3D%22prometheus%22%7D&metric=go_goroutines&limit=1")
assert.eq(md[1].type, "gauge")
assert.eq(md[1].target.job, "prometheus")
mock:on("GET", "/api/v1/rules", ok_env({ groups = { { name = "example", rules = { { type = "alerting" } } } } }))
assert.eq(m.rules:list({ type = "alert" })[1].rules[1].type, "alerting")
assert.eq(mock:last().query, "type=alert")
mock:on("GET", "/api/v1/label/my label/values", ok_env({ "a", "b", "c" }))
assert.eq(m.labels:values("my label"), { "a", "b", "c" })
assert.eq(mock:last().path, "/api/v1/label/my label/values")
mock:on("GET", "/api/v1/series", ok_env({ { __name__ = "up" }, { __name__ = "up", job = "x" } }))
assert.eq(#m.series:list({ "up", 'x{a="1"}' }), 2)
assert.eq(mock:last().query, "match%5B%5D=up&match%5B%5D=x%7Ba%3D%221%22%7D")

-- reload: status to boolean, never raising on a status
mock:on("POST", "/-/reload", { status = 200 })
assert.eq(m.config:reload(), true)
assert.eq(mock:last().body, "")
mock:on("POST", "/-/reload", { status = 503, body = "busy" })
assert.eq(m.config:reload(), false)

-- bad input names the function
raises(function() m.queries:instant(nil) end, "prometheus.queries:instant: promql must be a non-empty string, got nil")
raises(function() m.queries:instant("up", {}) end, "prometheus.queries:instant: time must be a number")
raises(function() m.queries:range("") end, "prometheus.queries:range: promql must be a non-empty string")
raises(function() m.series:list({}) end, "prometheus.series:list: selectors must be a non-empty list")
raises(function() m.labels:values(7) end, "prometheus.labels:values: name must be a non-empty string, got number")
raises(function() prometheus.client(nil) end, "prometheus: base URL must be a non-empty string")
raises(function() prometheus.client("ftp://x") end, "base URL must start with http")
http.stop()
