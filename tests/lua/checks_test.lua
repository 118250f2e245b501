-- YAML check mode through the real binary: pass, fail, retries, timeouts, JSON and JUnit output.
local bin = assert(os.getenv("ASSAY_BIN"), "run through `assay test` (sets ASSAY_BIN)")
local dir = os.tmpname()
os.remove(dir)
os.execute("mkdir -p " .. dir .. "/scripts")

local function write(name, text)
  local f = assert(io.open(dir .. "/" .. name, "w"))
  f:write(text)
  f:close()
  return dir .. "/" .. name
end

local function run(args)
  local p = io.popen(string.format("cd / && %s %s 2>%s/stderr", bin, args, dir))
  local out = p:read("a")
  local _, _, code = p:close()
  return out, code
end

-- a local http.serve in its own process (this test's own loop is busy in io.popen)
local port = dofile((debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or ".") .. "/fixtures/free_port.lua")()
write("server.lua", string.format([[
http.serve(%d, { GET = {
  ["/health.json"] = function() return { json = { status = "ok", items = { { count = 3 }, { count = 7 } } } } end,
} }, { host = "127.0.0.1" })
]], port))
os.execute(string.format("%s %s/server.lua >%s/server.log 2>&1 &", bin, dir, dir))

-- a real Prometheus scraping itself (Debian's `prometheus`, installed by test.sh)
local prom_port = port + 1
local prometheus = io.popen("command -v prometheus"):read("l")
assert(prometheus or os.getenv("ASSAY_SKIP_PROMETHEUS"), "prometheus is not installed (test.sh installs it; ASSAY_SKIP_PROMETHEUS=1 skips)")
if prometheus then
  write("prometheus.yml", string.format([[
global:
  scrape_interval: 200ms
scrape_configs:
  - job_name: self
    static_configs:
      - targets: ["127.0.0.1:%d"]
]], prom_port))
  os.execute(string.format("%s --config.file=%s/prometheus.yml --web.listen-address=127.0.0.1:%d --storage.tsdb.path=%s/tsdb >%s/prom.log 2>&1 &",
    prometheus, dir, prom_port, dir, dir))
end

-- One pkill per os.execute: the `sh -c` running them has both patterns in its own command line,
-- so a first pkill would kill that shell before the second ran (Prometheus was left running).
local function stop_servers()
  os.execute(string.format("pkill -f '%s/server.lua'", dir))
  os.execute(string.format("pkill -f '[w]eb.listen-address=127.0.0.1:%d'", prom_port))
end

local function wait_for(url)
  for _ = 1, 150 do
    local ok, resp = pcall(http.get, url, { timeout = 1 })
    if ok and resp.status == 200 then return resp end
    sleep(0.1)
  end
  error("not ready: " .. url)
end
wait_for("http://127.0.0.1:" .. port .. "/health.json")
if prometheus then
  for _ = 1, 150 do
    local r = wait_for("http://127.0.0.1:" .. prom_port .. "/api/v1/query?query=up")
    if #(r:json().data.result) > 0 then break end
    sleep(0.1)
  end
end
local base = "http://127.0.0.1:" .. port

write("scripts/ok.lua", "assert.eq(env.get('GREETING'), 'hi')")
write("scripts/busy.lua", "while true do end")
local cfg = write("checks.yaml", string.format([[
timeout: 60s
retries: 1
backoff: 100ms
checks:
  - name: health json
    type: http
    url: %s/health.json
    expect:
      status: 200
      body: '"ok"'
      json: .items[1].count >= 5
  - name: empty expect requires 2xx
    type: http
    url: %s/missing
    expect: {}
  - name: script from the yaml folder
    type: script
    file: scripts/ok.lua
    env:
      GREETING: hi
  - name: busy script times out
    type: script
    file: scripts/busy.lua
    timeout: 300ms
  - name: tcp open
    type: tcp
    host: 127.0.0.1
    port: %d
  - name: dns localhost
    type: dns
    host: localhost
]], base, base, port))
if prometheus then
  local f = io.open(cfg, "a")
  f:write(string.format([[
  - name: prometheus up
    type: prometheus
    url: http://127.0.0.1:%d
    query: up
    expect: { min: 1 }
  - name: prometheus above max
    type: prometheus
    url: http://127.0.0.1:%d
    query: up
    expect: { max: 0.5 }
]], prom_port, prom_port))
  f:close()
end

local out, code = run("check " .. cfg .. " --output json --junit " .. dir .. "/junit.xml")
stop_servers()
assert.eq(code, 1, out)
local report = json.parse(out)
assert.eq(report.passed, false)
local by = {}
for _, c in ipairs(report.checks) do by[c.name] = c end
assert.is_true(by["health json"].passed, by["health json"].message)
assert.is_false(by["empty expect requires 2xx"].passed)
assert.contains(by["empty expect requires 2xx"].message, "expected 2xx, got 404")
assert.eq(by["empty expect requires 2xx"].attempts, 2) -- retried once
assert.is_true(by["script from the yaml folder"].passed, by["script from the yaml folder"].message)
assert.is_false(by["busy script times out"].passed)
assert.contains(by["busy script times out"].message, "timed out")
assert.is_true(by["tcp open"].passed, by["tcp open"].message)
assert.is_true(by["dns localhost"].passed, by["dns localhost"].message)
if prometheus then
  assert.is_true(by["prometheus up"].passed, by["prometheus up"].message)
  assert.is_false(by["prometheus above max"].passed)
  assert.contains(by["prometheus above max"].message, "expected max 0.5, got 1")
end

-- JUnit is well-formed XML with one failure per failed check
local xml = io.open(dir .. "/junit.xml"):read("a")
assert.contains(xml, prometheus and '<testsuite name="checks" tests="8" failures="3"' or '<testsuite name="checks" tests="6" failures="2"')
local valid = os.execute(string.format("python3 -c 'import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])' %s/junit.xml", dir))
assert.is_true(valid == true, "JUnit XML must parse")

-- all passing → exit 0, table output, and the bare `assay FILE.yaml` form
local good = write("good.yaml", "checks:\n  - name: dns\n    type: dns\n    host: localhost\n")
out, code = run(good)
assert.eq(code, 0, out)
out, code = run("check " .. good .. " --output table")
assert.contains(out, "1 passed, 0 failed")

-- config errors are clear, exit 1
local bad = write("bad.yaml", "checks:\n  - name: x\n    type: carrier-pigeon\n")
out, code = run("check " .. bad)
assert.eq(code, 1)
local err = io.open(dir .. "/stderr"):read("a")
assert.contains(err, "unknown check type 'carrier-pigeon'")

-- the global timeout fails what did not finish
local slow = write("slow.yaml", "timeout: 500ms\nchecks:\n  - name: forever\n    type: script\n    file: scripts/busy.lua\n")
local t0 = time()
out, code = run("check " .. slow .. " -o json")
assert.eq(code, 1)
assert.lt(time() - t0, 5)
assert.contains(json.parse(out).checks[1].message, "global timeout")

-- a check's file: is found beside the YAML file first, then from the working directory (as the
-- original resolved it); a missing one names every path tried
os.execute("mkdir -p " .. dir .. "/suite " .. dir .. "/work/scripts")
write("work/scripts/from_cwd.lua", "assert.eq(1, 1)")
local nested = write("suite/cwd.yaml", "retries: 0\nchecks:\n  - name: from cwd\n    type: script\n    file: scripts/from_cwd.lua\n  - name: nowhere\n    type: script\n    file: scripts/nowhere.lua\n")
local p = io.popen(string.format("cd %s/work && %s check %s -o json 2>/dev/null", dir, bin, nested))
local report = json.parse(p:read("a"))
p:close()
assert.eq(report.checks[1].passed, true, report.checks[1].message)
assert.eq(report.checks[2].passed, false)
assert.contains(report.checks[2].message, "script not found: '" .. dir .. "/suite/scripts/nowhere.lua', '" .. dir .. "/work/scripts/nowhere.lua'")

os.execute("rm -rf " .. dir)
print("checks ok")
