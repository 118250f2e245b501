-- assay.dex against a mock following the OpenID Connect Discovery 1.0 document, an RFC 7517 JWKS
-- and Dex's /healthz (Dex is not packaged for Debian or npm): the reference's test plan through
-- the client and the module-level shortcuts, discovery errors, validate_config, admin_version,
-- and bad input.
local dex = require("assay.dex")
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local mock_api = dofile(here .. "/fixtures/mock_api.lua")
local raises = mock_api.raises
local mock = mock_api.start()
local U = mock.url

local function discovery_doc(overrides)
  local doc = {
    issuer = U,
    authorization_endpoint = U .. "/auth",
    token_endpoint = U .. "/token",
    jwks_uri = U .. "/keys",
    userinfo_endpoint = U .. "/userinfo",
    revocation_endpoint = U .. "/revoke",
    scopes_supported = { "openid", "profile", "email", "groups", "offline_access" },
    response_types_supported = { "code", "id_token", "token" },
    grant_types_supported = { "authorization_code", "refresh_token", "client_credentials" },
    subject_types_supported = { "public" },
    id_token_signing_alg_values_supported = { "RS256" },
    code_challenge_methods_supported = { "S256", "plain" },
  }
  for k, v in pairs(overrides or {}) do doc[k] = v end
  return doc
end

local JWKS = { keys = { { kty = "RSA", use = "sig", alg = "RS256", kid = "dex-key-1", n = "0vx7agoebGcQSuu", e = "AQAB" } } }
mock:on("GET", "/.well-known/openid-configuration", { json = discovery_doc() })
mock:on("GET", "/keys", { json = JWKS })
mock:on("GET", "/healthz", { body = "Health check passed" })

local c = dex.client(U .. "///")

-- 1, 21: the whole discovery document
local cfg = c.discovery:config()
assert.eq(cfg.issuer, U)
assert.eq(cfg.authorization_endpoint, U .. "/auth")
assert.eq(cfg.token_endpoint, U .. "/token")
assert.eq(cfg.jwks_uri, U .. "/keys")
assert.eq(cfg.userinfo_endpoint, U .. "/userinfo")
assert.eq(mock:last().path, "/.well-known/openid-configuration")
assert.eq(dex.discovery(U).revocation_endpoint, U .. "/revoke")

-- 2, 22: JWKS from the document's absolute jwks_uri
local jwks = c.discovery:jwks()
assert.eq(#jwks.keys, 1)
assert.eq(jwks.keys[1].kid, "dex-key-1")
assert.eq(jwks.keys[1].alg, "RS256")
assert.eq(mock:last().path, "/keys")
assert.eq(dex.jwks(U).keys[1].kty, "RSA")

-- 3, 23: issuer
assert.eq(c.discovery:issuer(), U)
assert.eq(dex.issuer(U .. "/"), U)

-- 4-6, 24: health
assert.eq(c.health:check(), true)
assert.eq(c.health:ready(), true)
assert.eq(dex.health(U), true)
assert.eq(dex.ready(U), true)
mock:on("GET", "/healthz", { status = 503, body = "unhealthy" }, { times = 2 })
assert.eq(c.health:check(), false)
assert.eq(dex.health(U), false)
assert.eq(c.health:check(), true)
-- a transport error is not "unhealthy": it propagates
local dead = dex.client("http://127.0.0.1:1")
raises(function() dead.health:check() end, "dex: GET http://127.0.0.1:1/healthz")

-- 7-8, 29: has_endpoint
for _, f in ipairs({ "authorization_endpoint", "token_endpoint", "userinfo_endpoint" }) do
  assert.eq(c.discovery:has_endpoint(f), true, f)
end
assert.eq(c.discovery:has_endpoint("device_authorization_endpoint"), false)
assert.eq(c.discovery:has_endpoint("nonexistent_endpoint"), false)
assert.eq(dex.has_endpoint(U, "token_endpoint"), true)

-- 9-11, 25: scopes
local scopes = c.scopes:list()
assert.eq(scopes, { "openid", "profile", "email", "groups", "offline_access" })
for _, s in ipairs({ "openid", "email", "offline_access" }) do assert.eq(c.scopes:supports(s), true, s) end
assert.eq(c.scopes:supports("phone"), false)
assert.eq(c.scopes:supports("address"), false)
assert.eq(#dex.supported_scopes(U), 5)
assert.eq(dex.supports_scope(U, "groups"), true)

-- 12-15, 26: response types and grants
local rt = c.grants:response_types()
assert.eq(#rt, 3)
assert.eq(rt[1], "code")
assert.eq(dex.supported_response_types(U)[3], "token")
assert.eq(c.grants:list(), { "authorization_code", "refresh_token", "client_credentials" })
assert.eq(c.grants:supports("authorization_code"), true)
assert.eq(c.grants:supports("refresh_token"), true)
assert.eq(c.grants:supports("implicit"), false)
assert.eq(dex.supported_grant_types(U)[2], "refresh_token")
assert.eq(dex.supports_grant_type(U, "password"), false)

-- 16, 27: a valid configuration
local v = c:validate_config()
assert.eq(v.ok, true)
assert.eq(#v.errors, 0)
assert.eq(dex.validate_config(U).ok, true)

-- 17: only issuer and scopes → three missing endpoints, in order
mock:on("GET", "/.well-known/openid-configuration", { json = { issuer = U, scopes_supported = { "openid" } } }, { times = 1 })
v = c:validate_config()
assert.eq(v.ok, false)
assert.eq(v.errors, { "missing authorization_endpoint", "missing token_endpoint", "missing jwks_uri" })

-- 18: wrong issuer, everything else present
mock:on("GET", "/.well-known/openid-configuration", { json = discovery_doc({ issuer = "https://wrong-issuer.example.com" }) }, { times = 1 })
v = c:validate_config()
assert.eq(v.ok, false)
assert.eq(v.errors, { "issuer mismatch: expected " .. U .. ", got https://wrong-issuer.example.com" })
-- a missing issuer
mock:on("GET", "/.well-known/openid-configuration", { json = discovery_doc({ issuer = json.null }) }, { times = 1 })
assert.eq(c:validate_config().errors, { "missing issuer" })

-- scopes absent from the document → {}
mock:on("GET", "/.well-known/openid-configuration", { json = { issuer = U } }, { times = 3 })
assert.eq(c.scopes:list(), {})
assert.eq(c.grants:list(), {})
assert.eq(c.grants:response_types(), {})

-- discovery failures: an error naming dex.discovery and the status; validate_config reports one error
mock:on("GET", "/.well-known/openid-configuration", { status = 500, body = "internal error" }, { times = 3 })
raises(function() c.discovery:config() end, "dex.discovery: GET /.well-known/openid-configuration HTTP 500: internal error")
v = c:validate_config()
assert.eq(v.ok, false)
assert.eq(#v.errors, 1)
assert.contains(v.errors[1], "discovery failed: dex.discovery")
assert.contains(v.errors[1], "HTTP 500")
raises(function() c.scopes:list() end, "HTTP 500")
mock:on("GET", "/.well-known/openid-configuration", { body = "<html>not json</html>" }, { times = 1 })
raises(function() c.discovery:config() end, "dex.discovery: GET /.well-known/openid-configuration: response is not a JSON object")

-- jwks: no jwks_uri, or the key endpoint failing
mock:on("GET", "/.well-known/openid-configuration", { json = { issuer = U } }, { times = 1 })
raises(function() c.discovery:jwks() end, "dex.jwks: discovery response missing jwks_uri")
mock:on("GET", "/keys", { status = 502, body = "bad gateway" }, { times = 1 })
raises(function() c.discovery:jwks() end, "dex.jwks: GET " .. U .. "/keys HTTP 502: bad gateway")

-- 19-20, 28: admin_version
mock:on("GET", "/api/v1/version", { json = { server = "dex", version = "2.39.0" } }, { times = 2 })
local ver = c:admin_version()
assert.eq(ver.server, "dex")
assert.eq(ver.version, "2.39.0")
assert.eq(dex.admin_version(U).version, "2.39.0")
assert.eq(c:admin_version(), nil) -- 404 now
mock:on("GET", "/api/v1/version", { body = "not json" }, { times = 1 })
assert.eq(c:admin_version(), nil)
assert.eq(dead:admin_version(), nil) -- transport error → nil
assert.eq(dead:validate_config().ok, false)

-- no credentials or content type on these reads
local last = mock:last()
assert.eq(last.headers["authorization"], nil)
assert.eq(last.headers["content-type"], nil)

-- bad input names the function
raises(function() dex.client(nil) end, "dex.client: url must be a non-empty string, got nil")
raises(function() dex.client("dex.example.com") end, "dex: base URL must start with http:// or https://")
raises(function() c.scopes:supports(nil) end, "dex.scopes:supports: scope must be a non-empty string, got nil")
raises(function() c.grants:supports(42) end, "dex.grants:supports: grant must be a non-empty string, got number")
raises(function() c.discovery:has_endpoint("") end, "dex.discovery:has_endpoint: field must be a non-empty string, got an empty string")
raises(function() dex.health(false) end, "dex.client: url must be a non-empty string, got boolean")
http.stop()
