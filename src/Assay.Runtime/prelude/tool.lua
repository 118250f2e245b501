-- tool.approve(prompt, context?): an approval gate for tool mode (assay run --mode tool).
-- The first time a gate is reached the run stops with a needs_approval envelope; `assay resume
-- --token T --approve yes|no` re-runs the script and each gate, in order, gets its own answer.
local getenv, error, type = os.getenv, error, type
local gates_seen = 0

tool = {}

local function answers()
  local raw = getenv("ASSAY_APPROVALS")
  if raw and raw ~= "" then
    local ok, list = pcall(json.parse, raw)
    if ok and type(list) == "table" then return list end
  end
  return {}
end

function tool.approve(prompt, context)
  if type(prompt) ~= "string" then error("tool.approve: prompt must be a string", 2) end
  gates_seen = gates_seen + 1
  local answer = answers()[gates_seen]
  if answer == nil then
    error("__assay_approval_request__:" .. json.encode({ prompt = prompt, context = context }), 0)
  end
  return answer == "yes"
end

-- True when running as an agent tool (assay run --mode tool / ASSAY_MODE=tool).
function tool.is_tool_mode() return getenv("ASSAY_MODE") == "tool" end
