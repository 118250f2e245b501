-- tool.approve(prompt, context?): an approval gate for tool mode (assay run --mode tool).
-- The first time a gate is reached the run stops with a needs_approval envelope; `assay resume
-- --token T --approve yes|no` re-runs the script and each gate, in order, gets its own answer.
--
-- Stopping is not an error a script could catch: the request goes to the host as a value
-- (native.halt stores it on the runtime) and the VM is interrupted the way --timeout interrupts
-- it, raising again at every instruction, so a pcall around a gate cannot swallow the stop.
local native = ...
local getenv, error, type, pcall, tostring = os.getenv, error, type, pcall, tostring
local gates_seen = 0

tool = {}

-- The answer to gate number n: ASSAY_APPROVALS (a JSON list, one answer per gate, set by
-- assay resume), else ASSAY_APPROVAL_RESULT (the original's protocol: one answer for every gate),
-- else nil.
local function answer_for(n)
  local raw = getenv("ASSAY_APPROVALS")
  if raw and raw ~= "" then
    local ok, list = pcall(json.parse, raw)
    if ok and type(list) == "table" then return list[n] end
  end
  local single = getenv("ASSAY_APPROVAL_RESULT")
  if single and single ~= "" then return single end
  return nil
end

local function gate(fn, prompt, context)
  if type(prompt) ~= "string" then error(fn .. ": prompt must be a string, got " .. type(prompt), 3) end
  gates_seen = gates_seen + 1
  local answer = answer_for(gates_seen)
  if answer ~= nil then return answer == "yes" end
  local ok, encoded = pcall(json.encode, context)
  if not ok then error(fn .. ": context cannot be encoded as JSON: " .. tostring(encoded), 3) end
  if native.halt(prompt, encoded) then
    -- the VM is interrupted: the next instruction raises, and so does every one after it
    error("tool: the run halted at an approval gate", 0)
  end
  return nil
end

--- true/false once a person answered this gate; in tool mode an unanswered gate stops the run.
--- Elsewhere nil: no one can answer here (a module may ask another way, e.g. on a terminal).
function tool.gate(prompt, context) return gate("tool.gate", prompt, context) end

function tool.approve(prompt, context)
  local answer = gate("tool.approve", prompt, context)
  if answer == nil then
    error("tool.approve: no one can answer an approval gate here; run the script in tool mode "
      .. "(assay run --mode tool) to ask: " .. prompt, 2)
  end
  return answer
end

-- True when running as an agent tool (assay run --mode tool / ASSAY_MODE=tool).
function tool.is_tool_mode() return getenv("ASSAY_MODE") == "tool" end
