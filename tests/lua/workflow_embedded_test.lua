-- The embedded require("assay.workflow") as a worker: every end-to-end scenario (tests/lua/workflow_support.lua), the ★ fixes
-- (search attributes, nils), deterministic ctx helpers, signal timeouts, non-determinism
-- detection and activity heartbeats/cancellation.
local S = dofile((debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or ".") .. "/workflow_support.lua")
local env = S.new_env("embedded")
local ok, err = pcall(function()
  S.start_engine(env)
  local wf = S.client(env)
  local pid = S.start_worker(env, "w1", nil, "-v") -- -v: the log shows eagerly taken activities
  local d = env.dir

  -- started first so they run while the common scenarios are checked
  wf.start({ workflow_type = "Upsert", workflow_id = "upsert", input = { tenant = "t-41" } })
  wf.start({ workflow_type = "Nils", workflow_id = "nils" })
  wf.start({ workflow_type = "Deterministic", workflow_id = "det" })
  wf.start({ workflow_type = "TimeoutWait", workflow_id = "twait" })
  wf.start({ workflow_type = "Drift", workflow_id = "drift", input = { flag_file = d .. "/drift-flag" } })
  wf.start({ workflow_type = "LongActivity", workflow_id = "long",
             input = { started_file = d .. "/long-started", stopped_file = d .. "/long-stopped" } })

  wf.start({ workflow_type = "SlowReplay", workflow_id = "slow-replay", input = { secs = 3 } })

  S.common_scenarios(env, wf)
  S.management(env)

  -- 41: upsert mid-workflow; the list filter finds it
  S.wait_status(wf, "upsert", "COMPLETED", 5)
  local found = wf.list({ search_attrs = { tenant = "t-41", stage = "end" } })
  assert.eq(#found, 1)
  assert.eq(found[1].id, "upsert")

  -- 42: nil activity result, nil side effect, signal without payload
  S.wait_for(function() return S.has_event(wf, "nils", "WorkflowAwaitingSignal") end, 5, "nils waiting")
  wf.signal("nils", "unrelated", { x = 1 }) -- a replay while waiting does not announce the wait again
  sleep(0.5) -- the replay it causes takes milliseconds
  wf.signal("nils", "go")
  local r = json.parse(S.wait_status(wf, "nils", "COMPLETED", 5).result)
  assert.eq(r, { act_nil = true, se_nil = true, sig_nil = true, after = 2 })
  local waits = 0
  for _, e in ipairs(S.events(wf, "nils")) do if e == "WorkflowAwaitingSignal" then waits = waits + 1 end end
  assert.eq(waits, 1)

  -- deterministic now/random/uuid
  r = json.parse(S.wait_status(wf, "det", "COMPLETED", 5).result)
  assert.eq(r.first, r.echoed)
  assert.matches(r.first.u, "^%x+%-%x+%-4%x+%-[89ab]%x+%-%x+$")
  assert.is_true(r.later_now >= r.first.now)

  -- wait_for_signal timeout
  S.wait_for(function()
    local n = 0
    for _, e in ipairs(S.events(wf, "twait")) do if e == "TimerFired" then n = n + 1 end end
    return n >= 1
  end, 5, "the first signal timeout")
  wf.signal("twait", "soon", { x = 1 })
  r = json.parse(S.wait_status(wf, "twait", "COMPLETED", 5).result)
  assert.eq(r, { timed_out = true, v2 = { x = 1 } })

  -- non-determinism: the code changes its first step after the history recorded it
  S.wait_for(function() return S.has_event(wf, "drift", "WorkflowAwaitingSignal") end, 5, "drift waiting")
  local f = io.open(d .. "/drift-flag", "w"); f:write("1"); f:close()
  wf.signal("drift", "next")
  local dr = S.wait_status(wf, "drift", "FAILED", 5)
  assert.contains(dr.error, "non-determinism at step 1")
  assert.contains(dr.error, "ActivityScheduled activity 'step1'")
  assert.contains(dr.error, "timer (timer seq 1)")
  assert.matches(dr.error, "worker%.lua:%d+")

  -- activity heartbeats and cancellation
  S.wait_for(function() return S.exists(d .. "/long-started") end, 5, "the long activity")
  wf.cancel("long")
  S.wait_status(wf, "long", "CANCELLED", 5)
  S.wait_for(function() return S.exists(d .. "/long-stopped") end, 5, "the activity to notice the cancel")

  -- lease extension: a 3 s side effect under a 2 s lease completes, run once
  local sr = S.wait_status(wf, "slow-replay", "COMPLETED", 10)
  assert.eq(json.parse(sr.result), { v = "slow-value" })
  local n = 0
  for _, e in ipairs(S.events(wf, "slow-replay")) do if e == "SideEffectRecorded" then n = n + 1 end end
  assert.eq(n, 1)

  -- the worker asks for eager dispatch by default: activities come back with the command batches
  assert.contains(S.read(env.dir .. "/w1.log"), "activity taken eagerly")

  S.crash_recovery(env, wf, pid)
end)
S.stop_all(env)
if not ok then error(err, 0) end
print("workflow embedded ok")
