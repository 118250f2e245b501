--- @module assay.eso
--- @description External Secrets Operator on Kubernetes: ExternalSecrets, SecretStores, ClusterSecretStores and ClusterExternalSecrets; sync status, store readiness, wait for a secret to sync from Vault, AWS Secrets Manager or another provider.
--- @keywords eso, external secrets, external-secrets, externalsecret, secretstore, clustersecretstore, clusterexternalsecret, secret sync, synced, secrets manager, vault, aws secrets manager, gcp secret manager, azure key vault, kubernetes, crd, secret store
--- @example local eso = require("assay.eso"); local c = eso.client(); c.external_secrets:wait_synced("apps", "db-creds", 120)
--- @quickref c = eso.client(url?, token?, opts?) -> client; opts.version ("v1beta1"; "v1" for ESO ≥ 0.17)
--- @quickref c.external_secrets:list(ns) / :get(ns, name) (nil on 404) / :status(ns, name) -> {ready, status, sync_hash, conditions} / :is_synced(ns, name) / :wait_synced(ns, name, timeout_secs?) / :all_synced(ns) -> {synced, failed, total, failed_names}
--- @quickref c.secret_stores:list(ns) / :get(ns, name) / :status(ns, name) -> {ready, conditions} / :is_ready(ns, name) / :all_ready(ns) -> {ready, not_ready, total, not_ready_names}
--- @quickref c.cluster_secret_stores:list() / :get(name) / :is_ready(name); c.cluster_external_secrets:list() / :get(name)
--
-- Read-only client of the external-secrets.io CRDs on the Kubernetes access layer of assay.k8s.
-- Gets answer nil on 404; lists raise on 404 (the CRDs are not installed). See docs/modules/eso.md.
local k8s = require("assay.k8s")
local rest = require("assay.rest")

local M = {}

local check = k8s.check_string

local function ready(obj) return k8s.condition_true(obj, "Ready") end

--- Creates a client. url: the Kubernetes API (nil: kubeconfig or in-cluster); token: bearer token
--- (nil: the service account's); opts: k8s.connect options plus version ("v1beta1").
function M.client(url, token, opts)
  local conn = k8s.operator_connection("eso", url, token, opts)
  local version = opts and opts.version or "v1beta1"
  if type(version) ~= "string" then error("eso.client: opts.version must be a string", 2) end
  local function resource(label, plural, namespaced)
    return conn:resource({ group = "external-secrets.io", version = version, plural = plural,
                           namespaced = namespaced, name = "eso." .. label })
  end
  local es = resource("external_secrets", "externalsecrets", true)
  local stores = resource("secret_stores", "secretstores", true)
  local cstores = resource("cluster_secret_stores", "clustersecretstores", false)
  local ces = resource("cluster_external_secrets", "clusterexternalsecrets", false)

  local c = { connection = conn }
  c.external_secrets = {
    list = function(_, ns) return es:list(ns) end,
    get = function(_, ns, name) return es:get(ns, name) end,
  }
  c.secret_stores = {
    list = function(_, ns) return stores:list(ns) end,
    get = function(_, ns, name) return stores:get(ns, name) end,
  }
  c.cluster_secret_stores = {
    list = function() return cstores:list() end,
    get = function(_, name) return cstores:get(name) end,
  }
  c.cluster_external_secrets = {
    list = function() return ces:list() end,
    get = function(_, name) return ces:get(name) end,
  }

  c.external_secrets.status = function(_, ns, name)
    local obj = es:must_get("eso.external_secrets:status", "ExternalSecret", ns, name)
    local st = type(obj.status) == "table" and obj.status or {}
    local cond = k8s.find_condition(obj, "Ready")
    return {
      ready = ready(obj), status = cond and cond.reason or "Unknown",
      sync_hash = st.syncedResourceVersion or "", conditions = st.conditions or {},
    }
  end

  -- is_synced / is_ready of a namespaced resource: its Ready condition
  local function is_ready(fn, res)
    return function(_, ns, name)
      check(fn, "namespace", ns)
      check(fn, "name", name)
      return ready(res:get(ns, name))
    end
  end

  c.external_secrets.is_synced = is_ready("eso.external_secrets:is_synced", es)

  --- Polls is_synced every wopts.interval (5) seconds; 404 = not yet, other errors raise.
  c.external_secrets.wait_synced = function(_, ns, name, timeout_secs, wopts)
    check("eso.external_secrets:wait_synced", "namespace", ns)
    check("eso.external_secrets:wait_synced", "name", name)
    timeout_secs = rest.need_timeout("eso.external_secrets:wait_synced", timeout_secs, 60)
    return rest.wait_until(function() return ready(es:get(ns, name)) end, {
      timeout = timeout_secs, interval = wopts and wopts.interval or 5,
      message = "eso: ExternalSecret " .. ns .. "/" .. name .. " not synced after " .. timeout_secs .. "s",
    })
  end

  c.external_secrets.all_synced = function(_, ns)
    check("eso.external_secrets:all_synced", "namespace", ns)
    return k8s.tally(es:list(ns).items, ready, { "synced", "failed", "failed_names" })
  end

  c.secret_stores.status = function(_, ns, name)
    local obj = stores:must_get("eso.secret_stores:status", "SecretStore", ns, name)
    return { ready = ready(obj), conditions = type(obj.status) == "table" and obj.status.conditions or {} }
  end

  c.secret_stores.is_ready = is_ready("eso.secret_stores:is_ready", stores)

  c.secret_stores.all_ready = function(_, ns)
    check("eso.secret_stores:all_ready", "namespace", ns)
    return k8s.tally(stores:list(ns).items, ready)
  end

  c.cluster_secret_stores.is_ready = function(_, name)
    check("eso.cluster_secret_stores:is_ready", "name", name)
    return ready(cstores:get(name))
  end

  return c
end

return M
