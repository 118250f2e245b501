-- assay.alertmanager against a real Alertmanager (Debian `prometheus-alertmanager`, installed by
-- test.sh): post alerts, list and filter them, groups, create/read/list/expire a silence (RFC 3339
-- times); plus a mock for the exact requests (query encoding, bodies) and error statuses.
local alertmanager = require("assay.alertmanager")
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local mock_api = dofile(here .. "/fixtures/mock_api.lua")
local raises = mock_api.raises

-- ---------------------------------------------------------------- the real server
local bin = io.popen("command -v prometheus-alertmanager || command -v alertmanager"):read("l")
assert(bin, "alertmanager is not installed (test.sh installs Debian's prometheus-alertmanager)")
local dir = os.tmpname()
os.remove(dir)
os.execute("mkdir -p " .. dir)
local port = dofile(here .. "/fixtures/free_port.lua")()
local f = assert(io.open(dir .. "/alertmanager.yml", "w"))
f:write([[
route:
  receiver: default
  group_by: [alertname]
  group_wait: 0s
receivers:
  - name: default
  - name: pager
]])
f:close()
os.execute(string.format("%s --config.file=%s/alertmanager.yml --storage.path=%s/data --web.listen-address=127.0.0.1:%d --cluster.listen-address= >%s/am.log 2>&1 &",
  bin, dir, dir, port, dir))
local function stop() os.execute(string.format("pkill -f '[w]eb.listen-address=127.0.0.1:%d'", port)) end

local c = alertmanager.client("http://127.0.0.1:" .. port .. "/")
local ok, err = pcall(function()
  local status
  for _ = 1, 200 do
    local got, s = pcall(c.status.get, c.status)
    if got then status = s break end
    sleep(0.05)
  end
  assert(status, "alertmanager did not start: " .. (io.open(dir .. "/am.log"):read("a")))
  assert.eq(status.cluster.status, "disabled")
  assert.not_nil(status.versionInfo.version)
  local names = {}
  for _, r in ipairs(c.receivers:list()) do names[#names + 1] = r.name end
  table.sort(names)
  assert.eq(names, { "default", "pager" })

  -- post alerts (one as a list, one bare), then list and filter them
  assert.eq(c.alerts:post({
    { labels = { alertname = "HighMemory", severity = "critical", instance = "a b" }, annotations = { summary = "memory" } },
    { labels = { alertname = "DiskFull", severity = "warning" }, startsAt = time() - 60 },
  }), true)
  assert.eq(c.alerts:post({ labels = { alertname = "Quiet", severity = "info" } }), true)
  assert.eq(#c.alerts:list(), 3)
  local high = c.alerts:list({ filter = { 'alertname="HighMemory"', 'instance="a b"' } })
  assert.eq(#high, 1)
  assert.eq(high[1].labels.severity, "critical")
  assert.eq(high[1].status.state, "active")
  assert.eq(#c.alerts:list({ filter = 'severity=~"crit.*|warn.*"' }), 2)
  assert.eq(#c.alerts:list({ receiver = "default" }), 3)
  assert.eq(c.alerts:is_firing("DiskFull"), true)
  assert.eq(c.alerts:is_firing("Nope"), false)
  assert.eq(c.alerts:active_count(), 3)
  local groups = c.alerts:groups()
  assert.eq(#groups, 3)
  assert.eq(groups[1].receiver.name, "default")

  -- silences: create with RFC 3339 times, read, list, see the alert silenced, expire
  local id = c.silences:silence_alert("Quiet", 1, { created_by = "tests", comment = "maintenance" })
  assert.eq(type(id), "string")
  local s = c.silences:get(id)
  assert.eq(s.createdBy, "tests")
  assert.eq(s.comment, "maintenance")
  assert.eq(s.matchers[1].value, "Quiet")
  assert.eq(s.status.state, "active")
  local created = c.silences:create({ matchers = { { name = "severity", value = "warning", isRegex = false } },
    startsAt = time(), endsAt = time() + 600, createdBy = "tests", comment = "numeric times" })
  assert.not_nil(created.silenceID)
  assert.eq(#c.silences:list(), 2)
  assert.eq(#c.silences:list({ filter = 'alertname="Quiet"' }), 1)
  local silenced
  for _ = 1, 100 do
    silenced = c.alerts:list({ silenced = true, active = false })
    if #silenced == 2 then break end
    sleep(0.05)
  end
  assert.eq(#silenced, 2)
  assert.eq(c.alerts:is_firing("Quiet"), false)
  assert.eq(c.silences:delete(id), true)
  assert.eq(c.silences:get(id).status.state, "expired")

  -- the server's own errors come through with their status
  raises(function() c.silences:get("00000000-0000-0000-0000-000000000000") end, "alertmanager: GET /api/v2/silence/00000000-0000-0000-0000-000000000000 HTTP 404")
  raises(function() c.silences:create({ matchers = { { name = "a", value = "b", isRegex = false } }, startsAt = "yesterday", endsAt = "today" }) end,
    "alertmanager: POST /api/v2/silences HTTP 400")
end)
stop()
os.execute("rm -rf " .. dir)
if not ok then error(err, 0) end

-- ---------------------------------------------------------------- the mock: exact requests
local mock = mock_api.start()
local m = alertmanager.client(mock.url .. "///")
mock:on("GET", "/api/v2/alerts", { json = { { labels = { alertname = "HighMemory" }, status = { state = "active" } } } })
assert.eq(m.alerts:is_firing('We"ird'), true)
assert.eq(mock:last().query, "active=true&silenced=false&inhibited=false&filter=alertname%3D%22We%5C%22ird%22")
m.alerts:list({ unprocessed = true, filter = { 'a=~"x|y"', "b!=c" }, receiver = "team-.*" })
assert.eq(mock:last().query, "unprocessed=true&filter=a%3D~%22x%7Cy%22&filter=b%21%3Dc&receiver=team-.%2A")
mock:on("GET", "/api/v2/alerts", { json = json.array() })
assert.eq(m.alerts:is_firing("X"), false)
assert.eq(m.alerts:active_count(), 0)
mock:on("GET", "/api/v2/alerts/groups", { json = json.array() })
m.alerts:groups({ active = true, unprocessed = true })
assert.eq(mock:last().query, "active=true")

-- bodies: one JSON Content-Type; RFC 3339 times in silence_alert
mock:on("POST", "/api/v2/silences", function(req) return { json = { silenceID = "auto-silence-456" } } end)
assert.eq(m.silences:silence_alert("HighCPU", 2, { created_by = "ops", comment = "deploy" }), "auto-silence-456")
local body = mock:last():json()
assert.eq(mock:last().headers["content-type"], "application/json")
assert(body.startsAt:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$"), "startsAt is not RFC 3339: " .. body.startsAt)
assert.eq(body.matchers[1], { name = "alertname", value = "HighCPU", isRegex = false, isEqual = true })
assert.eq(body.createdBy, "ops")
mock:on("POST", "/api/v2/alerts", { status = 200 })
m.alerts:post({})
assert.eq(mock:last().body, "[]")
mock:on("DELETE", "/api/v2/silence/a%2Fb", { status = 200 })
mock:on("DELETE", "/api/v2/silence/a/b", { status = 200 })
assert.eq(m.silences:delete("a/b"), true)
assert.eq(mock:last().method, "DELETE")

-- errors and bad input
mock:on("GET", "/api/v2/status", { status = 500, body = "boom" })
raises(function() alertmanager.client(mock.url, { retries = 0 }).status:get() end, "alertmanager: GET /api/v2/status HTTP 500: boom")
raises(function() m.alerts:list({ active = "yes" }) end, "alertmanager.alerts:list: active must be a boolean, got string")
raises(function() m.alerts:post("x") end, "alertmanager.alerts:post: alerts must be a list of alert tables, got string")
raises(function() m.alerts:post({ { annotations = {} } }) end, "alertmanager.alerts:post: alert 1 needs a labels table")
raises(function() m.silences:get(nil) end, "alertmanager.silences:get: id must be a non-empty string, got nil")
raises(function() m.silences:create({}) end, "alertmanager.silences:create: silence needs a non-empty matchers list")
raises(function() m.silences:silence_alert("X", 0) end, "alertmanager.silences:silence_alert: duration_hours must be a positive number")
http.stop()
