-- assay.vault (and its alias assay.openbao) against a mock following Vault's documented HTTP API
-- (neither Vault nor OpenBao is packaged for this machine): the reference's test plan, the
-- X-Vault-Token header where it belongs, request bodies ({} objects, base64 plaintext), KV v1,
-- sys/health's status codes, binary-safe transit, encoded paths, namespaces, the bootstrap
-- helpers (wait, ensure_*, assert_secret, authenticated_client) and bad input.
local vault = require("assay.vault")
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local mock_api = dofile(here .. "/fixtures/mock_api.lua")
local raises = mock_api.raises
local mock = mock_api.start()
local TOKEN = "s.test-root-token"
env.set("VAULT_ADDR", nil)
env.set("VAULT_TOKEN", nil)
env.set("VAULT_NAMESPACE", nil)
local c = vault.client(mock.url .. "///", TOKEN)

local function token_of(req) return req.headers["x-vault-token"] end
local function body_of(req) return json.parse(req.body) end

-- ------------------------------------------------------------------ module shape and alias
for _, f in ipairs({ "client", "wait", "authenticated_client", "ensure_credentials", "assert_secret", "ensure_engine", "ensure_auth" }) do
  assert.eq(type(vault[f]), "function", f)
end
local bao = require("assay.openbao")
assert.not_nil(bao)
assert.eq(type(bao.client), "function")
assert(rawequal(bao, vault), "assay.openbao must be the very table of assay.vault")
mock:on("GET", "/v1/secret/data/test", { json = { data = { data = { key = "value" }, metadata = { version = 1 } } } })
assert.eq(bao.client(mock.url, "test-token").kv:get("secret", "test").data.key, "value")
assert.eq(token_of(mock:last()), "test-token")

-- ------------------------------------------------------------------ raw API
mock:on("GET", "/v1/secret/data/mykey", { json = {
  request_id = "r1", lease_duration = 0, renewable = false,
  data = { data = { username = "admin", password = "s3cret" }, metadata = { version = 3, created_time = "2024-01-15T10:00:00Z" } } } })
local raw = c:read("secret/data/mykey")
assert.eq(raw.data.username, "admin")
assert.eq(raw.metadata.version, 3)
assert.eq(token_of(mock:last()), TOKEN)
assert.eq(c:read("secret/data/nonexistent"), nil) -- 404 → nil
mock:on("POST", "/v1/secret/data/newkey", { status = 204 })
assert.eq(c:write("secret/data/newkey", { data = { foo = "bar" } }), nil)
assert.eq(body_of(mock:last()), { data = { foo = "bar" } })
assert.eq(mock:last().headers["content-type"], "application/json")
mock:on("DELETE", "/v1/secret/data/oldkey", { status = 204 })
assert.eq(c:delete("secret/data/oldkey"), nil)
assert.eq(mock:last().method, "DELETE")
mock:on("GET", "/v1/secret/metadata", { json = { data = { keys = { "key1", "key2", "key3" } } } }, { query = { list = "true" } })
local keys = c:list("secret/metadata")
assert.eq(#keys, 3)
assert.eq(keys[3], "key3")
assert.eq(mock:last().params.list, "true")
assert.eq(#c:list("secret/metadata/empty"), 0) -- LIST 404 → {}
mock:on("GET", "/v1/sys/tools/random/8", function(req) return { json = { data = { random_bytes = req.params.format } } } end)
assert.eq(c:read("sys/tools/random/8?format=hex").random_bytes, "hex") -- a raw path's query is passed on
mock:on("POST", "/v1/sys/rotate", { status = 204 })
assert.eq(c:write("sys/rotate"), nil)
assert.eq(mock:last().body, "{}")

-- ------------------------------------------------------------------ KV v2
mock:on("GET", "/v1/secret/data/mykey", { json = { data = { data = { foo = "bar", baz = "qux" }, metadata = { version = 1 } } } })
local secret = c.kv:get("secret", "mykey")
assert.eq(secret.data.foo, "bar")
assert.eq(secret.data.baz, "qux")
assert.eq(secret.metadata.version, 1)
assert.eq(c.kv:get("secret", "absent"), nil)
mock:on("GET", "/v1/secret/data/mykey", { json = { data = { data = { foo = "old" }, metadata = { version = 1 } } } }, { query = { version = "1" } })
assert.eq(c.kv:get("secret", "mykey", { version = 1 }).data.foo, "old")
mock:on("POST", "/v1/secret/data/mykey", { status = 204 })
assert.eq(c.kv:put("secret", "mykey", { foo = "bar" }), nil)
assert.eq(body_of(mock:last()), { data = { foo = "bar" } })
mock:on("POST", "/v1/secret/data/mykey", { json = { data = { version = 4, created_time = "2024-01-15T10:00:00Z", deletion_time = "", destroyed = false } } })
assert.eq(c.kv:put("secret", "mykey", { foo = "baz" }, { cas = 3 }).data.version, 4)
assert.eq(body_of(mock:last()), { data = { foo = "baz" }, options = { cas = 3 } })
c.kv:put("secret", "mykey", {})
assert.eq(mock:last().body, '{"data":{}}') -- empty secret data is an object, not []
mock:on("DELETE", "/v1/secret/data/mykey", { status = 204 })
assert.eq(c.kv:delete("secret", "mykey"), nil)
mock:on("GET", "/v1/secret/metadata/", { json = { data = { keys = { "app1", "app2", "tls/" } } } }, { query = { list = "true" } })
keys = c.kv:list("secret")
assert.eq(#keys, 3)
assert.eq(keys[3], "tls/")
assert.eq(mock:last().path, "/v1/secret/metadata/")
mock:on("GET", "/v1/secret/metadata/tls/", { json = { data = { keys = { "ca", "web" } } } }, { query = { list = "true" } })
assert.eq(c.kv:list("secret", "tls/")[2], "web")
mock:on("GET", "/v1/secret/metadata/mykey", { json = { data = { current_version = 3, max_versions = 10, oldest_version = 1,
  versions = { ["1"] = { destroyed = false }, ["2"] = { destroyed = false }, ["3"] = { destroyed = false } } } } })
local meta = c.kv:metadata("secret", "mykey")
assert.eq(meta.data.current_version, 3)
assert.eq(meta.data.max_versions, 10)
assert.eq(c.kv:metadata("secret", "absent"), nil)
-- hierarchical keys keep "/", other characters are encoded: the server (which decodes the
-- path) sees the whole name in the path and no query string; a "/" inside a segment stays %2F
mock:on("GET", "/v1/kv/team/data/app/my db?x#y&z=1", { json = { data = { data = { ok = true } } } })
assert.eq(c.kv:get("kv/team", "app/my db?x#y&z=1").data.ok, true)
assert.eq(mock:last().query or "", "")
mock:on("GET", "/v1/secret/data/100%", { json = { data = { data = { pct = true } } } })
assert.eq(c.kv:get("secret", "100%").data.pct, true)

-- ------------------------------------------------------------------ KV v1
mock:on("GET", "/v1/kv1/app/db", { json = { lease_duration = 2764800, data = { username = "app", password = "pw" } } })
local v1 = c.kv1:get("kv1", "app/db")
assert.eq(v1.username, "app")
assert.eq(v1.password, "pw")
assert.eq(c.kv1:get("kv1", "absent"), nil)
mock:on("POST", "/v1/kv1/app/db", { status = 204 })
assert.eq(c.kv1:put("kv1", "app/db", { username = "app", password = "new" }), nil)
assert.eq(body_of(mock:last()), { username = "app", password = "new" }) -- the fields themselves, no {data = ...}
mock:on("DELETE", "/v1/kv1/app/db", { status = 204 })
assert.eq(c.kv1:delete("kv1", "app/db"), nil)
mock:on("GET", "/v1/kv1/", { json = { data = { keys = { "app/", "other" } } } }, { query = { list = "true" } })
assert.eq(c.kv1:list("kv1")[1], "app/")
mock:on("GET", "/v1/kv1/app/", { json = { data = { keys = { "db" } } } }, { query = { list = "true" } })
assert.eq(c.kv1:list("kv1", "app/")[1], "db")

-- ------------------------------------------------------------------ sys
local HEALTH = { initialized = true, sealed = false, standby = false, performance_standby = false,
                 replication_performance_mode = "disabled", replication_dr_mode = "disabled",
                 server_time_utc = 1700000000, version = "1.15.0", cluster_name = "vault-cluster", cluster_id = "abc" }
mock:on("GET", "/v1/sys/health", { json = HEALTH })
local health, status = c.sys:health()
assert.eq(health.initialized, true)
assert.eq(health.sealed, false)
assert.eq(health.version, "1.15.0")
assert.eq(status, 200)
assert.eq(token_of(mock:last()), nil) -- unauthenticated endpoint: no token sent
-- Vault's documented health codes: standby 429, DR secondary 472, performance standby 473,
-- not initialised 501, sealed 503 — all with the same JSON body, all answers, none retried
for code, field in pairs({ [429] = "standby", [472] = "replication_dr_mode", [473] = "performance_standby", [501] = "initialized", [503] = "sealed" }) do
  local b = {}
  for k, v in pairs(HEALTH) do b[k] = v end
  if field == "initialized" then b.initialized = false elseif field == "replication_dr_mode" then b.replication_dr_mode = "secondary" else b[field] = true end
  mock:on("GET", "/v1/sys/health", { status = code, json = b })
  local before = #mock:requests_to("/v1/sys/health")
  local h, s = c.sys:health()
  assert.eq(s, code)
  assert.eq(#mock:requests_to("/v1/sys/health"), before + 1)
  if field == "initialized" then assert.eq(h.initialized, false)
  elseif field == "replication_dr_mode" then assert.eq(h.replication_dr_mode, "secondary")
  else assert.eq(h[field], true) end
end
mock:on("GET", "/v1/sys/health", { status = 502, body = "<html>bad gateway</html>" })
raises(function() c.sys:health() end, "vault: GET /v1/sys/health HTTP 502: <html>bad gateway</html>")
mock:on("GET", "/v1/sys/health", { json = HEALTH })

mock:on("GET", "/v1/sys/seal-status", { json = { type = "shamir", initialized = true, sealed = true, t = 3, n = 5, progress = 0, version = "1.15.0" } })
local seal = c.sys:seal_status()
assert.eq(seal.t, 3)
assert.eq(seal.n, 5)
assert.eq(token_of(mock:last()), nil)
assert.eq(c.sys:is_sealed(), true)
assert.eq(c.sys:is_initialized(), true)
mock:on("GET", "/v1/sys/seal-status", { status = 500, json = { errors = { "internal error" } } })
raises(function() vault.client(mock.url, { token = TOKEN, retries = 0 }).sys:seal_status() end, "vault: seal-status HTTP 500: ")

-- ------------------------------------------------------------------ policies
mock:on("GET", "/v1/sys/policies/acl/my-policy", { json = { data = { name = "my-policy", rules = 'path "secret/data/*" { capabilities = ["read"] }' } } })
local pol = c.policies:get("my-policy")
assert.eq(pol.name, "my-policy")
assert(pol.rules:find("secret/data", 1, true))
assert.eq(c.policies:get("absent"), nil)
mock:on("PUT", "/v1/sys/policies/acl/new-policy", { status = 204 })
local HCL = 'path "secret/data/app/*" {\n  capabilities = ["read", "list"]\n}'
assert.eq(c.policies:create("new-policy", HCL), nil)
assert.eq(mock:last().method, "PUT")
assert.eq(body_of(mock:last()), { policy = HCL })
mock:on("DELETE", "/v1/sys/policies/acl/old-policy", { status = 204 })
assert.eq(c.policies:delete("old-policy"), nil)
mock:on("GET", "/v1/sys/policies/acl", { json = { data = { keys = { "default", "root", "my-policy" } } } }, { query = { list = "true" } })
assert.eq(#c.policies:list(), 3)

-- ------------------------------------------------------------------ auth methods
mock:on("POST", "/v1/sys/auth/kubernetes", { status = 204 })
assert.eq(c.auth:enable("kubernetes", "kubernetes", { description = "k8s auth" }), nil)
assert.eq(body_of(mock:last()), { type = "kubernetes", description = "k8s auth" })
mock:on("DELETE", "/v1/sys/auth/kubernetes", { status = 204 })
assert.eq(c.auth:disable("kubernetes"), nil)
local AUTHS = { ["token/"] = { type = "token", description = "token based credentials" }, ["kubernetes/"] = { type = "kubernetes" } }
mock:on("GET", "/v1/sys/auth", { json = { data = AUTHS } })
local auths = c.auth:methods()
assert.eq(auths["token/"].type, "token")
assert.eq(auths["kubernetes/"].type, "kubernetes")
mock:on("POST", "/v1/auth/kubernetes/config", { status = 204 })
assert.eq(c.auth:config("kubernetes", { kubernetes_host = "https://kubernetes.default.svc" }), nil)
assert.eq(body_of(mock:last()).kubernetes_host, "https://kubernetes.default.svc")
mock:on("POST", "/v1/auth/kubernetes/role/my-role", { status = 204 })
assert.eq(c.auth:create_role("kubernetes", "my-role", { bound_service_account_names = { "default" }, policies = { "my-policy" }, ttl = "1h" }), nil)
assert.eq(body_of(mock:last()).policies, { "my-policy" })
mock:on("GET", "/v1/auth/kubernetes/role/my-role", { json = { data = { bound_service_account_names = { "default" }, policies = { "my-policy" }, ttl = 3600 } } })
local r = c.auth:get_role("kubernetes", "my-role")
assert.eq(r.policies[1], "my-policy")
assert.eq(r.ttl, 3600)
assert.eq(c.auth:get_role("kubernetes", "absent"), nil)
mock:on("GET", "/v1/auth/kubernetes/role", { json = { data = { keys = { "role1", "role2", "role3" } } } }, { query = { list = "true" } })
assert.eq(#c.auth:list_roles("kubernetes"), 3)

-- ------------------------------------------------------------------ secrets engines
mock:on("POST", "/v1/sys/mounts/transit", { status = 204 })
assert.eq(c.engines:enable("transit", "transit"), nil)
assert.eq(body_of(mock:last()), { type = "transit" })
mock:on("POST", "/v1/sys/mounts/kv2", { status = 204 })
c.engines:enable("kv2", "kv", { description = "app secrets", options = { version = "2" } })
assert.eq(body_of(mock:last()), { type = "kv", description = "app secrets", options = { version = "2" } })
mock:on("DELETE", "/v1/sys/mounts/transit", { status = 204 })
assert.eq(c.engines:disable("transit"), nil)
local MOUNTS = { ["secret/"] = { type = "kv", options = { version = "2" } }, ["sys/"] = { type = "system" }, ["transit/"] = { type = "transit" } }
mock:on("GET", "/v1/sys/mounts", { json = { data = MOUNTS } })
local engines = c.engines:list()
assert.eq(engines["secret/"].type, "kv")
assert.eq(engines["secret/"].options.version, "2")
mock:on("POST", "/v1/sys/mounts/secret/tune", { status = 204 })
assert.eq(c.engines:tune("secret", { max_lease_ttl = "87600h" }), nil)
assert.eq(body_of(mock:last()), { max_lease_ttl = "87600h" })

-- ------------------------------------------------------------------ tokens
mock:on("POST", "/v1/auth/token/create", function(req)
  return { json = { auth = { client_token = "s.newtoken", accessor = "acc", policies = { "default", "my-policy" },
                             lease_duration = 3600, renewable = true } } }
end)
local tok = c.token:create({ policies = { "my-policy" }, ttl = "1h" })
assert.eq(tok.client_token, "s.newtoken")
assert.eq(tok.renewable, true)
assert.eq(tok.lease_duration, 3600)
assert.eq(body_of(mock:last()), { policies = { "my-policy" }, ttl = "1h" })
c.token:create()
assert.eq(mock:last().body, "{}") -- an object, not [] (the original's bug)
mock:on("POST", "/v1/auth/token/lookup", { json = { data = { id = "s.x", policies = { "default", "my-policy" }, ttl = 3500 } } })
local info = c.token:lookup("s.x")
assert.eq(info.policies[2], "my-policy")
assert.eq(body_of(mock:last()), { token = "s.x" })
mock:on("GET", "/v1/auth/token/lookup-self", { json = { data = { id = TOKEN, policies = { "root" } } } })
assert.eq(c.token:lookup_self().policies[1], "root")
assert.eq(token_of(mock:last()), TOKEN)
mock:on("POST", "/v1/auth/token/revoke", { status = 204 })
assert.eq(c.token:revoke("s.x"), nil)
assert.eq(body_of(mock:last()), { token = "s.x" })
mock:on("POST", "/v1/auth/token/revoke-self", { status = 204 })
assert.eq(c.token:revoke_self(), nil)
assert.eq(mock:last().body, "{}")

-- ------------------------------------------------------------------ transit
-- A transit engine in the mock: it checks that plaintext is base64 and "encrypts" by XOR so that
-- ciphertexts differ from their input yet decrypt exactly, byte for byte.
local function xor(s) return (s:gsub(".", function(ch) return string.char(ch:byte() ~ 0x5A) end)) end
local transit_keys = {}
local function transit_route(mount)
  mock:on("POST", "/v1/" .. mount .. "/encrypt/app-key", function(req)
    local ok, bytes = pcall(base64.decode, body_of(req).plaintext or "")
    if not ok then return { status = 400, json = { errors = { "illegal base64 data" } } } end
    return { json = { data = { ciphertext = "vault:v1:" .. base64.encode(xor(bytes)), key_version = 1 } } }
  end)
  mock:on("POST", "/v1/" .. mount .. "/decrypt/app-key", function(req)
    local ct = body_of(req).ciphertext
    local payload = ct:match("^vault:v%d+:(.*)$")
    if not payload then return { status = 400, json = { errors = { "invalid ciphertext: no prefix" } } } end
    return { json = { data = { plaintext = base64.encode(xor(base64.decode(payload))) } } }
  end)
end
transit_route("transit")
local ct = c.transit:encrypt("app-key", "hello world")
assert(ct:find("^vault:v1:"), ct)
assert.eq(body_of(mock:last()).plaintext, "aGVsbG8gd29ybGQ=") -- base64 of the plaintext
assert.eq(c.transit:decrypt("app-key", ct), "hello world")
mock:on("POST", "/v1/transit/decrypt/fixed-key", { json = { data = { plaintext = "aGVsbG8gd29ybGQ=" } } })
assert.eq(c.transit:decrypt("fixed-key", "vault:v1:abcdef"), "hello world")
assert.eq(body_of(mock:last()), { ciphertext = "vault:v1:abcdef" })
-- every byte value survives the round trip (the original decoded only UTF-8)
local all = {}
for b = 0, 255 do all[#all + 1] = string.char(b) end
all = table.concat(all)
local bin_ct = c.transit:encrypt("app-key", all)
assert.eq(base64.decode(body_of(mock:last()).plaintext), all)
local back = c.transit:decrypt("app-key", bin_ct)
assert.eq(#back, 256)
assert(back == all, "binary transit round trip changed the bytes")
assert.eq(c.transit:decrypt("app-key", c.transit:encrypt("app-key", "")), "")
assert.eq(c.transit:decrypt("app-key", c.transit:encrypt("app-key", "\0\255\0")), "\0\255\0")
-- another mount, with extra body fields passed on
transit_route("crypto")
c.transit:encrypt("app-key", "x", { mount = "crypto", key_version = 1 })
assert.eq(mock:last().path, "/v1/crypto/encrypt/app-key")
assert.eq(body_of(mock:last()).key_version, 1)
assert.eq(c.transit:decrypt("app-key", c.transit:encrypt("app-key", "abc", { mount = "crypto" }), { mount = "crypto" }), "abc")
mock:on("POST", "/v1/transit/keys/app-key", function(req) transit_keys[#transit_keys + 1] = req.body return { status = 204 } end)
assert.eq(c.transit:create_key("app-key"), nil)
assert.eq(mock:last().body, "{}") -- an object, not []
c.transit:create_key("app-key", { type = "aes256-gcm96", exportable = false })
assert.eq(body_of(mock:last()), { type = "aes256-gcm96", exportable = false })
mock:on("POST", "/v1/transit/keys/app-key/rotate", { json = { data = { name = "app-key", latest_version = 2 } } })
assert.eq(c.transit:rotate_key("app-key").data.latest_version, 2)
assert.eq(mock:last().body, "{}")
mock:on("GET", "/v1/transit/keys", { json = { data = { keys = { "app-key", "db-key" } } } }, { query = { list = "true" } })
local tkeys = c.transit:list_keys()
assert.eq(#tkeys, 2)
assert.eq(tkeys[2], "db-key")
mock:on("POST", "/v1/transit/decrypt/bad-key", { status = 400, json = { errors = { "invalid ciphertext: no prefix" } } })
raises(function() c.transit:decrypt("bad-key", "garbage") end, 'vault: POST /v1/transit/decrypt/bad-key HTTP 400: {"errors":["invalid ciphertext: no prefix"]}')

-- ------------------------------------------------------------------ PKI
mock:on("POST", "/v1/pki/issue/web-certs", { json = { data = {
  certificate = "-----BEGIN CERTIFICATE-----\nMIIC...\n-----END CERTIFICATE-----", private_key = "-----BEGIN RSA PRIVATE KEY-----\n...",
  private_key_type = "rsa", issuing_ca = "-----BEGIN CERTIFICATE-----\nCA", ca_chain = { "CA" }, serial_number = "39:dd" } } })
local cert = c.pki:issue("pki", "web-certs", { common_name = "app.example.com", ttl = "24h" })
assert(cert.certificate:find("BEGIN CERTIFICATE", 1, true))
assert(cert.private_key:find("PRIVATE KEY", 1, true))
assert.eq(cert.private_key_type, "rsa")
assert.eq(body_of(mock:last()), { common_name = "app.example.com", ttl = "24h" })
c.pki:issue("pki", "web-certs")
assert.eq(mock:last().body, "{}")
local PEM = "-----BEGIN CERTIFICATE-----\nMIIDpDCCAoygAwIBAgIUE\n-----END CERTIFICATE-----\n"
mock:on("GET", "/v1/pki/ca/pem", { body = PEM, headers = { ["Content-Type"] = "application/pem-certificate-chain" } })
assert.eq(c.pki:ca_cert(), PEM)
assert.eq(token_of(mock:last()), nil)
mock:on("GET", "/v1/pki_int/ca/pem", { body = "INT" })
assert.eq(c.pki:ca_cert("pki_int"), "INT")
raises(function() c.pki:ca_cert("nopki") end, "vault: pki ca cert HTTP 404")
mock:on("POST", "/v1/pki/roles/web-certs", { status = 204 })
assert.eq(c.pki:create_role("pki", "web-certs", { allowed_domains = { "example.com" }, allow_subdomains = true, max_ttl = "72h" }), nil)
assert.eq(body_of(mock:last()).allow_subdomains, true)

-- ------------------------------------------------------------------ errors
mock:on("GET", "/v1/secret/data/forbidden", { status = 403, json = { errors = { "permission denied" } } })
raises(function() c.kv:get("secret", "forbidden") end, 'vault: GET /v1/secret/data/forbidden HTTP 403: {"errors":["permission denied"]}')
mock:on("POST", "/v1/secret/data/forbidden", { status = 403, json = { errors = { "permission denied" } } })
raises(function() c.kv:put("secret", "forbidden", { a = 1 }) end, "vault: POST /v1/secret/data/forbidden HTTP 403")
mock:on("DELETE", "/v1/sys/policies/acl/root", { status = 400, json = { errors = { "cannot delete root policy" } } })
raises(function() c.policies:delete("root") end, "vault: DELETE /v1/sys/policies/acl/root HTTP 400")
mock:on("GET", "/v1/sys/policies/acl", { status = 403, json = { errors = { "permission denied" } } }, { query = { list = "true" } })
raises(function() c.policies:list() end, "vault: LIST /v1/sys/policies/acl?list=true HTTP 403")
mock:on("GET", "/v1/secret/data/flaky", { status = 503, json = { errors = { "Vault is sealed" } } }, { times = 1 })
mock:on("GET", "/v1/secret/data/flaky", { json = { data = { data = { ok = 1 } } } }, { times = 1 })
assert.eq(vault.client(mock.url, { token = TOKEN, retries = 1 }).kv:get("secret", "flaky").data.ok, 1) -- reads retry a 503

-- ------------------------------------------------------------------ client options: table form, namespace, environment
local nc = vault.client(mock.url, { token = "s.ns", namespace = "team-a" })
nc.kv:get("secret", "mykey")
assert.eq(token_of(mock:last()), "s.ns")
assert.eq(mock:last().headers["x-vault-namespace"], "team-a")
nc.sys:health()
assert.eq(mock:last().headers["x-vault-namespace"], nil) -- sys/health is a root-namespace endpoint
nc.pki:ca_cert()
assert.eq(mock:last().headers["x-vault-namespace"], "team-a")
assert.eq(token_of(mock:last()), nil)
env.set("VAULT_ADDR", mock.url)
env.set("VAULT_TOKEN", "s.from-env")
local ec = vault.client()
ec.kv:get("secret", "mykey")
assert.eq(token_of(mock:last()), "s.from-env")
assert.eq(ec.url, mock.url)
assert.eq(vault.wait(nil, { timeout = 2, interval = 0.1 }), true) -- wait's url defaults to VAULT_ADDR too
env.set("VAULT_ADDR", nil)
env.set("VAULT_TOKEN", nil)
local anon = vault.client(mock.url)
anon.kv:get("secret", "mykey")
assert.eq(token_of(mock:last()), nil)

-- ------------------------------------------------------------------ wait
mock:on("GET", "/v1/sys/health", { json = HEALTH })
assert.eq(vault.wait(mock.url, { timeout = 5, interval = 0.1 }), true)
local hreq = mock:last()
assert.eq(hreq.params.standbyok, "true")
assert.eq(hreq.params.sealedcode, "200")
assert.eq(hreq.params.uninitcode, "200")
assert.eq(token_of(hreq), nil)
mock:on("GET", "/v1/sys/health", { status = 503, json = HEALTH }, { times = 2 })
local before = #mock:requests_to("/v1/sys/health")
assert.eq(vault.wait(mock.url .. "/", { timeout = 5, interval = 0.05 }), true)
assert.eq(#mock:requests_to("/v1/sys/health"), before + 3)
mock:on("GET", "/v1/custom/health", { json = {} })
assert.eq(vault.wait(mock.url, { timeout = 1, interval = 0.1, health_path = "/v1/custom/health" }), true)
mock:on("GET", "/v1/sys/health", { status = 503, json = HEALTH })
local started = os.monotonic()
raises(function() vault.wait(mock.url, { timeout = 1, interval = 0.5 }) end, "vault.wait: not reachable at " .. mock.url .. " after 1s")
assert(os.monotonic() - started < 3, "wait overran its timeout")
raises(function() vault.wait("http://127.0.0.1:1", { timeout = 0.3, interval = 0.1 }) end, "vault.wait: not reachable at http://127.0.0.1:1 after 0.3s")
mock:on("GET", "/v1/sys/health", { json = HEALTH })

-- ------------------------------------------------------------------ ensure_credentials / assert_secret
mock:on("GET", "/v1/secrets/data/myapp/db", { json = { data = { data = { username = "admin", password = "existing" }, metadata = { version = 2 } } } })
local called = false
local creds = vault.ensure_credentials(c, "myapp/db", "password", function() called = true return { password = "new" } end)
assert.eq(creds.password, "existing")
assert.eq(called, false)
assert.eq(#mock:requests_to("/v1/secrets/data/myapp/db", "POST"), 0)
-- new: GET 404, generator called, POST with check-and-set 0 (must not exist yet)
mock:on("POST", "/v1/secrets/data/myapp/new", { status = 204 })
creds = vault.ensure_credentials(c, "myapp/new", "password", function() called = true return { username = "app", password = "generated" } end)
assert.eq(called, true)
assert.eq(creds, { username = "app", password = "generated" })
assert.eq(body_of(mock:last()), { data = { username = "app", password = "generated" }, options = { cas = 0 } })
-- a secret without the key is completed (cas = its version)
mock:on("GET", "/v1/secrets/data/myapp/partial", { json = { data = { data = { username = "x" }, metadata = { version = 5 } } } })
mock:on("POST", "/v1/secrets/data/myapp/partial", { json = { data = { version = 6 } } })
vault.ensure_credentials(c, "myapp/partial", "password", function() return { username = "x", password = "p" } end)
assert.eq(body_of(mock:last()).options.cas, 5)
-- a concurrent writer won the check-and-set: its credentials are returned
mock:on("GET", "/v1/secrets/data/myapp/race", { json = { data = { data = { password = "theirs" }, metadata = { version = 1 } } } })
mock:on("GET", "/v1/secrets/data/myapp/race", { status = 404, json = { errors = {} } }, { times = 1 })
mock:on("POST", "/v1/secrets/data/myapp/race", { status = 400, json = { errors = { "check-and-set parameter did not match the current version" } } })
assert.eq(vault.ensure_credentials(c, "myapp/race", "password", function() return { password = "mine" } end).password, "theirs")
-- another mount: per call, or the client's kv_mount
mock:on("GET", "/v1/kv/data/myapp/db", { json = { data = { data = { password = "in-kv" } } } })
assert.eq(vault.ensure_credentials(c, "myapp/db", "password", function() error("not called") end, { mount = "kv" }).password, "in-kv")
local kc = vault.client(mock.url, { token = TOKEN, kv_mount = "kv" })
assert.eq(vault.assert_secret(kc, "myapp/db", { "password" }).password, "in-kv")
raises(function() vault.ensure_credentials(c, "myapp/bad", "password", function() return "pw" end) end,
  "vault.ensure_credentials: generator must return a table, got string")

local data = vault.assert_secret(c, "myapp/db", { "username", "password" })
assert.eq(data.username, "admin")
raises(function() vault.assert_secret(c, "myapp/missing", { "password" }) end, "vault.assert_secret: secret not found at secrets/myapp/missing")
raises(function() vault.assert_secret(c, "myapp/db", { "username", "api_key" }) end, "vault.assert_secret: key 'api_key' missing at secrets/myapp/db")
mock:on("GET", "/v1/secrets/data/myapp/nodata", { json = { data = { metadata = { version = 1, deletion_time = "2024-01-01T00:00:00Z" } } } })
raises(function() vault.assert_secret(c, "myapp/nodata", { "password" }) end, "vault.assert_secret: no data at secrets/myapp/nodata")

-- ------------------------------------------------------------------ ensure_engine / ensure_auth
mock:on("GET", "/v1/sys/mounts", { json = { data = MOUNTS } })
local posts = #mock:requests_to("/v1/sys/mounts/secret", "POST")
assert.eq(vault.ensure_engine(c, "secret", "kv", { options = { version = "2" } }), false)
assert.eq(#mock:requests_to("/v1/sys/mounts/secret", "POST"), posts)
mock:on("POST", "/v1/sys/mounts/app-kv", { status = 204 })
assert.eq(vault.ensure_engine(c, "app-kv", "kv", { options = { version = "2" } }), true)
assert.eq(body_of(mock:last()), { type = "kv", options = { version = "2" } })
raises(function() vault.ensure_engine(c, "transit", "kv") end, "vault.ensure_engine: transit/ is already a transit secrets engine, not kv")
mock:on("GET", "/v1/sys/auth", { json = { data = AUTHS } })
assert.eq(vault.ensure_auth(c, "kubernetes", "kubernetes"), false)
mock:on("POST", "/v1/sys/auth/approle", { status = 204 })
assert.eq(vault.ensure_auth(c, "approle", "approle"), true)
assert.eq(mock:last().path, "/v1/sys/auth/approle")

-- ------------------------------------------------------------------ authenticated_client (token from a Kubernetes secret)
mock:on("GET", "/api/v1/namespaces/secrets/secrets/openbao-root-token", function(req)
  if req.headers["authorization"] ~= "Bearer k8s-sa-token" then return { status = 401, json = { message = "Unauthorized" } } end
  return { json = { kind = "Secret", apiVersion = "v1", metadata = { name = "openbao-root-token", namespace = "secrets" },
                    data = { ["root-token"] = base64.encode("  s.root-from-k8s\n") } } }
end)
local K8S = { base_url = mock.url, token = "k8s-sa-token" }
local ac = vault.authenticated_client(mock.url, { timeout = 2, interval = 0.1, k8s = K8S })
ac.token:lookup_self()
assert.eq(token_of(mock:last()), "s.root-from-k8s") -- trimmed
raises(function() vault.authenticated_client(mock.url, { timeout = 2, interval = 0.1, k8s = K8S, secret_key = "other" }) end,
  "vault.authenticated_client: key 'other' not found in secret secrets/openbao-root-token")
mock:on("GET", "/api/v1/namespaces/vault/secrets/vault-token", { json = { kind = "Secret", data = { token = base64.encode("s.custom") } } })
ac = vault.authenticated_client(mock.url, { timeout = 2, interval = 0.1, k8s = K8S, secret_namespace = "vault", secret_name = "vault-token", secret_key = "token", namespace = "team-b" })
ac.kv:get("secret", "mykey")
assert.eq(token_of(mock:last()), "s.custom")
assert.eq(mock:last().headers["x-vault-namespace"], "team-b")

-- ------------------------------------------------------------------ bad input names the function
raises(function() vault.client(nil, TOKEN) end, "vault.client: url must be a non-empty string (or set VAULT_ADDR), got nil")
raises(function() vault.client("vault:8200", TOKEN) end, "vault.client: url must start with http:// or https://")
raises(function() vault.client(mock.url, 42) end, "vault.client: token must be a string or an options table, got number")
raises(function() c.kv:get(nil, "k") end, "vault.kv:get: mount must be a non-empty string, got nil")
raises(function() c.kv:get("secret", 5) end, "vault.kv:get: key must be a non-empty string, got number")
raises(function() c.kv:put("secret", "k", "v") end, "vault.kv:put: data must be a table, got string")
raises(function() c.kv:list("secret", 7) end, "vault.kv:list: prefix must be a string, got number")
raises(function() c.kv1:put("kv1", "k", nil) end, "vault.kv1:put: data must be a table, got nil")
raises(function() c:read(nil) end, "vault.read: path must be a non-empty string, got nil")
raises(function() c:write("secret/data/x", "payload") end, "vault.write: payload must be a table, got string")
raises(function() c.policies:create("p", nil) end, "vault.policies:create: rules must be a non-empty string, got nil")
raises(function() c.auth:enable("kubernetes") end, "vault.auth:enable: type must be a non-empty string, got nil")
raises(function() c.transit:encrypt("app-key", nil) end, "vault.transit:encrypt: plaintext must be a string, got nil")
raises(function() c.transit:encrypt(nil, "x") end, "vault.transit:encrypt: key name must be a non-empty string, got nil")
raises(function() c.transit:decrypt("app-key", 12) end, "vault.transit:decrypt: ciphertext must be a non-empty string, got number")
raises(function() c.token:lookup(nil) end, "vault.token:lookup: token must be a non-empty string, got nil")
raises(function() c.pki:issue("pki", nil) end, "vault.pki:issue: role must be a non-empty string, got nil")
raises(function() vault.wait(nil) end, "vault.wait: url must be a non-empty string (or set VAULT_ADDR), got nil")
raises(function() vault.ensure_credentials({}, "p", "k", function() end) end, "vault.ensure_credentials: client must be a vault client")
raises(function() vault.ensure_credentials(c, "p", "k", "gen") end, "vault.ensure_credentials: generator must be a function, got string")
raises(function() vault.assert_secret(c, "p", "password") end, "vault.assert_secret: keys must be a table, got string")
raises(function() vault.ensure_engine(c, "x", nil) end, "vault.ensure_engine: type must be a non-empty string, got nil")
http.stop()
