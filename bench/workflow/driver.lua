-- Benchmark driver: throughput of N concurrent two-activity workflows, then the median
-- start-to-completed latency of one workflow at a time (engine timestamps).
local workflow = require("assay.workflow")
local url = assert(os.getenv("ENGINE_URL"))
local N = tonumber(arg[1]) or 2000
local RUNS = tonumber(arg[2]) or 50
workflow.connect(url)

local function completed()
  return workflow.namespaces.stats("main").completed
end

-- warm-up
for i = 1, 20 do
  workflow.start({ workflow_type = "Bench", workflow_id = "warm-" .. i, task_queue = "bench", input = { n = i } })
end
while completed() < 20 do sleep(0.01) end

-- CPU of every process of the run (engine, workers: PIDS from run.sh; this driver), in ms: utime + stime from
-- /proc/PID/stat (fields 14 and 15, in clock ticks of 10 ms), os.clock() for the driver itself.
local function cpu_ms(pid)
  local fields = {}
  for f in fs.read("/proc/" .. pid .. "/stat"):match("%) (.*)"):gmatch("%S+") do fields[#fields + 1] = f end
  return (tonumber(fields[12]) + tonumber(fields[13])) * 10 -- fields after "(comm) " start at field 3
end
local pids = {}
for pid in (os.getenv("PIDS") or ""):gmatch("%d+") do pids[#pids + 1] = pid end
local function run_cpu_ms()
  local total = os.clock() * 1000
  for _, pid in ipairs(pids) do total = total + cpu_ms(pid) end
  return total
end

local base = completed()
local cpu0 = run_cpu_ms()
local t0 = time()
local starters, per = 16, math.ceil(N / 16)
local hs = {}
for s = 1, starters do
  hs[#hs + 1] = async.spawn(function()
    for i = (s - 1) * per + 1, math.min(N, s * per) do
      workflow.start({ workflow_type = "Bench", workflow_id = "tp-" .. i, task_queue = "bench", input = { n = i } })
    end
  end)
end
for _, h in ipairs(hs) do h.await() end
local t_started = time()
while completed() - base < N do sleep(0.01) end
local elapsed = time() - t0
local cpu = run_cpu_ms() - cpu0
print(string.format("throughput: %d workflows in %.2f s = %.0f workflows/s (starts took %.2f s)",
  N, elapsed, N / elapsed, t_started - t0))
if #pids > 0 then
  local cores = tonumber(os.getenv("CPUS")) or 1
  print(string.format("cpu per workflow: %.2f ms (engine, %d workers and this driver; %d cores => ceiling %.0f/s)",
    cpu / N, #pids - 1, cores, cores * 1000 / (cpu / N)))
end

local lat = {}
for i = 1, RUNS do
  local id = "lat-" .. i
  workflow.start({ workflow_type = "Bench", workflow_id = id, task_queue = "bench", input = { n = i } })
  local d
  repeat sleep(0.002); d = workflow.describe(id) until d.status == "COMPLETED"
  lat[#lat + 1] = (d.completed_at - d.created_at) * 1000
end
table.sort(lat)
print(string.format("latency (start → completed, engine timestamps, %d runs): median %.1f ms, p90 %.1f ms, min %.1f ms",
  RUNS, lat[math.ceil(RUNS / 2)], lat[math.ceil(RUNS * 0.9)], lat[1]))
