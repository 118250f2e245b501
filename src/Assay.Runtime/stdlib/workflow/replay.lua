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
-- Code that stops (finishes or waits) before it has asked for every recorded step diverged too.
--
-- The same engine serves the worker (M.task: the commands of one workflow task) and the replay
-- tester (M.run with `dry`: workflow.replay, `assay workflow replay`), which also wants to know
-- how the code ended and what it asked for beyond the history.
--
-- Versioning (ctx:patched / ctx:deprecate_patch) uses PatchMarkerRecorded events. They are not
-- steps: a marker in the history means the run took the new branch; without one, the run took the
-- old branch if it already went past this point (the history holds something the code decided
-- later than what the replay has consumed so far), else this is new code running for the first
-- time: it takes the new branch and records the marker.

local MODULE_SOURCE = debug.getinfo(1, "S").source
local BLOCK = setmetatable({}, { __tostring = function() return "assay.workflow: blocked" end })
local CANCELLED = setmetatable({}, { __tostring = function() return "workflow cancelled" end })
local NONDET = setmetatable({}, { __tostring = function() return "workflow non-determinism" end })

local M = {}

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
      -- the whole path of a file (short_src cuts long ones to "…/tail")
      local src = info.source:sub(1, 1) == "@" and info.source:sub(2) or info.short_src
      return src .. ":" .. info.currentline
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

-- The command a step becomes, for reports ("ScheduleTimer timer (timer seq 1)").
local STEP_COMMAND = { activity = "ScheduleActivity", timer = "ScheduleTimer", side_effect = "RecordSideEffect", child = "StartChildWorkflow" }
local function describe_command(kind, key, name)
  return STEP_COMMAND[kind] .. " " .. describe_step({ kind = kind, key = key, name = name })
end

-- Events the workflow code caused (its commands); the others (results, signals, cancel requests)
-- come from outside. Search-attribute upserts are left out: they are not replayed as such.
local DECIDED = {
  ActivityScheduled = true, TimerScheduled = true, SideEffectRecorded = true, ChildWorkflowStarted = true,
  WorkflowAwaitingSignal = true, PatchMarkerRecorded = true, WorkflowCompleted = true, WorkflowFailed = true,
  WorkflowCancelled = true, WorkflowContinuedAsNew = true,
}

-- The events endpoint (and so `assay workflow events -o json`) sends payloads as JSON text; a
-- workflow task's history has them parsed. The tester accepts both.
local function decoded(p)
  if type(p) == "string" then
    local ok, v = pcall(json.parse, p)
    if ok then return v end
  end
  return p
end

-- Reads a history into what the replay looks up: the steps in order and the results by key.
local function index_history(history, decode)
  local h = {
    steps = {}, step_at = { activity = {}, timer = {}, side_effect = {}, child = {} },
    act_result = {}, timer_fired = {}, side_effects = {}, child_result = {}, signals = {},
    awaiting = {},     -- signal name → seq of its latest WorkflowAwaitingSignal
    markers = {},      -- patch id → its PatchMarkerRecorded { deprecated, seq }
    last_decided = 0,  -- seq of the latest event the code caused
    cancel_requested = false,
  }
  local steps, step_at = h.steps, h.step_at
  for _, ev in ipairs(history) do
    local t, p = ev.event_type, ev.payload
    if decode then p = decoded(p) end
    if type(p) ~= "table" then p = {} end
    local seq = tonumber(ev.seq) or 0
    if DECIDED[t] and seq > h.last_decided then h.last_decided = seq end
    local function record(kind, key, name)
      if key ~= nil and step_at[kind][key] == nil then
        steps[#steps + 1] = { kind = kind, key = key, name = name, event = t, ev = ev }
        step_at[kind][key] = #steps
      end
    end
    local function outcome(r) r.ts, r.seq = ev.timestamp, seq; return r end
    if t == "ActivityScheduled" then record("activity", p.activity_seq, p.name)
    elseif t == "ActivityCompleted" and p.activity_seq then
      h.act_result[p.activity_seq] = outcome({ ok = true, value = p.result })
    elseif t == "ActivityFailed" and p.activity_seq then
      h.act_result[p.activity_seq] = outcome({ ok = false, err = p.error })
    elseif t == "TimerScheduled" then record("timer", p.timer_seq)
    elseif t == "TimerFired" and p.timer_seq then h.timer_fired[p.timer_seq] = outcome({})
    elseif t == "SideEffectRecorded" and p.side_effect_seq then
      record("side_effect", p.side_effect_seq, p.name)
      if h.side_effects[p.side_effect_seq] == nil then h.side_effects[p.side_effect_seq] = { value = p.value } end
    elseif t == "ChildWorkflowStarted" then record("child", p.child_workflow_id, p.workflow_type)
    elseif t == "ChildWorkflowCompleted" and p.child_workflow_id then
      h.child_result[p.child_workflow_id] = outcome({ ok = true, value = p.result })
    elseif t == "ChildWorkflowFailed" and p.child_workflow_id then
      h.child_result[p.child_workflow_id] = outcome({ ok = false, err = p.error or p.reason, reason = p.reason })
    elseif t == "SignalReceived" and p.signal then
      local list = h.signals[p.signal]
      if not list then list = { n = 0 }; h.signals[p.signal] = list end
      list.n = list.n + 1
      list[list.n] = outcome({ payload = p.payload })
    elseif t == "WorkflowAwaitingSignal" and p.signal then h.awaiting[p.signal] = seq
    elseif t == "PatchMarkerRecorded" and type(p.patch_id) == "string" then
      h.markers[p.patch_id] = h.markers[p.patch_id] or { deprecated = p.deprecated == true, seq = seq }
    elseif t == "WorkflowCancelRequested" then h.cancel_requested = true
    end
  end
  return h
end

local function check_patch_id(method, id)
  if type(id) ~= "string" or id == "" then error("ctx:" .. method .. ": change id must be a non-empty string", 3) end
end

-- Replays the handler against task.history. Returns
--   { commands = <json array>, outcome = "completed"|"failed"|"cancelled"|"continued"|"blocked",
--     nondet = nil | { message, step, event, history, command, position },
--     error = <message> (failed), pending = nil | { command, position } (the first thing asked for
--     beyond the history), notes = { … } }
-- opts.extend: called from ctx calls so long replays keep their lease (the worker).
-- opts.dry: the replay tester — history payloads may be JSON text, and a side effect the history
--   lacks is not run (it counts as asked for, and the code stops there).
function M.run(task, handler, opts)
  opts = opts or {}
  local extend, dry = opts.extend, opts.dry
  local history = task.history or {}
  local h = index_history(history, dry)
  local steps, step_at, markers = h.steps, h.step_at, h.markers
  local act_result, timer_fired, side_effects, child_result, signals = h.act_result, h.timer_fired, h.side_effects, h.child_result, h.signals
  local awaiting, cancel_requested = h.awaiting, h.cancel_requested

  local cmds, pos = {}, 0
  local act_seq, timer_seq, se_seq, sig_cursor = 0, 0, 0, {}
  local state = { notes = {} }
  local patches = {} -- patch id → the branch this replay took (asked once, answered the same after)
  local consumed = tonumber(history[1] and history[1].seq) or 0 -- seq of the latest event consumed so far
  local clock = (history[1] and history[1].timestamp) or time()
  local rng = new_rng(tostring(task.run_id or task.workflow_id))
  local queue = task.task_queue or "default"

  -- Consumes a recorded outcome: its time is the workflow's clock, its seq how far the replay got.
  local function advance(ts, seq)
    if ts and ts > clock then clock = ts end
    if seq and seq > consumed then consumed = seq end
  end
  local function emit(c) cmds[#cmds + 1] = c end
  local function block()
    state.waiting_at = caller_position()
    coroutine.yield(BLOCK); error("assay.workflow: resumed after blocking")
  end
  local function check()
    if state.cancelled or cancel_requested then state.cancelled = true; error(CANCELLED, 0) end
    if state.nondet then error(NONDET, 0) end
    if extend then extend() end
  end
  -- The first thing the code asks for that the history lacks (the tester reports it for closed runs).
  local function beyond(command)
    if not state.pending then state.pending = { command = command, position = caller_position() } end
  end
  local function diverged(have_step, code_text, position)
    local have = have_step and (have_step.event .. " " .. describe_step(have_step)) or "nothing more (it ended there)"
    state.nondet = {
      message = string.format("non-determinism at step %d: history has %s, but the code %s at %s",
        pos + 1, have, code_text, position),
      step = pos + 1, event = have_step and have_step.ev, history = have, position = position,
    }
  end
  local function nondeterminism(kind, key, name)
    diverged(steps[pos + 1], "asked for " .. describe_step({ kind = kind, key = key, name = name }), caller_position())
    state.nondet.command = describe_command(kind, key, name)
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
      advance(nil, tonumber(rec.ev.seq))
      return true
    end
    if steps[pos + 1] then nondeterminism(kind, key, name) end
    beyond(describe_command(kind, key, name))
    return false
  end
  -- True while the run already went past this point: the history holds a decision the replay has not reached.
  local function replaying() return h.last_decided > consumed end

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
      advance(r.ts, r.seq)
      if r.ok then return r.value end
      error("activity '" .. name .. "' failed: " .. error_text(r.err), 2)
    end
    if not recorded then emit(activity_command(seq, name, input, opts)) end
    block()
  end

  function ctx:execute_parallel(list)
    check()
    if type(list) ~= "table" or #list == 0 then error("ctx:execute_parallel: activities must be a non-empty list", 2) end
    local results, missing, first_err, last_ts, last_seq = {}, false, nil, nil, nil
    for i, a in ipairs(list) do
      act_seq = act_seq + 1
      local seq = act_seq
      local recorded = step("activity", seq, a.name)
      local r = act_result[seq]
      if r then
        if not last_ts or r.ts > last_ts then last_ts = r.ts end
        if not last_seq or r.seq > last_seq then last_seq = r.seq end
        if r.ok then results[i] = r.value
        elseif not first_err then first_err = "activity '" .. tostring(a.name) .. "' failed: " .. error_text(r.err) end
      else
        missing = true
        if not recorded then emit(activity_command(seq, a.name, a.input, a.opts)) end
      end
    end
    if missing then block() end
    advance(last_ts, last_seq)
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
    if fired then advance(fired.ts, fired.seq); return end
    if not recorded then emit({ type = "ScheduleTimer", seq = seq, duration_secs = seconds }) end
    block()
  end

  function ctx:side_effect(name, fn)
    check()
    if type(fn) ~= "function" then error("ctx:side_effect: second argument must be a function", 2) end
    se_seq = se_seq + 1
    local seq = se_seq
    if step("side_effect", seq, name) then return side_effects[seq].value end
    if dry then block() end -- the tester runs no side effects: the code stops at the first new one
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
      advance(r.ts, r.seq)
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
    local function take() sig_cursor[name] = n; advance(sig.ts, sig.seq); return sig.payload end
    local function wait()
      -- recorded once per wait: not again when a replay finds this wait already announced
      local prev = list and list[n - 1]
      if not (awaiting[name] and (not prev or awaiting[name] > prev.seq)) then
        emit({ type = "WaitForSignal", name = name })
        beyond("WaitForSignal '" .. name .. "'")
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
      if fired then advance(fired.ts, fired.seq); return nil, "timeout" end
      wait()
    end
    if sig then return take() end -- already there: no timer needed
    step("timer", seq)
    emit({ type = "ScheduleTimer", seq = seq, duration_secs = timeout })
    wait()
  end

  --- Versioning: true for runs that take the new branch of change `id`. A run whose history went past
  --- this point without the change's marker takes the old branch (false); new code running for the
  --- first time here takes the new branch and records the marker. The answer never changes within a run.
  function ctx:patched(id)
    check()
    check_patch_id("patched", id)
    if patches[id] == nil then
      if markers[id] then patches[id] = true
      elseif replaying() then patches[id] = false
      else
        patches[id] = true
        emit({ type = "RecordPatchMarker", patch_id = id })
      end
    end
    return patches[id]
  end

  --- Versioning, the step after ctx:patched: the code always takes the new branch. Records the marker
  --- (deprecated) for runs that reach this point for the first time, so workers still running the
  --- `patched` version replay them on the new branch too. Histories without the marker that went past
  --- this point took the old branch: they replay cleanly only if both branches ask for the same steps.
  function ctx:deprecate_patch(id)
    check()
    check_patch_id("deprecate_patch", id)
    if patches[id] ~= nil then return end
    patches[id] = true
    if markers[id] then return end
    if replaying() then
      state.notes[#state.notes + 1] = string.format(
        "the history went past deprecated patch '%s' (%s) without its marker: it predates the patch", id, caller_position())
    else
      emit({ type = "RecordPatchMarker", patch_id = id, deprecated = true })
    end
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

  local outcome, failure, stray
  if state.nondet then outcome = "failed"
  elseif state.cancelled or (not ok and res == CANCELLED) then outcome = "cancelled"
  elseif not ok then outcome, failure = "failed", error_text(res)
  elseif coroutine.status(co) == "dead" then outcome = "completed"
  elseif res ~= BLOCK then
    outcome, failure, stray = "failed", "workflow code yielded outside a ctx call (coroutine.yield in a workflow)", true
  else
    outcome = state.terminal and "continued" or "blocked"
  end
  -- Code that finished or waits while recorded steps remain went another way than the run did.
  if outcome ~= "cancelled" and not state.nondet and steps[pos + 1] then
    local code_text = ({
      completed = "completed the workflow", continued = "continued as new",
      blocked = "waits", failed = "failed (" .. tostring(failure) .. ")",
    })[outcome]
    local where = outcome == "blocked" and state.waiting_at
    if not where then
      local info = debug.getinfo(handler, "S")
      where = (info.source:sub(1, 1) == "@" and info.source:sub(2) or info.short_src) .. ":" .. tostring(info.linedefined) .. " (the workflow function)"
    end
    diverged(steps[pos + 1], code_text, where)
    state.nondet.command = ({ completed = "CompleteWorkflow", continued = "ContinueAsNew", failed = "FailWorkflow" })[outcome]
      or "nothing (it waits)"
  end

  local out = cmds
  if state.nondet then
    outcome, failure = "failed", state.nondet.message
    out = { { type = "FailWorkflow", error = failure } }
  elseif outcome == "cancelled" then out = { { type = "CancelWorkflow" } }
  elseif stray then out = { { type = "FailWorkflow", error = failure } } -- nothing else of this replay is trusted
  elseif outcome == "failed" then emit({ type = "FailWorkflow", error = failure })
  elseif outcome == "completed" then emit({ type = "CompleteWorkflow", result = res })
  end
  if ctx._queries and next(ctx._queries) and not state.nondet then
    local snap = json.object()
    for qname, fn in pairs(ctx._queries) do
      local qok, v = pcall(fn)
      if qok then snap[qname] = v end
    end
    if next(snap) ~= nil then table.insert(out, 1, { type = "RecordSnapshot", state = snap }) end
  end
  return {
    commands = json.array(out), outcome = outcome, nondet = state.nondet, error = failure,
    result = outcome == "completed" and res or nil, pending = state.pending, notes = state.notes,
    steps = #steps, waiting_at = state.waiting_at,
  }
end

M.decoded = decoded

--- The worker's half: the commands to submit for one workflow task.
function M.task(task, handler, extend) return M.run(task, handler, { extend = extend }).commands end

return M
