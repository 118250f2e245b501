-- process.list / is_running / kill / wait_idle and disk.* (run by `assay test`).
local me
for _, p in ipairs(process.list()) do
  assert.eq(math.type(p.pid), "integer")
  assert.eq(type(p.name), "string")
end
assert.eq(process.is_running("no-such-process-xyz-123"), false)

-- start a long-named child in the background and find it by its full name
local dir = os.tmpname()
os.remove(dir)
shell.exec("mkdir -p " .. dir .. " && cp /bin/sleep " .. dir .. "/assay-very-long-sleeper")
local bg = async.spawn(function()
  return process.run({ dir .. "/assay-very-long-sleeper", "30" }, { timeout = 20 })
end)
local deadline = time() + 5
while not process.is_running("assay-very-long-sleeper") and time() < deadline do sleep(0.05) end
assert.eq(process.is_running("assay-very-long-sleeper"), true)
local pid
for _, p in ipairs(process.list()) do
  if p.name == "assay-very-long-sleeper" then pid = p.pid end
end
assert.ne(pid, nil)
assert.eq(process.kill(pid, 0), true)
assert.eq(process.kill(pid, "TERM"), true)
assert.eq(process.wait_idle("assay-very-long-sleeper", 5, 0.05), true)
local result = bg:await()[1]
assert.eq(result.status, 143) -- 128 + SIGTERM, as shells report it
assert.error(function() process.kill(pid, "NOPE") end, "process.kill: unknown signal 'NOPE'")
assert.error(function() process.kill(0) end, "process.kill: pid must be > 0")

-- disk
local u = disk.usage("/")
assert.gt(u.total, 0)
assert.eq(u.used, u.total - u.free)
shell.exec("head -c 1234 /dev/zero > " .. dir .. "/f && touch -d '2 hours ago' " .. dir .. "/f")
assert.eq(disk.dir_size(dir), 1234 + #shell.exec("cat /bin/sleep").stdout)
assert.eq(disk.sweep(dir, 3600), 1)
shell.exec("rm -rf " .. dir)
assert.error(function() disk.usage("/no/such/path") end, "disk.usage: failed to stat")
