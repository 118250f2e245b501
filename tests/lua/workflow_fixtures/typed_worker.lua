-- A worker that defines only the types named in WF_TYPES ("A,B" → workflows FlowA, FlowB and their
-- activities stepA, stepB), as the original's examples do with one script per workflow family, all on
-- one queue. Every activity run appends "<workflow id> <step>" to WF_DIR/runs.log, so a test can tell
-- a step that ran twice.
local workflow = require("assay.workflow")
workflow.connect(assert(os.getenv("ENGINE_URL")))
local dir = assert(os.getenv("WF_DIR"))

local function append(path, line)
  local f = assert(io.open(path, "a"))
  f:write(line, "\n")
  f:close()
end

for t in assert(os.getenv("WF_TYPES")):gmatch("[^,]+") do
  workflow.activity("step" .. t, function(ctx, input)
    append(dir .. "/runs.log", input.wf .. " " .. input.i)
    if input.sleep then sleep(input.sleep) end
    return { t = t, i = input.i }
  end)
  workflow.define("Flow" .. t, function(ctx, input)
    local done = {}
    for i = 1, input.steps or 1 do
      done[i] = ctx:execute_activity("step" .. t, { wf = ctx.workflow_id, i = i, sleep = input.sleep },
        { start_to_close_secs = 10, max_attempts = 5, initial_interval_secs = 0.2 }).i
    end
    return { t = t, steps = done }
  end)
end

workflow.listen({
  queue = os.getenv("WF_QUEUE") or "default",
  identity = os.getenv("WF_NAME"),
  poll_wait_secs = tonumber(os.getenv("WF_POLL_WAIT") or "30"),
  max_unhandled_backoff_secs = tonumber(os.getenv("WF_UNHANDLED_BACKOFF") or "30"),
  max_concurrent_activities = tonumber(os.getenv("WF_MAX_ACT") or "20"),
})
