--- @module assay.argocd
--- @description Argo CD REST API client (GitOps continuous delivery): applications — list, get, gitops sync, refresh, rollback, delete, resource tree, manifests, health and sync status, wait until healthy or synced — plus projects, repositories, clusters, settings and version.
--- @keywords argocd, argo cd, argo, gitops, sync, continuous delivery, cd, cicd, deploy, deployment, application, app, rollback, refresh, health, synced, out of sync, project, repository, cluster, kubernetes, helm, kustomize
--- @example local argocd = require("assay.argocd"); local c = argocd.client("https://argocd.example.com", { token = env.get("ARGOCD_TOKEN") }); c.apps:sync("guestbook", { prune = true }); c.apps:wait_synced("guestbook", 300)
--- @quickref c = argocd.client(url, {token | username, password, timeout, insecure, ca_cert}) -> client (username/password: a session token from /api/v1/session)
--- @quickref c.apps:list({project, selector}?) -> [app] / :get(name) / :health(name) -> {status, sync, message} / :is_healthy(name) / :is_synced(name)
--- @quickref c.apps:sync(name, {revision, prune, dry_run, strategy}?) / :refresh(name, {type = "normal"|"hard"}?) / :rollback(name, id) / :delete(name, {cascade, propagation_policy}?)
--- @quickref c.apps:resources(name) -> {nodes} / :manifests(name, {revision}?) -> {manifests, revision} / :wait_healthy(name, timeout_secs) / :wait_synced(name, timeout_secs)
--- @quickref c.projects:list() / :get(name); c.repositories:list() / :get(repo_url); c.clusters:list() / :get(server_url); c.settings:get(); c:version()
--
-- Built on assay.rest: one status policy (200 succeeds, anything else raises
-- "argocd: <VERB> <path> HTTP <status>: <body>"), encoded paths and queries. See docs/modules/argocd.md.
local rest = require("assay.rest")

local M = {}

local need_string, need_table = rest.check_string, rest.check_table

-- Argo CD answers `"items": null` for an empty list.
local function items_of(data)
  local items = type(data) == "table" and data.items
  if type(items) ~= "table" then return {} end
  return items
end

-- username/password → a bearer token from POST /api/v1/session, fetched on first use (Argo CD's
-- API does not take HTTP Basic auth).
local function session_token(base, opts)
  local token
  local login = rest.client({ module = "argocd", base_url = base, timeout = opts.timeout, retries = opts.retries,
    insecure = opts.insecure, ca_cert = opts.ca_cert, ca_cert_file = opts.ca_cert_file, ok = { 200 } })
  return function()
    if token == nil then
      local resp = login:post("/api/v1/session", { username = opts.username, password = opts.password })
      if type(resp) ~= "table" or type(resp.token) ~= "string" then
        error("argocd: POST /api/v1/session: the answer has no token", 0)
      end
      token = resp.token
    end
    return token
  end
end

--- Creates a client. opts: token (bearer), or username + password (exchanged for a session
--- token); timeout, retries, insecure, ca_cert, ca_cert_file as in assay.rest.
function M.client(url, opts)
  need_string("argocd.client", "url", url)
  need_table("argocd.client", "opts", opts)
  opts = opts or {}
  local base = rest.normalize_url(url)
  local auth
  if opts.token ~= nil then
    need_string("argocd.client", "opts.token", opts.token)
    auth = { bearer = opts.token }
  elseif opts.username ~= nil or opts.password ~= nil then
    need_string("argocd.client", "opts.username", opts.username)
    if type(opts.password) ~= "string" then error("argocd.client: opts.password must be a string, got " .. type(opts.password), 2) end
    auth = { bearer = session_token(base, opts) }
  end
  local api = rest.client({ module = "argocd", base_url = base, auth = auth, ok = { 200 }, timeout = opts.timeout,
    retries = opts.retries, insecure = opts.insecure, ca_cert = opts.ca_cert, ca_cert_file = opts.ca_cert_file })

  local function app_path(fn, name, suffix)
    need_string(fn, "name", name)
    return "/api/v1/applications/" .. rest.segment(name) .. (suffix or "")
  end

  local c = { apps = {}, projects = {}, repositories = {}, clusters = {}, settings = {}, http = api }

  c.apps.list = function(_, lopts)
    need_table("argocd.apps:list", "opts", lopts)
    lopts = lopts or {}
    return items_of(api:get("/api/v1/applications", { query = { { "project", lopts.project }, { "selector", lopts.selector } } }))
  end

  c.apps.get = function(_, name) return (api:get(app_path("argocd.apps:get", name))) end

  c.apps.health = function(_, name)
    local app = api:get(app_path("argocd.apps:health", name))
    local st = type(app.status) == "table" and app.status or {}
    local health = type(st.health) == "table" and st.health or {}
    local sync = type(st.sync) == "table" and st.sync or {}
    return { status = health.status, sync = sync.status, message = health.message }
  end

  c.apps.is_healthy = function(_, name) return c.apps:health(name).status == "Healthy" end
  c.apps.is_synced = function(_, name) return c.apps:health(name).sync == "Synced" end

  --- POST …/sync with only the options given; no options sends {} (the original sent []).
  c.apps.sync = function(_, name, sopts)
    local path = app_path("argocd.apps:sync", name, "/sync")
    need_table("argocd.apps:sync", "opts", sopts)
    sopts = sopts or {}
    local body = rest.object({ revision = sopts.revision, prune = sopts.prune, dryRun = sopts.dry_run,
                               strategy = sopts.strategy, resources = sopts.resources })
    return (api:post(path, body))
  end

  c.apps.refresh = function(_, name, ropts)
    local path = app_path("argocd.apps:refresh", name)
    need_table("argocd.apps:refresh", "opts", ropts)
    local kind = ropts and ropts.type or "normal"
    if kind ~= "normal" and kind ~= "hard" then
      error("argocd.apps:refresh: opts.type must be \"normal\" or \"hard\", got " .. tostring(kind), 2)
    end
    return (api:get(path, { query = { { "refresh", kind } } }))
  end

  --- POST …/rollback {id} — Argo CD's documented verb (the original sent PUT, which Argo CD rejects).
  c.apps.rollback = function(_, name, id)
    local path = app_path("argocd.apps:rollback", name, "/rollback")
    if type(id) ~= "number" then error("argocd.apps:rollback: id must be a number (a history id), got " .. type(id), 2) end
    return (api:post(path, { id = id }))
  end

  c.apps.resources = function(_, name) return (api:get(app_path("argocd.apps:resources", name, "/resource-tree"))) end

  c.apps.manifests = function(_, name, mopts)
    local path = app_path("argocd.apps:manifests", name, "/manifests")
    need_table("argocd.apps:manifests", "opts", mopts)
    return (api:get(path, { query = { { "revision", mopts and mopts.revision } } }))
  end

  --- DELETE; the parsed body, or nil when the answer is empty.
  c.apps.delete = function(_, name, dopts)
    local path = app_path("argocd.apps:delete", name)
    need_table("argocd.apps:delete", "opts", dopts)
    dopts = dopts or {}
    local cascade = dopts.cascade
    if cascade ~= nil then cascade = tostring(cascade) end
    return (api:delete(path, { empty = "nil",
      query = { { "cascade", cascade }, { "propagationPolicy", dopts.propagation_policy } } }))
  end

  -- Polls check(name) every 2 s (wopts.interval) until true; HTTP errors propagate.
  local function waiter(fn, check, what)
    return function(_, name, timeout_secs, wopts)
      need_string(fn, "name", name)
      if type(timeout_secs) ~= "number" then error(fn .. ": timeout_secs must be a number, got " .. type(timeout_secs), 2) end
      need_table(fn, "opts", wopts)
      return rest.wait_until(function() return check(c.apps, name) end, {
        timeout = timeout_secs, interval = wopts and wopts.interval or 2,
        message = "argocd: timeout waiting for " .. name .. " to become " .. what,
      })
    end
  end
  c.apps.wait_healthy = waiter("argocd.apps:wait_healthy", c.apps.is_healthy, "healthy")
  c.apps.wait_synced = waiter("argocd.apps:wait_synced", c.apps.is_synced, "synced")

  c.projects.list = function() return items_of(api:get("/api/v1/projects")) end
  c.projects.get = function(_, name)
    need_string("argocd.projects:get", "name", name)
    return (api:get("/api/v1/projects/" .. rest.segment(name)))
  end

  c.repositories.list = function() return items_of(api:get("/api/v1/repositories")) end
  c.repositories.get = function(_, repo_url)
    need_string("argocd.repositories:get", "repo_url", repo_url)
    return (api:get("/api/v1/repositories/" .. rest.segment(repo_url)))
  end

  c.clusters.list = function() return items_of(api:get("/api/v1/clusters")) end
  c.clusters.get = function(_, server_url)
    need_string("argocd.clusters:get", "server_url", server_url)
    return (api:get("/api/v1/clusters/" .. rest.segment(server_url)))
  end

  c.settings.get = function() return (api:get("/api/v1/settings")) end

  c.version = function() return (api:get("/api/version")) end

  return c
end

return M
