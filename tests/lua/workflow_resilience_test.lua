-- Embedded worker resilience: SIGKILL mid-activity (a new worker finishes), an engine restart
-- (the running worker carries on, logging the outage once), SIGTERM (the running activity
-- finishes, the worker takes nothing new and exits 0).
local S = dofile((debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or ".") .. "/workflow_support.lua")
local env = S.new_env("embedded")
local ok, err = pcall(function()
  S.start_engine(env)
  local wf = S.client(env)
  local d = env.dir

  -- SIGKILL mid-activity: the attempt times out (start_to_close 2 s), another worker retries it
  local w1 = S.start_worker(env, "killed")
  wf.start({ workflow_type = "SlowOnce", workflow_id = "slow",
             input = { attempts_file = d .. "/slow-attempts", started_file = d .. "/slow-started" } })
  S.wait_for(function() return S.exists(d .. "/slow-started") end, 5, "the slow activity")
  S.kill(w1, "KILL")
  local w2 = S.start_worker(env, "replacement")
  local r = json.parse(S.wait_status(wf, "slow", "COMPLETED", 10).result)
  assert.eq(r.attempts, 2)

  -- engine restart: the worker survives and picks up new work
  S.kill(env.engine_pid, "TERM")
  S.wait_for(function() return not S.alive(env.engine_pid) end, 5, "the engine to stop")
  sleep(1)
  assert.is_true(S.alive(w2), "the worker died with the engine")
  S.start_engine(env)
  wf.start({ workflow_type = "TwoSteps", workflow_id = "after-restart", input = { n = 1 } })
  r = json.parse(S.wait_status(wf, "after-restart", "COMPLETED", 15).result)
  assert.eq(r.sum, 14)
  local log = S.read(d .. "/replacement.log")
  local _, outages = log:gsub("engine unreachable", "")
  assert.eq(outages, 1, log)
  assert.contains(log, "engine reachable again")

  -- SIGTERM: the running activity finishes (one attempt), no new tasks, exit 0
  local t_started = d .. "/graceful-started"
  wf.start({ workflow_type = "Graceful", workflow_id = "graceful", input = { started_file = t_started } })
  S.wait_for(function() return S.exists(t_started) end, 5, "the graceful activity")
  S.kill(w2, "TERM")
  S.wait_for(function() return not S.alive(w2) end, 8, "the worker to exit after SIGTERM")
  log = S.read(d .. "/replacement.log")
  assert.contains(log, "stopping")
  assert.contains(log, "worker stopped")
  -- the activity completed on its first attempt; a new worker finishes the workflow
  S.wait_for(function() return S.has_event(wf, "graceful", "ActivityCompleted") end, 3, "ActivityCompleted")
  -- (this worker runs without eager dispatch, -v: its log shows none taken eagerly)
  S.start_worker(env, "third", "WF_EAGER=0", "-v")
  S.wait_status(wf, "graceful", "COMPLETED", 10)
  local acts = wf.get_events("graceful")
  for _, e in ipairs(acts) do assert.ne(e.event_type, "ActivityFailed") end
  wf.start({ workflow_type = "Graceful", workflow_id = "classic", input = { started_file = d .. "/classic-started" } })
  S.wait_status(wf, "classic", "COMPLETED", 10)
  assert.eq(S.read(d .. "/third.log"):find("taken eagerly", 1, true), nil)
end)
S.stop_all(env)
if not ok then error(err, 0) end
print("workflow resilience ok")
