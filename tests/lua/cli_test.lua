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
out, code = run("--version")
assert.eq(code, 0)
assert.matches(out, "%d+%.%d+%.%d+")
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
print("cli ok")

-- --version prints "assay <version>" like other tools (the commit may follow in parentheses)
out, code = run("--version")
assert.eq(code, 0)
assert.matches(out, "^assay %d+%.%d+%.%d+")

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
