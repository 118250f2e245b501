-- assay.eso against the in-memory Kubernetes API (fixtures/kube_api.lua): the original's test
-- plan, 404 policies (get nil, list raises, status raises), wait_synced, version option, bad input.
local dir = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local kube = dofile(dir .. "/fixtures/kube_api.lua")
local api = kube.start({ token = "fake-token" })
local eso = require("assay.eso")

local V = "external-secrets.io/v1beta1"
local function es(name, ns, ready, reason, extra)
  local o = { apiVersion = V, kind = "ExternalSecret", metadata = { name = name, namespace = ns },
    spec = { refreshInterval = "1h", secretStoreRef = { name = "vault-backend", kind = "SecretStore" },
             target = { name = name, creationPolicy = "Owner" },
             data = { { secretKey = "password", remoteRef = { key = "secret/data/db", property = "password" } } } },
    status = { refreshTime = "2026-02-01T10:00:00Z", syncedResourceVersion = "v42",
               conditions = { { type = "Ready", status = ready, reason = reason,
                                message = ready == "True" and "Secret was synced" or "could not get secret data from provider",
                                lastTransitionTime = "2026-02-01T10:00:00Z" } } } }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end
local function store(kind, name, ns, ready)
  return { apiVersion = V, kind = kind, metadata = { name = name, namespace = ns },
    spec = { provider = { vault = { server = "https://vault.example.com", path = "secret", version = "v2",
                                    auth = { kubernetes = { mountPath = "kubernetes", role = "eso" } } } } },
    status = { capabilities = "ReadWrite", conditions = { { type = "Ready", status = ready,
               reason = ready == "True" and "Valid" or "InvalidProviderConfig", message = "store validated" } } } }
end

api:add_all({ es("db-creds", "infra", "True", "SecretSynced"), es("api-key", "infra", "False", "SecretSyncError") })
api:add_all({ es("a", "good", "True", "SecretSynced"), es("b", "good", "True", "SecretSynced") })
api:add_all({ es("ok-secret", "mixed", "True", "SecretSynced"), es("broken-secret", "mixed", "False", "SecretSyncError"),
              es("missing-ref", "mixed", "False", "SecretSyncError") })
-- no status at all: counts as failed, and an object lacking metadata does not crash all_synced
api:add({ apiVersion = V, kind = "ExternalSecret", metadata = { name = "fresh", namespace = "new" } })
api:add_all({ store("SecretStore", "vault-backend", "infra", "True"), store("SecretStore", "broken-store", "infra", "False") })
api:add(store("ClusterSecretStore", "global-vault", nil, "True"))
api:add({ apiVersion = V, kind = "ClusterExternalSecret", metadata = { name = "shared-creds" },
  spec = { namespaceSelector = { matchLabels = { ["shared-creds"] = "true" } }, externalSecretName = "shared-creds",
           externalSecretSpec = { secretStoreRef = { name = "global-vault", kind = "ClusterSecretStore" } } },
  status = { provisionedNamespaces = { "a", "b" }, conditions = { { type = "Ready", status = "True" } } } })

-- 1. require; 17. trailing slashes stripped
assert.eq(type(eso.client), "function")
local c = eso.client(api.url .. "//", "fake-token")

-- 2. external secrets list
local list = c.external_secrets:list("infra")
assert.eq(list.kind, "ExternalSecretList")
assert.eq(list.items[1].metadata.name, "db-creds")
assert.eq(list.items[2].metadata.name, "api-key")
assert.eq(api.requests[#api.requests].path, "/apis/external-secrets.io/v1beta1/namespaces/infra/externalsecrets")
assert.eq(api.requests[#api.requests].headers["authorization"], "Bearer fake-token")

-- 3. get
local got = c.external_secrets:get("infra", "db-creds")
assert.eq(got.spec.secretStoreRef.name, "vault-backend")
assert.eq(got.status.syncedResourceVersion, "v42")

-- 4. status
local st = c.external_secrets:status("infra", "db-creds")
assert.is_true(st.ready)
assert.eq(st.status, "SecretSynced")
assert.eq(st.sync_hash, "v42")
assert.eq(#st.conditions, 1)
local fresh_st = c.external_secrets:status("new", "fresh")
assert.eq(fresh_st, { ready = false, status = "Unknown", sync_hash = "", conditions = {} })

-- 5/6. is_synced
assert.is_true(c.external_secrets:is_synced("infra", "db-creds"))
assert.is_false(c.external_secrets:is_synced("infra", "api-key"))

-- 7/8/9. secret stores
assert.eq(c.secret_stores:list("infra").kind, "SecretStoreList")
local sst = c.secret_stores:status("infra", "vault-backend")
assert.is_true(sst.ready)
assert.eq(#sst.conditions, 1)
assert.is_true(c.secret_stores:is_ready("infra", "vault-backend"))
assert.is_false(c.secret_stores:is_ready("infra", "broken-store"))
assert.eq(c.secret_stores:get("infra", "vault-backend").spec.provider.vault.server, "https://vault.example.com")

-- 10/11. cluster secret stores (cluster-scoped path)
assert.eq(c.cluster_secret_stores:list().kind, "ClusterSecretStoreList")
assert.eq(api.requests[#api.requests].path, "/apis/external-secrets.io/v1beta1/clustersecretstores")
assert.is_true(c.cluster_secret_stores:is_ready("global-vault"))
assert.eq(c.cluster_secret_stores:get("global-vault").status.capabilities, "ReadWrite")

-- 12/13/14. aggregates
assert.eq(c.external_secrets:all_synced("good"), { synced = 2, failed = 0, total = 2, failed_names = {} })
assert.eq(c.external_secrets:all_synced("mixed"), { synced = 1, failed = 2, total = 3, failed_names = { "broken-secret", "missing-ref" } })
assert.eq(c.external_secrets:all_synced("new"), { synced = 0, failed = 1, total = 1, failed_names = { "fresh" } })
assert.eq(c.secret_stores:all_ready("infra"), { ready = 1, not_ready = 1, total = 2, not_ready_names = { "broken-store" } })

-- 15/16. cluster external secrets
assert.eq(c.cluster_external_secrets:list().items[1].metadata.name, "shared-creds")
assert.eq(c.cluster_external_secrets:get("shared-creds").spec.externalSecretName, "shared-creds")
assert.eq(api.requests[#api.requests].path, "/apis/external-secrets.io/v1beta1/clusterexternalsecrets/shared-creds")

-- 404: get → nil, is_synced/is_ready → false, status raises "not found", list raises HTTP 404
assert.eq(c.external_secrets:get("infra", "ghost"), nil)
assert.is_false(c.external_secrets:is_synced("infra", "ghost"))
assert.is_false(c.secret_stores:is_ready("infra", "ghost"))
assert.eq(c.cluster_secret_stores:get("ghost"), nil)
local e = assert.error(function() c.external_secrets:status("infra", "ghost") end)
assert.contains(e, "eso: ExternalSecret infra/ghost not found")
e = assert.error(function() c.secret_stores:status("infra", "ghost") end)
assert.contains(e, "eso: SecretStore infra/ghost not found")
local fresh = kube.start({ token = "fake-token" }) -- ESO not installed
e = assert.error(function() eso.client(fresh.url, "fake-token").external_secrets:list("infra") end)
assert.contains(e, "eso: LIST /apis/external-secrets.io/v1beta1/namespaces/infra/externalsecrets HTTP 404")
api:fail("GET", "/apis/external-secrets.io/v1beta1/namespaces/infra/externalsecrets/db-creds", { status = 500, body = "boom" })
e = assert.error(function() c.external_secrets:is_synced("infra", "db-creds") end)
assert.contains(e, "eso: GET /apis/external-secrets.io/v1beta1/namespaces/infra/externalsecrets/db-creds HTTP 500: boom")

-- wait_synced: at once, after a while, and the timeout message
assert.is_true(c.external_secrets:wait_synced("infra", "db-creds", 5))
api:add(es("late", "infra", "False", "SecretSyncError"))
async.spawn(function() sleep(0.2); api:add(es("late", "infra", "True", "SecretSynced")) end)
assert.is_true(c.external_secrets:wait_synced("infra", "late", 5, { interval = 0.1 }))
local t0 = os.monotonic()
e = assert.error(function() c.external_secrets:wait_synced("infra", "api-key", 0.3, { interval = 0.1 }) end)
assert.contains(e, "eso: ExternalSecret infra/api-key not synced after 0.3s")
assert.lt(os.monotonic() - t0, 3)

-- version option: ESO >= 0.17 serves external-secrets.io/v1
api:add({ apiVersion = "external-secrets.io/v1", kind = "ExternalSecret", metadata = { name = "v1-secret", namespace = "infra" },
  status = { conditions = { { type = "Ready", status = "True", reason = "SecretSynced" } } } })
local c1 = eso.client(api.url, "fake-token", { version = "v1" })
assert.is_true(c1.external_secrets:is_synced("infra", "v1-secret"))
assert.eq(api.requests[#api.requests].path, "/apis/external-secrets.io/v1/namespaces/infra/externalsecrets/v1-secret")

-- bad input names the function
e = assert.error(function() c.external_secrets:get("infra", nil) end)
assert.contains(e, "eso.external_secrets:get: name must be a non-empty string, got nil")
e = assert.error(function() c.external_secrets:status(nil, "x") end)
assert.contains(e, "eso.external_secrets:status: namespace must be a non-empty string, got nil")
e = assert.error(function() c.external_secrets:wait_synced("infra", "db-creds", {}) end)
assert.contains(e, "eso.external_secrets:wait_synced: timeout_secs must be a number, got table")
e = assert.error(function() c.secret_stores:all_ready(false) end)
assert.contains(e, "eso.secret_stores:all_ready: namespace must be a non-empty string, got boolean")
e = assert.error(function() c.cluster_secret_stores:is_ready(nil) end)
assert.contains(e, "eso.cluster_secret_stores:is_ready: name must be a non-empty string, got nil")
e = assert.error(function() eso.client(api.url, "t", "v1") end)
assert.contains(e, "eso.client: opts must be a table, got string")

print("eso ok")
http.stop()
