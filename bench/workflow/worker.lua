-- Benchmark worker: a two-activity workflow.
local workflow = require("assay.workflow")
workflow.connect(assert(os.getenv("ENGINE_URL")))
workflow.activity("step1", function(ctx, i) return { value = i.n * 2 } end)
workflow.activity("step2", function(ctx, i) return { value = i.prev + 10 } end)
workflow.define("Bench", function(ctx, input)
  local a = ctx:execute_activity("step1", { n = input.n })
  local b = ctx:execute_activity("step2", { prev = a.value })
  return { sum = a.value + b.value }
end)
workflow.listen({
  queue = "bench",
  max_concurrent_workflows = tonumber(os.getenv("MAX_WF")) or 64,
  max_concurrent_activities = tonumber(os.getenv("MAX_ACT")) or 64,
  pollers = tonumber(os.getenv("POLLERS")) or 4,
  eager_activities = os.getenv("EAGER") ~= "0",
  eager_workflow_tasks = os.getenv("EAGER_WF") ~= "0",
})
