-- Priorities and queue rate limits (docs/engine.md "Priorities and rate limits") through the real binary: the
-- assay.workflow options (priority on start, ctx:execute_activity and ctx:start_child_workflow, inherited when unset),
-- their checks, and wf.queues.set/describe with a rate limit a real worker is held to.
local S = dofile((debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or ".") .. "/workflow_support.lua")
local env = S.new_env("embedded")
os.execute(string.format("cp %s/workflow_fixtures/priority_worker.lua %s/worker.lua", S.here, env.dir))
local order_file = env.dir .. "/order.log"

local function lines(path)
  local out = {}
  for line in (S.read(path) or ""):gmatch("[^\n]+") do out[#out + 1] = line end
  return out
end

local ok, err = pcall(function()
  S.start_engine(env)
  local wf = S.client(env)

  -- priority on start: kept on the record; the default is 3; a bad one is refused before anything is sent
  wf.start({ workflow_type = "Fanout", workflow_id = "fanout", priority = 2 })
  assert.eq(wf.describe("fanout").priority, 2)
  wf.start({ workflow_type = "Leaf", workflow_id = "plain" })
  assert.eq(wf.describe("plain").priority, 3)
  for _, bad in ipairs({ 0, 6, 2.5, "1" }) do
    local okb, e = pcall(wf.start, { workflow_type = "Leaf", workflow_id = "bad", priority = bad })
    assert.is_false(okb)
    assert.contains(tostring(e), "workflow.start: opts.priority must be an integer from 1 (highest) to 5 (lowest)")
  end
  assert.is_false((pcall(wf.describe, "bad")))

  local limited = "limited-" .. env.port
  S.start_worker(env, "w1", "ORDER_FILE=" .. order_file)
  S.start_worker(env, "w2", string.format("ORDER_FILE=%s WF_QUEUE=%s WF_MAX_ACT=8", order_file, limited))

  -- one activity at a time: they run highest priority first; the unset one has the workflow's (2)
  local r = json.parse(S.wait_status(wf, "fanout", "COMPLETED", 10).result)
  assert.eq(r, { "p5", "inherited", "p1", "p4" }) -- results keep the call's order
  local ran = {}
  for _, line in ipairs(lines(order_file)) do ran[#ran + 1] = line:match("^(%S+)") end
  assert.eq(ran, { "p1", "inherited", "p4", "p5" })
  local priorities = {}
  for _, e in ipairs(wf.get_events("fanout")) do
    if e.event_type == "ActivityScheduled" then
      local p = json.parse(e.payload)
      local a = json.parse(http.get(env.url .. "/api/v1/activities/" .. p.activity_id).body)
      priorities[json.parse(p.input).tag] = a.priority
    end
  end
  assert.eq(priorities, { p5 = 5, inherited = 2, p1 = 1, p4 = 4 })

  -- children: their own priority, or the parent's
  wf.start({ workflow_type = "Parent", workflow_id = "parent", priority = 1, input = { prefix = "kid" } })
  S.wait_status(wf, "parent", "COMPLETED", 10)
  assert.eq(wf.describe("kid-own").priority, 5)
  assert.eq(wf.describe("kid-inherited").priority, 1)

  -- a bad priority in workflow code fails the workflow with a message naming the call
  wf.start({ workflow_type = "BadActivityPriority", workflow_id = "bad-act", input = { priority = 9 } })
  local bad = S.wait_status(wf, "bad-act", "FAILED", 10)
  assert.contains(bad.error, "ctx:execute_activity: opts.priority must be an integer from 1 (highest) to 5 (lowest), got 9")
  wf.start({ workflow_type = "BadChildPriority", workflow_id = "bad-kid" })
  assert.contains(S.wait_status(wf, "bad-kid", "FAILED", 10).error, "ctx:start_child_workflow: opts.priority must be")
  assert.is_false((pcall(wf.describe, "bad-child")))

  -- queue settings: set, read, cleared
  assert.eq(wf.queues.describe(limited).max_activities_per_second, nil)
  assert.eq(wf.queues.set(limited, { max_activities_per_second = 4 }).max_activities_per_second, 4)
  assert.eq(wf.queues.describe(limited).max_activities_per_second, 4)
  local okq, eq = pcall(wf.queues.set, limited, { max_activities_per_second = 0 })
  assert.is_false(okq)
  assert.contains(tostring(eq), "max_activities_per_second")
  assert.is_false((pcall(wf.queues.set, limited, "fast")))

  -- a worker with 8 slots is held to 4 activities a second: a full bucket (4) at once, then one every 0.25 s
  local before = #lines(order_file)
  wf.start({ workflow_type = "Burst", workflow_id = "burst", input = { n = 10, queue = limited } })
  S.wait_status(wf, "burst", "COMPLETED", 15)
  local times = {}
  for i, line in ipairs(lines(order_file)) do
    if i > before then times[#times + 1] = tonumber(line:match("^burst (%S+)")) end
  end
  assert.eq(#times, 10)
  table.sort(times)
  -- the k-th activity after the first four waits for its token: k/4 s after the start (a little early is the clock)
  for i = 5, 10 do
    assert.is_true(times[i] - times[1] >= (i - 4) / 4 - 0.05, "activity " .. i .. " ran too early: " .. json.encode(times))
  end
  assert.is_true(times[10] - times[1] < 4, "10 activities at 4/s took " .. (times[10] - times[1]) .. " s")
  local stats
  for _, q in ipairs(wf.queues.stats()) do if q.queue == limited then stats = q end end
  assert.eq(stats.max_activities_per_second, 4)

  -- cleared: the next batch runs at once
  assert.eq(wf.queues.set(limited, {}).max_activities_per_second, nil)
  before = #lines(order_file)
  local t0 = time()
  wf.start({ workflow_type = "Burst", workflow_id = "burst-free", input = { n = 8, queue = limited } })
  S.wait_status(wf, "burst-free", "COMPLETED", 10)
  assert.is_true(time() - t0 < 1.5, "without a limit 8 activities on 8 slots took " .. (time() - t0) .. " s")
  assert.eq(#lines(order_file) - before, 8)
end)
S.stop_all(env)
if not ok then error(err, 0) end
