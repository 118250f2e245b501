--- @module assay.dex
--- @description Dex OpenID Connect provider (federated single sign-on): OIDC discovery document, JWKS signing keys, health, supported scopes, grant types and response types, and a check that the discovery document is complete.
--- @keywords dex, oidc, openid connect, sso, single sign-on, identity provider, idp, federated login, discovery, well-known, openid-configuration, jwks, signing keys, issuer, scopes, grant types, authentication, login
--- @quickref c = dex.client(url) -> client (url = the issuer URL; no auth, no I/O)
--- @quickref c.discovery:config() ; c.discovery:jwks() ; c.discovery:issuer() ; c.discovery:has_endpoint(field) ; c.health:check() ; c.health:ready()
--- @quickref c.scopes:list() ; c.scopes:supports(scope) ; c.grants:list() ; c.grants:supports(grant) ; c.grants:response_types() ; c:validate_config() -> {ok, errors} ; c:admin_version() -> table|nil
--- @quickref dex.discovery(url) ; dex.jwks(url) ; dex.health(url) ; dex.validate_config(url) ; dex.supported_scopes(url) … (module-level shortcuts)
--- @example local c = require("assay.dex").client("https://dex.example.com"); local v = c:validate_config(); assert(v.ok, table.concat(v.errors, ", "))
--
-- Built on assay.rest. Every call reads the discovery document afresh (Dex may rotate keys and
-- the document is small), so a script always sees the provider's current answer.
-- See docs/modules/dex.md.
local rest = require("assay.rest")

local M = {}

local type, ipairs, pcall, tostring = type, ipairs, pcall, tostring

local DISCOVERY = "/.well-known/openid-configuration"

local function contains(list, value)
  for _, v in ipairs(list) do if v == value then return true end end
  return false
end

function M.client(url)
  rest.need_string("dex.client", "url", url)
  local api = rest.client({ module = "dex", base_url = url })
  local base = api.base_url

  -- GET path (absolute URLs allowed); any status other than 200 raises "<what>: … HTTP <status>".
  local function fetch(what, path)
    local _, resp = api:get(path, { ok = rest.ANY_STATUS, raw = true })
    if resp.status ~= 200 then error(rest.http_error(what, "GET", path, resp.status, resp.body), 0) end
    local ok, doc = pcall(json.parse, resp.body)
    if not ok or type(doc) ~= "table" then error(what .. ": GET " .. path .. ": response is not a JSON object", 0) end
    return doc
  end
  local function discovery() return fetch("dex.discovery", DISCOVERY) end
  local function field_list(name)
    local v = discovery()[name]
    return type(v) == "table" and v or {}
  end

  local c = { discovery = {}, health = {}, scopes = {}, grants = {} }

  function c.discovery:config() return discovery() end
  function c.discovery:jwks()
    local uri = discovery().jwks_uri
    if type(uri) ~= "string" or uri == "" then error("dex.jwks: discovery response missing jwks_uri", 0) end
    return fetch("dex.jwks", uri)
  end
  function c.discovery:issuer() return discovery().issuer end
  function c.discovery:has_endpoint(field)
    rest.need_string("dex.discovery:has_endpoint", "field", field)
    local v = discovery()[field]
    return v ~= nil and v ~= json.null
  end

  -- 200 = healthy; other statuses are false, transport errors raise (as in the original).
  local function healthy()
    local _, resp = api:get("/healthz", { ok = rest.ANY_STATUS, raw = true, retries = 0 })
    return resp.status == 200
  end
  function c.health:check() return healthy() end
  function c.health:ready() return healthy() end

  function c.scopes:list() return field_list("scopes_supported") end
  function c.scopes:supports(scope)
    rest.need_string("dex.scopes:supports", "scope", scope)
    return contains(field_list("scopes_supported"), scope)
  end
  function c.grants:list() return field_list("grant_types_supported") end
  function c.grants:supports(grant)
    rest.need_string("dex.grants:supports", "grant", grant)
    return contains(field_list("grant_types_supported"), grant)
  end
  function c.grants:response_types() return field_list("response_types_supported") end

  --- {ok, errors}: the issuer equals the client's URL and the authorization, token and JWKS
  --- endpoints are present. Never raises; a failed discovery is one error.
  function c:validate_config()
    local ok, config = pcall(discovery)
    if not ok then return { ok = false, errors = { "discovery failed: " .. tostring(config) } } end
    local errors = {}
    local issuer = config.issuer
    if issuer == nil or issuer == json.null then
      errors[#errors + 1] = "missing issuer"
    elseif issuer ~= base then
      errors[#errors + 1] = "issuer mismatch: expected " .. base .. ", got " .. tostring(issuer)
    end
    for _, field in ipairs({ "authorization_endpoint", "token_endpoint", "jwks_uri" }) do
      if config[field] == nil or config[field] == json.null then errors[#errors + 1] = "missing " .. field end
    end
    return { ok = #errors == 0, errors = errors }
  end

  --- GET /api/v1/version: the parsed answer, or nil on any failure (Dex's admin API is gRPC, so a
  --- stock Dex answers 404 here).
  function c:admin_version()
    local ok, v = pcall(fetch, "dex.admin_version", "/api/v1/version")
    if ok then return v end
    return nil
  end

  return c
end

-- Module-level shortcuts (the original's documented "legacy" style): each builds a client for
-- `url` and calls one method.
local function shortcut(group, method)
  return function(url, ...)
    local c = M.client(url)
    if group then return c[group][method](c[group], ...) end
    return c[method](c, ...)
  end
end
M.discovery = shortcut("discovery", "config")
M.jwks = shortcut("discovery", "jwks")
M.issuer = shortcut("discovery", "issuer")
M.has_endpoint = shortcut("discovery", "has_endpoint")
M.health = shortcut("health", "check")
M.ready = shortcut("health", "ready")
M.supported_scopes = shortcut("scopes", "list")
M.supports_scope = shortcut("scopes", "supports")
M.supported_grant_types = shortcut("grants", "list")
M.supports_grant_type = shortcut("grants", "supports")
M.supported_response_types = shortcut("grants", "response_types")
M.validate_config = shortcut(nil, "validate_config")
M.admin_version = shortcut(nil, "admin_version")

return M
