-- The REPL through a real pseudo-terminal (python's pty drives the binary), and scripts from stdin.
local bin = assert(os.getenv("ASSAY_BIN"), "run through `assay test` (sets ASSAY_BIN)")
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local home = os.tmpname()
os.remove(home)
fs.mkdir(home)

local function session(steps, extra_args)
  local argv = { "python3", here .. "/fixtures/pty_drive.py", bin, json.encode(steps) }
  for _, a in ipairs(extra_args or {}) do argv[#argv + 1] = a end
  local r = process.run(argv, { timeout = 60, env = { HOME = home } })
  assert.eq(r.status, 0, r.stderr)
  return json.parse(r.stdout)
end

local function ok(result)
  assert.is_true(result.ok, "missing " .. tostring(result.missing) .. " in: " .. tostring(result.seen))
  return result
end

-- expressions, pretty-printed tables, json.null, several values, multi-line chunks, errors
local r = ok(session({
  { "expect", "> ", 20 },
  { "send", "1 + 1\r" }, { "expect", "2\r\n" },
  { "send", "{ name = 'x', list = {1, 2}, none = json.null }\r" },
  { "expect", '{ list = { 1, 2 }, name = "x", none = json.null }' },
  { "send", "'a', 2, nil\r" }, { "expect", "a\t2\tnil\r\n" },
  { "send", "for i = 1, 2 do\r" }, { "expect", ">> " },
  { "send", "print('line', i) end\r" }, { "expect", "line\t2\r\n" },
  { "send", "error('boom')\r" }, { "expect", "stdin:1: boom" },
  { "send", "x = = 1\r" }, { "expect", "unexpected symbol" },
  { "send", "still = 'alive'\r" }, { "send", "still\r" }, { "expect", "alive\r\n" },
  { "send", "\4" },
}))
assert.eq(r.code, 0)

-- waiting builtins at the prompt; tasks keep running between lines
ok(session({
  { "expect", "> ", 20 },
  { "send", "sleep(0.1) return 'slept'\r" }, { "expect", "slept\r\n" },
  { "send", "n = 0; h = async.spawn(function() for i = 1, 3 do sleep(0.05) n = n + 1 end end)\r" },
  { "send", "sleep(0.5) return n\r" }, { "expect", "3\r\n" },
  { "send", "\4" },
}))

-- Ctrl-C cancels the running line (a busy loop or a wait), not the session; at the prompt it
-- drops the partial input
ok(session({
  { "expect", "> ", 20 },
  { "send", "while true do end\r" }, { "expect", "while true do end\r\n" },
  { "send", "\3" }, { "expect", "interrupted" }, { "expect", "> " },
  { "send", "sleep(100)\r" }, { "expect", "sleep(100)\r\n" },
  { "send", "\3" }, { "expect", "interrupted" }, { "expect", "> " },
  { "send", "for i = 1, 3 do\r" }, { "expect", ">> " }, { "send", "\3" }, { "expect", "^C" },
  { "send", "'after'\r" }, { "expect", "after\r\n" },
  { "send", "\4" },
}))

-- history: kept in ~/.assay/history, recalled with the up arrow in the next session
local history = fs.read(home .. "/.assay/history")
assert.contains(history, "1 + 1\n")
assert.contains(history, "for i = 1, 2 do\\nprint('line', i) end\n")
ok(session({
  { "expect", "> ", 20 },
  { "send", "\27[A" }, { "expect", "'after'" }, { "send", "\r" }, { "expect", "after\r\n" },
  { "send", "\4" },
}))

-- `assay repl` with piped input reads plain lines
local p = io.popen("printf '2 * 21\\n' | " .. bin .. " repl")
assert.contains(p:read("a"), "42")
p:close()

-- scripts from standard input: `assay -` and `assay` with piped stdin
p = io.popen("printf 'print(arg[0], arg[1], ...)' | " .. bin .. " - one two")
assert.eq(p:read("a"), "-\tone\tone\ttwo\n")
p:close()
p = io.popen("printf 'print(6 * 7)' | " .. bin)
assert.eq(p:read("a"), "42\n")
p:close()
p = io.popen("printf 'local x = 1\\nerror(\"bad\")' | " .. bin .. " - 2>&1; echo \"exit=$?\"")
local out = p:read("a")
p:close()
assert.contains(out, "stdin:2: bad")
assert.contains(out, "exit=1")

os.execute("rm -rf " .. home)
print("repl ok")
