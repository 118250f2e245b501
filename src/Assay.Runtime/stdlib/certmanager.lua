--- @module assay.certmanager
--- @description cert-manager on Kubernetes: TLS certificates, issuers and ClusterIssuers, certificate requests, ACME orders and challenges; readiness, expiry and renewal times, wait for a certificate to be issued.
--- @keywords cert-manager, certmanager, certificate, certificates, tls, ssl, x509, https, cert, renewal, renew, expiry, expiration, letsencrypt, let's encrypt, acme, issuer, clusterissuer, certificaterequest, order, challenge, rotation, kubernetes, crd
--- @example local cm = require("assay.certmanager"); local c = cm.client(); local st = c.certificates:status("infra", "web-tls"); print(st.ready, st.not_after, st.renewal_time)
--- @quickref c = certmanager.client(url?, token?, opts?) -> client (url/token nil: kubeconfig or in-cluster)
--- @quickref c.certificates:list(ns) / :get(ns, name) (nil on 404) / :status(ns, name) -> {ready, not_after, not_before, renewal_time, revision, conditions}
--- @quickref c.certificates:is_ready(ns, name) / :wait_ready(ns, name, timeout_secs?) / :all_ready(ns) -> {ready, not_ready, total, not_ready_names}
--- @quickref c.issuers:list(ns) / :get(ns, name) / :is_ready(ns, name) / :all_ready(ns); c.cluster_issuers:list() / :get(name) / :is_ready(name)
--- @quickref c.requests:list(ns) / :get(ns, name) / :is_approved(ns, name); c.orders:list(ns) / :get(ns, name); c.challenges:list(ns) / :get(ns, name)
--
-- Read-only client of the cert-manager CRDs (cert-manager.io/v1, acme.cert-manager.io/v1) on the
-- Kubernetes access layer of assay.k8s. Gets answer nil on 404, lists {items = {}}. See
-- docs/modules/certmanager.md.
local k8s = require("assay.k8s")
local rest = require("assay.rest")

local M = {}

local check = k8s.check_string

--- Creates a client. url: the Kubernetes API (nil: kubeconfig or in-cluster); token: bearer token
--- (nil: the service account's); opts: k8s.connect options (timeout, ca_cert, …).
function M.client(url, token, opts)
  local conn = k8s.operator_connection("certmanager", url, token, opts)
  local function resource(group, plural, namespaced)
    return conn:resource({ group = group, version = "v1", plural = plural, namespaced = namespaced,
                           list_not_found = "empty", name = "certmanager." .. plural })
  end
  local certs = resource("cert-manager.io", "certificates")
  local issuers = resource("cert-manager.io", "issuers")
  local cluster_issuers = resource("cert-manager.io", "clusterissuers", false)
  local requests = resource("cert-manager.io", "certificaterequests")
  local orders = resource("acme.cert-manager.io", "orders")
  local challenges = resource("acme.cert-manager.io", "challenges")

  local c = {
    connection = conn, certificates = {}, issuers = {}, cluster_issuers = {}, requests = {},
    orders = {}, challenges = {},
  }

  -- list/get pairs: list(ns) → List object ({items = {}} on 404), get(ns, name) → object or nil
  local function readers(sub, res, namespaced)
    if namespaced then
      sub.list = function(_, ns) return res:list(ns) end
      sub.get = function(_, ns, name) return res:get(ns, name) end
    else
      sub.list = function() return res:list() end
      sub.get = function(_, name) return res:get(name) end
    end
  end
  readers(c.certificates, certs, true)
  readers(c.issuers, issuers, true)
  readers(c.cluster_issuers, cluster_issuers, false)
  readers(c.requests, requests, true)
  readers(c.orders, orders, true)
  readers(c.challenges, challenges, true)

  -- true when the object exists and its `cond` condition is "True"
  local function namespaced_condition(fn, res, cond)
    return function(_, ns, name)
      check(fn, "namespace", ns)
      check(fn, "name", name)
      return k8s.condition_true(res:get(ns, name), cond)
    end
  end

  function c.certificates:status(ns, name)
    check("certmanager.certificates:status", "namespace", ns)
    check("certmanager.certificates:status", "name", name)
    local cert = certs:get(ns, name)
    if cert == nil then return nil end
    local st = type(cert.status) == "table" and cert.status or {}
    return {
      ready = k8s.condition_true(cert, "Ready"), not_after = st.notAfter, not_before = st.notBefore,
      renewal_time = st.renewalTime, revision = st.revision, conditions = st.conditions or {},
    }
  end

  c.certificates.is_ready = namespaced_condition("certmanager.certificates:is_ready", certs, "Ready")

  --- Polls is_ready every opts.interval (5) seconds; a 404 counts as not ready, other errors raise.
  function c.certificates:wait_ready(ns, name, timeout_secs, wopts)
    check("certmanager.certificates:wait_ready", "namespace", ns)
    check("certmanager.certificates:wait_ready", "name", name)
    timeout_secs = rest.need_timeout("certmanager.certificates:wait_ready", timeout_secs, 300)
    return rest.wait_until(function() return c.certificates:is_ready(ns, name) end, {
      timeout = timeout_secs, interval = wopts and wopts.interval or 5,
      message = "certmanager: timeout waiting for certificate " .. ns .. "/" .. name .. " to be ready",
    })
  end

  local function all_ready(fn, res)
    return function(_, ns)
      check(fn, "namespace", ns)
      return k8s.tally(res:list(ns).items, function(o) return k8s.condition_true(o, "Ready") end)
    end
  end
  c.certificates.all_ready = all_ready("certmanager.certificates:all_ready", certs)

  c.issuers.is_ready = namespaced_condition("certmanager.issuers:is_ready", issuers, "Ready")
  c.issuers.all_ready = all_ready("certmanager.issuers:all_ready", issuers)

  function c.cluster_issuers:is_ready(name)
    check("certmanager.cluster_issuers:is_ready", "name", name)
    return k8s.condition_true(cluster_issuers:get(name), "Ready")
  end

  c.requests.is_approved = namespaced_condition("certmanager.requests:is_approved", requests, "Approved")

  return c
end

return M
