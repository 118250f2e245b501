--- @module assay.openclaw
--- @description OpenClaw AI agent gateway client: invoke tools (POST /tools/invoke), send messages and notifications, cron jobs, spawn sub-agent sessions, JSON-only LLM tasks; local JSON state with change detection; approval gates that pause a tool-mode run until a person answers.
--- @keywords openclaw, clawd, ai agent, agent gateway, tools invoke, invoke tool, llm, llm task, sub-agent, spawn, cron, message, notify, state, diff, change detection, approval, approve, human in the loop
--- @quickref c = openclaw.client(url? ($OPENCLAW_URL), {token? ($OPENCLAW_TOKEN), state_dir?, session_key?}) -> client
--- @quickref c.tools:invoke(tool, action, args) ; c.messaging:send(channel, target, message) ; c.messaging:notify(target, message) ; c.cron:add(job) ; c.cron:list() ; c.sessions:spawn(task, {model, timeout})
--- @quickref c.llm:task(prompt, {input, schema, model, temperature, max_tokens}) -> response ; openclaw.output(response) -> the task's JSON
--- @quickref c.state:get(key) ; c.state:set(key, value) ; c.state:diff(key, value) -> {changed, before, after} ; c.gates:approve(prompt, context) -> bool
--- @example local c = require("assay.openclaw").client(); local d = c.state:diff("release", {version = v}); if d.changed and c.gates:approve("Announce " .. v .. "?") then c.messaging:notify("ops", "released " .. v) end
--
-- Built on assay.rest; approval gates on the tool builtin's gates. See docs/modules/openclaw.md.
local rest = require("assay.rest")

local M = {}

local type, tostring, error, pcall, ipairs, format = type, tostring, error, pcall, ipairs, string.format

local function getenv(name)
  local v = env.get(name)
  if v == nil or v == "" then return nil end
  return v
end

--- The structured output of an llm-task response: the gateway's `{ok, result}` envelope unwrapped
--- to `result.details.json`, else the JSON text of its first content item, else the response.
function M.output(response)
  if type(response) ~= "table" then return response end
  local r = response
  if r.ok ~= nil and r.result ~= nil then r = r.result end
  if type(r) ~= "table" then return r end
  if type(r.details) == "table" and r.details.json ~= nil then return r.details.json end
  local first = type(r.content) == "table" and r.content[1]
  if type(first) == "table" and first.type == "text" and type(first.text) == "string" then
    local ok, parsed = pcall(json.parse, first.text)
    if ok then return parsed end
    return first.text
  end
  return r
end

-- State keys name files: letters, digits, ".", "_", "-" only, not starting with "." — so no key
-- can reach outside the state directory ("../x", "a/b", "/etc/passwd", "..").
local function check_key(fn, key)
  if type(key) ~= "string" or key == "" then
    error(fn .. ": key must be a non-empty string, got " .. (key == "" and "an empty string" or type(key)), 3)
  end
  if #key > 200 or not key:match("^[%w_%-][%w%._%-]*$") then
    error(fn .. ": invalid key " .. format("%q", key) .. " (use letters, digits, '.', '_' and '-', not starting with '.')", 3)
  end
  return key
end

-- Answers a gate on the terminal (OPENCLAW_INTERACTIVE or TTY set): the prompt goes to stderr,
-- the answer is a line from stdin ("y"/"yes" approves; anything else, or end of input, declines).
local function ask(prompt, context)
  io.stderr:write("Approval required: " .. prompt .. "\n")
  if context ~= nil then io.stderr:write("Context: " .. json.encode(context) .. "\n") end
  io.stderr:write("Approve? [y/N] ")
  io.stderr:flush()
  local line = io.stdin:read("l")
  if line == nil then
    log.warn("openclaw: no answer to \"" .. prompt .. "\" (end of input): not approved")
    return false
  end
  local answer = line:lower():match("^%s*(.-)%s*$")
  return answer == "y" or answer == "yes"
end

function M.client(url, opts)
  if url ~= nil and type(url) ~= "string" then error("openclaw.client: url must be a string, got " .. type(url), 2) end
  opts = rest.need_table("openclaw.client", "opts", opts) or {}
  url = url or getenv("OPENCLAW_URL") or getenv("CLAWD_URL")
  if url == nil or url == "" then error("openclaw: url required (set $OPENCLAW_URL or $CLAWD_URL)", 2) end
  local token = opts.token or getenv("OPENCLAW_TOKEN") or getenv("CLAWD_TOKEN")
  local state_dir = opts.state_dir or getenv("ASSAY_STATE_DIR") or getenv("OPENCLAW_STATE_DIR")
  if state_dir == nil and getenv("HOME") then state_dir = getenv("HOME") .. "/.assay/state" end
  local headers = {}
  if opts.channel then headers["x-openclaw-message-channel"] = tostring(opts.channel) end
  if opts.account_id then headers["x-openclaw-account-id"] = tostring(opts.account_id) end
  local api = rest.client({ module = "openclaw", base_url = url, auth = token and { bearer = token } or nil,
                            headers = headers, timeout = opts.timeout, retries = opts.retries })

  -- Every remote call: POST /tools/invoke {tool, action, args} (args always an object).
  local function invoke(tool, action, args)
    return (api:post("/tools/invoke", { tool = tool, action = action, args = rest.object(args),
                                        sessionKey = opts.session_key }))
  end

  local function dir(fn)
    if state_dir == nil then error(fn .. ": no state directory: pass state_dir or set $ASSAY_STATE_DIR or $HOME", 3) end
    return state_dir
  end

  local c = { url = api.base_url, state_dir = state_dir,
              tools = {}, messaging = {}, cron = {}, sessions = {}, llm = {}, state = {}, gates = {} }

  function c.tools:invoke(tool, action, args)
    local fn = "openclaw.tools:invoke"
    rest.need_string(fn, "tool", tool)
    if action ~= nil and type(action) ~= "string" then error(fn .. ": action must be a string, got " .. type(action), 2) end
    rest.need_table(fn, "args", args)
    return invoke(tool, action, args)
  end

  function c.messaging:send(channel, target, message)
    local fn = "openclaw.messaging:send"
    rest.need_string(fn, "channel", channel)
    rest.need_string(fn, "target", target)
    rest.need_string(fn, "message", message)
    return invoke("message", "send", { channel = channel, target = target, message = message })
  end

  function c.messaging:notify(target, message)
    local fn = "openclaw.messaging:notify"
    rest.need_string(fn, "target", target)
    rest.need_string(fn, "message", message)
    return invoke("message", "send", { target = target, message = message })
  end

  function c.cron:add(job)
    if type(job) ~= "table" then error("openclaw.cron:add: job must be a table, got " .. type(job), 2) end
    return invoke("cron", "add", { job = job })
  end

  function c.cron:list() return invoke("cron", "list", {}) end

  function c.sessions:spawn(task, o)
    local fn = "openclaw.sessions:spawn"
    rest.need_string(fn, "task", task)
    o = rest.need_table(fn, "opts", o) or {}
    return invoke("sessions_spawn", "invoke", { task = task, model = o.model, timeout = o.timeout })
  end

  --- A JSON-only LLM task (the llm-task plugin tool). The original's option names artifacts,
  --- output_schema and max_output_tokens are accepted for input, schema and max_tokens.
  function c.llm:task(prompt, o)
    local fn = "openclaw.llm:task"
    rest.need_string(fn, "prompt", prompt)
    o = rest.need_table(fn, "opts", o) or {}
    local input = o.input
    if input == nil then input = o.artifacts end
    return invoke("llm-task", "json", {
      prompt = prompt, input = input, schema = o.schema or o.output_schema,
      provider = o.provider, model = o.model, thinking = o.thinking, authProfileId = o.auth_profile_id,
      temperature = o.temperature, maxTokens = o.max_tokens or o.max_output_tokens, timeoutMs = o.timeout_ms,
    })
  end

  function c.state:get(key)
    local fn = "openclaw.state:get"
    local path = dir(fn) .. "/" .. check_key(fn, key) .. ".json"
    if not fs.is_file(path) then return nil end
    local content = fs.read(path)
    if content:match("^%s*$") then return nil end
    local ok, value = pcall(json.parse, content)
    if not ok then error(fn .. ": " .. path .. " is not valid JSON: " .. tostring(value), 2) end
    return value
  end

  --- Replaces the value atomically; the file is private (0600), the directory made 0700.
  function c.state:set(key, value)
    local fn = "openclaw.state:set"
    local d = dir(fn)
    local path = d .. "/" .. check_key(fn, key) .. ".json"
    local ok, encoded = pcall(json.encode, value)
    if not ok then error(fn .. ": value cannot be encoded as JSON: " .. tostring(encoded), 2) end
    if not fs.is_dir(d) then
      fs.mkdir(d)
      fs.chmod(d, "700")
    end
    fs.write_atomic(path, encoded, { mode = "600" })
    return true
  end

  function c.state:diff(key, value)
    local fn = "openclaw.state:diff"
    check_key(fn, key)
    local before = c.state:get(key)
    c.state:set(key, value)
    -- the encoder sorts object keys, so equal values encode equally
    return { changed = json.encode(before) ~= json.encode(value), before = before, after = value }
  end

  --- A person's yes/no. Answered through tool mode (the run stops until `assay resume`), then
  --- on the terminal when $OPENCLAW_INTERACTIVE or $TTY is set; otherwise an error carrying the
  --- request.
  function c.gates:approve(prompt, context)
    rest.need_string("openclaw.gates:approve", "prompt", prompt)
    local answer = tool.gate(prompt, context)
    if answer ~= nil then return answer end
    if getenv("OPENCLAW_INTERACTIVE") or getenv("TTY") then return ask(prompt, context) end
    error("openclaw: approval_required: " .. json.encode({ type = "approval_request", prompt = prompt, context = context }), 2)
  end

  -- The original's documentation showed flat methods; they work too.
  function c:invoke(tool, action, args) return c.tools:invoke(tool, action, args) end
  function c:send(channel, target, message) return c.messaging:send(channel, target, message) end
  function c:notify(target, message) return c.messaging:notify(target, message) end
  function c:cron_add(job) return c.cron:add(job) end
  function c:cron_list() return c.cron:list() end
  function c:spawn(task, o) return c.sessions:spawn(task, o) end
  function c:llm_task(prompt, o) return c.llm:task(prompt, o) end
  function c:state_get(key) return c.state:get(key) end
  function c:state_set(key, value) return c.state:set(key, value) end
  function c:diff(key, value) return c.state:diff(key, value) end
  function c:approve(prompt, context) return c.gates:approve(prompt, context) end

  return c
end

return M
