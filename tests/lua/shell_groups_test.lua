-- shell.exec / process.run children live in their own process group (issue 12, item 16): every way
-- out of the script kills the whole group (no orphaned background jobs), and timeouts kill by
-- group instead of scanning every process (500 parallel timeouts finish in about one timeout).
local bin = assert(os.getenv("ASSAY_BIN"), "run through `assay test` (sets ASSAY_BIN)")

-- sleep durations unique to this run identify its processes in /proc
local function marker()
  return string.format("%d.%03d", 400 + math.random(0, 500), math.random(0, 999))
end

local function pids_of(secs)
  local found = {}
  for _, p in ipairs(process.list()) do
    if p.cmdline == "sleep " .. secs then found[#found + 1] = p.pid end
  end
  return found
end
local function alive(secs) return #pids_of(secs) > 0 end
local function kill_all(secs) for _, pid in ipairs(pids_of(secs)) do process.kill(pid, "KILL") end end

-- Runs a script in a child assay, optionally signals it after 0.8 s, and returns its exit status.
local function run_child(code, signal)
  local script = os.tmpname() .. ".lua"
  fs.write(script, code)
  local child = async.spawn(function() return process.run({ bin, script }, { timeout = 30 }) end)
  if signal then
    sleep(0.8)
    local pid
    for _, p in ipairs(process.list()) do
      if p.cmdline == bin .. " " .. script then pid = p.pid end
    end
    assert.not_nil(pid, "the child script is not running")
    process.kill(pid, signal)
  end
  local r = child.await()[1]
  fs.remove(script)
  assert.eq(r.timed_out, false)
  return r.status
end

local function check_no_orphans(how, code, signal, expected_exit)
  local a, b = marker(), marker()
  local exit = run_child(code:gsub("A_SECS", a):gsub("B_SECS", b), signal)
  if expected_exit then assert.eq(exit, expected_exit, how .. ": exit code") else assert.ne(exit, 0, how .. ": exit code") end
  sleep(0.2)
  local left = alive(a) or alive(b)
  if left then kill_all(a) kill_all(b) end
  assert.eq(left, false, how .. ": a sleep of the command outlived the script")
end

-- Ctrl-C (SIGINT to the script): the background job and the foreground one both die
check_no_orphans("SIGINT", [[shell.exec("sleep A_SECS & sleep B_SECS")]], "INT", 130)
-- os.exit while another task waits on a command
check_no_orphans("os.exit", [[
  async.spawn(function() shell.exec("sleep A_SECS & sleep B_SECS") end)
  sleep(0.5)
  os.exit(3)
]], nil, 3)
-- an uncaught error while another task waits on a command
check_no_orphans("error", [[
  async.spawn(function() process.run({"sh", "-c", "sleep A_SECS & sleep B_SECS"}) end)
  sleep(0.5)
  error("boom")
]], nil, 1)
-- SIGTERM
check_no_orphans("SIGTERM", [[shell.exec("sleep A_SECS & sleep B_SECS")]], "TERM", nil)

-- a timeout kills the background job too, also when its parent already exited
local a = marker()
local r = shell.exec("(sleep " .. a .. ") & echo started", { timeout = 5 })
sleep(0.1)
-- the parent exited at once: the call returned after the 0.5 s drain, and the job keeps running
-- (documented: background jobs of a finished command are left alone)
assert.eq(r.timed_out, false)
assert.eq(r.stdout, "started\n")
assert.eq(alive(a), true)
kill_all(a)
a = marker()
r = shell.exec("(sleep " .. a .. "; echo late) & sleep " .. marker(), { timeout = 0.5 })
assert.eq(r.timed_out, true)
sleep(0.1)
assert.eq(alive(a), false, "timeout: the background job survived")

-- the child's own group: it is not in ours, so a terminal's Ctrl-C is ours to forward
local mine = io.open("/proc/self/stat"):read("a"):match("^%d+ %b() %a %d+ (%d+)")
r = process.run({ "sh", "-c", "ps -o pgid= -p $$" })
assert.ne(r.stdout:match("%d+"), mine)
-- SIGPIPE is back to its default in the child (the runtime ignores it)
r = shell.exec("yes | head -c 3")
assert.eq(r.stdout, "y\ny")
assert.eq(r.status, 0)

-- 500 parallel commands timing out: each kill is one kill(2), not a scan of every process
local tasks = {}
local function now()
  local f = io.open("/proc/uptime")
  local up = f:read("n")
  f:close()
  return up
end
local start = now()
for i = 1, 500 do
  tasks[i] = async.spawn(function() return shell.exec("sleep 30", { timeout = 0.5 }) end)
end
local timed_out = 0
for i = 1, 500 do
  if tasks[i].await()[1].timed_out then timed_out = timed_out + 1 end
end
local took = now() - start
assert.eq(timed_out, 500)
assert.lt(took, 12, "500 parallel timeouts took " .. took .. " s")
print(string.format("process groups ok (500 timeouts in %.1f s)", took))
