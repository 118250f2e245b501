--- @module assay.ory.kratos
--- @description Ory Kratos identity server: session check (whoami by cookie or session token), self-service login, registration, recovery and settings flows (browser and API), identity CRUD and sessions through the admin API, identity schemas.
--- @keywords kratos, ory, identity, identities, authentication, login, registration, signup, recovery, password reset, settings, sessions, session token, whoami, cookie, self-service, schemas, users
--- @quickref c = kratos.client({public_url, admin_url, admin_token?}) -> client ; `auth` arguments are a Cookie header ("name=value"), a session token, or {cookie=} / {session_token=}
--- @quickref c.sessions:whoami(auth) -> session|nil ; c.sessions:list(identity_id) ; c.sessions:revoke(identity_id)
--- @quickref c.flows:create_login(opts) -> flow, cookies ; c.flows:get_login(id, auth) ; c.flows:get_login_admin(id) ; c.flows:submit_login(id, payload, auth) ; create/get/submit_registration, _recovery, _settings
--- @quickref c.identities:get(id) ; c.identities:list(opts) ; c.identities:create(spec) ; c.identities:update(id, spec) ; c.identities:delete(id) ; c.schemas:list() ; c.schemas:get(id)
--- @example local k = require("assay.ory.kratos").client({public_url = "http://kratos:4433", admin_url = "http://kratos:4434"}); local s = k.sessions:whoami(req.headers.cookie); if s then print(s.identity.traits.email) end
--
-- Built on assay.rest. Public calls send Accept: application/json (a real Kratos otherwise
-- answers browser endpoints with redirects to the UI) and return the cookies the answer set,
-- merged with the ones sent, so a script can carry a browser flow's CSRF cookie to the submit.
-- See docs/modules/ory.md.
local rest = require("assay.rest")

local M = {}

local type, pairs, ipairs, error, concat = type, pairs, ipairs, error, table.concat

-- Cookie header value: the cookies of `sent` ("a=1; b=2") updated by the answer's Set-Cookie headers.
local function merge_cookies(sent, resp)
  local names, values = {}, {}
  local function put(name, value)
    if values[name] == nil then names[#names + 1] = name end
    values[name] = value
  end
  for pair in (sent or ""):gmatch("[^;]+") do
    local name, value = pair:match("^%s*([^=%s]+)=(.*)$")
    if name then put(name, value) end
  end
  local set = resp and resp.headers_all and resp.headers_all["set-cookie"] or {}
  for _, line in ipairs(set) do
    local name, value = line:match("^%s*([^=;%s]+)=([^;]*)")
    if name then put(name, value) end
  end
  if #names == 0 then return nil end
  local out = {}
  for i, name in ipairs(names) do out[i] = name .. "=" .. values[name] end
  return concat(out, "; ")
end

-- Request headers for a caller's credentials: a Cookie header value (it has "="), a session token
-- (X-Session-Token, as API clients and mobile apps use), or {cookie =, session_token =}.
local function credential_headers(fn, auth)
  if auth == nil then return {}, nil end
  if type(auth) == "string" then
    if auth == "" then return {}, nil end
    if auth:find("=", 1, true) then return { Cookie = auth }, auth end
    return { ["X-Session-Token"] = auth }, nil
  end
  if type(auth) == "table" then
    local h = {}
    if auth.cookie ~= nil then h.Cookie = rest.need_string(fn, "auth.cookie", auth.cookie) end
    if auth.session_token ~= nil then h["X-Session-Token"] = rest.need_string(fn, "auth.session_token", auth.session_token) end
    return h, auth.cookie
  end
  error(fn .. ": auth must be a cookie string, a session token or {cookie=, session_token=}, got " .. type(auth), 4)
end

function M.client(opts)
  local fn = "kratos.client"
  opts = rest.need_table(fn, "opts", opts) or {}

  local function side(name, url, settings)
    if url == nil then return function() error("kratos: " .. name .. " not configured", 0) end end
    rest.need_string(fn, name, url)
    local api = rest.client_from_opts("kratos", url, opts, settings)
    return function() return api end
  end
  local public = side("public_url", opts.public_url, { accept = "application/json", empty = "nil" })
  local admin = side("admin_url", opts.admin_url, { auth = opts.admin_token and { bearer = opts.admin_token } or nil, empty = "nil" })

  -- Public calls return the decoded body and the cookie jar after the answer.
  local function public_call(f, method, path, query, auth, payload)
    local headers, cookie = credential_headers(f, auth)
    local o = { query = query, headers = headers }
    if method == "POST" then
      if type(payload) ~= "table" then error(f .. ": payload must be a table, got " .. type(payload), 3) end
      o.body = rest.object(payload)
      -- 422 "browser location change required" follows a successful browser submission
      o.ok = { 200, 201, 422 }
    end
    local body, resp = public():request(method, path, o)
    return body, merge_cookies(cookie, resp)
  end
  local function flow_query(f, id) return { { "id", rest.need_string(f, "flow_id", id) } } end
  local function submit_query(f, id) return { { "flow", rest.need_string(f, "flow_id", id) } } end
  local function admin_get(path, query) return (admin():get(path, { query = query, not_found = "nil" })) end
  local function identity_path(f, id) return "/admin/identities/" .. rest.segment(rest.need_string(f, "identity_id", id)) end

  local c = { sessions = {}, flows = {}, identities = {}, schemas = {} }

  -- ------------------------------------------------------------ sessions

  --- The session of a cookie or session token; nil when not signed in (401).
  function c.sessions:whoami(auth)
    local headers = credential_headers("kratos.sessions:whoami", auth)
    local _, resp = public():get("/sessions/whoami", { headers = headers, ok = { 200, 401 }, verb = "whoami", raw = true })
    if resp.status == 401 then return nil end
    return json.parse(resp.body)
  end
  function c.sessions:list(identity_id) return admin_get(identity_path("kratos.sessions:list", identity_id) .. "/sessions") end
  function c.sessions:revoke(identity_id)
    admin():delete(identity_path("kratos.sessions:revoke", identity_id) .. "/sessions", { verb = "delete sessions" })
    return nil
  end

  -- ------------------------------------------------------------ self-service flows

  -- create_<kind>(opts): GET /self-service/<kind>/browser (or /api with opts.api) → flow, cookies.
  local function creator(kind, params)
    return function(_, o)
      local f = "kratos.flows:create_" .. kind
      o = rest.need_table(f, "opts", o) or {}
      local q = {}
      for _, p in ipairs(params) do
        local v = o[p]
        if p == "refresh" and v then v = true end
        q[#q + 1] = { p, v }
      end
      return public_call(f, "GET", "/self-service/" .. kind .. (o.api and "/api" or "/browser"), q, o.auth)
    end
  end
  local function getter(kind)
    return function(_, flow_id, auth)
      local f = "kratos.flows:get_" .. kind
      return public_call(f, "GET", "/self-service/" .. kind .. "/flows", flow_query(f, flow_id), auth)
    end
  end
  local function submitter(kind)
    return function(_, flow_id, payload, auth)
      local f = "kratos.flows:submit_" .. kind
      return public_call(f, "POST", "/self-service/" .. kind, submit_query(f, flow_id), auth, payload)
    end
  end

  c.flows.create_login = creator("login", { "return_to", "refresh", "login_challenge", "aal" })
  c.flows.create_registration = creator("registration", { "return_to" })
  c.flows.create_recovery = creator("recovery", { "return_to" })
  for _, kind in ipairs({ "login", "registration", "recovery", "settings" }) do
    c.flows["get_" .. kind] = getter(kind)
    c.flows["submit_" .. kind] = submitter(kind)
  end

  --- A settings flow needs a signed-in user: auth is the cookie (browser) or session token (opts.api).
  function c.flows:create_settings(auth, o)
    local f = "kratos.flows:create_settings"
    o = rest.need_table(f, "opts", o) or {}
    return public_call(f, "GET", "/self-service/settings" .. (o.api and "/api" or "/browser"), { { "return_to", o.return_to } }, auth)
  end

  --- A login flow through the admin API (no cookie or CSRF token needed); nil when unknown.
  function c.flows:get_login_admin(flow_id)
    return admin_get("/admin/self-service/login/flows", flow_query("kratos.flows:get_login_admin", flow_id))
  end

  -- ------------------------------------------------------------ identities (admin)

  function c.identities:get(id) return admin_get(identity_path("kratos.identities:get", id)) end

  --- opts: per_page, page, page_size, page_token, credentials_identifier; all = true follows every
  --- page (Link rel="next").
  function c.identities:list(o)
    o = rest.need_table("kratos.identities:list", "opts", o) or {}
    local q = { { "per_page", o.per_page }, { "page", o.page }, { "page_size", o.page_size }, { "page_token", o.page_token },
                { "credentials_identifier", o.credentials_identifier } }
    if o.all then return admin():paginate("/admin/identities", { query = q }) end
    return admin_get("/admin/identities", q)
  end
  function c.identities:create(spec)
    if type(spec) ~= "table" then error("kratos.identities:create: spec must be a table, got " .. type(spec), 2) end
    return (admin():post("/admin/identities", rest.object(spec)))
  end
  function c.identities:update(id, spec)
    local f = "kratos.identities:update"
    local path = identity_path(f, id)
    if type(spec) ~= "table" then error(f .. ": spec must be a table, got " .. type(spec), 2) end
    return (admin():put(path, rest.object(spec)))
  end
  function c.identities:delete(id)
    admin():delete(identity_path("kratos.identities:delete", id), { verb = "delete identity" })
    return nil
  end

  -- ------------------------------------------------------------ schemas (public)

  function c.schemas:list() return (public():get("/schemas", { verb = "list schemas" })) end
  function c.schemas:get(id)
    local path = "/schemas/" .. rest.segment(rest.need_string("kratos.schemas:get", "schema_id", id))
    return (public():get(path, { not_found = "nil" }))
  end

  return c
end

return M
