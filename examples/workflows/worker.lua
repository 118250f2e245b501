-- A worker for the docs/workflows.md examples.
--   assay serve --port 8080                       (one terminal)
--   assay examples/workflows/worker.lua           (another)
--   assay examples/workflows/run.lua              (a third: starts the workflows, prints results)
local workflow = require("assay.workflow")
workflow.connect(os.getenv("ASSAY_ENGINE_URL") or "http://127.0.0.1:8080")

-- Activities do the real work (HTTP calls, databases, files). They may fail and are retried.
workflow.activity("greet", function(ctx, input)
  return { message = "hello, " .. input.name }
end)

workflow.activity("charge", function(ctx, input)
  -- a long activity reports progress and stops when its workflow is cancelled
  for step = 1, 3 do
    if ctx:heartbeat({ step = step }) then return { charged = false } end
    sleep(0.05)
  end
  return { charged = true, amount = input.amount }
end)

workflow.activity("square", function(ctx, input) return input.x * input.x end)

-- 1. A first workflow: one activity.
workflow.define("Greeting", function(ctx, input)
  local r = ctx:execute_activity("greet", { name = input.name })
  return { greeting = r.message }
end)

-- 2. Signals and timers: wait for an approval, at most `timeout` seconds.
workflow.define("Approval", function(ctx, input)
  local state = { stage = "waiting for approval" }
  ctx:register_query("stage", function() return state.stage end)
  local decision, why = ctx:wait_for_signal("approve", { timeout = input.timeout or 60 })
  if why == "timeout" then
    state.stage = "expired"
    return { approved = false, reason = "nobody approved in time" }
  end
  state.stage = "charging"
  local charge = ctx:execute_activity("charge", { amount = input.amount },
    { max_attempts = 5, initial_interval_secs = 1, start_to_close_secs = 30, heartbeat_timeout_secs = 10 })
  ctx:sleep(0.2) -- a durable timer: survives worker and engine restarts
  state.stage = "done"
  return { approved = true, by = decision and decision.by, charge = charge }
end)

-- 3. Children and parallel activities.
workflow.define("SumOfSquares", function(ctx, input)
  local calls = {}
  for i, x in ipairs(input.numbers) do calls[i] = { name = "square", input = { x = x } } end
  local squares = ctx:execute_parallel(calls)
  local sum = 0
  for _, s in ipairs(squares) do sum = sum + s end
  return { sum = sum }
end)

workflow.define("Report", function(ctx, input)
  -- child ids must be deterministic: derive them from the parent's id, never from the clock
  local a = ctx:start_child_workflow("SumOfSquares", { workflow_id = ctx.workflow_id .. "-a", input = { numbers = { 1, 2, 3 } } })
  local b = ctx:start_child_workflow("SumOfSquares", { workflow_id = ctx.workflow_id .. "-b", input = { numbers = { 4, 5 } } })
  -- deterministic helpers: the same values on every replay
  local report_id = ctx:uuid()
  ctx:upsert_search_attributes({ report = "done" })
  return { id = report_id, at = ctx:now(), total = a.sum + b.sum }
end)

workflow.listen({ queue = "examples" })
