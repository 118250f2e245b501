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

-- a tiny HTTP server: python's, so this test does not depend on the runtime's own http module
math.randomseed(os.time() + #dir)
local port = math.random(20000, 45000)
os.execute("mkdir -p " .. dir .. "/www")
write("www/health.json", '{"status": "ok", "items": [{"count": 3}, {"count": 7}]}')
os.execute(string.format("cd %s/www && python3 -m http.server %d --bind 127.0.0.1 >/dev/null 2>&1 &", dir, port))
for _ = 1, 50 do
  local ok = os.execute(string.format("python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", %d), 0.2)' 2>/dev/null", port))
  if ok then break end
  sleep(0.1)
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

local out, code = run("check " .. cfg .. " --output json --junit " .. dir .. "/junit.xml")
os.execute(string.format("pkill -f 'http.server %d'", port))
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

-- JUnit is well-formed XML with one failure per failed check
local xml = io.open(dir .. "/junit.xml"):read("a")
assert.contains(xml, '<testsuite name="checks" tests="6" failures="2"')
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

os.execute("rm -rf " .. dir)
print("checks ok")
