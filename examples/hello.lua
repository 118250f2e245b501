#!/usr/bin/env assay
-- A tour in one file: concurrency, JSON, logs and assertions.
local name = arg[1] or "world"
log.info("starting", { name = name })

-- three tasks sleeping at once finish together
local started = time()
local tasks = {}
for i = 1, 3 do
  tasks[i] = async.spawn(function()
    sleep(0.2)
    return ("task %d greets %s"):format(i, name)
  end)
end
for i = 1, 3 do print(tasks[i].await()[1]) end
print(("3 x 0.2 s of sleep took %.2f s"):format(time() - started))

local doc = json.encode({ greeting = "hello " .. name, at = os.date("!%Y-%m-%dT%H:%M:%SZ") })
assert.contains(doc, "hello")
print(doc)
