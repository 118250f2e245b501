--- @module assay.ory.keto
--- @description Ory Keto permissions (Zanzibar-style relationship-based access control, ReBAC): permission checks and batch checks (OPL permits too), relation-tuple create/list/delete, expand, and role-membership lookups.
--- @keywords keto, ory, permissions, permission check, authorization, authz, access control, rebac, rbac, zanzibar, relation tuples, relationships, roles, members, groups, opl, permits, expand
--- @quickref c = keto.client(read_url, {write_url?}) -> client
--- @quickref c.permissions:check(ns, obj, rel, subject) -> bool ; c.permissions:check({namespace, object, relation, subject_id | subject}) ; c.permissions:batch_check(list) -> [bool] ; c.permissions:expand(ns, obj, rel, depth)
--- @quickref c.tuples:list(filters) -> {relation_tuples, next_page_token} ; c.tuples:list_all(filters) -> [tuple] ; c.tuples:create(tuple) ; c.tuples:delete(tuple) -> bool ; c.tuples:delete_all(filters)
--- @quickref c.roles:user_roles(user_id, namespace?) -> [{object, relation}] ; c.roles:has_any(user_id, role_objects, namespace?) -> bool
--- @example local k = require("assay.ory.keto").client("http://keto:4466", {write_url = "http://keto:4467"}); if k.permissions:check("Document", "readme", "view", "user:alice") then print("allowed") end
--
-- Built on assay.rest. The read API (port 4466) answers checks and listings; the write API
-- (4467) changes tuples. See docs/modules/ory.md.
local rest = require("assay.rest")

local M = {}

local type, ipairs, pairs, error, tostring, pcall = type, ipairs, pairs, error, tostring, pcall

local WRITE_MISSING = "keto: write_url not configured — pass opts.write_url to keto.client()"
local TUPLES = "/relation-tuples"
local ADMIN_TUPLES = "/admin/relation-tuples"
local FILTERS = { "namespace", "object", "relation", "subject_id", "subject_set_namespace", "subject_set_object",
                  "subject_set_relation" }

-- Query pairs of a filter table (names sorted; nil and "" skipped, as the original did).
local function filter_query(t)
  local q = {}
  for k, v in pairs(t) do
    if v ~= "" then q[k] = v end
  end
  return q
end

-- The subject of a check or a tuple as query fields: "user:alice" → subject_id; a table
-- {namespace, object, relation} → subject_set_*.
local function add_subject(fn, q, subject)
  if type(subject) == "string" then
    q.subject_id = subject
  elseif type(subject) == "table" then
    q.subject_set_namespace, q.subject_set_object, q.subject_set_relation = subject.namespace, subject.object, subject.relation
  elseif subject ~= nil then
    error(fn .. ": subject must be a string or a subject set {namespace, object, relation}, got " .. type(subject), 4)
  end
  return q
end

-- Check parameters from the positional form (ns, obj, rel, subject) or the table form.
local function check_params(fn, a, obj, rel, subject)
  local q
  if type(a) == "table" then
    q = { namespace = a.namespace, object = a.object, relation = a.relation }
    subject = a.subject_id or a.subject
    q["max-depth"] = a.max_depth
  else
    q = { namespace = a, object = obj, relation = rel }
  end
  for _, k in ipairs({ "namespace", "object", "relation" }) do rest.need_string(fn, k, q[k]) end
  if subject == nil then error(fn .. ": a subject (subject_id or subject set) is required", 3) end
  return add_subject(fn, q, subject)
end

-- The JSON body form of a check (Keto's Relationship): subject_id or subject_set {…}.
local function relationship(q)
  local r = { namespace = q.namespace, object = q.object, relation = q.relation, subject_id = q.subject_id }
  if q.subject_set_namespace then
    r.subject_set = { namespace = q.subject_set_namespace, object = q.subject_set_object, relation = q.subject_set_relation }
  end
  return r
end

function M.client(read_url, opts)
  local fn = "keto.client"
  rest.need_string(fn, "read_url", read_url)
  opts = rest.need_table(fn, "opts", opts) or {}
  local function make(url) return rest.client_from_opts("keto", url, opts, { empty = "nil" }) end
  local read = make(read_url)
  local write_api
  if opts.write_url ~= nil then write_api = make(rest.need_string(fn, "opts.write_url", opts.write_url)) end
  local function write()
    if not write_api then error(WRITE_MISSING, 0) end
    return write_api
  end

  local c = { tuples = {}, permissions = {}, roles = {}, read_url = read.base_url, write_url = write_api and write_api.base_url }

  -- ------------------------------------------------------------ tuples

  --- One page: {relation_tuples, next_page_token}. Filters: namespace, object, relation,
  --- subject_id, subject_set_namespace/_object/_relation, page_size, page_token.
  function c.tuples:list(filters)
    filters = rest.need_table("keto.tuples:list", "filters", filters) or {}
    return (read:get(TUPLES, { query = filter_query(filters) }))
  end

  --- Every matching tuple, following next_page_token (the original returned the first page only).
  function c.tuples:list_all(filters)
    filters = rest.need_table("keto.tuples:list_all", "filters", filters) or {}
    local all, q = {}, filter_query(filters)
    repeat
      local page = read:get(TUPLES, { query = q }) or {}
      for _, t in ipairs(page.relation_tuples or {}) do all[#all + 1] = t end
      local token = page.next_page_token
      q.page_token = (type(token) == "string" and token ~= "") and token or nil
    until q.page_token == nil
    return all
  end

  function c.tuples:create(tuple)
    local f = "keto.tuples:create"
    if type(tuple) ~= "table" then error(f .. ": tuple must be a table, got " .. type(tuple), 2) end
    write():put(ADMIN_TUPLES, rest.object(tuple), { verb = "create tuple" })
    return nil
  end

  --- Deletes one tuple; true when deleted, false when there was none (404). The tuple must be
  --- complete: Keto deletes every tuple matching the given fields, so a missing subject would
  --- delete far more than one tuple.
  function c.tuples:delete(tuple)
    local f = "keto.tuples:delete"
    if type(tuple) ~= "table" then error(f .. ": tuple must be a table, got " .. type(tuple), 2) end
    local q = { namespace = tuple.namespace, object = tuple.object, relation = tuple.relation }
    for _, k in ipairs({ "namespace", "object", "relation" }) do rest.need_string(f, "tuple." .. k, q[k]) end
    local subject = tuple.subject_id or tuple.subject_set or tuple.subject
    if subject == nil then error(f .. ": tuple needs subject_id or subject_set (use tuples:delete_all to delete by filter)", 2) end
    add_subject(f, q, subject)
    local _, resp = write():delete(ADMIN_TUPLES, { query = q, ok = { 200, 204, 404 }, verb = "delete tuple" })
    return resp.status ~= 404
  end

  --- Deletes every tuple matching `filters`, which must name at least one tuple field (an empty
  --- filter would delete all tuples).
  function c.tuples:delete_all(filters)
    local f = "keto.tuples:delete_all"
    if type(filters) ~= "table" then error(f .. ": filters must be a table, got " .. type(filters), 2) end
    local q = filter_query(filters)
    local any = false
    for _, k in ipairs(FILTERS) do if q[k] ~= nil then any = true end end
    if not any then error(f .. ": filters must name at least one of " .. table.concat(FILTERS, ", ") .. " (refusing to delete every tuple)", 2) end
    write():delete(ADMIN_TUPLES, { query = q, verb = "delete_all" })
    return nil
  end

  -- ------------------------------------------------------------ permissions

  -- GET /relation-tuples/check: 200 → allowed; 403 (Keto's "denied" on this endpoint) → false.
  local function check(f, q, verb)
    local _, resp = read:get(TUPLES .. "/check", { query = q, ok = rest.ANY_STATUS, raw = true })
    if resp.status == 403 then return false end
    if resp.status ~= 200 then error(rest.http_error("keto", verb, TUPLES .. "/check?" .. rest.query(q), resp.status, resp.body), 0) end
    local ok, body = pcall(json.parse, resp.body)
    if not ok or type(body) ~= "table" then error(f .. ": check answer is not JSON: " .. tostring(resp.body), 0) end
    return body.allowed == true
  end

  function c.permissions:check(a, obj, rel, subject)
    local f = "keto.permissions:check"
    return check(f, check_params(f, a, obj, rel, subject), "check failed")
  end

  --- Booleans in input order. One POST /relation-tuples/batch/check (Keto v0.13+); an older Keto
  --- without that endpoint (404/405) gets one check per entry.
  function c.permissions:batch_check(list)
    local f = "keto.permissions:batch_check"
    if type(list) ~= "table" then error(f .. ": list must be a table of checks, got " .. type(list), 2) end
    local params, tuples = {}, json.array()
    for i, entry in ipairs(list) do
      if type(entry) ~= "table" then error(f .. ": entry " .. i .. " must be a table, got " .. type(entry), 2) end
      params[i] = check_params(f, entry)
      tuples[i] = relationship(params[i])
    end
    if #params == 0 then return {} end
    local _, resp = read:post(TUPLES .. "/batch/check", { tuples = tuples },
                              { ok = rest.ANY_STATUS, raw = true, idempotent = true })
    if resp.status == 404 or resp.status == 405 then
      local out = {}
      for i, q in ipairs(params) do out[i] = check(f, q, "batch_check failed") end
      return out
    end
    local ok, body = pcall(json.parse, resp.body)
    if resp.status ~= 200 or not ok or type(body) ~= "table" or type(body.results) ~= "table" then
      error(rest.http_error("keto", "batch_check failed", TUPLES .. "/batch/check", resp.status, resp.body), 0)
    end
    local out = {}
    for i = 1, #params do
      local r = body.results[i]
      if type(r) ~= "table" then error(f .. ": the answer has no result for entry " .. i, 0) end
      if type(r.error) == "string" and r.error ~= "" then error(f .. ": entry " .. i .. ": " .. r.error, 0) end
      out[i] = r.allowed == true
    end
    return out
  end

  function c.permissions:expand(ns, obj, rel, depth)
    local f = "keto.permissions:expand"
    local q = { namespace = rest.need_string(f, "namespace", ns), object = rest.need_string(f, "object", obj),
                relation = rest.need_string(f, "relation", rel), ["max-depth"] = depth or 3 }
    return (read:get(TUPLES .. "/expand", { query = q }))
  end

  -- ------------------------------------------------------------ roles

  --- The role memberships of a user: every tuple (all pages) in `namespace` ("Role") with relation
  --- "members" and subject "user:<id>" ("user:" added unless present).
  function c.roles:user_roles(user_id, namespace)
    local f = "keto.roles:user_roles"
    rest.need_string(f, "user_id", user_id)
    if namespace ~= nil then rest.need_string(f, "namespace", namespace) end
    local subject = user_id:find("^user:") and user_id or ("user:" .. user_id)
    local roles = {}
    for _, t in ipairs(c.tuples:list_all({ namespace = namespace or "Role", relation = "members", subject_id = subject })) do
      roles[#roles + 1] = { object = t.object, relation = t.relation }
    end
    return roles
  end

  function c.roles:has_any(user_id, role_objects, namespace)
    if type(role_objects) ~= "table" then error("keto.roles:has_any: role_objects must be a table, got " .. type(role_objects), 2) end
    local held = {}
    for _, r in ipairs(c.roles:user_roles(user_id, namespace)) do held[r.object] = true end
    for _, target in ipairs(role_objects) do
      if held[target] then return true end
    end
    return false
  end

  return c
end

return M
