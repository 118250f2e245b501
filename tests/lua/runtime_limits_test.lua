-- Hostile input and runaway code end in a clean error, never a dead or deaf process (issue 12:
-- deep YAML, out-of-memory tasks, Ctrl-C in __gc and in a pattern match, deep Markdown lists,
-- fs.read/fs.copy of devices, JSON infinities). Each case runs the real binary as a child, so a
-- crash shows up as an exit status instead of taking the test runner down.
local bin = assert(os.getenv("ASSAY_BIN"), "run through `assay test` (sets ASSAY_BIN)")

local dir = fs.tempdir("limits-")

local function script(name, text)
  local path = dir .. "/" .. name .. ".lua"
  fs.write(path, text)
  return path
end

-- runs a script; returns its output (stdout and stderr) and exit status
local function run(path, flags)
  local p = io.popen(string.format("%s %s %s 2>&1", bin, flags or "", path))
  local out = p:read("a")
  local _, _, code = p:close()
  return out, code
end

-- 1. deeply nested YAML is the same clean depth error as json.parse, not a SIGSEGV
do
  local out, code = run(script("yaml_deep", [[
    print(pcall(yaml.parse, string.rep('[', 25000) .. string.rep(']', 25000)))
    print(pcall(yaml.parse, string.rep('{a: ', 25000) .. '1' .. string.rep('}', 25000)))
    print(pcall(yaml.parse, 'a: &x ' .. string.rep('[', 999) .. string.rep(']', 999) .. '\nb: [*x]'))
    print(pcall(json.parse, string.rep('[', 25000) .. string.rep(']', 25000)))
    print(#yaml.encode(yaml.parse(string.rep('[', 999) .. string.rep(']', 999))) > 0)
  ]]))
  assert.eq(code, 0, out)
  local lines = {}
  for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
  assert.eq(lines[1], "false\tyaml.parse: nesting deeper than 1000 levels at line 1 column 1001")
  assert.eq(lines[2], "false\tyaml.parse: nesting deeper than 1000 levels at line 1 column 4001")
  assert.matches(lines[3], "^false\tyaml%.parse: nesting deeper than 1000 levels at %$%.b%[1%]")
  assert.eq(lines[4], "false\tjson.parse: nesting deeper than 1000 levels at line 1 column 1001")
  assert.eq(lines[5], "true")
end

-- toml: bounded by its parser; the message names no .NET option
do
  local out, code = run(script("toml_deep", [[
    print(pcall(toml.parse, 'a = ' .. string.rep('[', 25000) .. string.rep(']', 25000)))
    print(pcall(toml.parse, string.rep('k.', 5000) .. 'v = 1'))
  ]]))
  assert.eq(code, 0, out)
  assert.contains(out, "false\ttoml.parse: nesting deeper than 64 levels at line 1")
  assert.eq(out:find("TomlSerializerOptions", 1, true), nil)
end

-- 2. awaiting a task that ran out of memory re-raises "not enough memory"; the process lives
do
  local out, code = run(script("oom_tasks", [[
    local h = async.spawn(function() local s = string.rep("x", 60 * 1024 * 1024) end)
    print("string", pcall(h.await))
    h = async.spawn(function() local t = {} for i = 1, 1e9 do t[i] = i end end)
    print("table", pcall(h.await))
    print("alive", async.spawn(function() return 42 end).await()[1])
  ]]), "--memory-limit 50")
  assert.eq(code, 0, out)
  assert.contains(out, "string\tfalse\tnot enough memory\n")
  assert.contains(out, "table\tfalse\tnot enough memory\n")
  assert.contains(out, "alive\t42\n")
  -- a long spawn/await chain: memory runs out somewhere along it. A task whose handle could not
  -- even be made is reported as an unhandled error (exit 1), but nothing crashes.
  out, code = run(script("oom_chain", [[
    local function chain(n)
      if n == 0 then return 0 end
      return async.spawn(chain, n - 1).await()[1] + 1
    end
    print("chain", pcall(chain, 1e6))
    collectgarbage()
    print("alive", async.spawn(function() return 42 end).await()[1])
  ]]), "--memory-limit 50")
  assert.eq(code == 0 or code == 1, true, out)
  assert.contains(out, "chain\tfalse\tnot enough memory\n")
  assert.contains(out, "alive\t42\n")
end

-- 8. Ctrl-C stops code that runs no interruptible Lua instructions: a finalizer and a long
-- pattern match. The child gets SIGINT's default disposition back (a background job of a
-- non-interactive shell starts with SIGINT ignored); the script creates `ready` once it is stuck.
local function interrupted(name, body)
  local ready = dir .. "/" .. name .. ".ready"
  local path = script(name, string.format("local READY = %q\n%s", ready, body))
  local sh = string.format([[
    env --default-signal=INT %s %s >/dev/null 2>&1 & pid=$!
    i=0; while [ ! -e %s ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i+1)); done
    sleep 0.2; kill -INT $pid
    i=0; while kill -0 $pid 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
    if kill -0 $pid 2>/dev/null; then kill -KILL $pid; wait $pid; echo hung; else wait $pid; echo "exit $?"; fi
  ]], bin, path, ready)
  local p = io.popen(sh)
  local out = p:read("a")
  p:close()
  return (out:gsub("%s+$", ""))
end

local touch = "io.open(READY, 'w'):close()\n"
assert.eq(interrupted("plain_loop", touch .. "while true do end"), "exit 130")
assert.eq(interrupted("gc_loop", [[
  setmetatable({}, {__gc = function() io.open(READY, 'w'):close() while true do end end})
  collectgarbage()
  print("not reached")
]]), "exit 130")
-- several looping finalizers: Lua switches hooks off anew for each one
assert.eq(interrupted("gc_loops", [[
  for i = 1, 3 do setmetatable({}, {__gc = function() io.open(READY, 'w'):close() local n = 0 while true do n = n + 1 end end}) end
  local t = {}
  for i = 1, 1e9 do t[i % 100] = {} end
]]), "exit 130")
-- a finalizer that loops when the state is closed after the interrupt
assert.eq(interrupted("gc_at_close", "keep = setmetatable({}, {__gc = function() while true do end end})\n"
  .. touch .. "while true do end"), "exit 130")
assert.eq(interrupted("pattern", touch .. "print(string.find(string.rep('a', 3000), '.-.-.-b'))"), "exit 130")
assert.eq(interrupted("gsub", touch .. "print(string.gsub(string.rep('a', 3000), '.-.-.-b', 'x'))"), "exit 130")
assert.eq(interrupted("pcall_pattern", touch
  .. "while true do pcall(string.match, string.rep('a', 3000), '(.-)(.-)(.-)b') end"), "exit 130")

-- 9. deeply nested Markdown lists are refused up front, fast
do
  local out, code = run(script("markdown_deep", [[
    local parts = {}
    for i = 0, 1999 do parts[#parts + 1] = string.rep('  ', i) .. '- x' end
    local t0 = os.clock()
    print(pcall(markdown.to_html, table.concat(parts, '\n')))
    print(os.clock() - t0 < 1)
    parts = {}
    for i = 0, 9 do parts[#parts + 1] = string.rep('  ', i) .. '- x' end
    local html = markdown.to_html(table.concat(parts, '\n'))
    print(select(2, html:gsub('<ul>', '')))
    print(pcall(markdown.to_html, string.rep('> ', 3000) .. 'quote'))
  ]]))
  assert.eq(code, 0, out)
  assert.contains(out, "false\tmarkdown.to_html: lists and block quotes nest more than 128 levels deep at line 129\n")
  assert.contains(out, "true\n10\n")
  assert.contains(out, "false\tmarkdown.to_html: lists and block quotes nest more than 128 levels deep at line 1\n")
end

-- 17. fs.read stops at the memory limit; fs.copy refuses devices unless asked
do
  local out, code = run(script("fs_devices", [[
    local target = ]] .. string.format("%q", dir .. "/copied") .. [[

    print(pcall(fs.read, "/dev/zero"))
    print(pcall(fs.copy, "/dev/zero", target))
    print(fs.exists(target))
    print(fs.copy("/dev/null", target, {allow_special = true}))
    fs.write(target, string.rep("y", 1000))
    print(#fs.read(target))
  ]]), "--memory-limit 64")
  assert.eq(code, 0, out)
  assert.matches(out, 'false\tfs%.read: file too large for the memory limit %(%d+ MiB left of 64 MiB; raise it with %-%-memory%-limit%): "/dev/zero"\n')
  assert.contains(out, 'false\tfs.copy: not a regular file (a device, FIFO or socket; pass {allow_special = true} to copy it anyway): "/dev/zero"\n')
  assert.contains(out, "false\n0\n1000\n")
end

-- 18. JSON has no infinities
do
  local out, code = run(script("json_inf", [[
    print(pcall(json.parse, "1e999999"))
    print(pcall(json.parse, '{"a": [1, -1e400]}'))
    print(json.parse("1e308"), json.parse("[1.5e-400]")[1])
  ]]))
  assert.eq(code, 0, out)
  assert.contains(out, "false\tjson.parse: number 1e999999 is out of range (beyond ±1.8e308) at line 1 column 1\n")
  assert.contains(out, "false\tjson.parse: number -1e400 is out of range (beyond ±1.8e308) at line 1 column 11\n")
  assert.contains(out, "1e+308\t0.0\n")
end

-- 19. the memory cap holds for small objects, which the allocator recycles through a pool and
-- accounts for only when it takes memory from malloc: keeping closures and small tables past the
-- cap ends in the documented error, while churning far more than the cap in short-lived ones runs
do
  local out, code = run(script("cap_small_objects", [[
    local total = 0
    for i = 1, 300000 do
      local t = { i, name = "n" .. (i % 1000) }
      total = total + (function() return t[1] end)()
    end
    print("churned", total)
    local keep = {}
    for i = 1, 1e8 do keep[i] = { x = i, f = function() return i end } end
  ]]), "--memory-limit 16")
  assert.eq(code, 1, out)
  assert.contains(out, "churned\t45000150000\n")
  assert.contains(out, "memory limit exceeded: the Lua heap may use 16 MiB")
end

fs.remove(dir, { recursive = true })
