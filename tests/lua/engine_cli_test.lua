-- The engine client commands through the real binary against a real `assay serve`.
local bin = assert(os.getenv("ASSAY_BIN"), "run through `assay test` (sets ASSAY_BIN)")
local dir = os.tmpname()
os.remove(dir)
os.execute("mkdir -p " .. dir)
local port = dofile((debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or ".") .. "/fixtures/free_port.lua")()
local url = "http://127.0.0.1:" .. port

os.execute(string.format("cd %s && %s serve --port %d --backend %s/engine.db > %s/serve.log 2>&1 &",
  dir, bin, port, dir, dir))

local function run(args, stdin)
  local cmd = string.format("ASSAY_ENGINE_URL=%s %s %s 2>&1", url, bin, args)
  if stdin then cmd = "printf '%s' '" .. stdin .. "' | " .. cmd end
  local p = io.popen(cmd)
  local out = p:read("a")
  local _, _, code = p:close()
  return out, code
end

local up = false
for _ = 1, 100 do
  local _, code = run("namespace list -o json")
  if code == 0 then up = true break end
  sleep(0.1)
end
local ok, err = pcall(function()
  assert.is_true(up, "engine did not start")

  -- start: JSON record, 409 on a duplicate id → exit 1
  local out, code = run("workflow start --type Greet --id g1 --input '{\"name\":\"ann\"}' -o json")
  assert.eq(code, 0, out)
  assert.eq(json.parse(out).workflow_id, "g1")
  out, code = run("workflow start --type Greet --id g1")
  assert.eq(code, 1)
  assert.contains(out, "409")

  -- input from a file and from stdin; invalid JSON is exit 64
  local f = io.open(dir .. "/input.json", "w"); f:write('{"n": 2}'); f:close()
  out, code = run("workflow start --type Greet --id g2 --input @" .. dir .. "/input.json -o json")
  assert.eq(code, 0, out)
  out, code = run("workflow start --type Greet --id g3 --input - -o json", '{"n": 3}')
  assert.eq(code, 0, out)
  out, code = run("workflow start --type Greet --id g4 --input '{nope'")
  assert.eq(code, 64)

  -- list in every output format
  out, code = run("workflow list -o table")
  assert.eq(code, 0)
  assert.matches(out, "ID%s+WORKFLOW_TYPE%s+STATUS")
  assert.contains(out, "g3")
  local list = json.parse((run("workflow list -o json")))
  assert.eq(#list, 3)
  out = run("workflow list -o jsonl")
  local lines = 0
  for line in out:gmatch("[^\n]+") do lines = lines + 1; assert.eq(type(json.parse(line)), "table") end
  assert.eq(lines, 3)
  out = run("workflow list -o yaml")
  assert.contains(out, "workflow_type: Greet")
  out = run("workflow list --status PENDING --type Greet --limit 2 -o json")
  assert.eq(#json.parse(out), 2)

  -- describe / signal / events / state / children / cancel / terminate / continue-as-new / wait
  local described = json.parse((run("workflow describe g1 -o json")))
  assert.eq(described.status, "PENDING")
  -- no worker is registered: type-aware dispatch says nobody serves Greet (the task just waits)
  assert.eq(described.no_worker_for_type, true)
  assert.eq(described.unserved[1].kind, "workflow")
  assert.eq(described.unserved[1].name, "Greet")
  out = run("workflow describe g1 -o table")
  assert.contains(out, "note: no live worker serves workflow type 'Greet' on queue 'default'")
  out, code = run("workflow describe missing")
  assert.eq(code, 1)
  assert.contains(out, "404")
  out, code = run("workflow signal g1 approve '{\"by\":\"bob\"}' -o json")
  assert.eq(code, 0, out)
  assert.eq(json.parse(out).ok, true)
  local events = json.parse((run("workflow events g1 -o json")))
  assert.eq(events[#events].event_type, "SignalReceived")
  out, code = run("workflow state g1")
  assert.eq(code, 1) -- no snapshot yet → 404
  assert.eq(json.parse((run("workflow children g1 -o json"))), {})
  out, code = run("workflow cancel g2 -o table")
  assert.eq(code, 0, out)
  out, code = run("workflow continue-as-new g3 --input '{\"n\":4}' -o json")
  assert.eq(code, 0, out)
  out, code = run("workflow terminate g1 --reason 'test over' -o table")
  assert.eq(code, 0, out)
  assert.contains(out, "terminated g1")
  out, code = run("workflow wait g1 --timeout 5 -o json")
  assert.eq(code, 1) -- ended, but not COMPLETED
  assert.eq(json.parse(out).status, "FAILED")
  out, code = run("workflow wait g2 --timeout 0.5 --target COMPLETED")
  assert.eq(code, 2) -- still waiting on a worker: timeout
  -- on a terminal the wait shows the status it is waiting on
  local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
  local pty = process.run({ "python3", here .. "/fixtures/pty_drive.py", bin,
    json.encode({ { "expect", "waiting for g2 to be COMPLETED: CANCELLED (", 20 }, { "expect", "timed out", 20 } }),
    "workflow", "wait", "g2", "--timeout", "1", "--target", "COMPLETED" }, { timeout = 60, env = { ASSAY_ENGINE_URL = url } })
  local seen = json.parse(pty.stdout)
  assert.is_true(seen.ok, pty.stdout)
  out, code = run("workflow events g1 --follow -o jsonl")
  assert.eq(code, 0)
  assert.contains(out, "WorkflowTerminated")

  -- schedules
  out, code = run("schedule create nightly --type Greet --cron '0 3 * * *' -o json")
  assert.eq(code, 0, out)
  assert.not_nil(json.parse(out).next_run_at)
  out, code = run("schedule create broken --type Greet --cron 'not a cron'")
  assert.eq(code, 1)
  assert.contains(out, "400")
  assert.eq(#json.parse((run("schedule list -o json"))), 1)
  assert.eq(json.parse((run("schedule describe nightly -o json"))).cron_expr, "0 3 * * *")
  out, code = run("schedule patch nightly --cron '0 4 * * *' -o json")
  assert.eq(code, 0, out)
  assert.eq(json.parse(out).cron_expr, "0 4 * * *")
  out, code = run("schedule patch nightly")
  assert.eq(code, 64)
  assert.eq(json.parse((run("schedule pause nightly -o json"))).paused, true)
  assert.eq(json.parse((run("schedule resume nightly -o json"))).paused, false)
  out, code = run("schedule delete nightly -o table")
  assert.eq(code, 0, out)

  -- namespaces, workers, queues
  out, code = run("namespace create team-a -o table")
  assert.eq(code, 0, out)
  assert.eq(json.parse((run("namespace describe team-a -o json"))).total_workflows, 0)
  assert.contains((run("namespace list -o table")), "team-a")
  out, code = run("namespace delete team-a -o table")
  assert.eq(code, 0, out)
  out, code = run("namespace delete main")
  assert.eq(code, 1)
  assert.eq(json.parse((run("worker list -o json"))), {})
  assert.contains((run("queue stats -o table")), "PENDING_WORKFLOW_TASKS")

  -- flags beat the environment; the config file is read; unknown keys are refused
  local cfg = dir .. "/config.yaml"
  local c = io.open(cfg, "w"); c:write("engine_url: " .. url .. "\nnamespace: main\n"); c:close()
  local p = io.popen(string.format("ASSAY_ENGINE_URL= %s workflow list --config %s -o json 2>&1", bin, cfg))
  local via_config = p:read("a"); p:close()
  assert.eq(#json.parse(via_config), 4)
  c = io.open(cfg, "w"); c:write("bogus: 1\n"); c:close()
  out, code = run("workflow list --config " .. cfg)
  assert.eq(code, 64)
  assert.contains(out, "unknown key 'bogus'")
  out, code = run("workflow list --engine-url http://127.0.0.1:1")
  assert.eq(code, 1)
  assert.contains(out, "cannot reach the engine")

  -- priorities and queue rate limits
  local function fails(args, want_code, text) -- a refused command: its exit code, and the reason in its output
    local o, c = run(args)
    assert.eq(c, want_code, o)
    if text then assert.contains(o, text) end
  end
  local function record(args) return json.parse((run(args .. " -o json"))) end
  assert.eq(record("workflow start --type Greet --id urgent --priority 1").workflow_id, "urgent")
  assert.eq(record("workflow describe urgent").priority, 1)
  assert.matches((run("workflow list -o table")), "PRIORITY")
  fails("workflow start --type Greet --id too-low --priority 6", 1, "'priority' must be an integer from 1 (highest) to 5 (lowest)")
  assert.eq(record("queue set jobs --max-activities-per-second 2.5"), { queue = "jobs", max_activities_per_second = 2.5 })
  assert.eq(record("queue describe jobs").max_activities_per_second, 2.5)
  fails("queue set jobs --max-activities-per-second 0", 1, "'max_activities_per_second' must be a number above 0")
  fails("queue set jobs", 64, "--max-activities-per-second N or --no-rate-limit")
  fails("queue set jobs --max-activities-per-second 3 --no-rate-limit", 64)
  assert.eq(record("queue set jobs --no-rate-limit"), { queue = "jobs" })
  assert.eq(record("queue describe jobs").max_activities_per_second, nil)
  assert.contains((run("queue stats -o table")), "MAX_ACTIVITIES_PER_SECOND")

  -- completion scripts
  out, code = run("completion bash")
  assert.eq(code, 0)
  assert.contains(out, "complete -o default -F _assay assay")
  assert.contains((run("completion fish")), "complete -c assay")
end)
os.execute(string.format("pkill -TERM -f 'serve --port %d' ; sleep 0.3; rm -rf %s", port, dir))
if not ok then error(err, 0) end
print("engine cli ok")
