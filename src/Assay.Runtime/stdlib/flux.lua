--- @module assay.flux
--- @description Flux CD (GitOps) on Kubernetes: git, helm and OCI sources, Kustomizations, HelmReleases, notifications and image policies; gitops sync and reconcile status, ready checks, applied revisions.
--- @keywords flux, fluxcd, flux cd, gitops, sync, reconcile, reconciliation, continuous delivery, cd, cicd, kustomization, kustomize, helmrelease, helm, helm release, gitrepository, helmrepository, helmchart, ocirepository, source, revision, image policy, notification, kubernetes, crd, deploy
--- @example local flux = require("assay.flux"); local c = flux.client(); local s = c.kustomizations:status("flux-system", "apps"); print(s.ready, s.last_applied_revision)
--- @quickref c = flux.client(url?, token?, opts?) -> client; opts.versions overrides API versions per kind
--- @quickref c.git_repos / c.helm_repos: :list(ns) / :get(ns, name) (nil on 404) / :is_ready(ns, name); c.helm_charts:list(ns); c.oci_repos:list(ns)
--- @quickref c.kustomizations / c.helm_releases: :list(ns) / :get(ns, name) / :is_ready(ns, name) / :status(ns, name) -> {ready, revision, last_applied_revision, conditions} / :all_ready(ns)
--- @quickref c.notifications:alerts(ns) / :providers(ns) / :receivers(ns); c.image_policies:list(ns); c.sources:all_ready(ns) -> {ready, not_ready, total, not_ready_names}
--
-- Read-only client of the Flux toolkit CRDs on the Kubernetes access layer of assay.k8s. Gets
-- answer nil on 404; lists raise on 404 (the CRDs are not installed). See docs/modules/flux.md.
local k8s = require("assay.k8s")

local M = {}

local check = k8s.check_string

-- key → {group, default version, plural}; versions can be overridden with opts.versions[key]
local KINDS = {
  git_repos = { "source.toolkit.fluxcd.io", "v1", "gitrepositories" },
  helm_repos = { "source.toolkit.fluxcd.io", "v1", "helmrepositories" },
  helm_charts = { "source.toolkit.fluxcd.io", "v1", "helmcharts" },
  oci_repos = { "source.toolkit.fluxcd.io", "v1beta2", "ocirepositories" },
  kustomizations = { "kustomize.toolkit.fluxcd.io", "v1", "kustomizations" },
  helm_releases = { "helm.toolkit.fluxcd.io", "v2", "helmreleases" },
  alerts = { "notification.toolkit.fluxcd.io", "v1beta3", "alerts" },
  providers = { "notification.toolkit.fluxcd.io", "v1beta3", "providers" },
  receivers = { "notification.toolkit.fluxcd.io", "v1", "receivers" },
  image_policies = { "image.toolkit.fluxcd.io", "v1beta2", "imagepolicies" },
}

local function ready(obj) return k8s.condition_true(obj, "Ready") end

--- Creates a client. url: the Kubernetes API (nil: kubeconfig or in-cluster); token: bearer token
--- (nil: the service account's); opts: k8s.connect options plus versions = {oci_repos = "v1", …}.
function M.client(url, token, opts)
  local conn = k8s.operator_connection("flux", url, token, opts)
  local versions = opts and opts.versions or {}
  if type(versions) ~= "table" then error("flux.client: opts.versions must be a table", 2) end
  local res = {}
  for key, k in pairs(KINDS) do
    if versions[key] ~= nil and type(versions[key]) ~= "string" then
      error("flux.client: opts.versions." .. key .. " must be a string", 2)
    end
    res[key] = conn:resource({ group = k[1], version = versions[key] or k[2], plural = k[3], name = "flux." .. key })
  end

  local c = { connection = conn, notifications = {}, sources = {} }
  for _, key in ipairs({ "git_repos", "helm_repos", "helm_charts", "oci_repos", "kustomizations", "helm_releases", "image_policies" }) do
    local r = res[key]
    c[key] = { list = function(_, ns) return r:list(ns) end }
  end
  for _, key in ipairs({ "git_repos", "helm_repos", "kustomizations", "helm_releases" }) do
    local r, fn = res[key], "flux." .. key .. ":is_ready"
    c[key].get = function(_, ns, name) return r:get(ns, name) end
    c[key].is_ready = function(_, ns, name)
      check(fn, "namespace", ns)
      check(fn, "name", name)
      return ready(r:get(ns, name))
    end
  end

  -- Kustomizations and HelmReleases share status and all_ready.
  for _, key in ipairs({ "kustomizations", "helm_releases" }) do
    local r = res[key]
    c[key].status = function(_, ns, name)
      check("flux." .. key .. ":status", "namespace", ns)
      check("flux." .. key .. ":status", "name", name)
      local obj = r:get(ns, name)
      if obj == nil then return nil end
      local st = type(obj.status) == "table" and obj.status or {}
      return {
        ready = ready(obj), revision = st.lastAttemptedRevision or "",
        last_applied_revision = st.lastAppliedRevision or "", conditions = st.conditions or {},
      }
    end
    c[key].all_ready = function(_, ns)
      check("flux." .. key .. ":all_ready", "namespace", ns)
      return k8s.tally(r:list(ns).items, ready)
    end
  end

  c.notifications.alerts = function(_, ns) return res.alerts:list(ns) end
  c.notifications.providers = function(_, ns) return res.providers:list(ns) end
  c.notifications.receivers = function(_, ns) return res.receivers:list(ns) end

  --- GitRepositories, then HelmRepositories, counted together.
  c.sources.all_ready = function(_, ns)
    check("flux.sources:all_ready", "namespace", ns)
    local items = {}
    for _, key in ipairs({ "git_repos", "helm_repos" }) do
      for _, o in ipairs(res[key]:list(ns).items or {}) do items[#items + 1] = o end
    end
    return k8s.tally(items, ready)
  end

  return c
end

return M
