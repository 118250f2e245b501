-- A worker for the end-to-end tests: every end-to-end scenario of tests/lua/workflow_support.lua plus our additions.
-- Runs unchanged against the seed client (./modules/workflow.lua) and the embedded module.
local workflow = require("assay.workflow")
workflow.connect(assert(os.getenv("ENGINE_URL")))
local MODE = os.getenv("WF_MODE") or "embedded"

local function bump(path)
  local f = io.open(path, "r")
  local n = f and tonumber(f:read("a")) or 0
  if f then f:close() end
  n = n + 1
  f = io.open(path, "w"); f:write(tostring(n)); f:close()
  return n
end
local function touch(path, text) local f = io.open(path, "w"); f:write(text or "x"); f:close() end
local function exists(path) local f = io.open(path, "r"); if f then f:close() return true end return false end

workflow.activity("step1", function(ctx, i) return { value = i.n * 2 } end)
workflow.activity("step2", function(ctx, i) return { value = i.prev + 10 } end)
workflow.activity("echo", function(ctx, i) return i end)
workflow.activity("multiply", function(ctx, i) return { product = i.x * i.multiplier } end)
workflow.activity("triple", function(ctx, i) return { x = i.x * 3 } end)
workflow.activity("double", function(ctx, i) return i.x * 2 end)
workflow.activity("boom", function(ctx, i) error("boom: this activity always fails") end)
workflow.activity("nothing", function(ctx, i) return nil end)

-- 28: two sequential activities
workflow.define("TwoSteps", function(ctx, input)
  local a = ctx:execute_activity("step1", { n = input.n })
  local b = ctx:execute_activity("step2", { prev = a.value })
  return { first = a, second = b, sum = a.value + b.value }
end)

-- 30: cron
workflow.activity("greet", function(ctx, i) return "hello, " .. i.name end)
workflow.define("CronTriggered", function(ctx, input)
  return { greeting = ctx:execute_activity("greet", { name = (input and input.name) or "world" }) }
end)

-- 29: signal
workflow.define("Approval", function(ctx, input)
  local p = ctx:wait_for_signal("approve")
  return { approved = true, by = p and p.by }
end)

-- 31 / 32: side effect survives a crash and replays
workflow.define("CrashRecovery", function(ctx, input)
  local token = ctx:side_effect("token", function() return "tok-" .. bump(input.counter_file) end)
  ctx:sleep(input.sleep or 2)
  local r = ctx:execute_activity("echo", { token = token })
  return { token = token, activity = r }
end)
workflow.define("SideEffectReplays", function(ctx, input)
  local token = ctx:side_effect("token", function() return "tok-" .. bump(input.counter_file) end)
  local a = ctx:execute_activity("echo", { token = token })
  local b = ctx:execute_activity("echo", { token = token })
  return { token = token, a = a.token, b = b.token }
end)

-- 33: child workflow
workflow.define("Multiply", function(ctx, input)
  return ctx:execute_activity("multiply", input)
end)
workflow.define("Parent", function(ctx, input)
  local r = ctx:start_child_workflow("Multiply", { workflow_id = input.child_id, input = { x = 7, multiplier = 6 } })
  return { from_child = r }
end)

-- 34: cancellation while sleeping
workflow.define("Cancellable", function(ctx, input)
  ctx:sleep(5)
  ctx:execute_activity("step1", { n = 1 })
  return { finished = true }
end)

-- 35: durable timer
workflow.define("Timer", function(ctx, input)
  ctx:sleep(1)
  local r = ctx:execute_activity("triple", { x = input.x })
  return { x = r.x, slept = true }
end)

-- 36: queries
workflow.define("Queries", function(ctx, input)
  local state = { stage = "init", progress = 0.0 }
  ctx:register_query("stage", function() return state.stage end)
  ctx:register_query("progress", function() return state.progress end)
  state.stage = "running"
  ctx:execute_activity("step1", { n = 1 })
  state.stage, state.progress = "done", 1.0
  return { ok = true }
end)

-- 37: continue-as-new
workflow.define("Counter", function(ctx, input)
  if input.n == 0 then return ctx:continue_as_new({ n = 1 }) end
  return { final_n = input.n }
end)

-- 38 / 39: parallel activities
workflow.define("Parallel", function(ctx, input)
  local r = ctx:execute_parallel({
    { name = "double", input = { x = 1 } }, { name = "double", input = { x = 2 } }, { name = "double", input = { x = 3 } },
  })
  return { sum = r[1] + r[2] + r[3] }
end)
workflow.define("ParallelFail", function(ctx, input)
  ctx:execute_parallel({
    { name = "double", input = { x = 1 } },
    { name = "boom", input = {}, opts = { max_attempts = 1 } },
  })
  return { unreachable = true }
end)

-- 43: a parent waiting on a child that is cancelled is woken with a failure
workflow.define("Waiter", function(ctx, input)
  ctx:wait_for_signal("never")
  return { woke = true }
end)
workflow.define("ParentOfCancelled", function(ctx, input)
  local ok, err = pcall(function()
    return ctx:start_child_workflow("Waiter", { workflow_id = input.child_id })
  end)
  return { child_failed = not ok, error = tostring(err) }
end)

if MODE == "embedded" then
  -- 41: search attributes mid-workflow
  workflow.define("Upsert", function(ctx, input)
    ctx:upsert_search_attributes({ stage = "mid", tenant = input.tenant })
    local r = ctx:execute_activity("step1", { n = 2 })
    ctx:upsert_search_attributes({ stage = "end" })
    return { value = r.value }
  end)

  -- 42: nil activity result, nil side effect, signal without payload
  workflow.define("Nils", function(ctx, input)
    local a = ctx:execute_activity("nothing", {})
    local s = ctx:side_effect("nil", function() return nil end)
    local p = ctx:wait_for_signal("go")
    local q = ctx:execute_activity("step1", { n = 1 })
    return { act_nil = a == nil, se_nil = s == nil, sig_nil = p == nil, after = q.value }
  end)

  -- deterministic now / random / uuid: the values of the first run equal the final replay's
  workflow.define("Deterministic", function(ctx, input)
    local first = { now = ctx:now(), r = ctx:random(1, 1000000), f = ctx:random(), u = ctx:uuid() }
    local echoed = ctx:execute_activity("echo", first)
    ctx:sleep(0.1)
    return { first = first, echoed = echoed, later_now = ctx:now() }
  end)

  -- wait_for_signal with a timeout: the first times out, the second gets its signal
  workflow.define("TimeoutWait", function(ctx, input)
    local v, why = ctx:wait_for_signal("never", { timeout = 0.5 })
    local v2 = ctx:wait_for_signal("soon", { timeout = 30 })
    return { timed_out = (v == nil and why == "timeout"), v2 = v2 }
  end)

  -- non-determinism: the code path changes between runs (flag file)
  workflow.define("Drift", function(ctx, input)
    if exists(input.flag_file) then
      ctx:sleep(0.1)
    else
      ctx:execute_activity("step1", { n = 1 })
    end
    ctx:wait_for_signal("next")
    return { done = true }
  end)

  -- a replay that outlasts the lease (2 s in the tests) keeps it
  workflow.define("SlowReplay", function(ctx, input)
    local v = ctx:side_effect("slow", function() sleep(input.secs) return "slow-value" end)
    return { v = v }
  end)

  -- activity heartbeats and cancellation
  workflow.activity("long", function(ctx, i)
    touch(i.started_file)
    for _ = 1, 200 do
      ctx:heartbeat({ at = time() })
      if ctx:is_cancelled() then touch(i.stopped_file, "stopped"); return "stopped" end
      sleep(0.1)
    end
    return "ran out"
  end)
  workflow.define("LongActivity", function(ctx, input)
    return ctx:execute_activity("long", input, { heartbeat_timeout_secs = 5 })
  end)

  -- a worker killed mid-activity: the attempt times out and a new worker runs it again
  workflow.activity("slow_once", function(ctx, i)
    local n = bump(i.attempts_file)
    if n == 1 then touch(i.started_file); sleep(60) end
    return { attempts = n }
  end)
  workflow.define("SlowOnce", function(ctx, input)
    return ctx:execute_activity("slow_once", input, { start_to_close_secs = 2, initial_interval_secs = 0.1 })
  end)

  -- a worker killed while replaying the workflow task an activity report handed it (eager workflow task): the
  -- lease runs out and another worker replays the whole history
  workflow.define("HandOverCrash", function(ctx, input)
    local a = ctx:execute_activity("step1", { n = input.n })
    local held = ctx:side_effect("held", function()
      if exists(input.hold_file) then touch(input.holding_file); sleep(60) end
      return "released"
    end)
    return { a = a, held = held }
  end)

  -- graceful SIGTERM: the running activity finishes
  workflow.activity("graceful", function(ctx, i)
    touch(i.started_file)
    sleep(1.5)
    return { finished_at = time() }
  end)
  workflow.define("Graceful", function(ctx, input)
    return ctx:execute_activity("graceful", input, { start_to_close_secs = 30 })
  end)
end

workflow.listen({ queue = "default", poll_wait_secs = 1, eager_activities = os.getenv("WF_EAGER") ~= "0",
                  eager_workflow_tasks = os.getenv("WF_EAGER") ~= "0" })
