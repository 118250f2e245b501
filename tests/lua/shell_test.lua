-- shell.exec / process.run as a script author sees them (run by `assay test`).
local r = shell.exec("echo hi; echo err >&2; exit 2")
assert.eq(r.stdout, "hi\n")
assert.eq(r.stderr, "err\n")
assert.eq(r.status, 2)
assert.eq(r.timed_out, false)

-- the issue's timeout check: the background job holding the pipes does not keep us waiting
local t0 = time()
local slow = shell.exec("(sleep 5; echo late) & sleep 10", { timeout = 0.5 })
assert.lt(time() - t0, 2)
assert.eq(slow.timed_out, true)
assert.eq(slow.status, -1)
assert.eq(slow.stdout:find("late", 1, true), nil)

-- argv without a shell
assert.eq(process.run({ "printf", "%s", "a; echo x" }).stdout, "a; echo x")

-- options
assert.eq(shell.exec("cat", { stdin = "piped" }).stdout, "piped")
assert.eq(shell.exec('printf %s "$ASSAY_X"', { env = { ASSAY_X = "y" } }).stdout, "y")
assert.eq(shell.exec("pwd", { cwd = "/" }).stdout, "/\n")

-- other coroutines keep running during a long exec
local ticks = 0
local done = false
local ticker = async.spawn(function()
  while not done do sleep(0.1); ticks = ticks + 1 end
end)
shell.exec("sleep 1")
done = true
ticker:await()
assert.gt(ticks, 4)

-- malformed input names the function and the problem
assert.error(function() shell.exec(nil) end, "shell.exec")
assert.error(function() shell.exec("true", { timeout = -1 }) end, "option 'timeout'")
assert.error(function() process.run({}) end, "process.run: argv is empty")
