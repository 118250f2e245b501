--- @module assay.unleash
--- @description Unleash feature flag admin API client: projects, environments, feature toggles on/off, rollout strategies, API tokens, plus wait and idempotent ensure_* bootstrap helpers.
--- @keywords unleash, feature flag, feature flags, feature toggle, toggle, toggles, rollout, gradual rollout, strategy, strategies, experiment, environments, api tokens, ensure, bootstrap
--- @quickref c = unleash.client(url, {token}) -> client (token sent raw in Authorization, as Unleash expects)
--- @quickref c.features:list(project) ; c.features:get/create/update/archive ; c.features:toggle_on(project, name, env) ; c.features:toggle_off(...) ; c.strategies:list/add(project, name, env, strategy)
--- @quickref c.projects:list/get/create/update/delete ; c.environments:list() ; c.environments:enable/disable(project, env) ; c.tokens:list/create/delete ; c.health:check()
--- @quickref unleash.wait(url, {timeout, interval}) ; unleash.ensure_project(c, id, opts) ; unleash.ensure_environment(c, project, env) ; unleash.ensure_token(c, {tokenName, type, environment, projects})
--- @example local u = require("assay.unleash"); local c = u.client("http://unleash:4242", {token = env.get("UNLEASH_ADMIN_TOKEN")}); c.features:toggle_on("default", "new-checkout", "production")
--
-- Built on assay.rest (encoding, errors, waiting). See docs/modules/unleash.md.
local rest = require("assay.rest")

local M = {}

local type, tostring, ipairs, error, pcall = type, tostring, ipairs, error, pcall

function M.client(url, opts)
  opts = rest.need_table("unleash.client", "opts", opts) or {}
  local api = rest.client_from_opts("unleash", url, opts, { auth = opts.token and { authorization = opts.token } or nil })

  local function get(path) return (api:get(path, { not_found = "nil" })) end
  -- a list wrapped in an object ({projects = [...]}): the array, {} when absent or 404
  local function get_list(path, key)
    local body = get(path)
    return type(body) == "table" and body[key] or {}
  end
  local function body_of(fn, b)
    if type(b) ~= "table" then error(fn .. ": body must be a table, got " .. type(b), 3) end
    return rest.object(b)
  end
  local function send(method, path, body) return (api:request(method, path, { body = body, empty = "nil" })) end

  local function P(fn, id) return "/api/admin/projects/" .. rest.segment(rest.need_string(fn, "project_id", id)) end
  local function F(fn, p, name) return P(fn, p) .. "/features/" .. rest.segment(rest.need_string(fn, "feature name", name)) end
  local function FE(fn, p, name, env)
    return F(fn, p, name) .. "/environments/" .. rest.segment(rest.need_string(fn, "environment", env))
  end

  local c = { health = {}, projects = {}, environments = {}, features = {}, strategies = {}, tokens = {} }

  function c.health:check() return (api:get("/health")) end

  function c.projects:list() return get_list("/api/admin/projects", "projects") end
  -- open-source Unleash 7 answers for one project only at …/{id}/overview (without the id), and
  -- 404 at …/{id} for every id; older servers answered at …/{id}. Ask the current path first.
  function c.projects:get(id)
    local path = P("unleash.projects:get", id)
    local overview = get(path .. "/overview")
    if type(overview) ~= "table" then return get(path) end
    if overview.id == nil then overview.id = id end
    return overview
  end
  function c.projects:create(project) return send("POST", "/api/admin/projects", body_of("unleash.projects:create", project)) end
  function c.projects:update(id, project)
    local fn = "unleash.projects:update"
    return send("PUT", P(fn, id), body_of(fn, project))
  end
  function c.projects:delete(id) return send("DELETE", P("unleash.projects:delete", id)) end

  function c.environments:list() return get_list("/api/admin/environments", "environments") end
  function c.environments:enable(p, env)
    local fn = "unleash.environments:enable"
    return send("POST", P(fn, p) .. "/environments", { environment = rest.need_string(fn, "environment", env) })
  end
  function c.environments:disable(p, env)
    local fn = "unleash.environments:disable"
    return send("DELETE", P(fn, p) .. "/environments/" .. rest.segment(rest.need_string(fn, "environment", env)))
  end

  function c.features:list(p) return get_list(P("unleash.features:list", p) .. "/features", "features") end
  function c.features:get(p, name) return get(F("unleash.features:get", p, name)) end
  function c.features:create(p, feature)
    local fn = "unleash.features:create"
    return send("POST", P(fn, p) .. "/features", body_of(fn, feature))
  end
  function c.features:update(p, name, feature)
    local fn = "unleash.features:update"
    return send("PUT", F(fn, p, name), body_of(fn, feature))
  end
  function c.features:archive(p, name) return send("DELETE", F("unleash.features:archive", p, name)) end
  function c.features:toggle_on(p, name, env) return send("POST", FE("unleash.features:toggle_on", p, name, env) .. "/on", rest.object()) end
  function c.features:toggle_off(p, name, env) return send("POST", FE("unleash.features:toggle_off", p, name, env) .. "/off", rest.object()) end

  --- The strategies of a feature in one environment ({} on 404).
  function c.strategies:list(p, name, env)
    local body = get(FE("unleash.strategies:list", p, name, env) .. "/strategies")
    if type(body) ~= "table" then return {} end
    if #body > 0 then return body end
    return body.strategies or body
  end
  function c.strategies:add(p, name, env, strategy)
    local fn = "unleash.strategies:add"
    return send("POST", FE(fn, p, name, env) .. "/strategies", body_of(fn, strategy))
  end

  function c.tokens:list() return get_list("/api/admin/api-tokens", "tokens") end
  function c.tokens:create(cfg) return send("POST", "/api/admin/api-tokens", body_of("unleash.tokens:create", cfg)) end
  function c.tokens:delete(secret)
    return send("DELETE", "/api/admin/api-tokens/" .. rest.segment(rest.need_string("unleash.tokens:delete", "secret", secret)))
  end

  return c
end

--- Polls GET <url>/health until it answers 200; raises after opts.timeout (60) seconds.
--- opts: timeout, interval (2), token (sent raw in Authorization; /health needs none by default).
function M.wait(url, opts)
  local fn = "unleash.wait"
  rest.need_string(fn, "url", url)
  opts = rest.need_table(fn, "opts", opts) or {}
  local timeout = opts.timeout or 60
  local api = rest.client({ module = "unleash", base_url = url, retries = 0, timeout = math.max(math.min(timeout, 10), 1),
                            auth = opts.token and { authorization = opts.token } or nil })
  return rest.wait_healthy(api, { fn = fn, name = "Unleash", url = url, path = "/health",
                                  timeout = timeout, interval = opts.interval })
end

local function need_client(fn, client)
  if type(client) ~= "table" or type(client.projects) ~= "table" then error(fn .. ": client must be an unleash client", 3) end
end

--- The project `id`, created (name = opts.name or id, opts.description) when missing.
function M.ensure_project(client, id, opts)
  local fn = "unleash.ensure_project"
  need_client(fn, client)
  rest.need_string(fn, "id", id)
  opts = rest.need_table(fn, "opts", opts) or {}
  local existing = client.projects:get(id)
  if existing then
    log.info("unleash: project " .. id .. " exists")
    return existing
  end
  local ok, created = pcall(client.projects.create, client.projects, { id = id, name = opts.name or id, description = opts.description })
  if not ok then
    local msg = tostring(created)
    -- the open-source server has no POST /api/admin/projects route at all: say why, not just "404"
    if msg:find("HTTP 404", 1, true) then
      error(fn .. ": project " .. id .. " does not exist and this server cannot create projects"
        .. " (the open-source Unleash has only the \"default\" project; creating projects needs Unleash Enterprise): " .. msg, 2)
    end
    error(fn .. ": " .. msg, 2)
  end
  log.info("unleash: project " .. id .. " created")
  return created or client.projects:get(id)
end

--- Enables `env` on the project; an "already enabled" answer (409) counts as success.
function M.ensure_environment(client, project_id, env)
  local fn = "unleash.ensure_environment"
  need_client(fn, client)
  local ok, err = pcall(client.environments.enable, client.environments, project_id, env)
  if ok then return true end
  local msg = tostring(err)
  if msg:find("HTTP 409", 1, true) or msg:lower():find("already", 1, true) then
    log.info("unleash: environment " .. tostring(env) .. " already enabled on " .. tostring(project_id))
    return true
  end
  error(fn .. ": " .. msg, 2)
end

--- An API token with opts.tokenName and opts.type (and opts.environment when given), created when missing.
function M.ensure_token(client, opts)
  local fn = "unleash.ensure_token"
  need_client(fn, client)
  if type(opts) ~= "table" then error(fn .. ": opts must be a table, got " .. type(opts), 2) end
  if opts.tokenName == nil then error(fn .. ": opts.tokenName is required", 2) end
  if opts.type == nil then error(fn .. ": opts.type is required", 2) end
  for _, t in ipairs(client.tokens:list()) do
    if t.tokenName == opts.tokenName and t.type == opts.type
        and (opts.environment == nil or t.environment == opts.environment) then
      return t
    end
  end
  return client.tokens:create({ tokenName = opts.tokenName, type = opts.type, environment = opts.environment,
                                projects = opts.projects })
end

return M
