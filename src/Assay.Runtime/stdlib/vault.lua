--- @module assay.vault
--- @description HashiCorp Vault / OpenBao client for secrets management: KV v2 and KV v1 secrets, transit encryption and decryption (binary-safe), ACL policies, auth methods, secrets engines, tokens, PKI certificates, sys health and seal status; wait, ensure_* and assert_* bootstrap helpers for credentials and password rotation.
--- @keywords vault, hashicorp vault, openbao, secrets, secret, secrets management, secrets manager, secrets store, secrets api, secrets backend, shared secrets, store secrets, read secrets, write secrets, kv secrets, static secrets, dynamic secrets, app secrets, secrets engine, secrets engines, rotate secrets, kv, credentials, password, password rotation, transit, encryption, encrypt, decrypt, policies, auth methods, tokens, pki, seal, unseal
--- @env VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE
--- @quickref c = vault.client(url, token | {token, namespace, kv_mount}) ; c.kv:get(mount, key) -> {data, metadata} ; c.kv:put(mount, key, data) ; c.kv1:get/put ; c.transit:encrypt/decrypt(key, bytes)
--- @quickref vault.wait(url, opts) ; vault.ensure_credentials(c, path, check_key, generator) ; vault.assert_secret(c, path, keys)
--- @example local vault = require("assay.vault"); local c = vault.client("http://vault:8200", env.get("VAULT_TOKEN")); c.kv:put("secret", "app/db", {password = crypto.random(32)}); print(c.kv:get("secret", "app/db").data.password)
--
-- Built on assay.rest (auth header, errors, retries, waiting). `assay.openbao` is this same
-- module. See docs/modules/vault.md.
local rest = require("assay.rest")

local M = {}

local type, tostring, pairs, ipairs, error, pcall = type, tostring, pairs, ipairs, error, pcall

local DEFAULT_KV_MOUNT = "secrets" -- the helpers' mount when none is given (the original's fixed one)
local HEALTH_PATH = "/v1/sys/health?standbyok=true&sealedcode=200&uninitcode=200"
local TLS_OPTIONS = { "ca_cert", "ca_cert_file", "client_cert", "client_key", "client_cert_file", "client_key_file", "insecure" }

-- ------------------------------------------------------------------ small helpers

-- A Vault path with every segment percent-encoded but its "/" kept: KV keys and mounts are
-- hierarchical ("team/app/db"), while "?", "#", "%" or spaces inside a name must not change the URL.
local function encode_path(p)
  return (p:gsub("^/+", ""):gsub("[^/]+", rest.segment))
end

local function need_path(fn, what, p)
  rest.need_string(fn, what, p)
  return encode_path(p)
end

-- An optional path part (a list prefix): nil and "" mean none.
local function optional_path(fn, what, p)
  if p == nil or p == "" then return "" end
  if type(p) ~= "string" then error(fn .. ": " .. what .. " must be a string, got " .. type(p), 3) end
  return encode_path(p)
end

local function need_body(fn, what, v)
  if type(v) ~= "table" then error(fn .. ": " .. what .. " must be a table, got " .. type(v), 3) end
  return v
end

-- The connection options rest.client takes, copied from a vault options table.
local function transport_options(opts, extra)
  local o = { module = "vault", timeout = opts.timeout, retries = opts.retries }
  for _, k in ipairs(TLS_OPTIONS) do o[k] = opts[k] end
  for k, v in pairs(extra) do o[k] = v end
  return o
end

local function check_url(fn, url)
  if type(url) ~= "string" or url == "" then
    error(fn .. ": url must be a non-empty string (or set VAULT_ADDR), got " .. (url == "" and "an empty string" or type(url)), 3)
  end
  if not url:find("^https?://") then error(fn .. ": url must start with http:// or https:// (got '" .. url .. "')", 3) end
  return url
end

-- ------------------------------------------------------------------ client

--- Creates a client. `opts` is the token (a string, as in the original) or a table: token,
--- namespace (X-Vault-Namespace), kv_mount (the helpers' default mount, "secrets"), timeout,
--- retries, ca_cert, ca_cert_file, client_cert(_file), client_key(_file), insecure.
--- url defaults to $VAULT_ADDR, the token to $VAULT_TOKEN, the namespace to $VAULT_NAMESPACE.
function M.client(url, opts)
  local fn = "vault.client"
  if type(opts) == "string" then opts = { token = opts }
  elseif opts == nil then opts = {}
  elseif type(opts) ~= "table" then error(fn .. ": token must be a string or an options table, got " .. type(opts), 2) end
  url = rest.normalize_url(check_url(fn, url or env.get("VAULT_ADDR")))
  local token = opts.token
  if token == nil or token == "" then token = env.get("VAULT_TOKEN") end
  if token ~= nil and type(token) ~= "string" then error(fn .. ": token must be a string, got " .. type(token), 2) end
  if token == "" then token = nil end
  local namespace = opts.namespace or env.get("VAULT_NAMESPACE")
  if namespace == "" then namespace = nil end
  local ns_header = namespace and { ["X-Vault-Namespace"] = namespace } or nil

  -- authenticated calls; public ones (pki CA) without the token; sys/health and seal-status
  -- are root-namespace endpoints, asked without token or namespace
  local api = rest.client(transport_options(opts, { base_url = url, headers = ns_header,
                                                    auth = token and { header = "X-Vault-Token", value = token } or nil }))
  local public = rest.client(transport_options(opts, { base_url = url, headers = ns_header }))
  local root = rest.client(transport_options(opts, { base_url = url }))

  -- The transport rules: GET 404 → nil, writes 200 → body and 204 → nil, DELETE → nil,
  -- LIST 404 → {}; anything else raises "vault: <VERB> <path> HTTP <status>: <body>".
  local function get(path, query) return (api:get(path, { query = query, not_found = "nil", empty = "nil" })) end
  local function send(method, path, body)
    if body == nil then body = {} end
    return (api:request(method, path, { body = body, empty = "nil" }))
  end
  local function delete(path) api:delete(path, { empty = "nil" }) end
  local function list(path)
    local body = api:get(path, { query = { list = "true" }, verb = "LIST", not_found = "empty", empty = "nil" })
    local keys = type(body) == "table" and type(body.data) == "table" and body.data.keys
    return type(keys) == "table" and keys or {}
  end
  local function data_of(body) return type(body) == "table" and body.data or nil end

  local c = { kv = {}, kv1 = {}, sys = {}, policies = {}, auth = {}, engines = {}, token = {}, transit = {}, pki = {} }
  c.url, c.namespace = url, namespace
  c.kv_mount = opts.kv_mount or DEFAULT_KV_MOUNT

  -- raw API: paths below /v1/ ("secret/data/app"); a "?query" part is passed on as written
  local function raw(fn, p)
    rest.need_string(fn, "path", p)
    local path, query = p:match("^([^?]*)%?(.*)$")
    if path == nil then path = p end
    local encoded = "/v1/" .. encode_path(path)
    return query and query ~= "" and (encoded .. "?" .. query) or encoded
  end
  function c:read(path) return data_of(get(raw("vault.read", path))) end
  function c:write(path, payload)
    local fn = "vault.write"
    if payload ~= nil then need_body(fn, "payload", payload) end
    return send("POST", raw(fn, path), payload)
  end
  function c:delete(path) return delete(raw("vault.delete", path)) end
  function c:list(path) return list(raw("vault.list", path)) end

  -- KV version 2: /v1/<mount>/data/<key> holds {data, metadata}; /metadata/<key> the versions
  local function kv2(fn, mount, kind, key)
    return "/v1/" .. need_path(fn, "mount", mount) .. "/" .. kind .. "/" .. need_path(fn, "key", key)
  end

  --- {data = the secret's fields, metadata = {version, created_time, ...}}, nil when absent.
  --- opts.version reads an older version.
  function c.kv:get(mount, key, opts)
    local fn = "vault.kv:get"
    local o = rest.need_table(fn, "opts", opts) or {}
    return data_of(get(kv2(fn, mount, "data", key), o.version and { version = o.version } or nil))
  end
  --- Writes a new version ({data = data}); opts.cas = the version the key must be at (0: must not exist).
  function c.kv:put(mount, key, data, opts)
    local fn = "vault.kv:put"
    local path = kv2(fn, mount, "data", key)
    local o = rest.need_table(fn, "opts", opts) or {}
    local body = { data = rest.object(need_body(fn, "data", data)) }
    if o.cas ~= nil then body.options = { cas = o.cas } end
    return send("POST", path, body)
  end
  function c.kv:delete(mount, key) return delete(kv2("vault.kv:delete", mount, "data", key)) end
  function c.kv:list(mount, prefix)
    local fn = "vault.kv:list"
    return list("/v1/" .. need_path(fn, "mount", mount) .. "/metadata/" .. optional_path(fn, "prefix", prefix))
  end
  --- The whole metadata response (result.data.current_version, versions, ...), nil when absent.
  function c.kv:metadata(mount, key) return get(kv2("vault.kv:metadata", mount, "metadata", key)) end

  -- KV version 1: /v1/<mount>/<key> holds the fields themselves, no versions
  local function kv1(fn, mount, key) return "/v1/" .. need_path(fn, "mount", mount) .. "/" .. need_path(fn, "key", key) end
  function c.kv1:get(mount, key) return data_of(get(kv1("vault.kv1:get", mount, key))) end
  function c.kv1:put(mount, key, data)
    local fn = "vault.kv1:put"
    local path = kv1(fn, mount, key)
    return send("POST", path, rest.object(need_body(fn, "data", data)))
  end
  function c.kv1:delete(mount, key) return delete(kv1("vault.kv1:delete", mount, key)) end
  function c.kv1:list(mount, prefix)
    local fn = "vault.kv1:list"
    return list("/v1/" .. need_path(fn, "mount", mount) .. "/" .. optional_path(fn, "prefix", prefix))
  end

  -- sys: health answers 200/429/472/473/501/503 with the same JSON body, so every status is an answer
  --- The health body ({initialized, sealed, standby, version, ...}) and the HTTP status.
  function c.sys:health()
    local body, resp = root:get("/v1/sys/health", { ok = rest.ANY_STATUS, raw = true })
    local ok, parsed = pcall(json.parse, body)
    if not ok or type(parsed) ~= "table" then error(rest.http_error("vault", "GET", "/v1/sys/health", resp.status, body), 0) end
    return parsed, resp.status
  end
  function c.sys:seal_status()
    local body, resp = root:get("/v1/sys/seal-status", { ok = rest.ANY_STATUS, raw = true })
    local ok, parsed = pcall(json.parse, body)
    if resp.status ~= 200 or not ok or type(parsed) ~= "table" then
      error(rest.http_error("vault", "GET", "/v1/sys/seal-status", resp.status, body):gsub("GET /v1/sys/seal%-status", "seal-status", 1), 0)
    end
    return parsed
  end
  function c.sys:is_sealed() return c.sys:seal_status().sealed end
  function c.sys:is_initialized() return c.sys:seal_status().initialized end

  -- ACL policies
  local function policy(fn, name) return "/v1/sys/policies/acl/" .. need_path(fn, "name", name) end
  function c.policies:get(name) return data_of(get(policy("vault.policies:get", name))) end
  function c.policies:create(name, rules)
    local fn = "vault.policies:create"
    local path = policy(fn, name)
    rest.need_string(fn, "rules", rules)
    return send("PUT", path, { policy = rules })
  end
  function c.policies:delete(name) return delete(policy("vault.policies:delete", name)) end
  function c.policies:list() return list("/v1/sys/policies/acl") end

  -- mounts (auth methods and secrets engines share the {type, description, config, options} body)
  local function mount_body(fn, kind, opts, with_options)
    local o = rest.need_table(fn, "opts", opts) or {}
    local body = { type = rest.need_string(fn, "type", kind), description = o.description, config = o.config }
    if with_options then body.options = o.options end
    return body
  end

  -- Auth methods (/v1/sys/auth) and secret engines (/v1/sys/mounts) are both mounts, enabled,
  -- disabled and listed the same way.
  local function enable_mount(fn, sys_path, path, kind, opts, with_options)
    return send("POST", sys_path .. "/" .. need_path(fn, "path", path), mount_body(fn, kind, opts, with_options))
  end
  local function disable_mount(fn, sys_path, path) return delete(sys_path .. "/" .. need_path(fn, "path", path)) end
  -- the listing is under .data, or at the top level (older Vault versions)
  local function list_mounts(sys_path)
    local body = get(sys_path)
    return type(body) == "table" and body.data or body
  end

  function c.auth:enable(path, kind, opts) return enable_mount("vault.auth:enable", "/v1/sys/auth", path, kind, opts, false) end
  function c.auth:disable(path) return disable_mount("vault.auth:disable", "/v1/sys/auth", path) end
  --- {["<path>/"] = {type, description, config, ...}}
  function c.auth:methods() return list_mounts("/v1/sys/auth") end
  function c.auth:config(path, config)
    local fn = "vault.auth:config"
    return send("POST", "/v1/auth/" .. need_path(fn, "path", path) .. "/config", need_body(fn, "config", config))
  end
  local function role(fn, path, name) return "/v1/auth/" .. need_path(fn, "path", path) .. "/role/" .. need_path(fn, "role", name) end
  function c.auth:create_role(path, name, config)
    local fn = "vault.auth:create_role"
    local p = role(fn, path, name)
    return send("POST", p, need_body(fn, "config", config))
  end
  function c.auth:get_role(path, name) return data_of(get(role("vault.auth:get_role", path, name))) end
  function c.auth:list_roles(path) return list("/v1/auth/" .. need_path("vault.auth:list_roles", "path", path) .. "/role") end

  function c.engines:enable(path, kind, opts) return enable_mount("vault.engines:enable", "/v1/sys/mounts", path, kind, opts, true) end
  function c.engines:disable(path) return disable_mount("vault.engines:disable", "/v1/sys/mounts", path) end
  --- {["<path>/"] = {type, options, ...}}
  function c.engines:list() return list_mounts("/v1/sys/mounts") end
  function c.engines:tune(path, config)
    local fn = "vault.engines:tune"
    return send("POST", "/v1/sys/mounts/" .. need_path(fn, "path", path) .. "/tune", need_body(fn, "config", config))
  end

  -- tokens
  --- The new token's auth block {client_token, accessor, policies, lease_duration, renewable}.
  function c.token:create(opts)
    local body = send("POST", "/v1/auth/token/create", rest.need_table("vault.token:create", "opts", opts))
    return type(body) == "table" and body.auth or nil
  end
  function c.token:lookup(token_value)
    local body = send("POST", "/v1/auth/token/lookup", { token = rest.need_string("vault.token:lookup", "token", token_value) })
    return data_of(body)
  end
  function c.token:lookup_self() return data_of(get("/v1/auth/token/lookup-self")) end
  function c.token:revoke(token_value)
    return send("POST", "/v1/auth/token/revoke", { token = rest.need_string("vault.token:revoke", "token", token_value) })
  end
  function c.token:revoke_self() return send("POST", "/v1/auth/token/revoke-self", {}) end

  -- transit: plaintext travels base64-encoded, so any bytes round-trip; opts.mount ("transit")
  -- picks another mount and the other opts fields (context, key_version, ...) join the body
  local function transit(fn, action, key, opts)
    local o = rest.need_table(fn, "opts", opts) or {}
    local mount = o.mount == nil and "transit" or need_path(fn, "opts.mount", o.mount)
    local body = {}
    for k, v in pairs(o) do if k ~= "mount" then body[k] = v end end
    return "/v1/" .. mount .. "/" .. action .. "/" .. need_path(fn, "key name", key), body
  end
  --- The ciphertext ("vault:v1:...") of `plaintext` (a string of any bytes).
  function c.transit:encrypt(key, plaintext, opts)
    local fn = "vault.transit:encrypt"
    local path, body = transit(fn, "encrypt", key, opts)
    if type(plaintext) ~= "string" then error(fn .. ": plaintext must be a string, got " .. type(plaintext), 2) end
    body.plaintext = base64.encode(plaintext)
    local data = data_of(send("POST", path, body))
    return type(data) == "table" and data.ciphertext or nil
  end
  --- The plaintext bytes of a ciphertext made by encrypt.
  function c.transit:decrypt(key, ciphertext, opts)
    local fn = "vault.transit:decrypt"
    local path, body = transit(fn, "decrypt", key, opts)
    body.ciphertext = rest.need_string(fn, "ciphertext", ciphertext)
    local data = data_of(send("POST", path, body))
    local plaintext = type(data) == "table" and data.plaintext
    if type(plaintext) ~= "string" then return nil end
    local ok, bytes = pcall(base64.decode, plaintext)
    if not ok then error(fn .. ": the server's plaintext is not base64: " .. tostring(bytes), 2) end
    return bytes
  end
  --- Creates a key; opts is the body ({type = "aes256-gcm96", exportable, ...}) plus opts.mount.
  function c.transit:create_key(key, opts)
    local path, body = transit("vault.transit:create_key", "keys", key, opts)
    return send("POST", path, body)
  end
  --- Adds a new version of the key (new encryptions use it; older ciphertexts still decrypt).
  function c.transit:rotate_key(key, opts)
    local path = transit("vault.transit:rotate_key", "keys", key, opts)
    return send("POST", path .. "/rotate", {})
  end
  function c.transit:list_keys(opts)
    local o = rest.need_table("vault.transit:list_keys", "opts", opts) or {}
    local mount = o.mount == nil and "transit" or need_path("vault.transit:list_keys", "opts.mount", o.mount)
    return list("/v1/" .. mount .. "/keys")
  end

  -- PKI
  --- {certificate, private_key, private_key_type, issuing_ca, ca_chain, serial_number}
  function c.pki:issue(mount, role_name, opts)
    local fn = "vault.pki:issue"
    local path = "/v1/" .. need_path(fn, "mount", mount) .. "/issue/" .. need_path(fn, "role", role_name)
    return data_of(send("POST", path, rest.need_table(fn, "opts", opts)))
  end
  --- The CA certificate as PEM text (an unauthenticated endpoint).
  function c.pki:ca_cert(mount)
    local fn = "vault.pki:ca_cert"
    local path = "/v1/" .. (mount == nil and "pki" or need_path(fn, "mount", mount)) .. "/ca/pem"
    local body, resp = public:get(path, { ok = rest.ANY_STATUS, raw = true })
    if resp.status ~= 200 then
      error((rest.http_error("vault", "GET", path, resp.status, body):gsub("^vault: GET [^ ]+", "vault: pki ca cert", 1)), 0)
    end
    return body
  end
  function c.pki:create_role(mount, role_name, opts)
    local fn = "vault.pki:create_role"
    local path = "/v1/" .. need_path(fn, "mount", mount) .. "/roles/" .. need_path(fn, "role", role_name)
    return send("POST", path, rest.need_table(fn, "opts", opts))
  end

  return c
end

-- ------------------------------------------------------------------ helpers

--- Polls <url>/v1/sys/health (standby, sealed and uninitialised count as up) until it answers
--- 200; raises after opts.timeout (60) seconds. url defaults to $VAULT_ADDR. opts: interval (2),
--- health_path, TLS options.
function M.wait(url, opts)
  local fn = "vault.wait"
  opts = rest.need_table(fn, "opts", opts) or {}
  url = check_url(fn, url or env.get("VAULT_ADDR"))
  local timeout = opts.timeout or 60
  local api = rest.client(transport_options(opts, { base_url = url, retries = 0, timeout = math.max(math.min(timeout, 10), 1) }))
  return rest.wait_healthy(api, { fn = fn, name = "Vault", url = url, path = opts.health_path or HEALTH_PATH,
                                  timeout = timeout, interval = opts.interval, log_waits = true })
end

local function need_client(fn, client)
  if type(client) ~= "table" or type(client.kv) ~= "table" or type(client.kv.get) ~= "function" then
    error(fn .. ": client must be a vault client (vault.client(...)), got " .. type(client), 3)
  end
end

local function mount_for(fn, client, opts)
  local o = rest.need_table(fn, "opts", opts) or {}
  local mount = o.mount or client.kv_mount or DEFAULT_KV_MOUNT
  return rest.need_string(fn, "opts.mount", mount)
end

--- Waits for the server, reads the root token from a Kubernetes secret (opts.secret_namespace
--- "secrets", opts.secret_name "openbao-root-token", opts.secret_key "root-token"; opts.k8s: the
--- assay.k8s connection options) and returns a client with it (other opts: as vault.client).
function M.authenticated_client(url, opts)
  local fn = "vault.authenticated_client"
  opts = rest.need_table(fn, "opts", opts) or {}
  M.wait(url, { timeout = opts.timeout or 60, interval = opts.interval or 2, ca_cert = opts.ca_cert,
                ca_cert_file = opts.ca_cert_file, insecure = opts.insecure })
  local ns = opts.secret_namespace or opts.secret_ns or "secrets"
  local name = opts.secret_name or "openbao-root-token"
  local key = opts.secret_key or "root-token"
  local secret = require("assay.k8s").secrets:get(ns, name, opts.k8s)
  local token = secret[key]
  if type(token) ~= "string" then error(fn .. ": key '" .. key .. "' not found in secret " .. ns .. "/" .. name, 2) end
  token = token:match("^%s*(.-)%s*$")
  local client_opts = {}
  for k, v in pairs(opts) do client_opts[k] = v end
  client_opts.token = token
  return M.client(url, client_opts)
end

local function has(t, key) return type(t) == "table" and t[key] ~= nil and t[key] ~= json.null end

--- The KV v2 secret at <mount>/<path> when it has `check_key`; else generator()'s table, stored
--- there first. The write is check-and-set, so of two concurrent bootstraps one wins and the
--- other returns the winner's credentials. opts.mount: the KV mount (client's kv_mount, "secrets").
function M.ensure_credentials(client, path, check_key, generator, opts)
  local fn = "vault.ensure_credentials"
  need_client(fn, client)
  rest.need_string(fn, "path", path)
  rest.need_string(fn, "check_key", check_key)
  if type(generator) ~= "function" then error(fn .. ": generator must be a function, got " .. type(generator), 2) end
  local mount = mount_for(fn, client, opts)
  local where = mount .. "/" .. path
  local existing = client.kv:get(mount, path)
  if existing and has(existing.data, check_key) then
    log.info("Credentials already exist at " .. where)
    return existing.data
  end
  local creds = generator()
  if type(creds) ~= "table" then error(fn .. ": generator must return a table, got " .. type(creds), 2) end
  local version = existing and type(existing.metadata) == "table" and existing.metadata.version or 0
  local ok, err = pcall(client.kv.put, client.kv, mount, path, creds, { cas = version })
  if not ok then
    -- lost a race: another writer stored credentials since we read; use theirs
    local again = tostring(err):find("check-and-set", 1, true) and client.kv:get(mount, path)
    if again and has(again.data, check_key) then
      log.info("Credentials were stored concurrently at " .. where)
      return again.data
    end
    error(err, 0)
  end
  log.info("Generated and stored credentials at " .. where)
  return creds
end

--- The fields of the KV v2 secret at <mount>/<path>; raises unless it exists with every key
--- of `keys`. opts.mount: the KV mount (client's kv_mount, "secrets").
function M.assert_secret(client, path, keys, opts)
  local fn = "vault.assert_secret"
  need_client(fn, client)
  rest.need_string(fn, "path", path)
  need_body(fn, "keys", keys)
  local mount = mount_for(fn, client, opts)
  local where = mount .. "/" .. path
  local secret = client.kv:get(mount, path)
  assert.not_nil(secret, fn .. ": secret not found at " .. where)
  assert.not_nil(type(secret.data) == "table" and secret.data or nil, fn .. ": no data at " .. where)
  for _, key in ipairs(keys) do
    assert.not_nil(has(secret.data, key) or nil, fn .. ": key '" .. tostring(key) .. "' missing at " .. where)
  end
  log.info("Secret verified at " .. where .. " (" .. #keys .. " keys)")
  return secret.data
end

-- ensure_engine / ensure_auth: enable a mount unless one of that type is already there.
local function ensure_mount(fn, accessor, list_fn, what, client, path, kind, opts)
  need_client(fn, client)
  rest.need_string(fn, "path", path)
  rest.need_string(fn, "type", kind)
  local key = path:gsub("^/+", ""):gsub("/*$", "/")
  local current = client[accessor][list_fn](client[accessor])
  local found = type(current) == "table" and current[key]
  if type(found) == "table" then
    if found.type ~= kind then
      error(fn .. ": " .. key .. " is already a " .. tostring(found.type) .. " " .. what .. ", not " .. kind, 2)
    end
    log.info("Vault " .. what .. " " .. key .. " (" .. kind .. ") already enabled")
    return false
  end
  client[accessor]:enable(path, kind, opts)
  log.info("Enabled Vault " .. what .. " " .. key .. " (" .. kind .. ")")
  return true
end

--- Enables a secrets engine at `path` (opts: description, config, options — e.g.
--- {options = {version = "2"}}) unless it is enabled; true when it enabled it now.
function M.ensure_engine(client, path, kind, opts)
  return ensure_mount("vault.ensure_engine", "engines", "list", "secrets engine", client, path, kind, opts)
end

--- Enables an auth method at `path` unless it is enabled; true when it enabled it now.
function M.ensure_auth(client, path, kind, opts)
  return ensure_mount("vault.ensure_auth", "auth", "methods", "auth method", client, path, kind, opts)
end

return M
