--- @internal part of assay.workflow: replays a workflow handler against its history (the ctx API)
local common = require("assay.workflow.common")
local as_object, error_text, check_priority = common.as_object, common.error_text, common.check_priority

-- ── Replay ───────────────────────────────────────────────────────────────────────────────────
-- A workflow task replays the handler from the start against the history the poll returned.
-- Every ctx call that decides something (activity, timer, side effect, child) is a *step*; the
-- history records steps in order (ActivityScheduled, TimerScheduled, SideEffectRecorded,
-- ChildWorkflowStarted), so the N-th step the code asks for must be the N-th step recorded —
-- anything else is non-determinism and fails the workflow with a message naming the position.
-- A step that is not in the history yet becomes a command; side effects and search-attribute
-- upserts are buffered and the code runs on until it has to wait, so one task carries them all.

local MODULE_SOURCE = debug.getinfo(1, "S").source
local BLOCK = setmetatable({}, { __tostring = function() return "assay.workflow: blocked" end })
local CANCELLED = setmetatable({}, { __tostring = function() return "workflow cancelled" end })
local NONDET = setmetatable({}, { __tostring = function() return "workflow non-determinism" end })

local RETRY_OPTIONS = {
  "max_attempts", "initial_interval_secs", "backoff_coefficient", "max_interval_secs",
  "start_to_close_secs", "heartbeat_timeout_secs", "non_retryable_error_types",
}

-- file:line of the workflow code that called into ctx (the first frame outside this module).
local function caller_position()
  for level = 3, 60 do
    local info = debug.getinfo(level, "Sl")
    if not info then break end
    if info.source ~= MODULE_SOURCE and info.what ~= "C" and (info.currentline or 0) > 0 then
      return info.short_src .. ":" .. info.currentline
    end
  end
  return "?"
end

-- Deterministic PRNG (splitmix64) seeded from the run id.
local function hash64(s)
  local h = 0xcbf29ce484222325
  for i = 1, #s do h = (h ~ s:byte(i)) * 0x100000001b3 end
  return h
end

local function new_rng(seed)
  local state = hash64(seed)
  return function()
    state = state + 0x9E3779B97F4A7C15
    local z = state
    z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
    z = (z ~ (z >> 27)) * 0x94D049BB133111EB
    return z ~ (z >> 31)
  end
end

local function describe_step(s)
  if s.kind == "activity" then return string.format("activity '%s' (activity seq %d)", tostring(s.name), s.key) end
  if s.kind == "timer" then return string.format("timer (timer seq %d)", s.key) end
  if s.kind == "side_effect" then return string.format("side effect '%s' (side-effect seq %d)", tostring(s.name), s.key) end
  return string.format("child workflow '%s' of type '%s'", tostring(s.key), tostring(s.name))
end

-- Runs one workflow task; returns the command list to submit.
-- `extend` is called from ctx calls so long replays keep their lease.
local function replay(task, handler, extend)
  local history = task.history or {}
  local steps, step_at = {}, { activity = {}, timer = {}, side_effect = {}, child = {} }
  local act_result, timer_fired, side_effects, child_result, signals = {}, {}, {}, {}, {}
  local awaiting = {} -- signal name → seq of its latest WorkflowAwaitingSignal
  local cancel_requested = false
  for _, ev in ipairs(history) do
    local t, p = ev.event_type, ev.payload
    if type(p) ~= "table" then p = {} end
    local function record(kind, key, name)
      if key ~= nil and step_at[kind][key] == nil then
        steps[#steps + 1] = { kind = kind, key = key, name = name, event = t }
        step_at[kind][key] = #steps
      end
    end
    if t == "ActivityScheduled" then record("activity", p.activity_seq, p.name)
    elseif t == "ActivityCompleted" and p.activity_seq then
      act_result[p.activity_seq] = { ok = true, value = p.result, ts = ev.timestamp }
    elseif t == "ActivityFailed" and p.activity_seq then
      act_result[p.activity_seq] = { ok = false, err = p.error, ts = ev.timestamp }
    elseif t == "TimerScheduled" then record("timer", p.timer_seq)
    elseif t == "TimerFired" and p.timer_seq then timer_fired[p.timer_seq] = { seq = ev.seq, ts = ev.timestamp }
    elseif t == "SideEffectRecorded" and p.side_effect_seq then
      record("side_effect", p.side_effect_seq, p.name)
      if side_effects[p.side_effect_seq] == nil then side_effects[p.side_effect_seq] = { value = p.value } end
    elseif t == "ChildWorkflowStarted" then record("child", p.child_workflow_id, p.workflow_type)
    elseif t == "ChildWorkflowCompleted" and p.child_workflow_id then
      child_result[p.child_workflow_id] = { ok = true, value = p.result, ts = ev.timestamp }
    elseif t == "ChildWorkflowFailed" and p.child_workflow_id then
      child_result[p.child_workflow_id] = { ok = false, err = p.error or p.reason, reason = p.reason, ts = ev.timestamp }
    elseif t == "SignalReceived" and p.signal then
      local list = signals[p.signal]
      if not list then list = { n = 0 }; signals[p.signal] = list end
      list.n = list.n + 1
      list[list.n] = { payload = p.payload, seq = ev.seq, ts = ev.timestamp }
    elseif t == "WorkflowAwaitingSignal" and p.signal then awaiting[p.signal] = ev.seq
    elseif t == "WorkflowCancelRequested" then cancel_requested = true
    end
  end

  local cmds, pos = {}, 0
  local act_seq, timer_seq, se_seq, sig_cursor = 0, 0, 0, {}
  local state = {}
  local clock = (history[1] and history[1].timestamp) or time()
  local rng = new_rng(tostring(task.run_id or task.workflow_id))
  local queue = task.task_queue or "default"

  local function advance(ts) if ts and ts > clock then clock = ts end end
  local function emit(c) cmds[#cmds + 1] = c end
  local function block() coroutine.yield(BLOCK); error("assay.workflow: resumed after blocking") end
  local function check()
    if state.cancelled or cancel_requested then state.cancelled = true; error(CANCELLED, 0) end
    if state.nondet then error(NONDET, 0) end
    if extend then extend() end
  end
  local function nondeterminism(kind, key, name)
    local want = describe_step({ kind = kind, key = key, name = name })
    local have = steps[pos + 1]
    state.nondet = string.format(
      "non-determinism at step %d: history has %s, but the code asked for %s at %s",
      pos + 1, have and (have.event .. " " .. describe_step(have)) or "nothing more (it ended there)",
      want, caller_position())
    error(NONDET, 0)
  end
  -- Matches a step against the history: true if it was recorded (at the expected position).
  local function step(kind, key, name)
    local at = step_at[kind][key]
    if at then
      local rec = steps[at]
      if at ~= pos + 1 or (name ~= nil and rec.name ~= nil and rec.name ~= name) then
        nondeterminism(kind, key, name)
      end
      pos = at
      return true
    end
    if steps[pos + 1] then nondeterminism(kind, key, name) end
    return false
  end

  local ctx = {
    workflow_id = task.workflow_id, run_id = task.run_id, workflow_type = task.workflow_type,
    namespace = task.namespace, task_queue = task.task_queue,
  }

  local function activity_command(seq, name, input, opts)
    if type(name) ~= "string" then error("ctx:execute_activity: activity name must be a string", 3) end
    if opts ~= nil and type(opts) ~= "table" then error("ctx:execute_activity: opts must be a table", 3) end
    opts = opts or {}
    local c = { type = "ScheduleActivity", seq = seq, name = name, input = input, task_queue = opts.task_queue or queue }
    for _, k in ipairs(RETRY_OPTIONS) do c[k] = opts[k] end
    c.priority = check_priority(opts.priority, "ctx:execute_activity: opts.priority", 3) -- nil: the workflow's
    return c
  end

  function ctx:execute_activity(name, input, opts)
    check()
    act_seq = act_seq + 1
    local seq = act_seq
    local recorded = step("activity", seq, name)
    local r = act_result[seq]
    if r then
      advance(r.ts)
      if r.ok then return r.value end
      error("activity '" .. name .. "' failed: " .. error_text(r.err), 2)
    end
    if not recorded then emit(activity_command(seq, name, input, opts)) end
    block()
  end

  function ctx:execute_parallel(list)
    check()
    if type(list) ~= "table" or #list == 0 then error("ctx:execute_parallel: activities must be a non-empty list", 2) end
    local results, missing, first_err, last_ts = {}, false, nil, nil
    for i, a in ipairs(list) do
      act_seq = act_seq + 1
      local seq = act_seq
      local recorded = step("activity", seq, a.name)
      local r = act_result[seq]
      if r then
        if not last_ts or r.ts > last_ts then last_ts = r.ts end
        if r.ok then results[i] = r.value
        elseif not first_err then first_err = "activity '" .. tostring(a.name) .. "' failed: " .. error_text(r.err) end
      else
        missing = true
        if not recorded then emit(activity_command(seq, a.name, a.input, a.opts)) end
      end
    end
    if missing then block() end
    advance(last_ts)
    if first_err then error(first_err, 2) end
    return results
  end

  function ctx:sleep(seconds)
    check()
    if type(seconds) ~= "number" or seconds < 0 then error("ctx:sleep: seconds must be a number ≥ 0", 2) end
    timer_seq = timer_seq + 1
    local seq = timer_seq
    local recorded = step("timer", seq)
    local fired = timer_fired[seq]
    if fired then advance(fired.ts); return end
    if not recorded then emit({ type = "ScheduleTimer", seq = seq, duration_secs = seconds }) end
    block()
  end

  function ctx:side_effect(name, fn)
    check()
    if type(fn) ~= "function" then error("ctx:side_effect: second argument must be a function", 2) end
    se_seq = se_seq + 1
    local seq = se_seq
    if step("side_effect", seq, name) then return side_effects[seq].value end
    local value = fn()
    if value ~= nil then
      -- the value the replays will see (JSON round trip), so this run sees the same
      local ok, text = pcall(json.encode, value)
      if not ok then error("ctx:side_effect: the value must be JSON-encodable: " .. tostring(text), 2) end
      value = json.parse(text)
    end
    emit({ type = "RecordSideEffect", seq = seq, name = name, value = value })
    return value
  end

  function ctx:start_child_workflow(workflow_type, opts)
    check()
    if type(opts) ~= "table" or opts.workflow_id == nil then
      error("ctx:start_child_workflow: opts.workflow_id is required", 2)
    end
    local cid = tostring(opts.workflow_id)
    local recorded = false
    if step_at.child[cid] or not child_result[cid] then recorded = step("child", cid, workflow_type) end
    local r = child_result[cid]
    if r then
      advance(r.ts)
      if r.ok then return r.value end
      error("child workflow '" .. cid .. "' failed: " .. error_text(r.err), 2)
    end
    if not recorded then
      emit({ type = "StartChildWorkflow", workflow_type = workflow_type, workflow_id = cid,
             input = opts.input, task_queue = opts.task_queue or queue,
             priority = check_priority(opts.priority, "ctx:start_child_workflow: opts.priority", 2) }) -- nil: the parent's
    end
    block()
  end

  function ctx:upsert_search_attributes(patch)
    check()
    if type(patch) ~= "table" then error("ctx:upsert_search_attributes: patch must be a table", 2) end
    -- an upsert before the last recorded step went out with that step's batch already
    if pos >= #steps then emit({ type = "UpsertSearchAttributes", patch = as_object(patch) }) end
  end

  function ctx:continue_as_new(input)
    check()
    emit({ type = "ContinueAsNew", input = input })
    state.terminal = true
    block()
  end

  function ctx:register_query(name, fn)
    if type(name) ~= "string" or name == "" then error("ctx:register_query: name must be a non-empty string", 2) end
    if type(fn) ~= "function" then error("ctx:register_query: handler must be a function", 2) end
    self._queries = self._queries or {}
    self._queries[name] = fn
  end

  function ctx:wait_for_signal(name, opts)
    check()
    if type(name) ~= "string" or name == "" then error("ctx:wait_for_signal: name must be a non-empty string", 2) end
    local timeout = opts and opts.timeout
    if timeout ~= nil and (type(timeout) ~= "number" or timeout < 0) then
      error("ctx:wait_for_signal: opts.timeout must be a number ≥ 0", 2)
    end
    local list, n = signals[name], (sig_cursor[name] or 0) + 1
    local sig = list and list[n]
    local function take() sig_cursor[name] = n; advance(sig.ts); return sig.payload end
    local function wait()
      -- recorded once per wait: not again when a replay finds this wait already announced
      local prev = list and list[n - 1]
      if not (awaiting[name] and (not prev or awaiting[name] > prev.seq)) then
        emit({ type = "WaitForSignal", name = name })
      end
      block()
    end
    if timeout == nil then
      if sig then return take() end
      wait()
    end
    timer_seq = timer_seq + 1
    local seq = timer_seq
    if step_at.timer[seq] then
      step("timer", seq)
      local fired = timer_fired[seq]
      if sig and (not fired or sig.seq < fired.seq) then return take() end
      if fired then advance(fired.ts); return nil, "timeout" end
      wait()
    end
    if sig then return take() end -- already there: no timer needed
    step("timer", seq)
    emit({ type = "ScheduleTimer", seq = seq, duration_secs = timeout })
    wait()
  end

  --- Deterministic time: the time of the latest history event the code has consumed.
  function ctx:now() return clock end

  --- Deterministic random numbers (same sequence on every replay), math.random's signature.
  function ctx:random(m, n)
    local x = rng()
    if m == nil then return (x >> 11) * (1.0 / 9007199254740992) end
    if n == nil then m, n = 1, m end
    m, n = math.tointeger(m), math.tointeger(n)
    if not m or not n or m > n then error("ctx:random: interval is empty or not integral", 2) end
    return m + (x >> 1) % (n - m + 1)
  end

  --- Deterministic UUID (version 4 format).
  function ctx:uuid()
    local a, b = rng(), rng()
    a = (a & ~0xF000) | 0x4000                               -- version 4
    b = (b & 0x3FFFFFFFFFFFFFFF) | (-0x8000000000000000)     -- variant 10
    local h = string.format("%016x%016x", a, b)
    return h:sub(1, 8) .. "-" .. h:sub(9, 12) .. "-" .. h:sub(13, 16) .. "-" .. h:sub(17, 20) .. "-" .. h:sub(21, 32)
  end

  local co = coroutine.create(function() return handler(ctx, task.input) end)
  local ok, res = coroutine.resume(co)

  local out
  if state.nondet then
    out = { { type = "FailWorkflow", error = state.nondet } }
  elseif state.cancelled or (not ok and res == CANCELLED) then
    out = { { type = "CancelWorkflow" } }
  elseif not ok then
    out = cmds
    emit({ type = "FailWorkflow", error = error_text(res) })
  elseif coroutine.status(co) == "dead" then
    out = cmds
    emit({ type = "CompleteWorkflow", result = res })
  else
    if res ~= BLOCK then
      out = { { type = "FailWorkflow", error = "workflow code yielded outside a ctx call (coroutine.yield in a workflow)" } }
    else
      out = cmds
    end
  end
  if ctx._queries and next(ctx._queries) and not state.nondet then
    local snap = json.object()
    for qname, fn in pairs(ctx._queries) do
      local qok, v = pcall(fn)
      if qok then snap[qname] = v end
    end
    if next(snap) ~= nil then table.insert(out, 1, { type = "RecordSnapshot", state = snap }) end
  end
  return json.array(out)
end

return replay
