-- Worker life (issue 19), through the real binary and a real `assay serve`, on SQLite and (when
-- ASSAY_TEST_POSTGRES_URL is set) PostgreSQL: a stopping worker takes no work and exits at once;
-- the engine offers a worker only the types it advertises, and a type nobody serves waits visibly;
-- a worker never fails a workflow for a type it does not define (it hands the task back, visibly,
-- with backoff); workers with disjoint types on one queue survive a rolling restart.
local S = dofile((debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or ".") .. "/workflow_support.lua")

local run_id = string.format("%x%x", os.time(), math.random(0, 0xffffff))

local function new_env(backend)
  local env = S.new_env("embedded")
  os.execute(string.format("cp %s/workflow_fixtures/typed_worker.lua %s/typed_worker.lua", S.here, env.dir))
  env.backend = backend == "sqlite" and (env.dir .. "/wf.db") or backend
  -- a queue of its own: a shared PostgreSQL database may hold other runs' work
  env.queue = "life-" .. run_id .. "-" .. (backend == "sqlite" and "s" or "p")
  return env
end

local function start_engine(env)
  env.engine_pid = tonumber(S.sh(string.format(
    "ASSAY_WF_DISPATCH_TIMEOUT_SECS=2 sh -c 'exec %s serve --port %d --backend \"$0\"' '%s' >> %s/serve.log 2>&1 & echo $!",
    S.bin, env.port, env.backend, env.dir)))
  for _ = 1, 200 do
    local ok, r = pcall(http.get, env.url .. "/api/v1/health")
    if ok and r.status == 200 then return end
    sleep(0.05)
  end
  error("engine did not start: " .. tostring(S.read(env.dir .. "/serve.log")))
end

-- A worker defining only `types` ("A,B"); its log is <name>.log (appended across restarts).
local function start_worker(env, name, types, extra)
  local pid = tonumber(S.sh(string.format(
    "sh -c 'cd %s && exec env ENGINE_URL=%s WF_DIR=%s WF_QUEUE=%s WF_TYPES=%s WF_NAME=%s %s %s typed_worker.lua' >> %s/%s.log 2>&1 & echo $!",
    env.dir, env.url, env.dir, env.queue, types, name, extra or "", S.bin, env.dir, name)))
  env.pids[#env.pids + 1] = pid
  return pid
end

local function wait_listening(env, name, count)
  S.wait_for(function()
    local _, n = (S.read(env.dir .. "/" .. name .. ".log") or ""):gsub("listening on queue", "")
    return n >= (count or 1)
  end, 10, name .. " to listen")
end

local function count(text, what)
  local n, i = 0, 1
  while true do
    local s, e = text:find(what, i, true)
    if not s then return n end
    n, i = n + 1, e + 1
  end
end

local function start(wf, env, t, id, input)
  wf.start({ workflow_type = t, workflow_id = run_id .. "-" .. id, task_queue = env.queue, input = input or {} })
  return run_id .. "-" .. id
end

-- A worker defining `t` arrives: the workflow `id` waiting for it (of type flows[2]) completes within
-- 5 s; then ten workflows alternating between both flows on the one queue all complete.
local function arrives_then_mix(env, wf, id, name, t, flows, prefix)
  local t0 = time()
  start_worker(env, name, t, "WF_POLL_WAIT=5")
  S.wait_status(wf, id, "COMPLETED", 8)
  assert.is_true(time() - t0 < 5, flows[2] .. " took " .. (time() - t0) .. " s once a worker had it")
  local ids = {}
  for i = 1, 10 do ids[#ids + 1] = start(wf, env, flows[i % 2 + 1], prefix .. i, { steps = 2 }) end
  for _, x in ipairs(ids) do
    local done = S.wait_status(wf, x, "COMPLETED FAILED", 15)
    assert.eq(done.status, "COMPLETED", tostring(done.error))
  end
end

-- 0. Cancelling an async task aborts the HTTP request it waits on, and so does interrupting it (the
--    task carries on, its call raising "operation cancelled"): the engine sees the poll's client go
--    away and claims nothing for it (before, the orphaned poll took the next task).
local function cancel_aborts_request(env, wf)
  local function long_poll(worker)
    return http.request({ method = "POST", url = env.url .. "/api/v1/workflow-tasks/poll", timeout = 30,
      headers = { ["Content-Type"] = "application/json" },
      body = json.encode({ queue = env.queue, worker_id = worker, wait_secs = 20 }) })
  end
  local cancelled = async.spawn(long_poll, "w-cancelled")
  local interrupted = async.spawn(function()
    local ok, err = pcall(long_poll, "w-interrupted")
    return ok, tostring(err), time()
  end)
  sleep(0.3)
  assert.is_true(cancelled.cancel())
  local t0 = time()
  assert.is_true(interrupted.interrupt())
  local r = interrupted.await()
  assert.eq(r[1], false)
  assert.contains(r[2], "cancelled")
  assert.is_true(r[3] - t0 < 1, "the interrupted request took " .. (r[3] - t0) .. " s to end")
  assert.eq(interrupted.interrupt(), false) -- finished: nothing to abort
  sleep(0.3)
  local id = start(wf, env, "FlowNobody", "after-cancelled-poll")
  sleep(1.5)
  assert.eq(wf.describe(id).status, "PENDING")
  wf.terminate(id, "test done")
end

-- 1. SIGTERM: an idle worker (30 s long-poll) exits within about a second, and a workflow started
--    meanwhile (of a type it lacks) is not touched: it runs on the worker that has the type.
local function shutdown(env, wf)
  local pid = start_worker(env, "greet", "Greet", "WF_POLL_WAIT=30")
  wait_listening(env, "greet")
  sleep(0.3) -- the polls are waiting
  local t0 = time()
  S.kill(pid, "TERM")
  local other = start(wf, env, "FlowOther", "other-after-term")
  S.wait_for(function() return not S.alive(pid) end, 3, "the idle worker to exit after SIGTERM")
  local took = time() - t0
  assert.is_true(took < 1.5, "the idle worker took " .. took .. " s to exit")
  local log = S.read(env.dir .. "/greet.log")
  assert.contains(log, "stopping: finishing running tasks")
  assert.contains(log, "worker stopped")
  local d = wf.describe(other)
  assert.ne(d.status, "FAILED", tostring(d.error))
  -- a worker that has the type runs it without waiting for a lease to lapse
  start_worker(env, "other", "Other")
  S.wait_status(wf, other, "COMPLETED", 5)
end

-- 2. Type-aware dispatch: the worker advertises its types (registration and polls), so the engine
--    never offers it another type: a workflow whose type no worker has stays PENDING, untouched, and
--    describe and /metrics say no worker serves it, until a worker with the type arrives and runs it.
--    Two workers with different types on one queue: nothing is failed ("no workflow handler
--    registered"), handed back, or even offered to the wrong one.
local function typed_dispatch(env, wf)
  local a_pid = start_worker(env, "typed-a", "TA", "WF_POLL_WAIT=5")
  wait_listening(env, "typed-a")
  local workers = json.parse(http.get(env.url .. "/api/v1/workers").body)
  local me
  for _, w in ipairs(workers) do if w.identity == "typed-a" then me = w end end
  assert.not_nil(me, "typed-a is not registered")
  assert.eq(json.parse(me.workflows)[1], "FlowTA")
  assert.eq(json.parse(me.activities)[1], "stepTA")

  local b1 = start(wf, env, "FlowTB", "typed-b-waits", { steps = 2 })
  local a1 = start(wf, env, "FlowTA", "typed-a-runs", { steps = 2 })
  S.wait_status(wf, a1, "COMPLETED", 5)
  sleep(0.5)
  local d = wf.describe(b1)
  assert.eq(d.status, "PENDING")
  assert.eq(d.no_worker_for_type, true)
  assert.eq(d.unserved[1].kind, "workflow")
  assert.eq(d.unserved[1].name, "FlowTB")
  assert.eq(d.unserved[1].task_queue, env.queue)
  assert.eq(d.unhandled, nil) -- never claimed, so never handed back
  assert.eq(#wf.get_events(b1), 1) -- WorkflowStarted only
  local metrics = http.get(env.url .. "/metrics").body
  assert.contains(metrics, 'assay_pending_tasks_without_worker{namespace="main",queue="' .. env.queue ..
    '",kind="workflow",type="FlowTB"} 1')

  arrives_then_mix(env, wf, b1, "typed-b", "TB", { "FlowTA", "FlowTB" }, "typed-mix-")
  assert.eq(wf.describe(b1).no_worker_for_type, false)
  for _, name in ipairs({ "typed-a", "typed-b" }) do
    local l = S.read(env.dir .. "/" .. name .. ".log")
    assert.eq(l:find("no workflow handler", 1, true), nil, l)
    assert.eq(l:find("does not define", 1, true), nil, l) -- no task of another type ever reached it
  end
  S.kill(a_pid, "TERM")
end

-- More types than one poll may list (100): such a worker takes any type and hands back what it lacks.
local function many_types(letter)
  local t = { letter }
  for i = 1, 100 do t[#t + 1] = "X" .. i end
  return table.concat(t, ",")
end

-- 2b. Unknown types reaching a worker anyway (one past the poll's type limit, or an engine without
--    type-aware dispatch): it never fails a workflow (or an activity) it cannot run; the condition
--    shows on describe and once per type in its log; it does not spin on a queue nobody serves.
local function unknown_types(env, wf)
  local a_pid = start_worker(env, "only-a", many_types("A"), "WF_POLL_WAIT=5 WF_UNHANDLED_BACKOFF=4")
  wait_listening(env, "only-a")
  local b1 = start(wf, env, "FlowB", "b-waits", { steps = 1 })
  S.wait_for(function() return wf.describe(b1).unhandled ~= nil end, 5, "the unhandled note on " .. b1)
  local d = wf.describe(b1)
  assert.ne(d.status, "FAILED", tostring(d.error))
  assert.eq(d.unhandled.kind, "workflow")
  assert.eq(d.unhandled.name, "FlowB")
  assert.eq(d.unhandled.task_queue, env.queue)
  -- no spinning: over 3 s the lone worker looks at it a handful of times (0.5, 1, 2 s backoff)
  local events_before = #wf.get_events(b1)
  sleep(3)
  local log = S.read(env.dir .. "/only-a.log")
  assert.eq(count(log, "does not define workflow type 'FlowB'"), 1, log)
  assert.eq(#wf.get_events(b1), events_before) -- handed back untouched: nothing recorded
  -- A workflow of its own type whose activity it has, while FlowB waits: unaffected.
  local a1 = start(wf, env, "FlowA", "a-runs", { steps = 2 })
  S.wait_status(wf, a1, "COMPLETED", 5)
  -- A worker with the type arrives: it gets FlowB at once (the backoff only holds back only-a); then
  -- with both running a mix of types on the one queue simply works, activities included.
  arrives_then_mix(env, wf, b1, "only-b", "B", { "FlowA", "FlowB" }, "mix-")
  assert.eq(wf.describe(b1).unhandled, nil)
  for _, name in ipairs({ "only-a", "only-b" }) do
    local l = S.read(env.dir .. "/" .. name .. ".log")
    assert.eq(l:find("no workflow handler", 1, true), nil, l)
    assert.eq(l:find("no activity handler", 1, true), nil, l)
    assert.is_true(count(l, "does not define activity type") <= 1, l)
  end
  S.kill(a_pid, "TERM")
end

-- 3. Rolling restart: three workers with disjoint types on one queue, 200 workflows of all types
--    (started in waves between the restarts, so work is in flight at each one); every worker is
--    SIGTERMed and restarted twice during the run. Every workflow completes, and no activity step
--    runs twice (no worker is killed with -9 here).
local function rolling_restart(env, wf)
  local types = { "R1", "R2", "R3" }
  local names = { "roll-1", "roll-2", "roll-3" }
  local opts = "WF_POLL_WAIT=10 WF_MAX_ACT=3"
  local pids = {}
  for i, t in ipairs(types) do pids[i] = start_worker(env, names[i], t, opts) end
  for _, n in ipairs(names) do wait_listening(env, n) end
  local ids = {}
  local function wave(n)
    for _ = 1, n do
      local i = #ids + 1
      ids[i] = start(wf, env, "Flow" .. types[(i % 3) + 1], "roll-" .. i, { steps = 3, sleep = 0.1 })
    end
  end
  wave(50)
  for round = 1, 2 do
    for i, n in ipairs(names) do
      sleep(0.5)
      S.kill(pids[i], "TERM")
      S.wait_for(function() return not S.alive(pids[i]) end, 10, n .. " to exit after SIGTERM")
      pids[i] = start_worker(env, n, types[i], opts)
      wait_listening(env, n, round + 1)
      wave(25)
    end
  end
  local failed = {}
  for _, id in ipairs(ids) do
    local d = S.wait_status(wf, id, "COMPLETED FAILED CANCELLED", 60)
    if d.status ~= "COMPLETED" then failed[#failed + 1] = id .. ": " .. d.status .. " " .. tostring(d.error) end
  end
  assert.eq(#failed, 0, table.concat(failed, "\n"))
  local seen, dup = {}, {}
  for line in (S.read(env.dir .. "/runs.log") or ""):gmatch("[^\n]+") do
    if line:find("roll-", 1, true) then
      if seen[line] then dup[#dup + 1] = line end
      seen[line] = true
    end
  end
  assert.eq(#dup, 0, "steps that ran twice: " .. table.concat(dup, ", "))
  assert.eq(#ids, 200)
  for _, id in ipairs(ids) do
    assert.is_true(seen[id .. " 1"] and seen[id .. " 2"] and seen[id .. " 3"], "steps of " .. id .. " missing from runs.log")
  end
  local busy_stops = 0
  for _, n in ipairs(names) do
    local l = S.read(env.dir .. "/" .. n .. ".log")
    assert.eq(count(l, "worker stopped"), 2, l)
    for a in l:gmatch("taking no new ones activities=(%d+)") do
      if tonumber(a) > 0 then busy_stops = busy_stops + 1 end
    end
  end
  -- the restarts did hit running work (else this would not test a rolling restart)
  assert.is_true(busy_stops >= 3, "only " .. busy_stops .. " of 6 stops found activities running")
end

local function suite(backend, label)
  local env = new_env(backend)
  local ok, err = pcall(function()
    start_engine(env)
    local wf = S.client(env)
    cancel_aborts_request(env, wf)
    shutdown(env, wf)
    typed_dispatch(env, wf)
    unknown_types(env, wf)
    rolling_restart(env, wf)
  end)
  S.stop_all(env)
  if not ok then error(label .. ": " .. tostring(err), 0) end
  print("workflow worker life ok (" .. label .. ")")
end

suite("sqlite", "SQLite")
local pg = os.getenv("ASSAY_TEST_POSTGRES_URL")
if pg and pg ~= "" then suite(pg, "PostgreSQL") else print("PostgreSQL part skipped: ASSAY_TEST_POSTGRES_URL not set") end
