--- @module assay.ory.rbac
--- @description Capability-based role permissions (RBAC) on Ory Keto: a policy maps roles to ranks and capabilities; users hold roles as Keto tuples; effective capabilities are the union of held roles; membership management and an http.serve handler guard (401/403) for routes.
--- @keywords rbac, roles, role based access control, permissions, capabilities, authorization, authz, access control, middleware, guard, http.serve, keto, ory, members, policy, separation of duties
--- @quickref p = rbac.policy({namespace, keto, roles = {name = {rank, capabilities}}, default_role?}) -> policy
--- @quickref p.users:roles(user_id) ; p.users:primary_role(user_id) ; p.users:capabilities(user_id) -> {cap = true} ; p.users:has_capability(user_id, cap) -> bool
--- @quickref p.members:list(role) ; p.members:add(user_id, role) ; p.members:remove(user_id, role) ; p.members:list_all() ; p.members:reset(role) ; p.policy:roles() ; p.policy:get(role)
--- @quickref p.middleware:require_capability(cap, handler, {user_id = fn(req)}?) -> http.serve handler (401 without a user, 403 without the capability)
--- @example local p = require("assay.ory.rbac").policy({namespace = "cc", keto = keto_client, roles = {admin = {rank = 2, capabilities = {"read", "deploy"}}, viewer = {rank = 1, capabilities = {"read"}}}, default_role = "viewer"}); http.serve(8080, {POST = {["/deploy"] = p.middleware:require_capability("deploy", deploy, {user_id = function(req) return req.headers["x-user"] end})}})
--
-- Tuples: namespace "Role", object "<policy namespace>:<role>", relation "members", subject
-- "user:<id>". No HTTP of its own: everything goes through the keto client.
-- See docs/modules/ory.md.
local M = {}

local type, pairs, ipairs, tostring, tonumber, error, pcall = type, pairs, ipairs, tostring, tonumber, error, pcall
local sort = table.sort

local KETO_NAMESPACE = "Role"
local PREFIX = "assay.ory.rbac"

local function strip_user(subject)
  if type(subject) ~= "string" then return subject end
  return subject:match("^user:(.+)$") or subject
end

local function user_subject(fn, user_id)
  if type(user_id) ~= "string" or user_id == "" then error(fn .. ": user_id must be a non-empty string", 3) end
  if user_id:find("^user:") then return user_id end
  return "user:" .. user_id
end

function M.policy(opts)
  local fn = PREFIX .. ".policy"
  if type(opts) ~= "table" then error(fn .. ": expected an options table {namespace, keto, roles, default_role}", 2) end
  if type(opts.namespace) ~= "string" or opts.namespace == "" then error(fn .. ": namespace is required", 2) end
  if type(opts.keto) ~= "table" then error(fn .. ": keto client is required", 2) end
  if type(opts.keto.tuples) ~= "table" or type(opts.keto.roles) ~= "table" then
    error(fn .. ": keto must be an assay.ory.keto client (keto.client(read_url, {write_url}))", 2)
  end
  if type(opts.roles) ~= "table" or next(opts.roles) == nil then error(fn .. ": roles map is required and must not be empty", 2) end

  local namespace, keto = opts.namespace, opts.keto
  local prefix = namespace .. ":"
  local roles = {}
  for name, def in pairs(opts.roles) do
    if type(name) ~= "string" or type(def) ~= "table" then
      error(fn .. ": roles must map role names to {rank, capabilities} tables", 2)
    end
    local caps = {}
    for _, cap in ipairs(def.capabilities or {}) do caps[cap] = true end
    roles[name] = { rank = tonumber(def.rank or 0) or 0, capabilities = caps }
  end

  -- rank descending, then name ascending
  local function by_rank(a, b)
    if roles[a].rank == roles[b].rank then return a < b end
    return roles[a].rank > roles[b].rank
  end
  local ranked = {}
  for name in pairs(roles) do ranked[#ranked + 1] = name end
  sort(ranked, by_rank)

  local function known_role(f, name)
    if roles[name] == nil then error(PREFIX .. ": unknown role " .. tostring(name), 3) end
    return name
  end
  local function member_tuple(role, subject)
    return { namespace = KETO_NAMESPACE, object = prefix .. role, relation = "members", subject_id = subject }
  end
  -- every tuple matching `filter` (all pages when the client can page)
  local function all_tuples(filter)
    if keto.tuples.list_all then return keto.tuples:list_all(filter) end
    return (keto.tuples:list(filter) or {}).relation_tuples or {}
  end

  local p = { policy = {}, users = {}, members = {}, middleware = {} }

  -- ------------------------------------------------------------ policy

  function p.policy:roles()
    local out = {}
    for i, name in ipairs(ranked) do out[i] = name end
    return out
  end

  function p.policy:get(name)
    local def = roles[name]
    if not def then return nil end
    local caps = {}
    for cap in pairs(def.capabilities) do caps[#caps + 1] = cap end
    sort(caps)
    return { rank = def.rank, capabilities = caps }
  end

  -- ------------------------------------------------------------ users

  -- Held roles of the policy, rank order; roles of other namespaces and unknown roles are ignored,
  -- so a stale tuple never grants an undefined capability. The namespace is matched as a literal
  -- prefix (the original built a Lua pattern from it and mis-matched names with ".", "%", "+"…).
  local function held_roles(f, user_id)
    local seen, held = {}, {}
    for _, t in ipairs(keto.roles:user_roles(user_subject(f, user_id), KETO_NAMESPACE)) do
      local object = t.object
      if type(object) == "string" and object:sub(1, #prefix) == prefix then
        local name = object:sub(#prefix + 1)
        if roles[name] and not seen[name] then
          seen[name] = true
          held[#held + 1] = name
        end
      end
    end
    sort(held, by_rank)
    return held
  end

  local function capabilities(f, user_id)
    local held = held_roles(f, user_id)
    -- a default_role outside the policy grants nothing (as in the original)
    if #held == 0 and roles[opts.default_role] then held = { opts.default_role } end
    local set = {}
    for _, name in ipairs(held) do
      for cap in pairs(roles[name].capabilities) do set[cap] = true end
    end
    return set
  end

  function p.users:roles(user_id) return held_roles(PREFIX .. ".users:roles", user_id) end
  function p.users:primary_role(user_id)
    return held_roles(PREFIX .. ".users:primary_role", user_id)[1] or opts.default_role
  end
  function p.users:capabilities(user_id) return capabilities(PREFIX .. ".users:capabilities", user_id) end
  function p.users:has_capability(user_id, cap)
    return capabilities(PREFIX .. ".users:has_capability", user_id)[cap] == true
  end

  -- ------------------------------------------------------------ members

  local function list_members(role)
    local out, seen = {}, {}
    for _, t in ipairs(all_tuples({ namespace = KETO_NAMESPACE, object = prefix .. role, relation = "members" })) do
      local uid = strip_user(t.subject_id)
      if uid and not seen[uid] then
        seen[uid] = true
        out[#out + 1] = uid
      end
    end
    return out
  end

  function p.members:list(role) return list_members(known_role(PREFIX .. ".members:list", role)) end

  --- Idempotent: nothing happens when the user already holds the role. (Check-then-create: two
  --- concurrent adders may both create; Keto then lists the tuple twice and list de-duplicates.)
  function p.members:add(user_id, role)
    local f = PREFIX .. ".members:add"
    known_role(f, role)
    local subject = user_subject(f, user_id)
    local target = strip_user(subject)
    for _, existing in ipairs(list_members(role)) do
      if existing == target then return nil end
    end
    keto.tuples:create(member_tuple(role, subject))
    return nil
  end

  --- Idempotent: removing a membership that does not exist is not an error.
  function p.members:remove(user_id, role)
    local f = PREFIX .. ".members:remove"
    known_role(f, role)
    keto.tuples:delete(member_tuple(role, user_subject(f, user_id)))
    return nil
  end

  function p.members:list_all()
    local out = {}
    for _, name in ipairs(ranked) do out[name] = list_members(name) end
    return out
  end

  function p.members:reset(role)
    known_role(PREFIX .. ".members:reset", role)
    keto.tuples:delete_all({ namespace = KETO_NAMESPACE, object = prefix .. role, relation = "members" })
    return nil
  end

  -- ------------------------------------------------------------ http.serve guard

  --- Wraps an http.serve handler: the user is req.user_id (set by an earlier step) or, when absent,
  --- opts.user_id(req) — e.g. a Kratos whoami on the request's cookie. No user → 401; a user
  --- without `cap` → 403; Keto unreachable → 503 (fail closed); else handler(req).
  function p.middleware:require_capability(cap, handler, mopts)
    local f = PREFIX .. ".middleware:require_capability"
    if type(cap) ~= "string" or cap == "" then error(f .. ": capability must be a non-empty string, got " .. type(cap), 2) end
    if type(handler) ~= "function" then error(f .. ": handler must be a function, got " .. type(handler), 2) end
    if mopts ~= nil and type(mopts) ~= "table" then error(f .. ": opts must be a table, got " .. type(mopts), 2) end
    local resolve = mopts and mopts.user_id
    if resolve ~= nil and type(resolve) ~= "function" then error(f .. ": opts.user_id must be a function(req), got " .. type(resolve), 2) end
    return function(req)
      local user_id = req.user_id
      if (user_id == nil or user_id == "") and resolve then
        user_id = resolve(req)
        req.user_id = user_id
      end
      if type(user_id) ~= "string" or user_id == "" then
        return { status = 401, json = { error = "Authentication required" } }
      end
      local ok, allowed = pcall(p.users.has_capability, p.users, user_id, cap)
      if not ok then
        log.error(f .. ": permission lookup failed: " .. tostring(allowed))
        return { status = 503, json = { error = "Authorization service unavailable" } }
      end
      if not allowed then return { status = 403, json = { error = cap .. " capability required" } } end
      return handler(req)
    end
  end

  return p
end

return M
