-- Starts the example workflows and prints their results (needs examples/workflows/worker.lua running).
local workflow = require("assay.workflow")
workflow.connect(os.getenv("ASSAY_ENGINE_URL") or "http://127.0.0.1:8080")
local suffix = tostring(math.floor(time() * 1000))

local function wait(id)
  for _ = 1, 500 do
    local d = workflow.describe(id)
    if d.status ~= "PENDING" and d.status ~= "RUNNING" then
      return d.status, d.result and json.parse(d.result), d.error
    end
    sleep(0.02)
  end
  error("workflow " .. id .. " did not finish")
end

local function start(t, id, input)
  workflow.start({ workflow_type = t, workflow_id = id, input = input, task_queue = "examples" })
  return id
end

local g = start("Greeting", "greeting-" .. suffix, { name = "world" })
local status, result = wait(g)
print("Greeting", status, json.encode(result))

local a = start("Approval", "approval-" .. suffix, { amount = 42, timeout = 30 })
sleep(0.3)
print("Approval stage:", workflow.get_state(a, "stage").value)
workflow.signal(a, "approve", { by = "alice" })
status, result = wait(a)
print("Approval", status, json.encode(result))

local late = start("Approval", "approval-late-" .. suffix, { amount = 1, timeout = 0.5 })
status, result = wait(late)
print("Approval (no signal)", status, json.encode(result))

local r = start("Report", "report-" .. suffix, {})
status, result = wait(r)
print("Report", status, json.encode(result))
print("children:", #workflow.list_children(r))
