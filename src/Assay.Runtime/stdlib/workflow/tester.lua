--- @internal part of assay.workflow: the replay tester (load_worker, load_history, replay; `assay workflow replay`)
-- Replays a recorded history against workflow code with the worker's own replay engine (replay.lua,
-- in its `dry` mode: no activity, side effect or child runs), and reports the first non-determinism:
-- the event, the command the code produced instead, and the file:line of the call.
local common = require("assay.workflow.common")
local replay = require("assay.workflow.replay")
local conn, workflows, activities, error_text = common.connection, common.workflows, common.activities, common.error_text

local M = {}

-- The events that close a run, and how the code ends it. A terminated run was closed from outside:
-- its code may have been anywhere, so only its steps are compared.
local TERMINAL = {
  WorkflowCompleted = "completed", WorkflowFailed = "failed", WorkflowCancelled = "cancelled",
  WorkflowContinuedAsNew = "continued", WorkflowTerminated = "terminated",
}
local ENDING = {
  completed = { "completed the workflow", "CompleteWorkflow" }, continued = { "continued as new", "ContinueAsNew" },
  cancelled = { "cancelled the workflow", "CancelWorkflow" },
}

local function copy(t) local c = {} for k, v in pairs(t) do c[k] = v end return c end
local function replace(t, with)
  for k in pairs(t) do t[k] = nil end
  for k, v in pairs(with) do t[k] = v end
end

--- Runs a worker script for its definitions only: while it loads, workflow.connect does not contact
--- the engine and workflow.listen returns at once, so the script's definitions are registered and no
--- worker runs. Definitions of the same name replace earlier ones; the caller's connection is kept.
--- Returns { workflows = {name → fn}, activities = {name → fn} }: what the script defined.
function M.load_worker(path)
  if type(path) ~= "string" or path == "" then error("workflow.load_worker: path must be a non-empty string", 2) end
  local chunk, err = loadfile(path)
  if not chunk then error("workflow.load_worker: " .. tostring(err), 2) end
  local saved = { conn = copy(conn), workflows = copy(workflows), activities = copy(activities) }
  replace(workflows, {}); replace(activities, {})
  common.definitions_only = true
  local ok, e = pcall(chunk)
  common.definitions_only = false
  local defined = { workflows = copy(workflows), activities = copy(activities) }
  replace(conn, saved.conn)
  replace(workflows, saved.workflows); replace(activities, saved.activities)
  for k, v in pairs(defined.workflows) do workflows[k] = v end
  for k, v in pairs(defined.activities) do activities[k] = v end
  if not ok then error("workflow.load_worker: " .. path .. ": " .. error_text(e), 2) end
  return defined
end

-- A history is the events endpoint's list: {seq, event_type, payload, timestamp, …} in seq order.
local function check_history(h, fname, what)
  local problem
  if type(h) ~= "table" or #h == 0 then problem = "is not a non-empty list of events"
  else
    for i, ev in ipairs(h) do
      if type(ev) ~= "table" or type(ev.event_type) ~= "string" or math.type(ev.seq) ~= "integer" then
        problem = "item " .. i .. " is not an event (an object with seq and event_type)"
        break
      end
    end
  end
  if problem then
    error(string.format("%s: %s %s (expected the output of `assay workflow events ID -o json` or workflow.get_events)",
      fname, what, problem), 3)
  end
  return h
end

local function parse_history(text, fname, what)
  local ok, v = pcall(json.parse, text)
  if not ok then error(string.format("%s: %s is not valid JSON: %s", fname, what, error_text(v)), 3) end
  return check_history(v, fname, what)
end

--- Reads a history file written by `assay workflow events ID -o json` (or json.encode(workflow.get_events(id))).
function M.load_history(path)
  if type(path) ~= "string" then error("workflow.load_history: path must be a string", 2) end
  local f, err = io.open(path, "r")
  if not f then error("workflow.load_history: cannot read " .. tostring(err), 2) end
  local text = f:read("a")
  f:close()
  return parse_history(text, "workflow.load_history", path)
end

-- The handler to replay: opts.handler, else the registered workflows[opts.workflow_type], else the
-- only registered workflow. Raises (at the caller's caller) when that cannot be decided.
local function resolve_handler(opts, level)
  if opts.handler ~= nil then
    if type(opts.handler) ~= "function" then error("workflow.replay: opts.handler must be a function", level) end
    return opts.handler, opts.workflow_type
  end
  local wtype, defined = opts.workflow_type, {}
  for name in pairs(workflows) do defined[#defined + 1] = name end
  table.sort(defined) -- for the messages
  local hint = #defined > 0 and (" (defined: " .. table.concat(defined, ", ") .. ")")
    or " (no workflow is defined: load the worker with workflow.load_worker(path) first)"
  if wtype == nil then
    if #defined ~= 1 then error("workflow.replay: a history does not name its workflow type: pass opts.workflow_type" .. hint, level) end
    wtype = defined[1]
  end
  if type(wtype) ~= "string" or not workflows[wtype] then
    error("workflow.replay: workflow type '" .. tostring(wtype) .. "' is not defined" .. hint, level)
  end
  return workflows[wtype], wtype
end

-- A run the code ended (not terminated) must end the same way on replay, without asking for more.
local function check_ending(history, r, report)
  local last
  for i = #history, 1, -1 do
    if TERMINAL[history[i].event_type] then last = history[i] break end
  end
  local kind = last and TERMINAL[last.event_type]
  if not kind or kind == "terminated" or kind == r.outcome then return end
  local code_text, command, position
  if r.outcome == "blocked" then
    if r.pending then
      code_text, command, position = "goes on: it asks for " .. r.pending.command, r.pending.command, r.pending.position
    else
      code_text, command, position = "still waits", "nothing (it waits)", r.waiting_at
    end
  elseif r.outcome == "failed" then
    code_text, command = "failed (" .. tostring(r.error) .. ")", "FailWorkflow"
  else
    code_text, command = ENDING[r.outcome][1], ENDING[r.outcome][2]
  end
  report.ok = false
  report.step, report.event, report.history, report.command, report.position = r.steps + 1, last, last.event_type, command, position
  report.message = string.format("non-determinism after step %d: history ends with %s (event %d), but the code %s%s",
    r.steps, last.event_type, last.seq, code_text, position and (" at " .. position) or "")
end

--- Replays a recorded history against workflow code without running activities, side effects or
--- children. history: a list of events (workflow.get_events, workflow.load_history) or its JSON text.
--- opts: workflow_type (default: the only defined workflow), handler (a workflow function instead of a
--- defined type), run_id (seeds ctx:random/uuid as on the worker), workflow_id, input (default: the
--- WorkflowStarted payload). Returns { ok, message?, step?, event?, history?, command?, position?,
--- outcome, workflow_id, workflow_type, events, notes }.
function M.replay(history, opts)
  if type(history) == "string" then history = parse_history(history, "workflow.replay", "the history")
  else check_history(history, "workflow.replay", "the history") end
  if opts ~= nil and type(opts) ~= "table" then error("workflow.replay: opts must be a table", 2) end
  opts = opts or {}
  local handler, wtype = resolve_handler(opts, 3)
  local first = history[1]
  local input = opts.input
  if input == nil and first.event_type == "WorkflowStarted" then input = replay.decoded(first.payload) end
  local task = {
    workflow_id = opts.workflow_id or first.workflow_id, run_id = opts.run_id, workflow_type = wtype,
    namespace = opts.namespace, task_queue = opts.task_queue, input = input, history = history,
  }
  local r = replay.run(task, handler, { dry = true })
  local report = {
    ok = true, outcome = r.outcome, workflow_id = task.workflow_id, workflow_type = wtype,
    events = #history, notes = json.array(r.notes),
  }
  local nd = r.nondet
  if nd then
    report.ok, report.message, report.step, report.event = false, nd.message, nd.step, nd.event
    report.history, report.command, report.position = nd.history, nd.command, nd.position
  else
    check_ending(history, r, report)
  end
  return report
end

-- ── `assay workflow replay` ───────────────────────────────────────────────────────────────────
-- The CLI checks its arguments, reads the history (file or engine) and hands over here. Returns
-- the exit code: 0 clean, 1 non-determinism or a script that fails to load, 2 usage.

local function print_report(r, script, format)
  if format == "json" then print(json.encode(r)) return end
  local what = string.format("%s (%s, %d events)", tostring(r.workflow_id), tostring(r.workflow_type), r.events)
  if r.ok then
    print(string.format("replayed %s against %s: no non-determinism (the code %s)", what, script, r.outcome))
  else
    print(string.format("non-determinism in %s replayed against %s", what, script))
    print("  " .. r.message)
    if r.event then
      print(string.format("  event:    %d %s", r.event.seq, tostring(r.event.event_type)))
    end
    print("  history:  " .. tostring(r.history))
    print("  code:     " .. tostring(r.command))
    print("  at:       " .. tostring(r.position or "?"))
  end
  for _, n in ipairs(r.notes) do print("  note: " .. n) end
end

function M._cli(script, history_text, format, wtype, run_id, workflow_id)
  local function fail(code, msg) io.stderr:write("error: " .. msg .. "\n") return code end
  local lok, lerr = pcall(M.load_worker, script)
  if not lok then return fail(1, error_text(lerr)) end
  local opts = { workflow_type = wtype ~= "" and wtype or nil, run_id = run_id ~= "" and run_id or nil,
                 workflow_id = workflow_id ~= "" and workflow_id or nil }
  local hok, herr = pcall(resolve_handler, opts, 2)
  if not hok then return fail(2, (error_text(herr):gsub("opts%.workflow_type", "--type"))) end
  local ok, r = pcall(M.replay, history_text, opts)
  if not ok then return fail(2, error_text(r)) end
  print_report(r, script, format)
  return r.ok and 0 or 1
end

return M
