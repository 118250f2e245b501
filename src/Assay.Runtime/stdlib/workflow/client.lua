--- @internal part of assay.workflow: the client (connect, define/activity, and start, signal, describe, schedules … over REST)
-- The table this part returns is the module's table itself: assay.workflow adds the worker to it, so
-- a script's wf._api replacement is seen by every call, the worker's included.
local common = require("assay.workflow.common")
local conn, workflows, activities = common.connection, common.workflows, common.activities
local encode_component, query, as_object = common.encode_component, common.query, common.as_object
local check_priority = common.check_priority

local M = {}

--- Calls the engine. Bodies are always JSON objects (never `[]`).
function M._api(method, path, body, timeout)
  if not conn.url then error("assay.workflow: call workflow.connect(url) first", 3) end
  if type(http) ~= "table" or type(http.request) ~= "function" then
    error("assay.workflow: the http builtin is not available in this build", 3)
  end
  local headers = { ["Content-Type"] = "application/json" }
  if conn.token then headers["Authorization"] = "Bearer " .. conn.token end
  return http.request({
    method = method,
    url = conn.url .. "/api/v1" .. path,
    headers = headers,
    body = body ~= nil and json.encode(as_object(body)) or nil,
    timeout = timeout,
  })
end

local function call(name, method, path, body, expected)
  local resp = M._api(method, path, body)
  if resp.status ~= (expected or 200) then
    error("workflow." .. name .. " failed: " .. tostring(resp.body or resp.status), 3)
  end
  if resp.body == nil or resp.body == "" then return nil end
  return json.parse(resp.body)
end

local function id(s) return encode_component(s) end

function M.connect(url, opts)
  if common.definitions_only then return end -- workflow.load_worker: the script's engine is not contacted
  conn.url = tostring(url):gsub("/+$", "")
  opts = opts or {}
  conn.token = opts.token
  conn.namespace = opts.namespace
  local resp = M._api("GET", "/health")
  if resp.status ~= 200 then error("workflow.connect: cannot reach engine at " .. url, 2) end
end

--- Registers a workflow type: handler(ctx, input) → result.
function M.define(name, handler)
  if type(name) ~= "string" or type(handler) ~= "function" then error("workflow.define(name, handler)", 2) end
  workflows[name] = handler
end
--- Registers an activity: handler(ctx, input) → result.
function M.activity(name, handler)
  if type(name) ~= "string" or type(handler) ~= "function" then error("workflow.activity(name, handler)", 2) end
  activities[name] = handler
end

--- Starts a workflow. opts: workflow_type, workflow_id (required), input, task_queue ("default"), namespace,
--- search_attributes, priority (1 = highest … 5; default 3; what the workflow schedules inherits it).
function M.start(opts)
  return call("start", "POST", "/workflows", {
    workflow_type = opts.workflow_type,
    workflow_id = opts.workflow_id,
    input = opts.input,
    task_queue = opts.task_queue or "default",
    namespace = opts.namespace or conn.namespace,
    search_attributes = opts.search_attributes,
    priority = check_priority(opts.priority, "workflow.start: opts.priority", 2),
  }, 201)
end

function M.signal(workflow_id, signal_name, payload)
  call("signal", "POST", "/workflows/" .. id(workflow_id) .. "/signal/" .. id(signal_name), { payload = payload })
end

function M.describe(workflow_id) return call("describe", "GET", "/workflows/" .. id(workflow_id)) end
function M.cancel(workflow_id) call("cancel", "POST", "/workflows/" .. id(workflow_id) .. "/cancel", {}) end

function M.terminate(workflow_id, reason)
  call("terminate", "POST", "/workflows/" .. id(workflow_id) .. "/terminate", { reason = reason })
end

function M.list(opts)
  opts = opts or {}
  return call("list", "GET", "/workflows" .. query({
    { "namespace", opts.namespace or conn.namespace }, { "status", opts.status }, { "type", opts.type },
    { "search_attrs", opts.search_attrs and json.encode(opts.search_attrs) },
    { "limit", opts.limit }, { "offset", opts.offset },
  }))
end

function M.get_events(workflow_id) return call("get_events", "GET", "/workflows/" .. id(workflow_id) .. "/events") end

function M.get_state(workflow_id, name)
  local path = "/workflows/" .. id(workflow_id) .. "/state" .. (name and ("/" .. id(name)) or "")
  local resp = M._api("GET", path)
  if resp.status == 404 then return nil end
  if resp.status ~= 200 then error("workflow.get_state failed: " .. tostring(resp.body), 2) end
  return json.parse(resp.body)
end

function M.list_children(workflow_id) return call("list_children", "GET", "/workflows/" .. id(workflow_id) .. "/children") end

function M.continue_as_new(workflow_id, input)
  return call("continue_as_new", "POST", "/workflows/" .. id(workflow_id) .. "/continue-as-new", { input = input }, 201)
end

local function ns_query(opts) return query({ { "namespace", (opts or {}).namespace or conn.namespace } }) end

M.schedules = {}
function M.schedules.create(opts)
  if not opts or not opts.name or not opts.workflow_type or not opts.cron_expr then
    error("workflow.schedules.create: name, workflow_type, cron_expr required", 2)
  end
  return call("schedules.create", "POST", "/schedules", opts, 201)
end
function M.schedules.list(opts) return call("schedules.list", "GET", "/schedules" .. ns_query(opts)) end
function M.schedules.describe(name, opts)
  local resp = M._api("GET", "/schedules/" .. id(name) .. ns_query(opts))
  if resp.status == 404 then return nil end
  if resp.status ~= 200 then error("workflow.schedules.describe failed: " .. tostring(resp.body), 2) end
  return json.parse(resp.body)
end
function M.schedules.patch(name, patch, opts) return call("schedules.patch", "PATCH", "/schedules/" .. id(name) .. ns_query(opts), patch) end
function M.schedules.pause(name, opts) return call("schedules.pause", "POST", "/schedules/" .. id(name) .. "/pause" .. ns_query(opts), {}) end
function M.schedules.resume(name, opts) return call("schedules.resume", "POST", "/schedules/" .. id(name) .. "/resume" .. ns_query(opts), {}) end
function M.schedules.delete(name, opts) call("schedules.delete", "DELETE", "/schedules/" .. id(name) .. ns_query(opts)) end

M.namespaces = {}
function M.namespaces.create(name) return call("namespaces.create", "POST", "/namespaces", { name = name }, 201) end
function M.namespaces.list() return call("namespaces.list", "GET", "/namespaces") end
function M.namespaces.stats(name) return call("namespaces.stats", "GET", "/namespaces/" .. id(name)) end
M.namespaces.describe = M.namespaces.stats
function M.namespaces.delete(name) call("namespaces.delete", "DELETE", "/namespaces/" .. id(name)) end

M.workers = {}
function M.workers.list(opts) return call("workers.list", "GET", "/workers" .. ns_query(opts)) end

M.queues = {}
function M.queues.stats(opts) return call("queues.stats", "GET", "/queues" .. ns_query(opts)) end
--- A queue's settings: { queue, max_activities_per_second } (nil: no limit). Queues are named across namespaces.
function M.queues.describe(name) return call("queues.describe", "GET", "/queues/" .. id(name)) end
--- Replaces a queue's settings: { max_activities_per_second = N } limits the activities claimed from it per second by
--- all workers and engines together; {} (or nil) clears the limit. Returns the settings.
function M.queues.set(name, settings)
  if settings ~= nil and type(settings) ~= "table" then error("workflow.queues.set: settings must be a table", 2) end
  return call("queues.set", "PUT", "/queues/" .. id(name), settings or {})
end

return M
