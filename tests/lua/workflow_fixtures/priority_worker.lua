-- A worker for workflow_priority_test.lua: priorities on activities and children, and a rate-limited queue.
-- One activity at a time and no eager dispatch, so activities run in the order the engine hands them out.
local workflow = require("assay.workflow")
workflow.connect(assert(os.getenv("ENGINE_URL")))
local order_file = assert(os.getenv("ORDER_FILE"))

local function append(line)
  local f = io.open(order_file, "a"); f:write(line, "\n"); f:close()
end

workflow.activity("record", function(ctx, i)
  append(string.format("%s %.3f", i.tag, time()))
  return i.tag
end)

-- Activities of every priority in one batch: the inheriting one gets the workflow's.
workflow.define("Fanout", function(ctx, input)
  return ctx:execute_parallel({
    { name = "record", input = { tag = "p5" }, opts = { priority = 5 } },
    { name = "record", input = { tag = "inherited" } },
    { name = "record", input = { tag = "p1" }, opts = { priority = 1 } },
    { name = "record", input = { tag = "p4" }, opts = { priority = 4 } },
  })
end)

workflow.define("Leaf", function(ctx, input) return { id = ctx.workflow_id } end)

workflow.define("Parent", function(ctx, input)
  local own = ctx:start_child_workflow("Leaf", { workflow_id = input.prefix .. "-own", priority = 5 })
  local inherited = ctx:start_child_workflow("Leaf", { workflow_id = input.prefix .. "-inherited" })
  return { own = own.id, inherited = inherited.id }
end)

workflow.define("BadActivityPriority", function(ctx, input)
  return ctx:execute_activity("record", { tag = "never" }, { priority = input.priority })
end)

workflow.define("BadChildPriority", function(ctx, input)
  return ctx:start_child_workflow("Leaf", { workflow_id = "bad-child", priority = 0 })
end)

-- Activities on a rate-limited queue of their own.
workflow.define("Burst", function(ctx, input)
  local list = {}
  for i = 1, input.n do list[i] = { name = "record", input = { tag = "burst" }, opts = { task_queue = input.queue } } end
  return ctx:execute_parallel(list)
end)

workflow.listen({ queue = os.getenv("WF_QUEUE") or "default", poll_wait_secs = 1, eager_activities = false,
                  max_concurrent_activities = tonumber(os.getenv("WF_MAX_ACT") or "1") })
