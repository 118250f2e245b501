-- The original client (seed), dropped unmodified into ./modules/workflow.lua, against our engine:
-- every end-to-end scenario (tests/lua/workflow_support.lua) it can pass (the ★
-- scenarios are bugs of the seed, covered by workflow_embedded_test.lua).
local S = dofile((debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or ".") .. "/workflow_support.lua")
if not S.exists(S.seed_file) then
  print("workflow seed: skipped (no seed client at " .. S.seed_file .. "; set WF_SEED_FILE)")
  return
end
local env = S.new_env("seed")
local ok, err = pcall(function()
  S.start_engine(env)
  local wf = S.client(env)
  local pid = S.start_worker(env)
  S.common_scenarios(env, wf)
  S.management(env)
  S.crash_recovery(env, wf, pid)
end)
S.stop_all(env)
if not ok then error(err, 0) end
print("workflow seed ok")
