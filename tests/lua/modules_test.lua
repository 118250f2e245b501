-- require("assay.x"): ./modules first, then $ASSAY_MODULES_PATH, then the embedded stdlib.
local bin = assert(os.getenv("ASSAY_BIN"), "run through `assay test` (sets ASSAY_BIN)")
local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir .. "/project/modules/nested " .. dir .. "/global"))

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

write(dir .. "/project/modules/greet.lua", "return { hello = function() return 'project' end }")
write(dir .. "/project/modules/nested/init.lua", "return { name = 'nested-init' }")
write(dir .. "/global/greet.lua", "return { hello = function() return 'global' end }")
write(dir .. "/global/only_global.lua", "return 'from global dir'")
write(dir .. "/project/main.lua", [[
  local g = require("assay.greet")
  assert.eq(g.hello(), "project")                   -- ./modules wins over the global dir
  assert.eq(require("assay.greet"), g)              -- cached
  assert.eq(require("assay.nested").name, "nested-init")
  assert.eq(require("assay.only_global"), "from global dir")
  local wf = require("assay.workflow")              -- embedded stdlib
  assert.eq(type(wf.connect), "function")
  local ok, err = pcall(require, "assay.does_not_exist")
  assert.eq(ok, false)
  assert.contains(err, "no embedded stdlib file: does_not_exist.lua")
  print("modules ok")
]])

local cmd = string.format("cd %s/project && ASSAY_MODULES_PATH=%s/global %s main.lua 2>&1", dir, dir, bin)
local p = io.popen(cmd)
local out = p:read("a")
local ok, _, code = p:close()
os.execute("rm -rf " .. dir)
assert.contains(out, "modules ok", out)
assert.eq(code, 0)

-- a user's ./modules/workflow.lua overrides the embedded assay.workflow
local dir2 = os.tmpname()
os.remove(dir2)
os.execute("mkdir -p " .. dir2 .. "/modules")
write(dir2 .. "/modules/workflow.lua", "return { overridden = true }")
write(dir2 .. "/main.lua", "assert.is_true(require('assay.workflow').overridden) print('override ok')")
local p2 = io.popen(string.format("cd %s && %s main.lua 2>&1", dir2, bin))
local out2 = p2:read("a")
p2:close()
os.execute("rm -rf " .. dir2)
assert.contains(out2, "override ok", out2)

-- assay.workflow is embedded as parts (stdlib/workflow/init.lua, client.lua, replay.lua, worker.lua):
-- `assay modules` lists the module once, and its parts' functions under it
local function run(args)
  local p3 = io.popen(bin .. " " .. args .. " 2>&1")
  local text = p3:read("a")
  p3:close()
  return text
end
local listing = run("modules")
local _, rows = listing:gsub("\nassay%.workflow ", "")
assert.eq(rows, 1, listing)
assert.eq(listing:find("assay.workflow.", 1, true), nil, listing)
local context = run("context 'workflow engine signal'")
for _, fn in ipairs({ "assay.workflow.connect(url, opts)", "assay.workflow.define(name, handler)",
                      "assay.workflow.execute_activity(name, input, opts)", "assay.workflow.listen(opts)" }) do
  assert.contains(context, fn)
end
assert.eq(context:find("assay.workflow.client", 1, true), nil, context)
print("modules test ok")
