-- Replay testing and versioning through the real binary, a real engine (SQLite, and PostgreSQL when
-- ASSAY_TEST_POSTGRES_URL is set) and real worker processes: `assay workflow replay` (by id and from a
-- history file, exit codes, bad input), workflow.replay/load_worker/load_history (a folder of histories
-- as a deploy guard), and ctx:patched / ctx:deprecate_patch on running and new workflows.
local S = dofile((debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or ".") .. "/workflow_support.lua")
-- absolute: the CLI and the workers run in the test's temporary folder
local FIX = (S.here:sub(1, 1) == "/" and S.here or (S.sh("pwd"):gsub("%s+$", "") .. "/" .. S.here)) .. "/workflow_fixtures/replay/"
local wf = require("assay.workflow")

-- The line of `needle` in a fixture: what a report must name as file:line.
local function line_of(file, needle)
  local n = 0
  for l in io.lines(FIX .. file) do
    n = n + 1
    if l:find(needle, 1, true) then return FIX .. file .. ":" .. n end
  end
  error("no '" .. needle .. "' in " .. file)
end

-- Runs the CLI; returns its output (stdout and stderr) and exit code.
local function cli(env, args)
  local out = env.dir .. "/cli.out"
  local code = tonumber(S.sh(string.format("cd %s && %s %s --engine-url %s > %s 2>&1; echo $?", env.dir, S.bin, args, env.url, out)))
  return S.read(out) or "", code
end

local function replay_cli(env, version, target, extra)
  return cli(env, string.format("workflow replay --script %sorder_%s.lua %s %s", FIX, version, target, extra or ""))
end

local function start_worker(env, version)
  local pid = tonumber(S.sh(string.format(
    "sh -c 'cd %s && exec env ENGINE_URL=%s WF_QUEUE=%s %s %sorder_%s.lua' >> %s/worker-%s.log 2>&1 & echo $!",
    env.dir, env.url, env.queue, S.bin, FIX, version, env.dir, version)))
  env.pids[#env.pids + 1] = pid
  return pid
end

local function marker_events(id)
  local list = {}
  for _, e in ipairs(wf.get_events(id)) do
    if e.event_type == "PatchMarkerRecorded" then list[#list + 1] = json.parse(e.payload) end
  end
  return list
end

local function has_activity(id, name)
  for _, e in ipairs(wf.get_events(id)) do
    if e.event_type == "ActivityScheduled" and json.parse(e.payload).name == name then return true end
  end
  return false
end

local function scenario(env)
  local run = env.run
  local done, open, new, dep = run .. "-done", run .. "-open", run .. "-new", run .. "-dep"
  local function start(id, input) wf.start({ workflow_type = "Order", workflow_id = id, input = input, task_queue = env.queue }) end
  local v1 = start_worker(env, "v1")
  start(done, { amount = 5 })
  start(open, { amount = 7, wait = true })
  assert.eq(json.parse(S.wait_status(wf, done, "COMPLETED", 10).result), { charged = 5 })
  S.wait_for(function() return S.has_event(wf, open, "WorkflowAwaitingSignal") end, 10, "the open order waiting to ship")

  -- a history file written by the CLI itself
  local hdir = env.dir .. "/histories"
  os.execute("mkdir -p " .. hdir)
  local out, code = cli(env, "workflow events " .. done .. " -o json")
  assert.eq(code, 0, out)
  local f = io.open(hdir .. "/done.json", "w"); f:write(out); f:close()
  local done_file = hdir .. "/done.json"

  -- the recorded code replays cleanly; the unversioned change is caught with the event, the command and file:line
  out, code = replay_cli(env, "v1", "--history " .. done_file, "-o table")
  assert.eq(code, 0, out)
  assert.contains(out, "no non-determinism")
  out, code = replay_cli(env, "unsafe", "--history " .. done_file, "-o table")
  assert.eq(code, 1, out)
  assert.contains(out, "non-determinism at step 1")
  assert.contains(out, "history:  ActivityScheduled activity 'charge' (activity seq 1)")
  assert.contains(out, "code:     ScheduleActivity activity 'audit' (activity seq 1)")
  assert.contains(out, "at:       " .. line_of("order_unsafe.lua", "UNVERSIONED"))
  -- JSON (the default when piped): the same report, the event included
  out, code = replay_cli(env, "unsafe", "--history " .. done_file)
  assert.eq(code, 1, out)
  local rep = json.parse(out)
  assert.eq(rep.ok, false)
  assert.eq(rep.step, 1)
  assert.eq(rep.event.event_type, "ActivityScheduled")
  assert.eq(rep.command, "ScheduleActivity activity 'audit' (activity seq 1)")
  assert.eq(rep.position, line_of("order_unsafe.lua", "UNVERSIONED"))
  assert.eq(rep.workflow_id, done)
  -- the same change behind ctx:patched replays both the finished and the running workflow
  out, code = replay_cli(env, "patched", "--history " .. done_file, "-o table")
  assert.eq(code, 0, out)
  out, code = replay_cli(env, "unsafe", open)          -- by id, from the engine
  assert.eq(code, 1, out)
  assert.eq(json.parse(out).position, line_of("order_unsafe.lua", "UNVERSIONED"))
  out, code = replay_cli(env, "patched", open)
  assert.eq(code, 0, out)
  rep = json.parse(out)
  assert.eq(rep.ok, true); assert.eq(rep.outcome, "blocked"); assert.eq(rep.workflow_type, "Order")

  -- deploy the patched worker: the running order finishes on the old branch, a new one takes the new branch
  S.kill(v1, "TERM")
  S.wait_for(function() return not S.alive(v1) end, 10, "the v1 worker to stop")
  start_worker(env, "patched")
  wf.signal(open, "ship")
  assert.eq(json.parse(S.wait_status(wf, open, "COMPLETED", 10).result), { charged = 7, audited = false })
  assert.eq(#marker_events(open), 0)
  assert.is_true(not has_activity(open, "audit"))
  start(new, { amount = 9 })
  assert.eq(json.parse(S.wait_status(wf, new, "COMPLETED", 10).result), { charged = 9, audited = true })
  assert.eq(marker_events(new), { { patch_id = "add-audit", deprecated = false } })
  -- the new run's history: the old code cannot replay it, the patched and the deprecating code can
  out, code = replay_cli(env, "v1", new)
  assert.eq(code, 1, out)
  assert.contains(json.parse(out).message, "history has ActivityScheduled activity 'audit'")
  assert.eq(select(2, replay_cli(env, "patched", new)), 0)
  assert.eq(select(2, replay_cli(env, "deprecated", new)), 0)
  -- deprecate_patch cannot replay a run from before the patch (it would audit first)
  out, code = replay_cli(env, "deprecated", "--history " .. done_file, "-o table")
  assert.eq(code, 1, out)
  assert.contains(out, "at:       " .. line_of("order_deprecated.lua", "DEPRECATED-BRANCH"))
  assert.contains(out, "note: the history went past deprecated patch 'add-audit'")

  -- the deprecating worker records the marker (deprecated) so patched code still replays its runs
  local patched_pid = env.pids[#env.pids]
  S.kill(patched_pid, "TERM")
  S.wait_for(function() return not S.alive(patched_pid) end, 10, "the patched worker to stop")
  start_worker(env, "deprecated")
  start(dep, { amount = 3 })
  assert.eq(json.parse(S.wait_status(wf, dep, "COMPLETED", 10).result), { charged = 3, audited = true })
  assert.eq(marker_events(dep), { { patch_id = "add-audit", deprecated = true } })
  assert.eq(select(2, replay_cli(env, "patched", dep)), 0)

  -- the deploy guard: every history in a folder against the code about to ship (Lua API)
  for _, id in ipairs({ open, new, dep }) do
    local hf = io.open(hdir .. "/" .. id .. ".json", "w"); hf:write(json.encode(wf.get_events(id))); hf:close()
  end
  local defined = wf.load_worker(FIX .. "order_patched.lua") -- listen returned at once: no worker runs
  assert.eq(type(defined.workflows.Order), "function")
  assert.eq(wf.describe(done).status, "COMPLETED") -- the test's own connection is kept
  local files = fs.glob(hdir .. "/*.json")
  assert.eq(#files, 4)
  for _, file in ipairs(files) do
    local r = wf.replay(wf.load_history(file), { workflow_type = "Order" })
    assert.is_true(r.ok, file .. ": " .. tostring(r.message))
  end
  wf.load_worker(FIX .. "order_unsafe.lua")
  local r = wf.replay(wf.load_history(done_file))
  assert.eq(r.ok, false)
  assert.eq(r.position, line_of("order_unsafe.lua", "UNVERSIONED"))
  assert.eq(r.event.seq, 2)

  -- engine errors and bad arguments
  out, code = replay_cli(env, "v1", "no-such-" .. run)
  assert.eq(code, 1, out)
  assert.contains(out, "404")
end

-- Replays that need no engine: how code that ends differently from the history is reported, and bad input.
local function offline_checks(env, history)
  local function charge_only(ctx, input) return { charged = ctx:execute_activity("charge", input).charged } end
  assert.eq(wf.replay(history, { handler = charge_only }).ok, true)
  -- the code completes without asking for the recorded step
  local early = wf.replay(history, { handler = function() return 1 end })
  assert.eq(early.ok, false)
  assert.contains(early.message, "history has ActivityScheduled activity 'charge' (activity seq 1), but the code completed the workflow")
  assert.eq(early.command, "CompleteWorkflow")
  -- the run completed, but the code goes on asking for more
  local more_line = debug.getinfo(1, "l").currentline + 3
  local more = wf.replay(history, { handler = function(ctx, input)
    ctx:execute_activity("charge", input)
    ctx:execute_activity("extra", input)
  end })
  assert.eq(more.ok, false)
  assert.contains(more.message, "history ends with WorkflowCompleted")
  assert.eq(more.command, "ScheduleActivity activity 'extra' (activity seq 2)")
  assert.matches(more.position, "workflow_replay_test%.lua:" .. more_line .. "$")
  -- a side effect the history lacks is not run by the tester
  local ran = false
  local se = wf.replay(history, { handler = function(ctx, input)
    ctx:execute_activity("charge", input)
    ctx:side_effect("x", function() ran = true return 1 end)
  end })
  assert.eq(se.ok, false); assert.eq(ran, false)
  assert.contains(se.command, "RecordSideEffect side effect 'x'")
  -- the markers a first run records: one per change id, asked twice or not; bad ids fail the workflow
  local fresh = { { seq = 1, event_type = "WorkflowStarted", payload = {}, timestamp = 1 } }
  local run = wf._replay.run({ workflow_id = "fresh", history = fresh }, function(ctx)
    local a, b = ctx:patched("p"), ctx:patched("p")
    ctx:deprecate_patch("q")
    return { a = a, b = b }
  end)
  assert.eq(run.outcome, "completed")
  assert.eq(#run.commands, 3)
  assert.eq(run.commands[1], { type = "RecordPatchMarker", patch_id = "p" })
  assert.eq(run.commands[2], { type = "RecordPatchMarker", patch_id = "q", deprecated = true })
  assert.eq(run.commands[3].result, { a = true, b = true })
  run = wf._replay.run({ workflow_id = "fresh", history = fresh }, function(ctx) return ctx:patched(42) end)
  assert.eq(run.outcome, "failed")
  assert.contains(run.error, "ctx:patched: change id must be a non-empty string")

  -- JSON text is accepted too; bad histories and options are usage errors
  assert.eq(wf.replay(json.encode(history), { handler = charge_only }).ok, true)
  assert.error(function() wf.replay("[{", { handler = charge_only }) end, "workflow.replay: the history is not valid JSON")
  assert.error(function() wf.replay({}, { handler = charge_only }) end, "not a non%-empty list of events")
  assert.error(function() wf.replay(history, { workflow_type = "Nope" }) end, "workflow type 'Nope' is not defined")
  assert.error(function() wf.load_history(env.dir .. "/missing.json") end, "workflow.load_history: cannot read")
  assert.error(function() wf.load_worker(env.dir .. "/missing.lua") end, "workflow.load_worker:")

  -- CLI usage errors: exit 2 with a clear message
  local bad = env.dir .. "/bad.json"
  local f = io.open(bad, "w"); f:write("[{\"seq\": 1,"); f:close()
  local out, code = replay_cli(env, "v1", "--history " .. bad)
  assert.eq(code, 2, out); assert.contains(out, "is not valid JSON")
  out, code = replay_cli(env, "v1", "--history " .. env.dir .. "/missing.json")
  assert.eq(code, 2, out); assert.contains(out, "cannot read history file")
  out, code = replay_cli(env, "v1", "")
  assert.eq(code, 2, out); assert.contains(out, "give a workflow ID or --history FILE")
  out, code = cli(env, "workflow replay --script " .. env.dir .. "/missing.lua --history " .. bad)
  assert.eq(code, 2, out); assert.contains(out, "cannot read script")
  out, code = cli(env, "workflow replay --history " .. bad)
  assert.eq(code, 2, out); assert.contains(out, "--script")
  out, code = replay_cli(env, "v1", "--history " .. bad .. " --type Nope")
  assert.eq(code, 2, out)
end

local function suite(backend, label)
  local env = S.new_env("embedded")
  env.backend = backend ~= "sqlite" and backend or nil
  env.run = string.format("rp-%d-%d", os.time(), math.random(1, 1e6))
  env.queue = env.run .. "-q"
  local ok, err = pcall(function()
    S.start_engine(env)
    wf.connect(env.url)
    scenario(env)
    local history = wf.load_history(env.dir .. "/histories/done.json")
    offline_checks(env, history)
  end)
  S.stop_all(env)
  if not ok then error(label .. ": " .. tostring(err), 0) end
  print("workflow replay ok on " .. label)
end

suite("sqlite", "SQLite")
local pg = os.getenv("ASSAY_TEST_POSTGRES_URL")
if pg and pg ~= "" then suite(pg, "PostgreSQL") else print("PostgreSQL part skipped: ASSAY_TEST_POSTGRES_URL not set") end
