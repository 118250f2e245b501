-- assay.openclaw: the reference's test plan against a recording mock (exact request bodies), the
-- gateway's documented shapes against a mock OpenClaw gateway, state files (no path traversal,
-- private files, default directory), env discovery, and the approval gate — in tool mode through
-- the real binary (run → needs_approval envelope → resume yes/no), on a terminal, and otherwise.
local openclaw = require("assay.openclaw")
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local mock_api = dofile(here .. "/fixtures/mock_api.lua")
local raises = mock_api.raises
local mock = mock_api.start()
local gw = dofile(here .. "/fixtures/openclaw_gateway.lua").start({ token = "gw-token" })
local bin = assert(os.getenv("ASSAY_BIN"), "run through `assay test` (sets ASSAY_BIN)")
local dir = fs.tempdir("openclaw-test-")

-- variables that would change what the gate does: not from the environment of this test
local saved_env = {}
for _, name in ipairs({ "OPENCLAW_URL", "CLAWD_URL", "OPENCLAW_TOKEN", "CLAWD_TOKEN", "ASSAY_STATE_DIR", "OPENCLAW_STATE_DIR",
                        "ASSAY_APPROVAL_RESULT", "ASSAY_APPROVALS", "ASSAY_MODE", "OPENCLAW_INTERACTIVE", "TTY" }) do
  saved_env[name] = env.get(name)
  env.set(name, "")
end

-- 1. the module
assert.eq(type(openclaw.client), "function")

-- 2. invoke: bearer token, the response passed through
mock:on("POST", "/tools/invoke", { json = { result = "ok", output = "tool executed" } })
local c = openclaw.client(mock.url .. "/", { token = "test-token" })
local r = c.tools:invoke("mytool", "run", { key = "value" })
assert.eq(r.result, "ok")
assert.eq(r.output, "tool executed")
assert.eq(mock:last().headers["authorization"], "Bearer test-token")
assert.eq(mock:last().headers["content-type"], "application/json")
assert.eq(mock:last():json(), { tool = "mytool", action = "run", args = { key = "value" } })

-- 3. send
mock:on("POST", "/tools/invoke", { json = { sent = true } })
assert.eq(c.messaging:send("slack", "#alerts", "hello world").sent, true)
assert.eq(mock:last():json(), { tool = "message", action = "send", args = { channel = "slack", target = "#alerts", message = "hello world" } })

-- 4. notify (no channel)
mock:on("POST", "/tools/invoke", { json = { queued = true } })
assert.eq(c.messaging:notify("ops", "deploy finished").queued, true)
assert.eq(mock:last():json(), { tool = "message", action = "send", args = { target = "ops", message = "deploy finished" } })

-- 5. state get/set
local sd = dir .. "/state"
local s = openclaw.client("http://localhost:1", { token = "t", state_dir = sd })
assert.eq(s.state:get("nonexistent"), nil)
assert.eq(s.state:set("mykey", { count = 42, name = "test" }), true)
assert.eq(s.state:get("mykey"), { count = 42, name = "test" })
s.state:set("mykey", { count = 99 })
assert.eq(s.state:get("mykey").count, 99)
-- private: the directory it created is 0700, the files 0600; no temporary files left behind
assert.eq(fs.stat(sd).permissions, "700")
assert.eq(fs.stat(sd .. "/mykey.json").permissions, "600")
assert.eq(#fs.list(sd), 1)
fs.write(sd .. "/empty.json", "")
assert.eq(s.state:get("empty"), nil)
fs.write(sd .. "/broken.json", "{nope")
raises(function() s.state:get("broken") end, "openclaw.state:get: " .. sd .. "/broken.json is not valid JSON")

-- keys are file names, never paths: no traversal out of the state directory
for _, key in ipairs({ "../escape", "a/b", "/etc/passwd", "..", ".hidden", "a\0b", string.rep("k", 201) }) do
  raises(function() s.state:set(key, 1) end, "openclaw.state:set: invalid key")
  raises(function() s.state:get(key) end, "openclaw.state:get: invalid key")
end
assert.eq(fs.exists(dir .. "/escape.json"), false)
raises(function() s.state:get("") end, "openclaw.state:get: key must be a non-empty string, got an empty string")
raises(function() s.state:set(nil, 1) end, "openclaw.state:set: key must be a non-empty string, got nil")
s.state:set("v1.2_release-notes", "ok") -- dots, underscores and dashes are fine
assert.eq(s.state:get("v1.2_release-notes"), "ok")

-- 6. diff
local d = s.state:diff("counter", { value = 1 })
assert.eq(d.changed, true)
assert.eq(d.before, nil)
assert.eq(d.after.value, 1)
d = s.state:diff("counter", { value = 1 })
assert.eq(d.changed, false)
assert.eq(d.before.value, 1)
d = s.state:diff("counter", { value = 2 })
assert.eq(d.changed, true)
assert.eq(d.before.value, 1)
assert.eq(d.after.value, 2)
-- key order does not matter
s.state:set("obj", { a = 1, b = { c = 2, d = 3 } })
assert.eq(s.state:diff("obj", { b = { d = 3, c = 2 }, a = 1 }).changed, false)

-- 7. llm task: the response passed through; the llm-task tool's argument names on the wire
mock:on("POST", "/tools/invoke", { json = { response = "The answer is 42", model = "claude-sonnet" } })
local answer = c.llm:task("What is the meaning of life?", { model = "claude-sonnet", temperature = 0.5 })
assert.eq(answer.response, "The answer is 42")
assert.eq(answer.model, "claude-sonnet")
assert.eq(mock:last():json(), { tool = "llm-task", action = "json",
  args = { prompt = "What is the meaning of life?", model = "claude-sonnet", temperature = 0.5 } })
-- the original's option names become input / schema / maxTokens
c.llm:task("Summarize", { artifacts = { { id = 1 } }, output_schema = { type = "object" }, max_output_tokens = 200 })
assert.eq(mock:last():json().args, { prompt = "Summarize", input = { { id = 1 } }, schema = { type = "object" }, maxTokens = 200 })

-- 8. cron add: 201 is success
mock:on("POST", "/tools/invoke", { status = 201, json = { id = "cron-1", created = true } })
local added = c.cron:add({ schedule = "0 * * * *", task = "health-check" })
assert.eq(added.id, "cron-1")
assert.eq(added.created, true)
assert.eq(mock:last():json(), { tool = "cron", action = "add", args = { job = { schedule = "0 * * * *", task = "health-check" } } })

-- 9. cron list: args is an empty object, not []
mock:on("POST", "/tools/invoke", { json = { jobs = { { id = "job-1", schedule = "0 * * * *", task = "health-check" }, { id = "job-2", task = "daily-report" } } } })
local jobs = c.cron:list()
assert.eq(#jobs.jobs, 2)
assert.eq(jobs.jobs[2].task, "daily-report")
assert.contains(mock:last().body, '"args":{}')

-- 10. spawn
mock:on("POST", "/tools/invoke", { json = { session_id = "ses-123", status = "started" } })
local spawned = c.sessions:spawn("draft summary", { model = "claude-sonnet", timeout = 30 })
assert.eq(spawned.session_id, "ses-123")
assert.eq(mock:last():json(), { tool = "sessions_spawn", action = "invoke", args = { task = "draft summary", model = "claude-sonnet", timeout = 30 } })

-- errors: the status and body
mock:on("POST", "/tools/invoke", { status = 500, json = { error = "boom" } })
raises(function() c.cron:list() end, 'openclaw: POST /tools/invoke HTTP 500: {"error":"boom"}')

-- against the gateway's documented shapes
local g = openclaw.client(gw.url, { token = "gw-token", session_key = "main" })
local sent = g.messaging:send("slack", "#alerts", "hi")
assert.eq(sent.ok, true)
assert.eq(sent.result.details.target, "#alerts")
assert.eq(gw.last_body().sessionKey, "main")
assert.eq(g.cron:list().result.details.jobs, {}) -- the gateway refuses "args":[]
g.cron:add({ schedule = "*/5 * * * *", task = "poll" })
assert.eq(g.cron:list().result.details.jobs[1].task, "poll")
assert.eq(g.sessions:spawn("triage inbox").result.details.status, "accepted")
gw.llm = function(args) return { summary = "short: " .. args.input.text, words = 2 } end
local task = g.llm:task("Summarize", { input = { text = "long text" }, schema = { type = "object", required = { "summary" } } })
assert.eq(openclaw.output(task), { summary = "short: long text", words = 2 })
assert.eq(task.result.details.model, "mock-model")
assert.eq(openclaw.output({ ok = true, result = { content = { { type = "text", text = '{"x":1}' } } } }), { x = 1 })
raises(function() g.llm:task("Summarize", { input = { text = "x" }, schema = { required = { "missing" } } }) end,
  "openclaw: POST /tools/invoke HTTP 400: ")
raises(function() g.tools:invoke("no_such_tool", "run") end, 'openclaw: POST /tools/invoke HTTP 404: {"error":{"message":"Tool not available: no_such_tool"')
raises(function() openclaw.client(gw.url, { token = "wrong" }).cron:list() end, "openclaw: POST /tools/invoke HTTP 401")
raises(function() openclaw.client(gw.url).cron:list() end, "openclaw: POST /tools/invoke HTTP 401") -- no token, no header

-- env discovery: URL and token, in the documented order
env.set("CLAWD_URL", gw.url)
env.set("CLAWD_TOKEN", "gw-token")
local e = openclaw.client()
assert.eq(e.url, gw.url)
assert.eq(e.cron:list().ok, true)
env.set("OPENCLAW_URL", mock.url)
env.set("OPENCLAW_TOKEN", "env-token")
mock:on("POST", "/tools/invoke", { json = { ok = true } })
openclaw.client().cron:list()
assert.eq(mock:last().headers["authorization"], "Bearer env-token")
for _, name in ipairs({ "OPENCLAW_URL", "CLAWD_URL", "OPENCLAW_TOKEN", "CLAWD_TOKEN" }) do env.set(name, "") end
raises(function() openclaw.client() end, "openclaw: url required (set $OPENCLAW_URL or $CLAWD_URL)")

-- the state directory: opts.state_dir, $ASSAY_STATE_DIR, $OPENCLAW_STATE_DIR, then ~/.assay/state
local real_home = env.get("HOME")
env.set("HOME", dir .. "/home")
assert.eq(openclaw.client(gw.url).state_dir, dir .. "/home/.assay/state")
openclaw.client(gw.url).state:set("k", 1)
assert.eq(fs.read(dir .. "/home/.assay/state/k.json"), "1")
env.set("OPENCLAW_STATE_DIR", dir .. "/oc")
assert.eq(openclaw.client(gw.url).state_dir, dir .. "/oc")
env.set("ASSAY_STATE_DIR", dir .. "/assay")
assert.eq(openclaw.client(gw.url).state_dir, dir .. "/assay")
assert.eq(openclaw.client(gw.url, { state_dir = dir .. "/opt" }).state_dir, dir .. "/opt")
env.set("ASSAY_STATE_DIR", "")
env.set("OPENCLAW_STATE_DIR", "")
env.set("HOME", "")
raises(function() openclaw.client(gw.url).state:get("k") end, "openclaw.state:get: no state directory: pass state_dir or set $ASSAY_STATE_DIR or $HOME")
env.set("HOME", real_home)

-- 11. the gate outside tool mode and without a terminal: an error carrying the request
raises(function() c.gates:approve("Deploy now?", { env = "prod" }) end, 'openclaw: approval_required: {"context":{"env":"prod"},"prompt":"Deploy now?","type":"approval_request"}')
-- the original's protocol: ASSAY_APPROVAL_RESULT answers every gate
env.set("ASSAY_APPROVAL_RESULT", "yes")
assert.eq(c.gates:approve("Deploy now?"), true)
assert.eq(c:approve("Again?"), true)
env.set("ASSAY_APPROVAL_RESULT", "no")
assert.eq(c.gates:approve("Deploy now?"), false)
env.set("ASSAY_APPROVAL_RESULT", "")

-- the gate in real runs of the binary (process.run waits without blocking the mock gateway)
local function script(name, text)
  local path = dir .. "/" .. name
  fs.write(path, text)
  return path
end
local gate_script = script("release.lua", [[
  local oc = require("assay.openclaw").client(os.getenv("GW_URL"), { token = "gw-token" })
  local d = oc.state:diff("release", { version = "1.2.3" })
  -- a pcall cannot swallow the gate: the run stops here until someone answers
  local ok, approved = pcall(oc.gates.approve, oc.gates, "Announce release 1.2.3?", { version = "1.2.3", changed = d.changed })
  if not ok then return { swallowed = tostring(approved) } end
  if not approved then return { announced = false } end
  oc.messaging:notify("ops", "released 1.2.3")
  return { announced = true }
]])
local state_env = { GW_URL = gw.url, ASSAY_STATE_DIR = dir .. "/tool-state" }
local function run(args, extra_env, stdin)
  local envs = {}
  for k, v in pairs(state_env) do envs[k] = v end
  for k, v in pairs(extra_env or {}) do envs[k] = v end
  local argv = { bin }
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  return process.run(argv, { env = envs, stdin = stdin, timeout = 30 })
end

local messages_before = #gw.messages
local res = run({ "run", "--mode", "tool", gate_script })
assert.eq(res.status, 0)
local env1 = json.parse(res.stdout)
assert.eq(env1.status, "needs_approval", res.stdout)
assert.eq(env1.requiresApproval.prompt, "Announce release 1.2.3?")
assert.eq(env1.requiresApproval.context, { version = "1.2.3", changed = true })
assert.eq(#gw.messages, messages_before) -- nothing was sent before the answer
assert.eq(fs.stat(dir .. "/tool-state/resume/" .. env1.requiresApproval.resumeToken .. ".json").permissions, "600")
-- yes: the script runs again and goes past the gate
res = run({ "resume", "--token", env1.requiresApproval.resumeToken, "--approve", "yes" })
local done = json.parse(res.stdout)
assert.eq(done.status, "ok", res.stdout)
assert.eq(done.output, { announced = true })
assert.eq(#gw.messages, messages_before + 1)
assert.eq(gw.messages[#gw.messages], { target = "ops", message = "released 1.2.3" })
-- no: declined, nothing sent (the state now says nothing changed)
res = run({ "run", "--mode", "tool", gate_script })
local env2 = json.parse(res.stdout)
assert.eq(env2.requiresApproval.context.changed, false)
res = run({ "resume", "--token", env2.requiresApproval.resumeToken, "--approve", "no" })
assert.eq(json.parse(res.stdout).output, { announced = false }, res.stdout)
assert.eq(#gw.messages, messages_before + 1)
-- openclaw gates and tool.approve share the order of answers
local mixed = script("mixed.lua", [[
  local oc = require("assay.openclaw").client("http://127.0.0.1:1")
  local a = tool.approve("first?")
  local b = oc.gates:approve("second?")
  return { a = a, b = b }
]])
res = run({ "run", "--mode", "tool", mixed })
local m1 = json.parse(res.stdout)
assert.eq(m1.requiresApproval.prompt, "first?")
res = run({ "resume", "--token", m1.requiresApproval.resumeToken, "--approve", "no" })
local m2 = json.parse(res.stdout)
assert.eq(m2.requiresApproval.prompt, "second?", res.stdout)
res = run({ "resume", "--token", m2.requiresApproval.resumeToken, "--approve", "yes" })
assert.eq(json.parse(res.stdout).output, { a = false, b = true })

-- on a terminal ($OPENCLAW_INTERACTIVE or $TTY) the gate asks and reads the answer
local ask = script("ask.lua", [[
  local oc = require("assay.openclaw").client("http://127.0.0.1:1")
  print(tostring(oc.gates:approve("Proceed?", { step = 2 })))
]])
res = run({ ask }, { OPENCLAW_INTERACTIVE = "1" }, "yes\n")
assert.eq(res.status, 0, res.stderr)
assert.eq(res.stdout, "true\n")
assert.contains(res.stderr, "Approval required: Proceed?")
assert.contains(res.stderr, 'Context: {"step":2}')
assert.contains(res.stderr, "Approve? [y/N]")
res = run({ ask }, { TTY = "/dev/pts/0" }, "  Y \n")
assert.eq(res.stdout, "true\n")
res = run({ ask }, { OPENCLAW_INTERACTIVE = "1" }, "nope\n")
assert.eq(res.stdout, "false\n")
res = run({ ask }, { OPENCLAW_INTERACTIVE = "1" }, "")
assert.eq(res.stdout, "false\n")
assert.contains(res.stderr, "no answer")
-- without a terminal and outside tool mode: the error
res = run({ ask })
assert.ne(res.status, 0)
assert.contains(res.stderr, "openclaw: approval_required:")

-- bad input names the function
raises(function() openclaw.client(42) end, "openclaw.client: url must be a string, got number")
raises(function() openclaw.client(gw.url, "t") end, "openclaw.client: opts must be a table, got string")
raises(function() c.tools:invoke(nil, "run") end, "openclaw.tools:invoke: tool must be a non-empty string, got nil")
raises(function() c.tools:invoke("t", 5) end, "openclaw.tools:invoke: action must be a string, got number")
raises(function() c.tools:invoke("t", "run", "x") end, "openclaw.tools:invoke: args must be a table, got string")
raises(function() c.messaging:send("slack", nil, "m") end, "openclaw.messaging:send: target must be a non-empty string, got nil")
raises(function() c.messaging:notify("ops", {}) end, "openclaw.messaging:notify: message must be a non-empty string, got table")
raises(function() c.cron:add("x") end, "openclaw.cron:add: job must be a table, got string")
raises(function() c.sessions:spawn(nil) end, "openclaw.sessions:spawn: task must be a non-empty string, got nil")
raises(function() c.llm:task(nil) end, "openclaw.llm:task: prompt must be a non-empty string, got nil")
raises(function() c.gates:approve(nil) end, "openclaw.gates:approve: prompt must be a non-empty string, got nil")
raises(function() s.state:set("k", function() end) end, "openclaw.state:set: value cannot be encoded as JSON")

for name, value in pairs(saved_env) do env.set(name, value or "") end
fs.remove(dir, { recursive = true })
print("openclaw ok")
http.stop()
