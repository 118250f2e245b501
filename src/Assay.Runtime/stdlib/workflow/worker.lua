--- @internal part of assay.workflow: the worker (listen, stop): runs the handlers workflow.define/activity registered
local common = require("assay.workflow.common")
local client = require("assay.workflow.client")
local replay = require("assay.workflow.replay")
local conn, workflows, activities = common.connection, common.workflows, common.activities
local encode_component, error_text = common.encode_component, common.error_text

local M = {}

-- ── The worker loop ──────────────────────────────────────────────────────────────────────────

local worker = nil -- the running worker's state (one listen per process)

-- An outage starts with the first failed request and ends with the first success of a request
-- sent after it started: a long poll answered just before the engine went down is no recovery.
local function log_outage(w, ok, problem, sent_at)
  if ok then
    if w.outage_since and sent_at > w.outage_since then
      log.info("assay.workflow: engine reachable again", { after_secs = math.floor((time() - w.outage_since) * 10 + 0.5) / 10 })
      w.outage_since = nil
    end
  elseif not w.outage_since then
    w.outage_since = time()
    log.warn("assay.workflow: engine unreachable, retrying with backoff", { url = conn.url, error = problem })
  end
end

-- The outcome of a pcall'ed request sent at `sent_at`; nil when the engine could not be reached (or answered 5xx).
local function settle(w, sent_at, ok, resp)
  if ok and resp.status < 500 then log_outage(w, true, nil, sent_at); return resp end
  log_outage(w, false, ok and ("HTTP " .. tostring(resp.status)) or tostring(resp))
  return nil
end

local function request(w, method, path, body, timeout)
  return settle(w, time(), pcall(client._api, method, path, body, timeout))
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
-- releases it untouched, so another worker takes it at once. Polls list this worker's types, so the
-- engine does not offer it others (type-aware dispatch); a task of a type it lacks still arrives from an
-- engine without type-aware dispatch, or past MAX_POLL_TYPES: it goes back with a backoff that keeps it
-- from this worker only (growing per type to `max_unhandled_backoff_secs`), so such a queue does not spin.

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

-- The table `field` of a 200 answer's JSON body (what the engine handed over), or nil.
local function handed_over(resp, field)
  if not (resp and resp.status == 200) then return nil end
  local ok, b = pcall(json.parse, resp.body)
  local v = ok and type(b) == "table" and b[field]
  return type(v) == "table" and v or nil
end

-- Runs the activities the batch's answer hands over, each on one reserved slot; frees the rest.
local function run_eager_activities(w, reserved, resp)
  local started = 0
  for _, a in ipairs(reserved > 0 and handed_over(resp, "activity_tasks") or {}) do
    if started < reserved and type(a) == "table" and a.id then
      started = started + 1
      log.debug("assay.workflow: activity taken eagerly", { activity_id = a.id, name = a.name })
      run_task(w, "activity", a)
    end
  end
  w.running.activity = w.running.activity - (reserved - started)
end

-- Eager workflow task: with a free workflow slot, an activity report asks for the workflow task its
-- outcome creates; the engine claims it for this worker and answers it, sparing the replay a poll.
local function reserve_workflow_slot(w)
  if not w.eager_workflow or w.stopping or w.running.workflow >= w.max_wf then return false end
  w.running.workflow = w.running.workflow + 1
  return true
end

-- Runs the workflow task the report's answer hands over on the reserved slot, or frees the slot.
local function run_eager_workflow_task(w, reserved, resp)
  if not reserved then return end
  local task = handed_over(resp, "workflow_task")
  if task and task.workflow_id then
    log.debug("assay.workflow: workflow task taken eagerly", { workflow_id = task.workflow_id })
    return run_task(w, "workflow", task) -- the slot passes to the task
  end
  w.running.workflow = w.running.workflow - 1
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
  local rok, commands = pcall(replay.task, task, handler, extend)
  keeper.cancel()
  if not rok then error(commands, 0) end
  local eager = reserve_eager_slots(w)
  local body = { worker_id = w.worker_id, lease_token = task.lease_token, commands = commands }
  if eager > 0 then body.eager_activities = eager; body.activity_types = w.advertised.activity end
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
  local body
  if ok then
    path = path .. "/complete"
    body = { result = result, worker_id = w.worker_id, attempt = task.attempt, lease_token = task.lease_token }
  else
    path = path .. "/fail"
    body = { error = error_text(result), worker_id = w.worker_id, attempt = task.attempt, lease_token = task.lease_token }
    if type(result) == "table" then body.non_retryable = result.non_retryable; body.error_type = result.error_type end
  end
  local eager = reserve_workflow_slot(w)
  if eager then body.eager_workflow_task = true; body.workflow_types = w.advertised.workflow end
  local dok, resp = pcall(deliver, w, path, body)
  run_eager_workflow_task(w, eager, dok and resp)
  if not dok then error(resp, 0) end
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

-- The type list polls send (type-aware dispatch, docs/engine.md): the engine then offers only these
-- types. Past the engine's limit per poll the worker takes any type and hands back what it lacks.
local MAX_POLL_TYPES = 100
local function advertised(names)
  if #names == 0 or #names > MAX_POLL_TYPES then return nil end
  return json.array(names)
end

-- One long-poll. stop() interrupts it (`poller.phase`): the request is aborted, so the engine ends the
-- poll (and releases a task it claimed just as the client went away); an answer that already
-- arrived is still read here, and its task handed back by run_task.
local function poll(w, kind, poller, wid)
  local path = kind == "workflow" and "/workflow-tasks/poll" or "/tasks/poll"
  poller.phase = "poll"
  -- require_lease_token: reports on what we claim are refused without the claim's lease token,
  -- so no other client can complete or extend our tasks (docs/engine.md "Lease tokens")
  local body = { queue = w.queue, worker_id = wid, wait_secs = w.poll_wait, require_lease_token = true }
  -- type-aware dispatch: the engine offers only the types this worker defines
  body[kind .. "_types"] = w.advertised[kind]
  local sent_at = time()
  local ok, resp = pcall(client._api, "POST", path, body, w.poll_wait + 15)
  poller.phase = nil
  if w.stopping then return ok and resp or nil end -- interrupted, or answered as the worker stopped
  return settle(w, sent_at, ok, resp)
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
--- (SIGTERM or workflow.stop()). Returns once every running task has finished. It advertises the
--- workflow types and activities defined so far (registration and polls), so the engine hands it
--- only those; a type no worker defines waits, shown by describe (no_worker_for_type).
--- @param opts table { queue?, identity?, namespace?, max_concurrent_workflows?, max_concurrent_activities?,
---   poll_wait_secs?, pollers?, max_backoff_secs?, max_unhandled_backoff_secs? (default 30: longest a task of a
---   type this worker lacks is left to other workers before it is looked at again), eager_activities? (default true: command batches
---   take the activities they schedule on this queue straight back, see docs/engine.md), eager_workflow_tasks? (default
---   true: an activity report takes the workflow task its outcome creates straight back, see docs/engine.md) }
---   Returns at once while workflow.load_worker loads the script (replay testing).
function M.listen(opts)
  -- workflow.load_worker runs a script for its definitions: no worker then
  if common.definitions_only then return end
  if not conn.url then error("workflow.listen: call workflow.connect() first", 2) end
  if worker then error("workflow.listen: this process already runs a worker", 2) end
  opts = opts or {}
  local w = {
    queue = opts.queue or "default",
    namespace = opts.namespace or conn.namespace or "main",
    identity = opts.identity or ("assay-worker-" .. ((os.hostname and os.hostname()) or "unknown")),
    max_wf = math.max(1, math.floor(opts.max_concurrent_workflows or 10)),
    max_act = math.max(1, math.floor(opts.max_concurrent_activities or 20)),
    poll_wait = math.max(0, math.min(30, opts.poll_wait_secs or 5)),
    max_backoff = opts.max_backoff_secs or 5,
    heartbeat_secs = opts.heartbeat_secs or 15,
    eager = opts.eager_activities ~= false,
    eager_workflow = opts.eager_workflow_tasks ~= false and next(workflows) ~= nil,
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
  w.advertised = { workflow = advertised(w.workflow_names), activity = advertised(w.activity_names) }
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
