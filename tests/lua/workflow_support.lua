-- Shared by the workflow_*_test.lua files: a real engine, real worker processes, the scenarios of
-- the original engine (docs/workflows.md). Not a test itself (no _test suffix).
local S = {}
S.bin = assert(os.getenv("ASSAY_BIN"), "run through `assay test` (sets ASSAY_BIN)")
S.here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
S.seed_file = os.getenv("WF_SEED_FILE") or "/work/shared/seed/workflow.lua"

local function sh(cmd)
  local p = io.popen(cmd)
  local out = p:read("a")
  p:close()
  return out
end
S.sh = sh

function S.exists(path) local f = io.open(path, "r"); if f then f:close() return true end return false end
function S.read(path) local f = io.open(path, "r"); if not f then return nil end local s = f:read("a"); f:close(); return s end
-- A process that exited but is not reaped yet (its parent is init, which may reap late) is a
-- zombie: `kill -0` still succeeds on it, so look at its state.
function S.alive(pid)
  local stat = S.read("/proc/" .. pid .. "/stat")
  return stat ~= nil and stat:match("^%d+ %b() (%a)") ~= "Z"
end
function S.kill(pid, sig) os.execute(string.format("kill -%s %d 2>/dev/null", sig or "TERM", pid)) end

function S.new_env(mode)
  local dir = os.tmpname()
  os.remove(dir)
  os.execute("mkdir -p " .. dir .. "/modules")
  local env = { dir = dir, mode = mode, port = dofile(S.here .. "/fixtures/free_port.lua")(), pids = {} }
  env.url = "http://127.0.0.1:" .. env.port
  os.execute(string.format("cp %s/workflow_fixtures/worker.lua %s/worker.lua", S.here, dir))
  if mode == "seed" then
    os.execute(string.format("cp %s %s/modules/workflow.lua", S.seed_file, dir))
  elseif os.getenv("WF_MODULE_FILE") then
    -- iterate on the module without rebuilding: the workers load this file instead
    os.execute(string.format("cp %s %s/modules/workflow.lua", os.getenv("WF_MODULE_FILE"), dir))
  end
  return env
end

-- env.backend: a PostgreSQL URL; default a SQLite file in env.dir
function S.start_engine(env)
  local pid = sh(string.format(
    "ASSAY_WF_DISPATCH_TIMEOUT_SECS=2 sh -c 'exec %s serve --port %d --backend \"$0\"' '%s' >> %s/serve.log 2>&1 & echo $!",
    S.bin, env.port, env.backend or (env.dir .. "/wf.db"), env.dir))
  env.engine_pid = tonumber(pid)
  for _ = 1, 100 do
    local ok, r = pcall(http.get, env.url .. "/api/v1/health")
    if ok and r.status == 200 then return end
    sleep(0.05)
  end
  error("engine did not start: " .. tostring(S.read(env.dir .. "/serve.log")))
end

-- extra_env: more variables ("WF_EAGER=0"); flags: options of assay itself ("-v")
function S.start_worker(env, name, extra_env, flags)
  name = name or ("w" .. (#env.pids + 1))
  local pid = tonumber(sh(string.format(
    "sh -c 'cd %s && exec env ENGINE_URL=%s WF_MODE=%s %s %s %s worker.lua' > %s/%s.log 2>&1 & echo $!",
    env.dir, env.url, env.mode, extra_env or "", S.bin, flags or "", env.dir, name)))
  env.pids[#env.pids + 1] = pid
  return pid
end

-- Whether pid is still a process this env started. Pids are reused (pid_max is 32 768 here and the suites start
-- thousands of processes): a KILL sent at the end to a worker that had exited long before could hit anything on the
-- machine. Ours run this binary and are known by the engine's port or the workers' directory.
local function ours(env, pid)
  if not S.alive(pid) then return false end
  local cmdline = (S.read("/proc/" .. pid .. "/cmdline") or ""):gsub("%z", " ")
  if not cmdline:find(S.bin, 1, true) then return false end
  return cmdline:find("--port " .. env.port, 1, true) ~= nil
    or sh("readlink -f /proc/" .. pid .. "/cwd"):gsub("%s+$", "") == sh("readlink -f " .. env.dir):gsub("%s+$", "")
end
S.ours = ours

function S.stop_all(env)
  for _, pid in ipairs(env.pids) do if ours(env, pid) then S.kill(pid, "KILL") end end
  if env.engine_pid and ours(env, env.engine_pid) then S.kill(env.engine_pid, "TERM") end
  sleep(0.2)
  if not os.getenv("WF_KEEP") then os.execute("rm -rf " .. env.dir) end
end

-- The embedded client drives the tests (the workers use the module under test).
function S.client(env)
  local wf = require("assay.workflow")
  wf.connect(env.url)
  return wf
end

function S.wait_status(wf, id, statuses, timeout)
  local want = {}
  for s in statuses:gmatch("[A-Z_]+") do want[s] = true end
  local deadline = time() + (timeout or 10)
  local d
  repeat
    d = wf.describe(id)
    if want[d.status] then return d end
    sleep(0.05)
  until time() > deadline
  error(string.format("workflow %s is %s, expected %s (error: %s)", id, d.status, statuses, tostring(d.error)), 2)
end

function S.events(wf, id)
  local types = {}
  for _, e in ipairs(wf.get_events(id)) do types[#types + 1] = e.event_type end
  return types
end

function S.has_event(wf, id, t)
  for _, e in ipairs(S.events(wf, id)) do if e == t then return true end end
  return false
end

function S.wait_for(cond, timeout, what)
  local deadline = time() + (timeout or 10)
  while time() < deadline do
    if cond() then return end
    sleep(0.05)
  end
  error("timed out waiting for " .. (what or "condition"), 2)
end

-- The scenarios that hold for both clients. They run concurrently on one worker.
function S.common_scenarios(env, wf)
  local d = env.dir
  local function start(t, id, input) wf.start({ workflow_type = t, workflow_id = id, input = input or {} }) end
  start("TwoSteps", "two", { n = 5 })
  start("Approval", "approval")
  start("SideEffectReplays", "se-replays", { counter_file = d .. "/counter-se" })
  start("Parent", "wf-parent-1", { child_id = "child-of-alpha" })
  start("Cancellable", "cancellable")
  local t_timer = time()
  start("Timer", "timer", { x = 7 })
  start("Queries", "queries")
  start("Counter", "counter", { n = 0 })
  start("Parallel", "parallel")
  start("ParallelFail", "parallel-fail")
  start("ParentOfCancelled", "parent-of-cancelled", { child_id = "waiter-child" })
  wf.schedules.create({ name = "every-second", workflow_type = "CronTriggered", cron_expr = "* * * * * *",
                        input = { name = "world" }, task_queue = "default" })

  -- 28
  local r = json.parse(S.wait_status(wf, "two", "COMPLETED", 10).result)
  assert.eq(r.first.value, 10); assert.eq(r.second.value, 20); assert.eq(r.sum, 30)
  -- 29
  S.wait_for(function() return S.has_event(wf, "approval", "WorkflowAwaitingSignal") end, 5, "approval waiting")
  assert.eq(wf.describe("approval").status, "RUNNING")
  wf.signal("approval", "approve", { by = "alice" })
  r = json.parse(S.wait_status(wf, "approval", "COMPLETED", 5).result)
  assert.eq(r, { approved = true, by = "alice" })
  -- 32
  r = json.parse(S.wait_status(wf, "se-replays", "COMPLETED", 10).result)
  assert.eq(r.a, r.token); assert.eq(r.b, r.token)
  assert.eq(S.read(d .. "/counter-se"), "1")
  -- 33
  r = json.parse(S.wait_status(wf, "wf-parent-1", "COMPLETED", 10).result)
  assert.eq(r.from_child.product, 42)
  local child = S.wait_status(wf, "child-of-alpha", "COMPLETED", 2)
  assert.eq(child.parent_id, "wf-parent-1")
  -- 34
  sleep(0.5)
  wf.cancel("cancellable")
  S.wait_status(wf, "cancellable", "CANCELLED", 5)
  local ev = S.events(wf, "cancellable")
  for _, e in ipairs(ev) do assert.ne(e, "ActivityScheduled") end
  assert.contains(ev, "WorkflowCancelRequested"); assert.contains(ev, "WorkflowCancelled")
  -- 35
  local td = S.wait_status(wf, "timer", "COMPLETED", 5)
  local took = td.completed_at - td.created_at
  assert.is_true(took >= 0.9 and took <= 5, "timer workflow took " .. took)
  r = json.parse(td.result)
  assert.eq(r, { x = 21, slept = true })
  ev = S.events(wf, "timer")
  assert.contains(ev, "TimerScheduled"); assert.contains(ev, "TimerFired")
  -- 36
  S.wait_status(wf, "queries", "COMPLETED", 5)
  assert.eq(wf.get_state("queries").state, { stage = "done", progress = 1.0 })
  assert.eq(wf.get_state("queries", "stage").value, "done")
  assert.eq(wf.get_state("queries", "nonexistent"), nil)
  -- 37
  S.wait_status(wf, "counter", "COMPLETED", 5)
  local cont
  S.wait_for(function()
    for _, w in ipairs(wf.list({ type = "Counter" })) do
      if w.id ~= "counter" and w.status == "COMPLETED" then cont = w return true end
    end
  end, 5, "the continuation of Counter")
  assert.eq(json.parse(cont.result).final_n, 1)
  -- 38
  r = json.parse(S.wait_status(wf, "parallel", "COMPLETED", 10).result)
  assert.eq(r.sum, 12)
  ev = S.events(wf, "parallel")
  local scheduled, first_done = 0, nil
  for i, e in ipairs(ev) do
    if e == "ActivityScheduled" then scheduled = scheduled + 1; assert.is_true(first_done == nil) end
    if e == "ActivityCompleted" and not first_done then first_done = i end
  end
  assert.eq(scheduled, 3)
  -- 39
  local pf = S.wait_status(wf, "parallel-fail", "FAILED", 10)
  assert.is_true(pf.error:find("boom") ~= nil or pf.error:find("fail") ~= nil, pf.error)
  -- 30: a workflow fired by the schedule completes
  local fired
  S.wait_for(function()
    for _, w in ipairs(wf.list({ type = "CronTriggered", status = "COMPLETED" })) do fired = w return true end
  end, 25, "a CronTriggered workflow to complete")
  wf.schedules.delete("every-second")
  assert.eq(json.parse(fired.result).greeting, "hello, world")
  -- 43
  S.wait_for(function() return pcall(wf.describe, "waiter-child") end, 5, "the waiter child")
  S.wait_for(function() return S.has_event(wf, "waiter-child", "WorkflowAwaitingSignal") end, 5, "child waiting")
  wf.cancel("waiter-child")
  r = json.parse(S.wait_status(wf, "parent-of-cancelled", "COMPLETED", 5).result)
  assert.is_true(r.child_failed)
end

-- 31: crash recovery — SIGKILL after the side effect, a new worker finishes.
function S.crash_recovery(env, wf, worker_pid)
  local counter = env.dir .. "/counter-crash"
  wf.start({ workflow_type = "CrashRecovery", workflow_id = "crash", input = { counter_file = counter, sleep = 2 } })
  S.wait_for(function() return S.has_event(wf, "crash", "SideEffectRecorded") end, 5, "SideEffectRecorded")
  S.kill(worker_pid, "KILL")
  S.start_worker(env)
  local r = json.parse(S.wait_status(wf, "crash", "COMPLETED", 15).result)
  assert.eq(r.token, "tok-1"); assert.eq(r.activity.token, "tok-1")
  assert.eq(S.read(counter), "1")
end

-- 40: the management surface, run by a client script in the env's dir (seed or embedded module).
function S.management(env)
  local script = [[
local wf = require("assay.workflow")
wf.connect(os.getenv("ENGINE_URL"))
wf.start({ workflow_type = "Nobody", workflow_id = "m1", task_queue = "nobody" })
wf.start({ workflow_type = "Nobody", workflow_id = "m2", task_queue = "nobody" })
assert(#wf.list({ type = "Nobody" }) >= 2)
assert(wf.describe("m1").workflow_type == "Nobody")
local has = false
for _, e in ipairs(wf.get_events("m1")) do if e.event_type == "WorkflowStarted" then has = true end end
assert(has)
assert(wf.get_state("m1") == nil)
assert(#wf.list_children("m1") == 0)
wf.terminate("m2", "test")
assert(wf.describe("m2").status == "FAILED")
wf.schedules.create({ name = "s1", workflow_type = "Nobody", cron_expr = "0 * * * * *", timezone = "Europe/Berlin", overlap_policy = "skip" })
assert(wf.schedules.describe("s1").timezone == "Europe/Berlin")
local p = wf.schedules.patch("s1", { cron_expr = "0 */5 * * * *" })
assert(p.cron_expr == "0 */5 * * * *" and p.timezone == "Europe/Berlin")
wf.schedules.pause("s1"); wf.schedules.resume("s1")
local found = false
for _, s in ipairs(wf.schedules.list()) do if s.name == "s1" then found = true end end
assert(found)
wf.schedules.delete("s1")
assert(wf.schedules.describe("s1") == nil)
wf.namespaces.create("mgmt")
local nsf = false
for _, n in ipairs(wf.namespaces.list()) do if n.name == "mgmt" then nsf = true end end
assert(nsf)
assert(type(wf.namespaces.stats("main").total_workflows) == "number")
wf.namespaces.delete("mgmt")
assert(type(wf.workers.list()) == "table")
assert(type(wf.queues.stats()) == "table")
print("management ok")
]]
  local f = io.open(env.dir .. "/mgmt.lua", "w"); f:write(script); f:close()
  local out = sh(string.format("cd %s && ENGINE_URL=%s %s mgmt.lua 2>&1", env.dir, env.url, S.bin))
  assert.contains(out, "management ok")
end

return S
