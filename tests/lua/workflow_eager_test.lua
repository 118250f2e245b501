-- Eager workflow tasks through the real binary (docs/engine.md "Eager workflow tasks"): the embedded worker's activity
-- reports take the workflow task their outcome creates, so a two-activity workflow costs one workflow-task poll instead of
-- three; a worker killed while holding such a task loses it to the next worker, which replays the whole history.
local S = dofile((debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or ".") .. "/workflow_support.lua")
local env = S.new_env("embedded")

-- The engine's counters: workflow tasks handed over by activity reports, and workflow tasks claimed by polls.
local function counters()
  local text = http.get(env.url .. "/metrics").body
  return tonumber(text:match("\nassay_eager_workflow_tasks_total (%d+)") or "0"),
    tonumber(text:match('\nassay_poll_wait_seconds_count{kind="workflow",result="task"} (%d+)') or "0")
end

local ok, err = pcall(function()
  S.start_engine(env)
  local wf = S.client(env)
  local d = env.dir
  local first = S.start_worker(env, "w1", nil, "-v") -- -v: the log shows the tasks taken eagerly

  -- one at a time, so nothing else competes for the worker's slots
  for i = 1, 3 do
    wf.start({ workflow_type = "TwoSteps", workflow_id = "two-" .. i, input = { n = i } })
    local r = json.parse(S.wait_status(wf, "two-" .. i, "COMPLETED", 10).result)
    assert.eq(r.sum, i * 2 + i * 2 + 10)
  end
  local handed, polled = counters()
  assert.eq(handed, 6) -- both replays after an activity of each workflow came with the activity's completion
  assert.eq(polled, 3) -- only each workflow's first task was polled
  assert.contains(S.read(d .. "/w1.log"), "workflow task taken eagerly")

  -- killed while replaying a handed-over task: the lease (2 s here) runs out, the next worker replays it all
  local hold, holding = d .. "/hold", d .. "/holding"
  local f = io.open(hold, "w"); f:write("x"); f:close()
  wf.start({ workflow_type = "HandOverCrash", workflow_id = "handover", input = { n = 4, hold_file = hold, holding_file = holding } })
  S.wait_for(function() return S.exists(holding) end, 5, "the replay holding the handed-over task")
  assert.eq(counters(), 7)
  S.kill(first, "KILL")
  os.remove(hold)
  -- this one asks for nothing eagerly: every one of its workflow tasks is polled
  S.start_worker(env, "w2", "WF_EAGER=0", "-v")
  local r = json.parse(S.wait_status(wf, "handover", "COMPLETED", 10).result)
  assert.eq(r, { a = { value = 8 }, held = "released" })
  local scheduled, completed = 0, 0
  for _, e in ipairs(S.events(wf, "handover")) do
    if e == "ActivityScheduled" then scheduled = scheduled + 1 end
    if e == "ActivityCompleted" then completed = completed + 1 end
  end
  assert.eq(scheduled, 1); assert.eq(completed, 1) -- the replay did not run step1 again

  -- the classic protocol still runs a whole workflow
  wf.start({ workflow_type = "TwoSteps", workflow_id = "two-classic", input = { n = 1 } })
  S.wait_status(wf, "two-classic", "COMPLETED", 10)
  assert.eq(counters(), 7)
  assert.eq(S.read(d .. "/w2.log"):find("taken eagerly", 1, true), nil)
end)
S.stop_all(env)
if not ok then error(err, 0) end
print("workflow eager ok")
