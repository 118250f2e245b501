-- Tool mode for agents: one JSON envelope on stdout, exit 0, timeouts, approval gates.
local bin = assert(os.getenv("ASSAY_BIN"), "run through `assay test` (sets ASSAY_BIN)")
local dir = os.tmpname()
os.remove(dir)
os.execute("mkdir -p " .. dir .. "/state")

local function script(name, text)
  local path = dir .. "/" .. name
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  return path
end

local function run(args, env)
  local p = io.popen(string.format("%s ASSAY_STATE_DIR=%s/state %s %s 2>%s/stderr", env or "", dir, bin, args, dir))
  local out = p:read("a")
  local _, _, code = p:close()
  local e = io.open(dir .. "/stderr"); local err = e:read("a"); e:close()
  return out, code, err
end

-- success: the first return value, print on stderr, no trailing newline
local ok_script = script("ok.lua", "print('chatter') io.write('more chatter') return { answer = 42, list = {1, 2} }")
local out, code, err = run("run --mode tool " .. ok_script)
assert.eq(code, 0)
assert.eq(out, '{"ok":true,"status":"ok","output":{"answer":42,"list":[1,2]},"requiresApproval":null}')
assert.contains(err, "chatter")
-- ASSAY_MODE=tool selects tool mode too
out = run(ok_script, "ASSAY_MODE=tool")
assert.eq(json.parse(out).output.answer, 42)

-- errors become an error envelope, still exit 0
local bad = script("bad.lua", "local x = nil\nreturn x.field")
out, code = run("run --mode tool " .. bad)
assert.eq(code, 0)
local env = json.parse(out)
assert.eq(env.ok, false)
assert.eq(env.status, "error")
assert.matches(env.error, "bad%.lua:2:")

-- a busy loop is interrupted by --timeout
local busy = script("busy.lua", "while true do end")
local t0 = time()
out, code = run("run --mode tool --timeout 0.5 " .. busy)
assert.eq(code, 0)
assert.eq(json.parse(out).status, "timeout")
assert.lt(time() - t0, 5)

-- large output is truncated to 512 KiB with "truncated": true
local big = script("big.lua", "return string.rep('x', 600 * 1024)")
out = run("run --mode tool " .. big)
assert.lt(#out, 512 * 1024 + 1)
local benv = json.parse(out)
assert.eq(benv.truncated, true)
assert.matches(benv.output, "%.%.%.$")

-- two approval gates, each answered separately; side effects before a gate are the script's business
local gated = script("gated.lua", [[
  local first = tool.approve("deploy to staging?", { env = "staging" })
  local second = tool.approve("deploy to production?", { env = "prod" })
  return { staging = first, production = second }
]])
out = run("run --mode tool " .. gated)
local g1 = json.parse(out)
assert.eq(g1.status, "needs_approval")
assert.eq(g1.requiresApproval.prompt, "deploy to staging?")
assert.eq(g1.requiresApproval.context.env, "staging")
local token1 = g1.requiresApproval.resumeToken
assert.matches(token1, "^%x+$")
assert.eq(#token1, 32)
-- the state file is private
local p = io.popen("stat -c %a " .. dir .. "/state/resume/" .. token1 .. ".json")
assert.eq(p:read("l"), "600")
p:close()

out = run("resume --token " .. token1 .. " --approve yes")
local g2 = json.parse(out)
assert.eq(g2.status, "needs_approval", out)
assert.eq(g2.requiresApproval.prompt, "deploy to production?")
out = run("resume --token " .. g2.requiresApproval.resumeToken .. " --approve no")
local done = json.parse(out)
assert.eq(done.status, "ok", out)
assert.eq(done.output, { staging = true, production = false })
-- a used token is gone
out, code = run("resume --token " .. token1 .. " --approve yes")
assert.eq(code, 0)
assert.eq(json.parse(out).error, "invalid resume token")

-- tokens are validated: no path traversal
out = run("resume --token ../../etc/passwd --approve yes")
assert.eq(json.parse(out).error, "invalid resume token")

-- a script changed after the gate is refused
out = run("run --mode tool " .. gated)
local token3 = json.parse(out).requiresApproval.resumeToken
local f = io.open(gated, "a"); f:write("\n-- edited\n"); f:close()
out = run("resume --token " .. token3 .. " --approve yes")
assert.contains(json.parse(out).error, "script changed")

-- issue 20: the gate travels as a value, not as error text; a pcall around it cannot swallow
-- it, and nothing after it runs before the answer
local marker_file = dir .. "/went-on"
local swallow = script("swallow.lua", string.format([[
  local ok, err = pcall(tool.approve, "delete the bucket?", { bucket = "logs" })
  local f = io.open(%q, "w") f:write("x") f:close()
  return { ok = ok, answer = err }
]], marker_file))
out = run("run --mode tool " .. swallow)
local s1 = json.parse(out)
assert.eq(s1.status, "needs_approval", out)
assert.eq(s1.requiresApproval.prompt, "delete the bucket?")
assert.eq(s1.requiresApproval.context.bucket, "logs")
assert.eq(io.open(marker_file), nil) -- the script did not go on past the gate
out = run("resume --token " .. s1.requiresApproval.resumeToken .. " --approve yes")
assert.eq(json.parse(out).output, { ok = true, answer = true }, out)
os.remove(marker_file)

-- nor can xpcall with a handler, a coroutine around the gate, or an error() in between
local nested = script("nested.lua", [[
  local results = {}
  for i = 1, 3 do
    local ok = xpcall(function()
      return coroutine.wrap(function() return pcall(tool.gate, "nested gate?", { n = 1 }) end)()
    end, function(e) return "handled: " .. tostring(e) end)
    results[i] = ok
  end
  return results
]])
out = run("run --mode tool " .. nested)
local n1 = json.parse(out)
assert.eq(n1.status, "needs_approval", out)
assert.eq(n1.requiresApproval.prompt, "nested gate?")
out = run("resume --token " .. n1.requiresApproval.resumeToken .. " --approve no")
assert.eq(json.parse(out).status, "needs_approval", out) -- the loop's second gate asks again
out = run("resume --token " .. json.parse(out).requiresApproval.resumeToken .. " --approve yes")
out = run("resume --token " .. json.parse(out).requiresApproval.resumeToken .. " --approve yes")
assert.eq(json.parse(out).output, { true, true, true }, out)

-- the original's protocol (an error carrying the marker) still raises a gate
local legacy = script("legacy.lua", [[error('__assay_approval_request__:{"prompt":"old style?","context":{"a":1}}')]])
out = run("run --mode tool " .. legacy)
local l1 = json.parse(out)
assert.eq(l1.status, "needs_approval", out)
assert.eq(l1.requiresApproval.prompt, "old style?")
assert.eq(l1.requiresApproval.context.a, 1)

-- outside tool mode no one can answer: a plain error that says how to ask
local _, plain_code, plain_err = run(gated)
assert.ne(plain_code, 0)
assert.contains(plain_err, "tool.approve: no one can answer an approval gate here")
assert.contains(plain_err, "deploy to staging?")
-- bad input names the function
local bad_gate = script("badgate.lua", "return tool.approve(42)")
out = run("run --mode tool " .. bad_gate)
assert.contains(json.parse(out).error, "tool.approve: prompt must be a string, got number")

os.execute("rm -rf " .. dir)
print("tool mode ok")
