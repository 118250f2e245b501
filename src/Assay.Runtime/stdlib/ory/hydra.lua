--- @module assay.ory.hydra
--- @description Ory Hydra OAuth2 and OpenID Connect server: OAuth2 client CRUD (admin API), authorize URL builder, code exchange, refresh, introspection and revocation, login/consent/logout challenge handling for a custom login UI, OIDC discovery and JWKS.
--- @keywords hydra, ory, oauth2, oauth, openid connect, oidc, authorization server, oauth2 clients, client credentials, code grant, token exchange, refresh token, introspect, revoke, login challenge, consent challenge, logout, jwks
--- @quickref c = hydra.client({public_url, admin_url, admin_token?, token_endpoint_auth_method?}) -> client
--- @quickref c.clients:list(opts) ; c.clients:get(id) ; c.clients:create(spec) ; c.clients:update(id, spec) ; c.clients:delete(id)
--- @quickref c.oauth2:authorize_url(client_id, opts) ; c.oauth2:exchange_code(opts) ; c.oauth2:refresh_token(id, secret, token) ; c.oauth2:introspect(token) ; c.oauth2:revoke_token(id, secret, token)
--- @quickref c.login:get/accept(challenge, subject, opts)/reject ; c.consent:get/accept(challenge, opts)/reject ; c.logout:get/accept/reject ; c.discovery:openid_config() ; c.discovery:jwks()
--- @example local hydra = require("assay.ory.hydra"); local c = hydra.client({public_url = "https://auth.example.com", admin_url = "http://hydra-admin:4445"}); local r = c.login:accept(challenge, "user:alice", {remember = true}); -- redirect to r.redirect_to
--
-- Built on assay.rest. Hydra's admin API has no authentication of its own (it is meant to be
-- reachable only inside the network); admin_token adds a Bearer token for gateways that want one.
-- See docs/modules/ory.md.
local rest = require("assay.rest")

local M = {}

local type, tostring, pairs, ipairs, error = type, tostring, pairs, ipairs, error
local sort = table.sort

-- A copy of `t` (a JSON object) with empty list fields encoded as [] rather than {}.
local function with_arrays(t, fields)
  local o = rest.object(t)
  for _, f in ipairs(fields) do
    if type(o[f]) == "table" and next(o[f]) == nil then o[f] = json.array() end
  end
  return o
end

local function need_spec(fn, spec)
  if type(spec) ~= "table" then error(fn .. ": spec must be a table, got " .. type(spec), 3) end
  return spec
end

function M.client(opts)
  local fn = "hydra.client"
  opts = rest.need_table(fn, "opts", opts) or {}
  local auth_method = opts.token_endpoint_auth_method or "client_secret_post"
  if auth_method ~= "client_secret_post" and auth_method ~= "client_secret_basic" then
    error(fn .. ": token_endpoint_auth_method must be \"client_secret_post\" or \"client_secret_basic\"", 2)
  end

  -- One rest client per API; a call needing an API that was not configured raises before any I/O.
  local function side(name, url, auth)
    if url == nil then return function() error("hydra: " .. name .. " not configured", 0) end end
    rest.need_string(fn, name, url)
    local api = rest.client_from_opts("hydra", url, opts, { auth = auth, empty = "nil" })
    return function() return api end
  end
  local admin = side("admin_url", opts.admin_url, opts.admin_token and { bearer = opts.admin_token } or nil)
  local public = side("public_url", opts.public_url)

  local c = { clients = {}, oauth2 = {}, login = {}, consent = {}, logout = {}, discovery = {} }

  -- ------------------------------------------------------------ OAuth2 clients (admin)

  local function client_path(f, id) return "/admin/clients/" .. rest.segment(rest.need_string(f, "client_id", id)) end

  --- opts: page_size, page_token, client_name, owner; all = true follows every page (Link rel="next").
  function c.clients:list(o)
    o = rest.need_table("hydra.clients:list", "opts", o) or {}
    local q = { page_size = o.page_size, page_token = o.page_token, client_name = o.client_name, owner = o.owner }
    if o.all then return admin():paginate("/admin/clients", { query = q }) end
    return (admin():get("/admin/clients", { query = q }))
  end
  function c.clients:get(id) return (admin():get(client_path("hydra.clients:get", id), { not_found = "nil" })) end
  function c.clients:create(spec)
    return (admin():post("/admin/clients", rest.object(need_spec("hydra.clients:create", spec))))
  end
  function c.clients:update(id, spec)
    local f = "hydra.clients:update"
    local path = client_path(f, id)
    local body = rest.object(need_spec(f, spec)) -- a copy: the caller's table is left alone
    body.client_id = id
    return (admin():put(path, body))
  end
  function c.clients:delete(id)
    admin():delete(client_path("hydra.clients:delete", id))
    return nil
  end

  -- ------------------------------------------------------------ OAuth2 flows

  --- The authorization URL a browser is sent to. opts: response_type ("code"), scope
  --- ("openid profile email"), redirect_uri, state, nonce, extra = {k = v} (code_challenge, prompt, …).
  function c.oauth2:authorize_url(client_id, o)
    local f = "hydra.oauth2:authorize_url"
    rest.need_string(f, "client_id", client_id)
    o = rest.need_table(f, "opts", o) or {}
    local q = {
      { "client_id", client_id }, { "response_type", o.response_type or "code" },
      { "scope", o.scope or "openid profile email" }, { "redirect_uri", o.redirect_uri },
      { "state", o.state }, { "nonce", o.nonce },
    }
    local extra = rest.need_table(f, "opts.extra", o.extra) or {}
    local keys = {}
    for k in pairs(extra) do keys[#keys + 1] = tostring(k) end
    sort(keys)
    for _, k in ipairs(keys) do q[#q + 1] = { k, extra[k] } end
    return public().base_url .. "/oauth2/auth?" .. rest.query(q)
  end

  -- A form POST to the token, revocation or introspection endpoint. The client authenticates
  -- with client_secret_post (id and secret in the form, the original's way) or client_secret_basic
  -- (Hydra's default for new clients); absent fields are left out (the original sent "nil").
  local function token_request(api, path, verb, form, id, secret, method)
    local headers = {}
    if secret ~= nil and (method or auth_method) == "client_secret_basic" then
      headers.Authorization = "Basic " .. base64.encode(rest.segment(id) .. ":" .. rest.segment(secret))
    else
      form[#form + 1] = { "client_id", id }
      form[#form + 1] = { "client_secret", secret }
    end
    return (api:post(path, nil, { form = form, headers = headers, verb = verb, empty = "nil" }))
  end

  --- opts: code, redirect_uri, client_id, client_secret, code_verifier (PKCE), auth_method.
  function c.oauth2:exchange_code(o)
    local f = "hydra.oauth2:exchange_code"
    if type(o) ~= "table" then error(f .. ": opts must be a table, got " .. type(o), 2) end
    rest.need_string(f, "opts.code", o.code)
    rest.need_string(f, "opts.client_id", o.client_id)
    local form = { { "grant_type", "authorization_code" }, { "code", o.code }, { "redirect_uri", o.redirect_uri },
                   { "code_verifier", o.code_verifier } }
    return token_request(public(), "/oauth2/token", "token exchange", form, o.client_id, o.client_secret, o.auth_method)
  end

  function c.oauth2:refresh_token(client_id, client_secret, refresh_token, o)
    local f = "hydra.oauth2:refresh_token"
    rest.need_string(f, "client_id", client_id)
    rest.need_string(f, "refresh_token", refresh_token)
    o = rest.need_table(f, "opts", o) or {}
    local form = { { "grant_type", "refresh_token" }, { "refresh_token", refresh_token }, { "scope", o.scope } }
    return token_request(public(), "/oauth2/token", "refresh token", form, client_id, client_secret, o.auth_method)
  end

  --- Admin introspection: {active, sub, scope, client_id, exp, …}. opts.scope asks Hydra to check scopes.
  function c.oauth2:introspect(token, o)
    local f = "hydra.oauth2:introspect"
    rest.need_string(f, "token", token)
    o = rest.need_table(f, "opts", o) or {}
    return (admin():post("/admin/oauth2/introspect", nil, { form = { { "token", token }, { "scope", o.scope } }, verb = "introspect" }))
  end

  function c.oauth2:revoke_token(client_id, client_secret, token, o)
    local f = "hydra.oauth2:revoke_token"
    rest.need_string(f, "client_id", client_id)
    rest.need_string(f, "token", token)
    o = rest.need_table(f, "opts", o) or {}
    token_request(public(), "/oauth2/revoke", "revoke", { { "token", token } }, client_id, client_secret, o.auth_method)
    return nil
  end

  -- ------------------------------------------------------------ login / consent / logout challenges

  local REQUESTS = "/admin/oauth2/auth/requests/"

  -- get/accept/reject for one challenge kind; `accept_body(challenge, ...)` builds the accept body.
  local function challenge_api(kind, accept_body)
    local param = kind .. "_challenge"
    local t = {}
    local function q(f, challenge) return { query = { { param, rest.need_string("hydra." .. kind .. f, "challenge", challenge) } } } end
    t.get = function(_, challenge) return (admin():get(REQUESTS .. kind, q(":get", challenge))) end
    t.accept = function(_, challenge, ...)
      local o = q(":accept", challenge)
      o.body = accept_body and accept_body(...) or nil
      return (admin():request("PUT", REQUESTS .. kind .. "/accept", o))
    end
    t.reject = function(_, challenge, err)
      local o = q(":reject", challenge)
      if kind ~= "logout" then
        o.body = rest.object(rest.need_table("hydra." .. kind .. ":reject", "error", err) or { error = "access_denied" })
      end
      -- Hydra answers a logout reject with 204 No Content: nil
      return (admin():request("PUT", REQUESTS .. kind .. "/reject", o))
    end
    return t
  end

  c.login = challenge_api("login", function(subject, o)
    local f = "hydra.login:accept"
    rest.need_string(f, "subject", subject)
    local body = rest.object(rest.need_table(f, "opts", o))
    body.subject = subject
    return with_arrays(body, { "amr" })
  end)

  c.consent = challenge_api("consent", function(o)
    o = rest.need_table("hydra.consent:accept", "opts", o) or {}
    local body = rest.object(o)
    body.grant_scope = o.grant_scope or { "openid", "profile", "email" }
    body.grant_access_token_audience = o.grant_access_token_audience or json.array()
    if type(o.session) == "table" then
      body.session = { id_token = o.session.id_token and rest.object(o.session.id_token),
                       access_token = o.session.access_token and rest.object(o.session.access_token) }
    end
    return with_arrays(body, { "grant_scope", "grant_access_token_audience" })
  end)

  -- Hydra's logout accept takes no body (the original sent [])
  c.logout = challenge_api("logout", nil)

  -- ------------------------------------------------------------ discovery

  function c.discovery:openid_config() return (public():get("/.well-known/openid-configuration")) end
  function c.discovery:jwks() return (public():get("/.well-known/jwks.json")) end

  return c
end

return M
