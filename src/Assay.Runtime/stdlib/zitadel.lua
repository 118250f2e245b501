--- @module assay.zitadel
--- @description Zitadel identity platform bootstrap (OIDC, single sign-on): service-account login with a machine key (RS256 JWT profile grant), org primary domain, projects, OIDC applications, identity providers (Google, generic OIDC), login policy, user search and e-mail update — idempotent ensure_* helpers.
--- @keywords zitadel, oidc, openid connect, identity, iam, identity provider, idp, machine key, service account, jwt profile, jwt bearer, projects, oidc app, client id, applications, login policy, users, authentication, bootstrap
--- @quickref c = zitadel.client({url, domain, machine_key | machine_key_file | token, host?}) -> client (sends Host: auth.<domain>; c.url, c.domain, c.host_header, c.access_token)
--- @quickref c.domains:ensure_primary(domain) ; c.projects:find(name) ; c.projects:create(name, opts) ; c.projects:ensure(name, opts) ; c.apps:find(project_id, name) ; c.apps:create_oidc(project_id, opts) ; c.apps:ensure_oidc(project_id, opts)
--- @quickref c.idps:find(name) ; c.idps:ensure_google(opts) ; c.idps:ensure_oidc(opts) ; c.idps:add_to_login_policy(idp_id) ; c.users:search(query) ; c.users:update_email(id, email) ; c.login_policy:get/update(policy)/disable_password()
--- @example local z = require("assay.zitadel").client({url = "http://zitadel:8080", domain = "example.com", machine_key_file = "/secrets/sa.json"}); local p = z.projects:ensure("platform"); z.apps:ensure_oidc(p.id, {name = "grafana", subdomain = "grafana", callbackPath = "/login/generic_oauth"})
--
-- Built on assay.rest. Reads that fail return false / nil / {} (as in the original) plus the
-- error message as a second value, and log a warning; creating a project or an app raises.
-- See docs/modules/zitadel.md.
local rest = require("assay.rest")

local M = {}

local type, tostring, tonumber, ipairs, pcall, error = type, tostring, tonumber, ipairs, pcall, error
local floor, max = math.floor, math.max

local JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
local TOKEN_SCOPE = "openid urn:zitadel:iam:org:project:id:zitadel:aud"
local EQUALS = "TEXT_QUERY_METHOD_EQUALS"
local ASSERTION_LIFETIME = 300

-- The machine key: a table {userId, key, keyId} (Zitadel's key JSON) or read from a file.
local function load_machine_key(opts)
  local fn = "zitadel.client"
  local key = opts.machine_key
  if key == nil then
    local path = opts.machine_key_file
    if type(path) ~= "string" or path == "" then error(fn .. ": machine_key_file must be a non-empty string", 3) end
    local ok, text = pcall(fs.read, path)
    if not ok then error(fn .. ": cannot read machine_key_file: " .. tostring(text), 3) end
    local parsed
    ok, parsed = pcall(json.parse, text)
    if not ok or type(parsed) ~= "table" then error(fn .. ": machine_key_file " .. path .. " is not a JSON object", 3) end
    key = parsed
  end
  if type(key) ~= "table" then error(fn .. ": machine_key must be a table {userId, key, keyId}, got " .. type(key), 3) end
  for _, field in ipairs({ "userId", "key", "keyId" }) do
    if type(key[field]) ~= "string" or key[field] == "" then error("zitadel: machine key missing " .. field, 3) end
  end
  return key
end

function M.client(opts)
  local fn = "zitadel.client"
  if type(opts) ~= "table" then error(fn .. ": expected an options table {url, domain, machine_key | machine_key_file | token}", 2) end
  rest.need_string(fn, "url", opts.url)
  rest.need_string(fn, "domain", opts.domain)
  if opts.host ~= nil then rest.need_string(fn, "host", opts.host) end
  local host = opts.host or ("auth." .. opts.domain)
  local key
  if opts.machine_key ~= nil or opts.machine_key_file ~= nil then
    key = load_machine_key(opts)
  elseif opts.token ~= nil then
    rest.need_string(fn, "token", opts.token)
  else
    error(fn .. ": one of machine_key, machine_key_file, or token required", 2)
  end

  -- Zitadel routes by Host: url may be an internal address (a cluster service) while every
  -- request, the token exchange included, names the instance's external domain.
  local common = { module = "zitadel", base_url = opts.url, headers = { Host = host }, timeout = opts.timeout, retries = opts.retries }
  local token_api = rest.client(common)
  local c = { url = token_api.base_url, domain = opts.domain, host_header = host, access_token = opts.token }
  local refresh_at -- monotonic time after which a machine-key token is exchanged again

  -- JWT profile grant (RFC 7523): an RS256 assertion signed with the machine key, exchanged at
  -- the token endpoint. Integer iat/exp (the original sent floats).
  local function exchange()
    local now = floor(time())
    local assertion = crypto.jwt_sign({ iss = key.userId, sub = key.userId, aud = "https://" .. host,
                                        iat = now, exp = now + ASSERTION_LIFETIME }, key.key, "RS256", { kid = key.keyId })
    local _, resp = token_api:post("/oauth/v2/token", nil, {
      form = { { "grant_type", JWT_BEARER }, { "scope", TOKEN_SCOPE }, { "assertion", assertion } },
      ok = rest.ANY_STATUS, raw = true, idempotent = true,
    })
    if resp.status ~= 200 then error("zitadel: token exchange failed (HTTP " .. resp.status .. "): " .. tostring(resp.body), 0) end
    local ok, data = pcall(json.parse, resp.body)
    if not ok or type(data) ~= "table" or type(data.access_token) ~= "string" or data.access_token == "" then
      error("zitadel: no access_token in token response", 0)
    end
    c.access_token = data.access_token
    local ttl = tonumber(data.expires_in)
    -- renew a minute early (half-way for short-lived tokens)
    refresh_at = ttl and (os.monotonic() + max(ttl - 60, ttl / 2)) or nil
    return data.access_token
  end
  local function current_token()
    if key and (c.access_token == nil or (refresh_at and os.monotonic() >= refresh_at)) then return exchange() end
    return c.access_token
  end
  if key then exchange() end

  common.auth = { bearer = current_token }
  local api = rest.client(common)

  -- One API call; returns the raw response whatever its status. A machine-key client whose token
  -- was revoked or expired early (401) exchanges a new one and tries once more.
  local function call(method, path, body)
    if body == nil and method ~= "GET" then body = rest.object() end
    local o = { body = body, ok = rest.ANY_STATUS, raw = true }
    local _, resp = api:request(method, path, o)
    if resp.status == 401 and key then
      exchange()
      _, resp = api:request(method, path, o)
    end
    return resp
  end
  local function parse(resp)
    local ok, v = pcall(json.parse, resp.body or "")
    return ok and type(v) == "table" and v or {}
  end
  -- Logs and returns the standard error message for a failed call.
  local function failure(what, method, path, resp)
    local msg = rest.http_error("zitadel", method, path, resp.status, resp.body)
    log.warn("zitadel: " .. what .. ": " .. msg)
    return msg
  end
  local function first_result(resp)
    local result = parse(resp).result
    if type(result) == "table" and result[1] ~= nil then return result[1] end
    return nil
  end
  local function seg(fn, what, v) return rest.segment(rest.need_string(fn, what, v)) end
  -- POSTs one exact-name query (`query_key` = {name, method}) to a _search path: the first match,
  -- nil when there is none, or nil + error message when the search fails.
  local function find_by_name(path, query_key, name, what)
    local resp = call("POST", path, { queries = { { [query_key] = { name = name, method = EQUALS } } } })
    if resp.status ~= 200 then return nil, failure(what .. " search failed", "POST", path, resp) end
    return first_result(resp)
  end

  c.domains, c.projects, c.apps, c.idps, c.users, c.login_policy = {}, {}, {}, {}, {}, {}

  -- ------------------------------------------------------------ domains (management API)

  function c.domains:ensure_primary(domain)
    local d = seg("zitadel.domains:ensure_primary", "domain", domain)
    local list_path = "/management/v1/orgs/me/domains/_search"
    local resp = call("POST", list_path, { queries = { { domainNameQuery = { name = domain, method = EQUALS } } } })
    if resp.status ~= 200 then return false, failure("could not list org domains", "POST", list_path, resp) end
    for _, entry in ipairs(parse(resp).result or {}) do
      if entry.domainName == domain and entry.isPrimary == true then
        log.info("zitadel: org primary domain already " .. domain)
        return true
      end
    end
    local add_path = "/management/v1/orgs/me/domains"
    resp = call("POST", add_path, { domain = domain })
    if resp.status ~= 200 and resp.status ~= 409 then return false, failure("could not add domain " .. domain, "POST", add_path, resp) end
    local primary_path = add_path .. "/" .. d .. "/_set_primary"
    resp = call("POST", primary_path)
    if resp.status ~= 200 then return false, failure("could not set primary domain " .. domain, "POST", primary_path, resp) end
    log.info("zitadel: org primary domain set to " .. domain)
    return true
  end

  -- ------------------------------------------------------------ projects

  function c.projects:find(name)
    rest.need_string("zitadel.projects:find", "name", name)
    return find_by_name("/management/v1/projects/_search", "nameQuery", name, "project")
  end

  function c.projects:create(name, popts)
    local f = "zitadel.projects:create"
    rest.need_string(f, "name", name)
    popts = rest.need_table(f, "opts", popts) or {}
    local path = "/management/v1/projects"
    local resp = call("POST", path, { name = name, projectRoleAssertion = popts.projectRoleAssertion })
    if resp.status ~= 200 then
      error("zitadel: failed to create project '" .. name .. "' (HTTP " .. resp.status .. "): " .. tostring(resp.body), 0)
    end
    local data = parse(resp)
    log.info("zitadel: created project '" .. name .. "' (id=" .. tostring(data.id) .. ")")
    return data
  end

  function c.projects:ensure(name, popts)
    local existing = c.projects:find(name)
    if existing then return existing end
    return c.projects:create(name, popts)
  end

  -- ------------------------------------------------------------ OIDC applications

  function c.apps:find(project_id, name)
    local f = "zitadel.apps:find"
    local path = "/management/v1/projects/" .. seg(f, "project_id", project_id) .. "/apps/_search"
    rest.need_string(f, "name", name)
    local resp = call("POST", path, { query = { limit = 100 }, queries = { { nameQuery = { name = name, method = EQUALS } } } })
    if resp.status ~= 200 then
      -- older Zitadel versions reject the name query: list the first 100 apps instead
      resp = call("POST", path, { query = { limit = 100 } })
      if resp.status ~= 200 then return nil, failure("app search failed", "POST", path, resp) end
    end
    for _, app in ipairs(parse(resp).result or {}) do
      if app.name == name then return app end
    end
    return nil
  end

  -- The request body; redirect URIs default to https://<subdomain>.<domain><callbackPath> and
  -- https://<subdomain>.<domain>/ only when not given (the original required subdomain always).
  local function oidc_app_body(f, o)
    local site
    local function default_site()
      if site then return site end
      if type(o.subdomain) ~= "string" or o.subdomain == "" then
        error(f .. ": opts.redirectUris or opts.subdomain (with opts.callbackPath) is required", 4)
      end
      site = "https://" .. o.subdomain .. "." .. opts.domain
      return site
    end
    local redirect = o.redirectUris
    if redirect == nil then
      if type(o.callbackPath) ~= "string" then error(f .. ": opts.callbackPath must be a string when redirectUris is not given", 4) end
      redirect = { default_site() .. o.callbackPath }
    end
    return {
      name = o.name,
      redirectUris = redirect,
      postLogoutRedirectUris = o.postLogoutRedirectUris or { default_site() .. "/" },
      responseTypes = o.responseTypes or { "OIDC_RESPONSE_TYPE_CODE" },
      grantTypes = o.grantTypes or { "OIDC_GRANT_TYPE_AUTHORIZATION_CODE", "OIDC_GRANT_TYPE_REFRESH_TOKEN" },
      appType = o.appType or "OIDC_APP_TYPE_WEB",
      authMethodType = o.authMethodType or "OIDC_AUTH_METHOD_TYPE_BASIC",
      accessTokenType = o.accessTokenType or "OIDC_TOKEN_TYPE_BEARER",
      accessTokenRoleAssertion = o.accessTokenRoleAssertion ~= false,
      idTokenRoleAssertion = o.idTokenRoleAssertion ~= false,
      idTokenUserinfoAssertion = o.idTokenUserinfoAssertion ~= false,
      devMode = o.devMode or false,
      clockSkew = o.clockSkew or "0s",
    }
  end

  local function need_app_opts(f, o)
    if type(o) ~= "table" then error(f .. ": opts must be a table, got " .. type(o), 3) end
    rest.need_string(f, "opts.name", o.name)
  end

  function c.apps:create_oidc(project_id, o)
    local f = "zitadel.apps:create_oidc"
    local path = "/management/v1/projects/" .. seg(f, "project_id", project_id) .. "/apps/oidc"
    need_app_opts(f, o)
    local resp = call("POST", path, oidc_app_body(f, o))
    if resp.status == 409 then
      local existing = c.apps:find(project_id, o.name)
      if existing then return existing end
      -- the original returned a stub {id = "existing"} without a client id here
      error("zitadel: OIDC app '" .. o.name .. "' already exists (HTTP 409) but was not found by the app search", 0)
    end
    if resp.status ~= 200 then
      error("zitadel: failed to create OIDC app '" .. o.name .. "' (HTTP " .. resp.status .. "): " .. tostring(resp.body), 0)
    end
    local data = parse(resp)
    log.info("zitadel: created OIDC app '" .. o.name .. "' (clientId=" .. tostring(data.clientId) .. ")")
    return data
  end

  function c.apps:ensure_oidc(project_id, o)
    need_app_opts("zitadel.apps:ensure_oidc", o)
    local existing = c.apps:find(project_id, o.name)
    if existing then return existing end
    return c.apps:create_oidc(project_id, o)
  end

  -- ------------------------------------------------------------ identity providers (admin API)

  local DEFAULT_IDP_SCOPES = { "openid", "email", "profile" }

  function c.idps:find(name)
    rest.need_string("zitadel.idps:find", "name", name)
    return find_by_name("/admin/v1/idps/templates/_search", "idpNameQuery", name, "IdP")
  end

  function c.idps:ensure_google(o)
    o = rest.need_table("zitadel.idps:ensure_google", "opts", o) or {}
    local existing = c.idps:find("Google")
    if existing then return existing.id end
    local path = "/admin/v1/idps/google"
    local resp = call("POST", path, {
      name = "Google", clientId = o.clientId, clientSecret = o.clientSecret,
      scopes = o.scopes or DEFAULT_IDP_SCOPES,
      providerOptions = o.providerOptions or { isLinkingAllowed = true, isCreationAllowed = true, isAutoCreation = true, isAutoUpdate = true },
    })
    if resp.status ~= 200 then return nil, failure("could not create the Google IdP", "POST", path, resp) end
    local data = parse(resp)
    return data.idp_id or data.id
  end

  function c.idps:ensure_oidc(o)
    local f = "zitadel.idps:ensure_oidc"
    if type(o) ~= "table" then error(f .. ": opts must be a table, got " .. type(o), 2) end
    rest.need_string(f, "opts.name", o.name)
    local body = {
      name = o.name, clientId = o.clientId, clientSecret = o.clientSecret, issuer = o.issuer,
      scopes = o.scopes or DEFAULT_IDP_SCOPES,
      isIdTokenMapping = o.isIdTokenMapping ~= false,
      providerOptions = o.providerOptions or {
        isLinkingAllowed = true, isCreationAllowed = true, isAutoCreation = true, isAutoUpdate = true,
        autoLinking = o.autoLinking or "AUTO_LINKING_OPTION_EMAIL",
      },
    }
    local existing = c.idps:find(o.name)
    if existing then
      local path = "/admin/v1/idps/generic_oidc/" .. rest.segment(existing.id)
      local resp = call("PUT", path, body)
      if resp.status ~= 200 then return existing.id, failure("could not update the " .. o.name .. " IdP", "PUT", path, resp) end
      return existing.id
    end
    local path = "/admin/v1/idps/generic_oidc"
    local resp = call("POST", path, body)
    if resp.status ~= 200 then return nil, failure("could not create the " .. o.name .. " IdP", "POST", path, resp) end
    return parse(resp).id
  end

  function c.idps:add_to_login_policy(idp_id)
    rest.need_string("zitadel.idps:add_to_login_policy", "idp_id", idp_id)
    local path = "/admin/v1/policies/login/idps"
    local resp = call("POST", path, { idpId = idp_id, ownerType = "IDPOWNERTYPE_SYSTEM" })
    if resp.status == 200 or resp.status == 409 then return true end
    return false, failure("could not add IdP " .. idp_id .. " to the login policy", "POST", path, resp)
  end

  -- ------------------------------------------------------------ users

  function c.users:search(query)
    rest.need_table("zitadel.users:search", "query", query)
    local path = "/management/v1/users/_search"
    local resp = call("POST", path, query and rest.object(query) or nil)
    if resp.status ~= 200 then return {}, failure("user search failed", "POST", path, resp) end
    return parse(resp).result or {}
  end

  function c.users:update_email(user_id, email)
    local f = "zitadel.users:update_email"
    local path = "/management/v1/users/" .. seg(f, "user_id", user_id) .. "/email"
    rest.need_string(f, "email", email)
    local resp = call("PUT", path, { email = email, isEmailVerified = true })
    if resp.status ~= 200 then return false, failure("could not update the e-mail of user " .. user_id, "PUT", path, resp) end
    return true
  end

  -- ------------------------------------------------------------ login policy (admin API)

  local POLICY = "/admin/v1/policies/login"

  function c.login_policy:get()
    local resp = call("GET", POLICY)
    if resp.status ~= 200 then return nil, failure("could not read the login policy", "GET", POLICY, resp) end
    return parse(resp).policy
  end

  function c.login_policy:update(policy)
    if type(policy) ~= "table" then error("zitadel.login_policy:update: policy must be a table, got " .. type(policy), 2) end
    local resp = call("PUT", POLICY, rest.object(policy))
    if resp.status ~= 200 then return false, failure("could not update the login policy", "PUT", POLICY, resp) end
    return true
  end

  local LIFETIMES = { "passwordCheckLifetime", "externalLoginCheckLifetime", "mfaInitSkipLifetime",
                      "secondFactorCheckLifetime", "multiFactorCheckLifetime" }

  function c.login_policy:disable_password()
    local p, err = c.login_policy:get()
    if not p then return false, err or "zitadel: the login policy is empty" end
    if not p.allowUsernamePassword then return true end
    local body = {
      allowUsernamePassword = false, allowExternalIdp = true,
      allowRegister = p.allowRegister or false, forceMfa = p.forceMfa or false,
      passwordlessType = p.passwordlessType or "PASSWORDLESS_TYPE_NOT_ALLOWED", hidePasswordReset = true,
    }
    for _, k in ipairs(LIFETIMES) do body[k] = p[k] end
    return c.login_policy:update(body)
  end

  return c
end

return M
