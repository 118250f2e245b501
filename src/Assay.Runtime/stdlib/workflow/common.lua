--- @internal part of assay.workflow: what the client, replay and worker parts share
-- The engine connection workflow.connect made, the handlers workflow.define/activity registered (the
-- worker runs them), and small JSON/URL helpers.

-- url (no trailing slash), token, namespace: set by workflow.connect
local connection = {}
-- name → handler(ctx, input)
local workflows, activities = {}, {}

local function encode_component(s)
  return (tostring(s):gsub("[^%w%-_.~]", function(c) return string.format("%%%02X", c:byte()) end))
end

local function query(params)
  local parts = {}
  for _, kv in ipairs(params) do
    if kv[2] ~= nil then parts[#parts + 1] = kv[1] .. "=" .. encode_component(kv[2]) end
  end
  return #parts > 0 and ("?" .. table.concat(parts, "&")) or ""
end

-- A fresh object-marked copy: encodes as {} when empty and leaves the caller's table alone.
local function as_object(t)
  local o = json.object()
  for k, v in pairs(t) do o[k] = v end
  return o
end

-- The message of an error value: a table's `message`, else its JSON, else tostring.
local function error_text(e)
  if type(e) == "table" then
    if e.message ~= nil then return tostring(e.message) end
    local ok, s = pcall(json.encode, e)
    if ok then return s end
  end
  return tostring(e)
end

-- A dispatch priority (docs/engine.md "Priorities and rate limits"): nil (the engine's default, or what the workflow
-- has) or an integer from 1 (highest) to 5 (lowest). Raises naming `what` (the caller's function and field).
local function check_priority(value, what, level)
  if value == nil then return nil end
  if type(value) ~= "number" or value ~= math.floor(value) or value < 1 or value > 5 then
    error(what .. " must be an integer from 1 (highest) to 5 (lowest), got " .. tostring(value), (level or 1) + 1)
  end
  return math.tointeger(value)
end

return {
  -- true while workflow.load_worker runs a worker script: connect and listen do nothing then
  definitions_only = false,
  connection = connection, workflows = workflows, activities = activities,
  encode_component = encode_component, query = query, as_object = as_object, error_text = error_text,
  check_priority = check_priority,
}
