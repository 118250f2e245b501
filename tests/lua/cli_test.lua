-- The CLI contract: exit codes, error messages with file:line, shebang, arguments.
local bin = assert(os.getenv("ASSAY_BIN"), "run through `assay test` (sets ASSAY_BIN)")

local function run(args)
  local p = io.popen(bin .. " " .. args .. " 2>&1")
  local out = p:read("a")
  local _, _, code = p:close()
  return out, code
end

local function tempfile(text)
  local path = os.tmpname() .. ".lua"
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  return path
end

local out, code = run("-e 'print(40 + 2)'")
assert.eq(out, "42\n")
assert.eq(code, 0)

out, code = run("exec -e 'print(1)'")
assert.eq(code, 0)

out, code = run("-e 'os.exit(7)'")
assert.eq(code, 7)

-- an error names file:line and exits 1 with a traceback
local script = tempfile("local x = 1\nlocal function f()\n  error('broken here')\nend\nf()\n")
out, code = run(script)
assert.eq(code, 1)
assert.matches(out, "%.lua:3: broken here")
assert.contains(out, "stack traceback:")
assert.not_nil(out:find("in main chunk", 1, true))

-- a shebang line is blanked, not removed: line numbers stay true
local shebang = tempfile("#!/usr/bin/env assay\nlocal y = 2\nerror('line three')\n")
out, code = run(shebang)
assert.eq(code, 1)
assert.matches(out, "%.lua:3: line three")

-- script arguments, including ones that look like options
local args = tempfile("print(#arg, arg[1], arg[2], select('#', ...))")
out, code = run(args .. " first --second")
assert.eq(out, "2\tfirst\t--second\t2\n")
out = run("run " .. args .. " a")
assert.eq(out, "1\ta\tnil\t1\n")

-- syntax errors
out, code = run("-e 'x = = 1'")
assert.eq(code, 1)
assert.contains(out, "unexpected symbol")

-- a script holding Lua bytecode is refused: scripts are source text (only the builtin preludes,
-- compiled into the binary, are loaded as bytecode)
local dumped = tempfile(string.dump(function() print("bytecode ran") end))
out, code = run(dumped)
assert.eq(code, 1)
assert.contains(out, "attempt to load a binary chunk")
assert.eq(out:find("bytecode ran", 1, true), nil)
os.remove(dumped)

-- the precompiled preludes keep their chunk names and line numbers
out, code = run([[-e 'local i = debug.getinfo(assert.eq, "S") print(i.source, i.linedefined > 0)']])
assert.eq(out, "=[assay assert]\ttrue\n")

-- usage errors exit 2
out, code = run("--no-such-flag")
assert.eq(code, 2)
out, code = run("exec")
assert.eq(code, 2)

-- missing file
out, code = run("/nonexistent/script.lua")
assert.eq(code, 1)
assert.contains(out, "cannot read script")

-- --version and --help
-- --version prints "assay <version>" like other tools (the commit may follow in parentheses)
out, code = run("--version")
assert.eq(code, 0)
assert.matches(out, "^assay %d+%.%d+%.%d+")
out, code = run("--help")
assert.eq(code, 0)
assert.contains(out, "assay script.lua")

-- json log format on stderr
out = run("--log-format json -e 'log.info(\"hi\", {k = \"v\"})'")
assert.matches(out, '"level":"info"')
assert.matches(out, '"k":"v"')

-- the memory cap is configurable and reported clearly
out, code = run("--memory-limit 16 -e 'local t = {} for i = 1, 1e8 do t[i] = i .. \"xxxxxxxxxxxxxxxxxxxx\" end'")
assert.eq(code, 1)
assert.contains(out, "memory limit exceeded")

-- an unawaited task error is logged and makes the exit code non-zero
out, code = run("-e 'async.spawn(function() error(\"background failure\") end)'")
assert.contains(out, "background failure")
assert.eq(code, 1)

os.remove(script); os.remove(shebang); os.remove(args)


-- a subcommand's help shows its own arguments and options, not the root's script argument
out, code = run("exec --help")
assert.eq(code, 0)
assert.contains(out, "assay exec [<FILE>]")
assert.contains(out, "-e, --eval <CODE>")
assert.eq(out:find("[<file>]", 1, true), nil)
out = run("workflow start --help")
assert.contains(out, "Usage:\n  assay workflow start [options]")
assert.eq(out:find("Lua script to run", 1, true), nil)
assert.eq(out:find("--memory-limit", 1, true), nil)
-- script options still work where scripts run
out, code = run("--memory-limit 64 -e 'print(3)'")
assert.eq(out, "3\n")
out, code = run("exec --memory-limit 64 -e 'print(4)'")
assert.eq(out, "4\n")

-- errors a newcomer understands: "did you mean" for functions, modules and commands
out, code = run("-e 'local t = json.decode(\"{}\")'")
assert.eq(code, 1)
assert.contains(out, "hint: json has no function 'decode'; did you mean json.parse?")
out = run("-e 'fs.reed(\"x\")'")
assert.contains(out, "did you mean fs.read?")
out = run("-e 'require(\"assay.wokflow\")'")
assert.contains(out, "no file './modules/wokflow.lua'")   -- every place searched is listed
assert.contains(out, "hint: did you mean require(\"assay.workflow\")?")
out = run("-e 'require(\"workflow\")'")
assert.contains(out, "hint: did you mean require(\"assay.workflow\")?")
out, code = run("wrokflow list")
assert.eq(code, 2)
assert.contains(out, "hint: did you mean 'assay workflow'?")
out, code = run("workflow lst")
assert.eq(code, 2)
assert.contains(out, "hint: did you mean 'list'?")

-- assay test: a line per file with its time, failures with their output, a summary; -q, -j
local suite = os.tmpname()
os.remove(suite)
os.execute("mkdir -p " .. suite)
for i = 1, 3 do
  local f = io.open(suite .. "/ok" .. i .. "_test.lua", "w")
  f:write("sleep(1)")
  f:close()
end
local f = io.open(suite .. "/bad_test.lua", "w")
f:write("error('this one fails')")
f:close()
local t0 = time()
out, code = run("test -j 4 " .. suite)
assert.lt(time() - t0, 2.5)                        -- side by side: not 3 s one after another
assert.eq(code, 1)
assert.matches(out, "PASS  [^\n]*ok1_test%.lua  %(%d+ ms%)")
assert.contains(out, "this one fails")
assert.matches(out, "3 passed, 1 failed in %d+%.%d s")
assert.contains(out, "failed: " .. suite .. "/bad_test.lua")
out = run("test -q " .. suite)
assert.eq(out:find("PASS", 1, true), nil)
assert.contains(out, "FAIL  " .. suite .. "/bad_test.lua")
assert.contains(out, "3 passed, 1 failed")
os.execute("rm -rf " .. suite)
print("cli ok")
