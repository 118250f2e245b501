-- assay.certmanager against the in-memory Kubernetes API (fixtures/kube_api.lua): the original's
-- test plan, 404 policies (get nil, list {items = {}}), error text, wait_ready, bad input.
local dir = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local kube = dofile(dir .. "/fixtures/kube_api.lua")
local api = kube.start({ token = "fake-token" })
local certmanager = require("assay.certmanager")

local function cert(name, ns, ready, extra)
  local c = { apiVersion = "cert-manager.io/v1", kind = "Certificate",
    metadata = { name = name, namespace = ns },
    spec = { secretName = name .. "-secret", dnsNames = { name .. ".example.com" },
             issuerRef = { name = "letsencrypt-prod", kind = "ClusterIssuer", group = "cert-manager.io" } },
    status = { conditions = { { type = "Ready", status = ready, reason = ready == "True" and "Ready" or "Issuing",
                                message = "Certificate is up to date and has not expired", lastTransitionTime = "2026-01-10T10:00:00Z" } },
               notAfter = "2026-04-10T10:00:00Z", notBefore = "2026-01-10T10:00:00Z",
               renewalTime = "2026-03-11T10:00:00Z", revision = 1 } }
  for k, v in pairs(extra or {}) do c[k] = v end
  return c
end
local function issuer(kind, name, ns, ready)
  return { apiVersion = "cert-manager.io/v1", kind = kind, metadata = { name = name, namespace = ns },
    spec = kind == "ClusterIssuer" and { acme = { server = "https://acme-v02.api.letsencrypt.org/directory",
      email = "ops@example.com", privateKeySecretRef = { name = name .. "-key" },
      solvers = { { http01 = { ingress = { ingressClassName = "traefik" } } } } } } or { ca = { secretName = "ca-key-pair" } },
    status = { conditions = { { type = "Ready", status = ready, reason = "KeyPairVerified" } } } }
end

api:add_all({ cert("web-tls", "infra", "True"), cert("api-tls", "infra", "False") })
api:add_all({ cert("a-tls", "allready", "True"), cert("b-tls", "allready", "True"), cert("c-tls", "allready", "True") })
api:add_all({ cert("web-tls", "mixed", "True"), cert("api-tls", "mixed", "False"), cert("grpc-tls", "mixed", "False") })
-- an object without metadata.name counts as "unknown"; one without status is not ready
api:add_all({ issuer("Issuer", "self-signed", "infra", "True"), issuer("Issuer", "ca-issuer", "infra2", "False"),
              issuer("Issuer", "ok-issuer", "infra2", "True") })
api:add_all({ issuer("ClusterIssuer", "letsencrypt-prod", nil, "True"), issuer("ClusterIssuer", "letsencrypt-staging", nil, "False") })
api:add({ apiVersion = "cert-manager.io/v1", kind = "CertificateRequest",
  metadata = { name = "web-tls-1", namespace = "infra", annotations = { ["cert-manager.io/certificate-name"] = "web-tls" } },
  spec = { request = base64.encode("-----BEGIN CERTIFICATE REQUEST-----"), issuerRef = { name = "letsencrypt-prod", kind = "ClusterIssuer" } },
  status = { conditions = { { type = "Approved", status = "True", reason = "cert-manager.io" }, { type = "Ready", status = "True" } } } })
api:add({ apiVersion = "cert-manager.io/v1", kind = "CertificateRequest", metadata = { name = "pending-1", namespace = "infra" },
  status = { conditions = { { type = "Ready", status = "False" } } } })
api:add({ apiVersion = "acme.cert-manager.io/v1", kind = "Order", metadata = { name = "web-tls-1-123", namespace = "infra" },
  spec = { dnsNames = { "web-tls.example.com" } }, status = { state = "valid", url = "https://acme/order/1" } })
api:add({ apiVersion = "acme.cert-manager.io/v1", kind = "Challenge", metadata = { name = "web-tls-1-123-0", namespace = "infra" },
  spec = { dnsName = "web-tls.example.com", type = "HTTP-01", token = "tok" }, status = { state = "pending", presented = true } })

-- 1. require / client
assert.eq(type(certmanager.client), "function")
local c = certmanager.client(api.url .. "///", "fake-token")

-- 2. certificates list (whole List object, names in order)
local list = c.certificates:list("infra")
assert.eq(list.kind, "CertificateList")
assert.eq(#list.items, 2)
assert.eq(list.items[1].metadata.name, "web-tls")
assert.eq(list.items[2].metadata.name, "api-tls")
local last = api.requests[#api.requests]
assert.eq(last.path, "/apis/cert-manager.io/v1/namespaces/infra/certificates")
assert.eq(last.headers["authorization"], "Bearer fake-token")

-- 3. get
local got = c.certificates:get("infra", "web-tls")
assert.eq(got.kind, "Certificate")
assert.eq(got.metadata.name, "web-tls")
assert.eq(got.spec.secretName, "web-tls-secret")

-- 4. status
local st = c.certificates:status("infra", "web-tls")
assert.is_true(st.ready)
assert.eq(st.not_after, "2026-04-10T10:00:00Z")
assert.eq(st.not_before, "2026-01-10T10:00:00Z")
assert.eq(st.renewal_time, "2026-03-11T10:00:00Z")
assert.eq(st.revision, 1)
assert.eq(#st.conditions, 1)

-- 5/6. is_ready true / false
assert.is_true(c.certificates:is_ready("infra", "web-tls"))
assert.is_false(c.certificates:is_ready("infra", "api-tls"))

-- 7/8. issuers
local il = c.issuers:list("infra")
assert.eq(il.kind, "IssuerList")
assert.eq(#il.items, 1)
assert.is_true(c.issuers:is_ready("infra", "self-signed"))
assert.eq(c.issuers:get("infra", "self-signed").spec.ca.secretName, "ca-key-pair")

-- 9/10. cluster issuers (cluster-scoped path)
local cil = c.cluster_issuers:list()
assert.eq(cil.kind, "ClusterIssuerList")
assert.eq(#cil.items, 2)
assert.eq(api.requests[#api.requests].path, "/apis/cert-manager.io/v1/clusterissuers")
assert.is_true(c.cluster_issuers:is_ready("letsencrypt-prod"))
assert.is_false(c.cluster_issuers:is_ready("letsencrypt-staging"))
assert.eq(c.cluster_issuers:get("letsencrypt-prod").spec.acme.email, "ops@example.com")

-- 11/12. certificate requests
assert.eq(c.requests:list("infra").kind, "CertificateRequestList")
assert.eq(#c.requests:list("infra").items, 2)
assert.is_true(c.requests:is_approved("infra", "web-tls-1"))
assert.is_false(c.requests:is_approved("infra", "pending-1"))
assert.eq(c.requests:get("infra", "web-tls-1").spec.issuerRef.name, "letsencrypt-prod")

-- 13/14. ACME orders and challenges
local orders = c.orders:list("infra")
assert.eq(orders.items[1].status.state, "valid")
assert.eq(api.requests[#api.requests].path, "/apis/acme.cert-manager.io/v1/namespaces/infra/orders")
assert.eq(c.orders:get("infra", "web-tls-1-123").spec.dnsNames[1], "web-tls.example.com")
assert.eq(c.challenges:list("infra").items[1].spec.dnsName, "web-tls.example.com")
assert.eq(c.challenges:get("infra", "web-tls-1-123-0").spec.type, "HTTP-01")

-- 15/16. all_ready
assert.eq(c.certificates:all_ready("allready"), { ready = 3, not_ready = 0, total = 3, not_ready_names = {} })
assert.eq(c.certificates:all_ready("mixed"), { ready = 1, not_ready = 2, total = 3, not_ready_names = { "api-tls", "grpc-tls" } })
-- 17. issuers all_ready
assert.eq(c.issuers:all_ready("infra2"), { ready = 1, not_ready = 1, total = 2, not_ready_names = { "ca-issuer" } })

-- 404s: get → nil, list → {items = {}}, is_ready → false, status → nil
assert.eq(c.certificates:get("infra", "ghost"), nil)
assert.eq(c.certificates:status("infra", "ghost"), nil)
assert.is_false(c.certificates:is_ready("infra", "ghost"))
assert.is_false(c.requests:is_approved("infra", "ghost"))
assert.eq(c.cluster_issuers:get("ghost"), nil)
local fresh = kube.start({ token = "fake-token" }) -- no cert-manager CRDs installed: lists are 404
local c2 = certmanager.client(fresh.url, "fake-token")
assert.eq(c2.certificates:list("infra").items, {})
assert.eq(c2.certificates:all_ready("infra"), { ready = 0, not_ready = 0, total = 0, not_ready_names = {} })

-- server errors keep the verb, path and status
api:fail("GET", "/apis/cert-manager.io/v1/namespaces/infra/certificates", { status = 500, body = "etcd down" })
local e = assert.error(function() c.certificates:list("infra") end)
assert.contains(e, "certmanager: LIST /apis/cert-manager.io/v1/namespaces/infra/certificates HTTP 500: etcd down")
api:fail("GET", "/apis/cert-manager.io/v1/namespaces/infra/certificates/web-tls", { status = 403, json = { kind = "Status", code = 403, reason = "Forbidden" } })
e = assert.error(function() c.certificates:get("infra", "web-tls") end)
assert.contains(e, "certmanager: GET /apis/cert-manager.io/v1/namespaces/infra/certificates/web-tls HTTP 403")
-- a wrong token is an error, not "not found"
local bad = certmanager.client(api.url, "wrong")
e = assert.error(function() bad.certificates:get("infra", "web-tls") end)
assert.contains(e, "HTTP 401")

-- names are path-encoded (the original spliced them raw)
assert.eq(c.certificates:get("infra", "a/b"), nil)
assert.eq(api.requests[#api.requests].path, "/apis/cert-manager.io/v1/namespaces/infra/certificates/a%2Fb")

-- wait_ready: at once when ready; a short timeout on a certificate that never gets ready
assert.is_true(c.certificates:wait_ready("infra", "web-tls", 5))
local t0 = os.monotonic()
e = assert.error(function() c.certificates:wait_ready("infra", "api-tls", 0.3, { interval = 0.1 }) end)
assert.contains(e, "certmanager: timeout waiting for certificate infra/api-tls to be ready")
assert.lt(os.monotonic() - t0, 3)
-- it turns ready while waited for
async.spawn(function() sleep(0.2); api:add(cert("late-tls", "infra", "True")) end)
api:add(cert("late-tls", "infra", "False"))
assert.is_true(c.certificates:wait_ready("infra", "late-tls", 5, { interval = 0.1 }))

-- bad input names the function
e = assert.error(function() c.certificates:get("infra", nil) end)
assert.contains(e, "certmanager.certificates:get: name must be a non-empty string, got nil")
e = assert.error(function() c.certificates:is_ready(nil, "web-tls") end)
assert.contains(e, "certmanager.certificates:is_ready: namespace must be a non-empty string, got nil")
e = assert.error(function() c.certificates:status("infra", 42) end)
assert.contains(e, "certmanager.certificates:status: name must be a non-empty string, got number")
e = assert.error(function() c.certificates:wait_ready("infra", "web-tls", "soon") end)
assert.contains(e, "certmanager.certificates:wait_ready: timeout_secs must be a number, got string")
e = assert.error(function() c.cluster_issuers:is_ready({}) end)
assert.contains(e, "certmanager.cluster_issuers:is_ready: name must be a non-empty string, got table")
e = assert.error(function() c.certificates:list(7) end)
assert.contains(e, "certmanager.certificates:list: namespace must be a string or nil, got number")
e = assert.error(function() certmanager.client(42, "t") end)
assert.contains(e, "certmanager.client: url must be a non-empty string")
e = assert.error(function() certmanager.client(api.url, 42) end)
assert.contains(e, "certmanager.client: token must be a string or nil, got number")

-- the client reuses the Kubernetes connection layer: connection options pass through
local c3 = certmanager.client({ base_url = api.url, token = "fake-token", timeout = 5 })
assert.eq(c3.connection.source, "explicit")
assert.is_true(c3.certificates:is_ready("infra", "web-tls"))

-- url nil: the connection comes from a kubeconfig (here a named one) or the pod's environment
local tmp = fs.tempdir("certmanager-kubeconfig-")
fs.write(tmp .. "/config", yaml.encode({
  apiVersion = "v1", kind = "Config", ["current-context"] = "test",
  clusters = { { name = "mock", cluster = { server = api.url } } },
  users = { { name = "ops", user = { token = "fake-token" } } },
  contexts = { { name = "test", context = { cluster = "mock", user = "ops", namespace = "infra" } } },
}))
local ck = certmanager.client(nil, nil, { kubeconfig = tmp .. "/config" })
assert.eq(ck.connection.source, "kubeconfig")
assert.is_true(ck.certificates:is_ready("infra", "web-tls"))
if not os.getenv("KUBERNETES_SERVICE_HOST") then
  e = assert.error(function() certmanager.client(nil, nil, { kubeconfig = tmp .. "/missing" }) end)
  assert.contains(e, "certmanager: not running in a Kubernetes pod")
end
fs.remove(tmp, { recursive = true })

print("certmanager ok")
http.stop()
