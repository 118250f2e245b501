--- @module assay.workflow
--- @description Client and worker for the Assay workflow engine (`assay serve`): define durable
--- workflows and activities in Lua and run them (`listen`); start, signal, inspect and manage
--- workflows, schedules, namespaces, workers and queues over the engine's REST API.
--- @keywords workflow, durable, engine, temporal, schedule, cron, signal, worker, activity, replay
--- @env ASSAY_ENGINE_URL
--- @example local wf = require("assay.workflow"); wf.connect("http://127.0.0.1:8080"); wf.start{workflow_type="Hello", workflow_id="hello-1"}
--
-- The client half (start, signal, describe, schedules …) and the worker half (define, activity,
-- listen and the replaying workflow ctx) keep the original client's API (names, arguments, return
-- shapes). The worker long-polls, runs tasks concurrently as tasks of the event loop, detects
-- non-determinism, survives engine outages and stops gracefully on SIGTERM. See docs/workflows.md.
local M = {}

local engine_url, auth_token, default_namespace
local workflows, activities = {}, {}

local function encode_component(s)
  return (tostring(s):gsub("[^%w%-_.~]", function(c) return string.format("%%%02X", c:byte()) end))
end

local function query(params)
  local parts = {}
  for _, kv in ipairs(params) do
    if kv[2] ~= nil then parts[#parts + 1] = kv[1] .. "=" .. encode_component(kv[2]) end
  end
  return #parts > 0 and ("?" .. table.concat(parts, "&")) or ""
end

-- A fresh object-marked copy: encodes as {} when empty and leaves the caller's table alone.
local function as_object(t)
  local o = json.object()
  for k, v in pairs(t) do o[k] = v end
  return o
end

--- Calls the engine. Bodies are always JSON objects (never `[]`).
function M._api(method, path, body, timeout)
  if not engine_url then error("assay.workflow: call workflow.connect(url) first", 3) end
  if type(http) ~= "table" or type(http.request) ~= "function" then
    error("assay.workflow: the http builtin is not available in this build", 3)
  end
  local headers = { ["Content-Type"] = "application/json" }
  if auth_token then headers["Authorization"] = "Bearer " .. auth_token end
  return http.request({
    method = method,
    url = engine_url .. "/api/v1" .. path,
    headers = headers,
    body = body ~= nil and json.encode(as_object(body)) or nil,
    timeout = timeout,
  })
end

local function call(name, method, path, body, expected)
  local resp = M._api(method, path, body)
  if resp.status ~= (expected or 200) then
    error("workflow." .. name .. " failed: " .. tostring(resp.body or resp.status), 3)
  end
  if resp.body == nil or resp.body == "" then return nil end
  return json.parse(resp.body)
end

local function id(s) return encode_component(s) end

function M.connect(url, opts)
  engine_url = tostring(url):gsub("/+$", "")
  opts = opts or {}
  auth_token = opts.token
  default_namespace = opts.namespace
  local resp = M._api("GET", "/health")
  if resp.status ~= 200 then error("workflow.connect: cannot reach engine at " .. url, 2) end
end

--- Registers a workflow type: handler(ctx, input) → result.
function M.define(name, handler)
  if type(name) ~= "string" or type(handler) ~= "function" then error("workflow.define(name, handler)", 2) end
  workflows[name] = handler
end
--- Registers an activity: handler(ctx, input) → result.
function M.activity(name, handler)
  if type(name) ~= "string" or type(handler) ~= "function" then error("workflow.activity(name, handler)", 2) end
  activities[name] = handler
end

function M.start(opts)
  return call("start", "POST", "/workflows", {
    workflow_type = opts.workflow_type,
    workflow_id = opts.workflow_id,
    input = opts.input,
    task_queue = opts.task_queue or "default",
    namespace = opts.namespace or default_namespace,
    search_attributes = opts.search_attributes,
  }, 201)
end

function M.signal(workflow_id, signal_name, payload)
  call("signal", "POST", "/workflows/" .. id(workflow_id) .. "/signal/" .. id(signal_name), { payload = payload })
end

function M.describe(workflow_id) return call("describe", "GET", "/workflows/" .. id(workflow_id)) end
function M.cancel(workflow_id) call("cancel", "POST", "/workflows/" .. id(workflow_id) .. "/cancel", {}) end

function M.terminate(workflow_id, reason)
  call("terminate", "POST", "/workflows/" .. id(workflow_id) .. "/terminate", { reason = reason })
end

function M.list(opts)
  opts = opts or {}
  return call("list", "GET", "/workflows" .. query({
    { "namespace", opts.namespace or default_namespace }, { "status", opts.status }, { "type", opts.type },
    { "search_attrs", opts.search_attrs and json.encode(opts.search_attrs) },
    { "limit", opts.limit }, { "offset", opts.offset },
  }))
end

function M.get_events(workflow_id) return call("get_events", "GET", "/workflows/" .. id(workflow_id) .. "/events") end

function M.get_state(workflow_id, name)
  local path = "/workflows/" .. id(workflow_id) .. "/state" .. (name and ("/" .. id(name)) or "")
  local resp = M._api("GET", path)
  if resp.status == 404 then return nil end
  if resp.status ~= 200 then error("workflow.get_state failed: " .. tostring(resp.body), 2) end
  return json.parse(resp.body)
end

function M.list_children(workflow_id) return call("list_children", "GET", "/workflows/" .. id(workflow_id) .. "/children") end

function M.continue_as_new(workflow_id, input)
  return call("continue_as_new", "POST", "/workflows/" .. id(workflow_id) .. "/continue-as-new", { input = input }, 201)
end

local function ns_query(opts) return query({ { "namespace", (opts or {}).namespace or default_namespace } }) end

M.schedules = {}
function M.schedules.create(opts)
  if not opts or not opts.name or not opts.workflow_type or not opts.cron_expr then
    error("workflow.schedules.create: name, workflow_type, cron_expr required", 2)
  end
  return call("schedules.create", "POST", "/schedules", opts, 201)
end
function M.schedules.list(opts) return call("schedules.list", "GET", "/schedules" .. ns_query(opts)) end
function M.schedules.describe(name, opts)
  local resp = M._api("GET", "/schedules/" .. id(name) .. ns_query(opts))
  if resp.status == 404 then return nil end
  if resp.status ~= 200 then error("workflow.schedules.describe failed: " .. tostring(resp.body), 2) end
  return json.parse(resp.body)
end
function M.schedules.patch(name, patch, opts) return call("schedules.patch", "PATCH", "/schedules/" .. id(name) .. ns_query(opts), patch) end
function M.schedules.pause(name, opts) return call("schedules.pause", "POST", "/schedules/" .. id(name) .. "/pause" .. ns_query(opts), {}) end
function M.schedules.resume(name, opts) return call("schedules.resume", "POST", "/schedules/" .. id(name) .. "/resume" .. ns_query(opts), {}) end
function M.schedules.delete(name, opts) call("schedules.delete", "DELETE", "/schedules/" .. id(name) .. ns_query(opts)) end

M.namespaces = {}
function M.namespaces.create(name) return call("namespaces.create", "POST", "/namespaces", { name = name }, 201) end
function M.namespaces.list() return call("namespaces.list", "GET", "/namespaces") end
function M.namespaces.stats(name) return call("namespaces.stats", "GET", "/namespaces/" .. id(name)) end
M.namespaces.describe = M.namespaces.stats
function M.namespaces.delete(name) call("namespaces.delete", "DELETE", "/namespaces/" .. id(name)) end

M.workers = {}
function M.workers.list(opts) return call("workers.list", "GET", "/workers" .. ns_query(opts)) end

M.queues = {}
function M.queues.stats(opts) return call("queues.stats", "GET", "/queues" .. ns_query(opts)) end

-- ── Worker ───────────────────────────────────────────────────────────────────────────────────
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

local function error_text(e)
  if type(e) == "table" then
    if e.message ~= nil then return tostring(e.message) end
    local ok, s = pcall(json.encode, e)
    if ok then return s end
  end
  return tostring(e)
end

-- Runs one workflow task; returns the command list to submit.
-- `extend` is called from ctx calls so long replays keep their lease.
function M._replay(task, handler, extend)
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
             input = opts.input, task_queue = opts.task_queue or queue })
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

-- ── The worker loop ──────────────────────────────────────────────────────────────────────────

local worker = nil -- the running worker's state (one listen per process)

local function log_outage(w, ok, problem)
  if ok then
    if w.outage_since then
      log.info("assay.workflow: engine reachable again", { after_secs = math.floor((time() - w.outage_since) * 10 + 0.5) / 10 })
      w.outage_since = nil
    end
  elseif not w.outage_since then
    w.outage_since = time()
    log.warn("assay.workflow: engine unreachable, retrying with backoff", { url = engine_url, error = problem })
  end
end

-- The outcome of a pcall'ed request; nil when the engine could not be reached (or answered 5xx).
local function settle(w, ok, resp)
  if ok and resp.status < 500 then log_outage(w, true); return resp end
  log_outage(w, false, ok and ("HTTP " .. tostring(resp.status)) or tostring(resp))
  return nil
end

local function request(w, method, path, body, timeout)
  return settle(w, pcall(M._api, method, path, body, timeout))
end

local function backoff(w, attempt)
  local d = math.min(w.max_backoff, 0.1 * 2 ^ math.min(attempt, 10))
  sleep(d * (0.75 + math.random() * 0.5))
end

local function register(w)
  local attempt = 0
  while true do
    local resp = request(w, "POST", "/workers/register", {
      identity = w.identity, queue = w.queue, namespace = w.namespace,
      workflows = json.array(w.workflow_names), activities = json.array(w.activity_names),
      max_concurrent_workflows = w.max_wf, max_concurrent_activities = w.max_act,
    })
    if resp and resp.status == 200 then
      w.worker_id = json.parse(resp.body).worker_id
      return
    elseif resp then
      error("workflow.listen: registration failed: HTTP " .. resp.status .. " " .. tostring(resp.body), 0)
    end
    attempt = attempt + 1
    backoff(w, attempt)
  end
end

-- Re-registers after the engine forgot us (404); several loops may notice at once.
local function reregister(w, stale_id)
  if w.worker_id ~= stale_id then return end
  if w.registering then
    while w.registering do sleep(0.05) end
    return
  end
  w.registering = true
  local ok, err = pcall(register, w)
  w.registering = false
  if not ok then error(err, 0) end
  log.info("assay.workflow: registered again", { worker_id = w.worker_id })
end

-- Sends a report until the engine answers (not 5xx) or `give_up_at` passes.
local function deliver(w, path, body, give_up_at)
  local attempt = 0
  while true do
    local resp = request(w, "POST", path, body)
    if resp then return resp end
    if give_up_at and time() > give_up_at then return nil end
    attempt = attempt + 1
    backoff(w, attempt)
  end
end

local run_task -- (w, kind, task): runs a claimed task as its own coroutine; defined below

-- ── Handing tasks back ───────────────────────────────────────────────────────────────────────
-- A stopping worker, or one that does not define a task's type, never runs (or fails) the task: it
-- releases it untouched, so another worker takes it at once. Several workers with different types can
-- share a queue: a task of a type this worker lacks goes back with a backoff that keeps it from this
-- worker only (growing per type to `max_unhandled_backoff_secs`), so a queue nobody serves does not spin.

local function task_type(kind, task)
  if kind == "workflow" then return tostring(task.workflow_type) end
  return tostring(task.name)
end

-- Seconds this worker leaves a task of an unknown type alone: 0.5, 1, 2, … up to the cap.
local function unhandled_backoff(w, kind, name)
  local key = kind .. "\0" .. name
  local n = (w.unhandled[key] or 0) + 1
  w.unhandled[key] = n
  if n == 1 then
    log.warn("assay.workflow: this worker does not define " .. kind .. " type '" .. name ..
      "'; handing such tasks back for a worker that does", { queue = w.queue, worker_id = w.worker_id })
  end
  return math.min(w.max_unhandled_backoff, 0.5 * 2 ^ math.min(n - 1, 16))
end

local function hand_back(w, kind, task, reason)
  local path, body
  if kind == "workflow" then
    path = "/workflow-tasks/" .. encode_component(task.workflow_id) .. "/release"
    body = { worker_id = w.worker_id, lease_token = task.lease_token, reason = reason }
  else
    path = "/tasks/" .. encode_component(task.id) .. "/release"
    body = { worker_id = w.worker_id, attempt = task.attempt, lease_token = task.lease_token, reason = reason }
  end
  if reason == "unhandled_type" then body.backoff_secs = unhandled_backoff(w, kind, task_type(kind, task)) end
  local resp = deliver(w, path, body, time() + 15)
  if resp and resp.status == 200 then
    log.debug("assay.workflow: " .. kind .. " task handed back", { type = task_type(kind, task), reason = reason })
  elseif resp and (resp.status == 404 or resp.status == 405) and not w.release_missing_logged
      and tostring(resp.body):find("no route", 1, true) then
    -- An engine without the release endpoint: the task goes back to the queue when its lease lapses.
    w.release_missing_logged = true
    log.warn("assay.workflow: the engine cannot take tasks back (no release endpoint); they return when their lease lapses")
  elseif resp then
    log.warn("assay.workflow: hand-back refused", { status = resp.status, body = resp.body })
  end
end

-- Eager dispatch: free activity slots are reserved before a command batch goes out, and the engine
-- hands back (up to that many) activities the batch schedules on this queue, sparing a poll each.
local function reserve_eager_slots(w)
  if not w.eager or w.stopping or next(activities) == nil then return 0 end
  local n = math.max(0, math.min(64, w.max_act - w.running.activity))
  w.running.activity = w.running.activity + n
  return n
end

-- Runs the activities the batch's answer hands over, each on one reserved slot; frees the rest.
local function run_eager_activities(w, reserved, resp)
  local started = 0
  if reserved > 0 and resp and resp.status == 200 then
    local ok, b = pcall(json.parse, resp.body)
    for _, a in ipairs(ok and type(b) == "table" and type(b.activity_tasks) == "table" and b.activity_tasks or {}) do
      if started < reserved and type(a) == "table" and a.id then
        started = started + 1
        log.debug("assay.workflow: activity taken eagerly", { activity_id = a.id, name = a.name })
        run_task(w, "activity", a)
      end
    end
  end
  w.running.activity = w.running.activity - (reserved - started)
end

local function handle_workflow_task(w, task)
  local handler = workflows[task.workflow_type]
  local lease_ttl = math.max(2, (task.lease_expires_at or (time() + 30)) - time())
  local expires = time() + lease_ttl
  local last_extend = time()
  local function extend(force)
    local now = time()
    if not force and now - last_extend < lease_ttl / 3 then return end
    last_extend = now
    local resp = request(w, "POST", "/workflow-tasks/" .. encode_component(task.workflow_id) .. "/heartbeat",
      { worker_id = w.worker_id, lease_token = task.lease_token })
    if resp and resp.status == 200 then
      local b = json.parse(resp.body)
      if b and b.lease_expires_at then expires = b.lease_expires_at; lease_ttl = math.max(2, expires - time()) end
    end
  end
  if not handler then return hand_back(w, "workflow", task, "unhandled_type") end
  -- ctx calls extend the lease as a long replay goes; this keeper covers code that waits
  -- inside one call (a slow side effect)
  local keeper = async.spawn(function()
    while true do
      sleep(lease_ttl / 3)
      extend(true)
    end
  end)
  local rok, commands = pcall(M._replay, task, handler, extend)
  keeper.cancel()
  if not rok then error(commands, 0) end
  local eager = reserve_eager_slots(w)
  local body = { worker_id = w.worker_id, lease_token = task.lease_token, commands = commands }
  if eager > 0 then body.eager_activities = eager end
  local ok, resp = pcall(deliver, w, "/workflow-tasks/" .. encode_component(task.workflow_id) .. "/commands", body, expires)
  run_eager_activities(w, eager, ok and resp)
  if not ok then error(resp, 0) end
  if resp and resp.status ~= 200 then
    log.warn("assay.workflow: commands refused", { workflow_id = task.workflow_id, status = resp.status, body = resp.body })
  end
end

local function make_activity_ctx(w, task)
  local ctx = { activity_id = task.id, workflow_id = task.workflow_id, name = task.name, attempt = task.attempt }
  local cancelled, last_check = false, time()
  local function base() return "/tasks/" .. encode_component(task.id) end
  --- Records a heartbeat (details: any JSON). Returns true when the activity should stop.
  function ctx:heartbeat(details)
    local resp = request(w, "POST", base() .. "/heartbeat",
      { details = details, worker_id = w.worker_id, attempt = task.attempt, lease_token = task.lease_token })
    last_check = time()
    if resp then
      if resp.status == 200 then
        local ok, b = pcall(json.parse, resp.body)
        if ok and type(b) == "table" and b.cancel_requested then cancelled = true end
      elseif resp.status == 404 or resp.status == 409 then
        cancelled = true -- gone, or this attempt was superseded
      end
    end
    return cancelled
  end
  --- True once the workflow was cancelled or finished, or this attempt timed out.
  function ctx:is_cancelled()
    if cancelled or time() - last_check < 1 then return cancelled end
    last_check = time()
    local resp = request(w, "GET", "/activities/" .. encode_component(task.id))
    if resp and resp.status == 200 then
      local ok, a = pcall(json.parse, resp.body)
      if ok and type(a) == "table" and (a.status ~= "RUNNING" or (a.attempt and task.attempt and a.attempt ~= task.attempt)) then
        cancelled = true
      end
    elseif resp and resp.status == 404 then
      cancelled = true
    end
    return cancelled
  end
  return ctx
end

local function handle_activity_task(w, task)
  local handler = activities[task.name]
  if not handler then return hand_back(w, "activity", task, "unhandled_type") end
  local input = task.input
  if type(input) == "string" then
    local pok, v = pcall(json.parse, input)
    if pok then input = v end
  end
  local ok, result = pcall(handler, make_activity_ctx(w, task), input)
  local path = "/tasks/" .. encode_component(task.id)
  local resp
  if ok then
    resp = deliver(w, path .. "/complete",
      { result = result, worker_id = w.worker_id, attempt = task.attempt, lease_token = task.lease_token })
  else
    local body = { error = error_text(result), worker_id = w.worker_id, attempt = task.attempt, lease_token = task.lease_token }
    if type(result) == "table" then body.non_retryable = result.non_retryable; body.error_type = result.error_type end
    resp = deliver(w, path .. "/fail", body)
  end
  if resp and resp.status == 409 then
    log.debug("assay.workflow: activity report refused (cancelled, or the attempt was superseded)",
      { activity_id = task.id, body = resp.body })
  elseif resp and resp.status ~= 200 then
    log.warn("assay.workflow: activity report refused", { activity_id = task.id, status = resp.status, body = resp.body })
  end
end

-- The task holds one of its kind's slots (taken by the caller) until it has finished. A task that
-- reaches a stopping worker (a poll answered as it stopped, activities handed over eagerly) goes back.
local function handle_task(w, kind, task)
  if w.stopping then return hand_back(w, kind, task, "shutdown") end
  if kind == "workflow" then return handle_workflow_task(w, task) end
  return handle_activity_task(w, task)
end

run_task = function(w, kind, task)
  w.active[kind] = w.active[kind] + 1
  async.spawn(function()
    local ok, err = pcall(handle_task, w, kind, task)
    w.running[kind] = w.running[kind] - 1
    w.active[kind] = w.active[kind] - 1
    if not ok then log.error("assay.workflow: " .. kind .. " task failed in the worker", { error = tostring(err) }) end
  end)
end

local function task_of(kind, resp)
  if not (resp and resp.status == 200) then return nil end
  local ok, b = pcall(json.parse, resp.body)
  if not (ok and type(b) == "table") then return nil end
  if kind == "workflow" and b.workflow_id then return b end
  if kind == "activity" and b.id then return b end
  return nil
end

-- One long-poll. stop() interrupts it (`poller.phase`): the request is aborted, so the engine ends the
-- poll (and releases a task it claimed just as the client went away); an answer that already
-- arrived is still read here, and its task handed back by run_task.
local function poll(w, kind, poller, wid)
  local path = kind == "workflow" and "/workflow-tasks/poll" or "/tasks/poll"
  poller.phase = "poll"
  -- require_lease_token: reports on what we claim are refused without the claim's lease token,
  -- so no other client can complete or extend our tasks (docs/engine.md "Lease tokens")
  local ok, resp = pcall(M._api, "POST", path,
    { queue = w.queue, worker_id = wid, wait_secs = w.poll_wait, require_lease_token = true }, w.poll_wait + 15)
  poller.phase = nil
  if w.stopping then return ok and resp or nil end -- interrupted, or answered as the worker stopped
  return settle(w, ok, resp)
end

-- One poll loop: claims a slot, long-polls, runs the task as its own coroutine.
local function poll_loop(w, kind, poller)
  local limit = kind == "workflow" and w.max_wf or w.max_act
  local attempt = 0
  while not w.stopping do
    if w.running[kind] >= limit then
      sleep(0.005)
    else
      local wid = w.worker_id
      w.running[kind] = w.running[kind] + 1
      local resp = poll(w, kind, poller, wid)
      local task = task_of(kind, resp)
      if task then
        attempt = 0
        run_task(w, kind, task) -- the slot passes to the task
      else
        w.running[kind] = w.running[kind] - 1
        if resp and resp.status == 200 then
          attempt = 0
        elseif resp and resp.status == 404 then
          reregister(w, wid)
        elseif not w.stopping then
          attempt = attempt + 1
          if resp then log.warn("assay.workflow: poll refused", { status = resp.status, body = resp.body }) end
          poller.phase = "backoff"
          backoff(w, attempt)
          poller.phase = nil
        end
      end
    end
  end
end

local function heartbeat_loop(w)
  local next_at = time() + w.heartbeat_secs
  while not w.stopping do
    sleep(math.min(0.25, math.max(0, next_at - time())))
    if time() >= next_at then
      local wid = w.worker_id
      local resp = request(w, "POST", "/workers/heartbeat", { worker_id = wid })
      if resp and resp.status == 404 then reregister(w, wid) end
      next_at = time() + w.heartbeat_secs
    end
  end
end

--- Stops the running worker gracefully (what SIGTERM does): outstanding polls are cancelled at once,
--- no new tasks are taken (one that still arrives is handed back to the engine), running ones finish.
function M.stop()
  local w = worker
  if w and not w.stopping then
    w.stopping = true
    log.info("assay.workflow: stopping: finishing running tasks, taking no new ones",
      { workflows = w.active.workflow, activities = w.active.activity })
    for _, p in ipairs(w.pollers) do
      if p.phase == "poll" then p.handle.interrupt() -- the poll's request is aborted; the loop ends
      elseif p.phase == "backoff" then p.handle.cancel() end -- holds nothing: no need to wait it out
    end
  end
end

--- Runs a worker: registers, long-polls workflow and activity tasks and runs them until stopped
--- (SIGTERM or workflow.stop()). Returns once every running task has finished.
--- @param opts table { queue?, identity?, namespace?, max_concurrent_workflows?, max_concurrent_activities?,
---   poll_wait_secs?, pollers?, max_backoff_secs?, max_unhandled_backoff_secs? (default 30: longest a task of a
---   type this worker lacks is left to other workers before it is looked at again), eager_activities? (default true: command batches
---   take the activities they schedule on this queue straight back, see docs/engine.md) }
function M.listen(opts)
  if not engine_url then error("workflow.listen: call workflow.connect() first", 2) end
  if worker then error("workflow.listen: this process already runs a worker", 2) end
  opts = opts or {}
  local w = {
    queue = opts.queue or "default",
    namespace = opts.namespace or default_namespace or "main",
    identity = opts.identity or ("assay-worker-" .. ((os.hostname and os.hostname()) or "unknown")),
    max_wf = math.max(1, math.floor(opts.max_concurrent_workflows or 10)),
    max_act = math.max(1, math.floor(opts.max_concurrent_activities or 20)),
    poll_wait = math.max(0, math.min(30, opts.poll_wait_secs or 5)),
    max_backoff = opts.max_backoff_secs or 5,
    heartbeat_secs = opts.heartbeat_secs or 15,
    eager = opts.eager_activities ~= false,
    max_unhandled_backoff = math.max(0.5, math.min(300, opts.max_unhandled_backoff_secs or 30)),
    unhandled = {},                             -- kind\0type → times a task of it was handed back
    pollers = {},                               -- { handle, phase = "poll" | "backoff" | nil }
    running = { workflow = 0, activity = 0 }, -- slots taken (polls in flight and tasks)
    active = { workflow = 0, activity = 0 },  -- tasks being run
    workflow_names = {}, activity_names = {},
  }
  for name in pairs(workflows) do w.workflow_names[#w.workflow_names + 1] = name end
  for name in pairs(activities) do w.activity_names[#w.activity_names + 1] = name end
  table.sort(w.workflow_names); table.sort(w.activity_names)
  worker = w
  register(w)
  log.info("assay.workflow: worker " .. w.worker_id .. " listening on queue '" .. w.queue .. "'",
    { namespace = w.namespace, identity = w.identity })
  if os.on_signal then
    os.on_signal("TERM", function() M.stop() end)
  end
  local loops = { async.spawn(heartbeat_loop, w) }
  local function start_pollers(kind, n)
    for _ = 1, n do
      local p = {}
      p.handle = async.spawn(poll_loop, w, kind, p)
      w.pollers[#w.pollers + 1] = p
      loops[#loops + 1] = p.handle
    end
  end
  local pollers = opts.pollers or 2
  if #w.workflow_names > 0 then start_pollers("workflow", math.min(pollers, w.max_wf)) end
  if #w.activity_names > 0 then start_pollers("activity", math.min(pollers, w.max_act)) end
  for _, h in ipairs(loops) do pcall(h.await) end -- a poll loop stop() cancelled ends without results
  while w.running.workflow + w.running.activity > 0 do sleep(0.02) end
  if os.on_signal then os.on_signal("TERM", nil) end
  worker = nil
  log.info("assay.workflow: worker stopped", { worker_id = w.worker_id })
end

return M
