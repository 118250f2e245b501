--- @module assay.crossplane
--- @description Crossplane on Kubernetes: terraform-style infrastructure as code from the cluster — providers, provider revisions, configurations, functions, composite resource definitions (XRDs), compositions and managed cloud resources; health, installed and established checks.
--- @keywords crossplane, terraform, terraform-style, infrastructure, infrastructure as code, iac, cloud resources, provisioning, provider, providers, composition, compositions, xrd, composite resource, managed resource, claim, upbound, aws, gcp, azure, kubernetes, crd, healthy, established
--- @example local xp = require("assay.crossplane"); local c = xp.client(); local h = c.providers:all_healthy(); print(h.healthy .. "/" .. h.total)
--- @quickref c = crossplane.client(url?, token?, opts?) -> client; opts.functions_version ("v1beta1")
--- @quickref c.providers:list() / :get(name) / :is_healthy(name) / :is_installed(name) / :status(name) -> {installed, healthy, current_revision, conditions} / :all_healthy() -> {healthy, unhealthy, total, unhealthy_names}
--- @quickref c.provider_revisions:list() / :get(name); c.configurations:list() / :get(name) / :is_healthy(name) / :is_installed(name); c.functions:list() / :get(name) / :is_healthy(name)
--- @quickref c.xrds:list() / :get(name) / :is_established(name) / :all_established() -> {established, not_established, total, not_established_names}; c.compositions:list() / :get(name)
--- @quickref c.managed_resources:get(group, version, plural, name, ns?) / :is_ready(group, version, plural, name, ns?) / :list(group, version, plural, ns?)
--
-- Read-only client of the Crossplane CRDs (pkg.crossplane.io, apiextensions.crossplane.io) on the
-- Kubernetes access layer of assay.k8s. Gets answer nil on 404, lists {items = {}}. See
-- docs/modules/crossplane.md.
local k8s = require("assay.k8s")

local M = {}

local check = k8s.check_string
local PKG, XAPI = "pkg.crossplane.io", "apiextensions.crossplane.io"

--- Creates a client. url: the Kubernetes API (nil: kubeconfig or in-cluster); token: bearer token
--- (nil: the service account's); opts: k8s.connect options plus functions_version ("v1beta1";
--- Crossplane ≥ 1.17 also serves "v1").
function M.client(url, token, opts)
  local conn = k8s.operator_connection("crossplane", url, token, opts)
  local fversion = opts and opts.functions_version or "v1beta1"
  if type(fversion) ~= "string" then error("crossplane.client: opts.functions_version must be a string", 2) end
  local function resource(label, group, version, plural)
    return conn:resource({ group = group, version = version, plural = plural, namespaced = false,
                           list_not_found = "empty", name = "crossplane." .. label })
  end
  local res = {
    providers = resource("providers", PKG, "v1", "providers"),
    provider_revisions = resource("provider_revisions", PKG, "v1", "providerrevisions"),
    configurations = resource("configurations", PKG, "v1", "configurations"),
    functions = resource("functions", PKG, fversion, "functions"),
    xrds = resource("xrds", XAPI, "v1", "compositeresourcedefinitions"),
    compositions = resource("compositions", XAPI, "v1", "compositions"),
  }

  local c = { connection = conn, managed_resources = {} }
  -- every package/definition type: list() → List object, get(name) → object or nil
  for key, r in pairs(res) do
    c[key] = {
      list = function() return r:list() end,
      get = function(_, name) return r:get(name) end,
    }
  end

  -- sub:<method>(name) → the object's `cond` condition is "True" (false when it does not exist)
  local function condition(key, method, cond)
    local fn = "crossplane." .. key .. ":" .. method
    c[key][method] = function(_, name)
      check(fn, "name", name)
      return k8s.condition_true(res[key]:get(name), cond)
    end
  end
  condition("providers", "is_healthy", "Healthy")
  condition("providers", "is_installed", "Installed")
  condition("configurations", "is_healthy", "Healthy")
  condition("configurations", "is_installed", "Installed")
  condition("functions", "is_healthy", "Healthy")
  condition("xrds", "is_established", "Established")

  c.providers.status = function(_, name)
    check("crossplane.providers:status", "name", name)
    local p = res.providers:get(name)
    if p == nil then error("crossplane: provider not found: " .. name, 2) end
    local st = type(p.status) == "table" and p.status or {}
    return {
      installed = k8s.condition_true(p, "Installed"), healthy = k8s.condition_true(p, "Healthy"),
      current_revision = st.currentRevision, conditions = st.conditions or {},
    }
  end

  c.providers.all_healthy = function()
    return k8s.tally(res.providers:list().items, function(p) return k8s.condition_true(p, "Healthy") end,
      { "healthy", "unhealthy", "unhealthy_names" })
  end

  c.xrds.all_established = function()
    return k8s.tally(res.xrds:list().items, function(x) return k8s.condition_true(x, "Established") end,
      { "established", "not_established", "not_established_names" })
  end

  -- Managed resources of any provider: cluster-scoped (Crossplane 1.x), or namespaced when `ns`
  -- is given (Crossplane 2 namespaced managed resources).
  local function managed(fn, group, version, plural, ns)
    check(fn, "api_group", group)
    check(fn, "version", version)
    check(fn, "plural", plural)
    if ns ~= nil then check(fn, "namespace", ns) end
    return conn:resource({ group = group, version = version, plural = plural, namespaced = ns ~= nil,
                           list_not_found = "empty", name = "crossplane.managed_resources" })
  end

  c.managed_resources.get = function(_, group, version, plural, name, ns)
    local r = managed("crossplane.managed_resources:get", group, version, plural, ns)
    check("crossplane.managed_resources:get", "name", name)
    if ns ~= nil then return r:get(ns, name) end
    return r:get(name)
  end

  c.managed_resources.is_ready = function(_, group, version, plural, name, ns)
    local r = managed("crossplane.managed_resources:is_ready", group, version, plural, ns)
    check("crossplane.managed_resources:is_ready", "name", name)
    local obj
    if ns ~= nil then obj = r:get(ns, name) else obj = r:get(name) end
    return k8s.condition_true(obj, "Ready")
  end

  c.managed_resources.list = function(_, group, version, plural, ns)
    local r = managed("crossplane.managed_resources:list", group, version, plural, ns)
    if ns ~= nil then return r:list(ns) end
    return r:list()
  end

  return c
end

return M
