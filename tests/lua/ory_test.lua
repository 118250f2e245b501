-- assay.ory, assay.ory.hydra, .kratos, .keto and .rbac against mocks following Ory's documented
-- REST APIs (Hydra admin/public, Kratos admin/public, Keto read/write; none of them is packaged
-- for Debian or npm): every scenario of the reference test plans, the fixed bugs (204 logout
-- answers, {} and [] bodies, omitted form fields, 404 → nil, Accept: application/json, session
-- tokens and cookies, paging, safe tuple deletes, literal namespace prefixes), the rbac guard on a
-- real http.serve route reached over HTTP, and bad input.
local ory = require("assay.ory")
local hydra = require("assay.ory.hydra")
local kratos = require("assay.ory.kratos")
local keto = require("assay.ory.keto")
local rbac = require("assay.ory.rbac")
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local mock_api = dofile(here .. "/fixtures/mock_api.lua")
local local_server = dofile(here .. "/fixtures/local_server.lua")
local raises = mock_api.raises
local api = mock_api.start()       -- Hydra admin+public, Kratos admin+public, Keto read
local keto_write = mock_api.start() -- Keto's write API on its own port, as in a real deployment
local U = api.url

local function form(req) return url.parse("/?" .. (req.body or "")).params end

-- ================================================================== assay.ory
assert.eq(type(ory.kratos), "table")
assert.eq(type(ory.hydra), "table")
assert.eq(type(ory.keto), "table")
assert.eq(type(ory.rbac), "table")
assert.eq(type(ory.connect), "function")
assert.eq(ory.kratos, kratos) -- the same module tables as the nested requires
assert.eq(ory.hydra, hydra)
assert.eq(ory.keto, keto)
assert.eq(ory.rbac, rbac)
local ok_flat = pcall(require, "assay.kratos") -- the flat names were removed in 0.8.0
assert.eq(ok_flat, false)

local all = ory.connect({ kratos_public = U, kratos_admin = U, hydra_public = U, hydra_admin = U, keto_read = U, keto_write = keto_write.url })
assert.eq(type(all.kratos.sessions), "table")
assert.eq(type(all.hydra.clients), "table")
assert.eq(all.keto.write_url, keto_write.url)
assert.eq(next(ory.connect({})), nil)
assert.eq(ory.connect({ keto_write = keto_write.url }).keto, nil) -- no read API → no keto client
local only_public = ory.connect({ hydra_public = U })
assert.eq(only_public.kratos, nil)
assert.eq(only_public.keto, nil)
api.requests = {}
raises(function() only_public.hydra.clients:list() end, "hydra: admin_url not configured")
raises(function() hydra.client({ admin_url = U }).discovery:jwks() end, "hydra: public_url not configured")
raises(function() hydra.client({ admin_url = U }).oauth2:authorize_url("app") end, "hydra: public_url not configured")
assert.eq(#api.requests, 0) -- raised before any I/O
raises(function() ory.connect("x") end, "ory.connect: opts must be a table, got string")
-- every client sends the caller's headers (a gateway's, say) with each request
api:on("GET", "/admin/clients", { json = {} })
hydra.client({ admin_url = U, headers = { ["X-Gateway"] = "h" } }).clients:list()
assert.eq(api:last().headers["x-gateway"], "h")
api:on("GET", "/admin/identities/i1", { json = { id = "i1" } })
kratos.client({ admin_url = U, headers = { ["X-Gateway"] = "k" } }).identities:get("i1")
assert.eq(api:last().headers["x-gateway"], "k")
api:on("GET", "/relation-tuples/check", { json = { allowed = true } })
keto.client(U, { headers = { ["X-Gateway"] = "r" } }).permissions:check("ns", "obj", "rel", "user")
assert.eq(api:last().headers["x-gateway"], "r")

-- ================================================================== assay.ory.hydra
assert.eq(type(hydra.client), "function")
local h = hydra.client({ public_url = U .. "/", admin_url = U .. "//" })

-- clients
api:on("GET", "/admin/clients", { json = {
  { client_id = "example-app", client_name = "Example", grant_types = { "authorization_code" } },
  { client_id = "other-app", client_name = "Other" } } })
local clients = h.clients:list()
assert.eq(#clients, 2)
assert.eq(clients[1].client_id, "example-app")
h.clients:list({ page_size = 50 })
assert.eq(api:last().query, "page_size=50")
-- all pages, following Hydra's Link header
api:on("GET", "/admin/clients", function(req)
  if req.params.page_token == "p2" then return { json = { { client_id = "c3" } } } end
  return { json = { { client_id = "c1" }, { client_id = "c2" } },
           headers = { Link = '</admin/clients?page_size=2&page_token=p2>; rel="next"' } }
end, { times = 2 })
local every = h.clients:list({ all = true, page_size = 2 })
assert.eq(#every, 3)
assert.eq(every[3].client_id, "c3")

api:on("GET", "/admin/clients/example-app", { json = { client_id = "example-app", redirect_uris = { "https://app.example.com/cb" } } })
assert.eq(h.clients:get("example-app").redirect_uris[1], "https://app.example.com/cb")
assert.eq(h.clients:get("missing-app"), nil) -- fixed: 404 → nil as documented
api:on("POST", "/admin/clients", function(req)
  local spec = req:json()
  spec.client_id, spec.client_secret = "generated-id", "generated-secret"
  return { status = 201, json = spec }
end)
local created = h.clients:create({ client_name = "new", grant_types = { "client_credentials" } })
assert.eq(created.client_secret, "generated-secret")
assert.eq(api:last().headers["content-type"], "application/json")
api:on("PUT", "/admin/clients/example-app", function(req) return { json = req:json() } end)
local spec = { client_name = "Renamed", redirect_uris = { "https://app.example.com/cb" } }
local updated = h.clients:update("example-app", spec)
assert.eq(updated.client_id, "example-app")
assert.eq(updated.client_name, "Renamed")
assert.eq(spec.client_id, nil) -- fixed: the caller's table is not mutated
api:on("DELETE", "/admin/clients/example-app", { status = 204 })
assert.eq(h.clients:delete("example-app"), nil)
raises(function() h.clients:delete("missing-app") end, "hydra: DELETE /admin/clients/missing-app HTTP 404")
api:on("GET", "/admin/clients/a%2Fb", { json = { client_id = "a/b" } })
assert.eq(h.clients:get("a/b").client_id, "a/b") -- ids are encoded path segments

-- authorize URL (no I/O)
local ph = hydra.client({ public_url = "https://hydra.example.com" })
local au = ph.oauth2:authorize_url("example-app", { redirect_uri = "https://app.example.com/callback", state = "xyz",
  nonce = "n 1", extra = { prompt = "login", code_challenge = "abc", code_challenge_method = "S256" } })
assert.contains(au, "https://hydra.example.com/oauth2/auth?")
assert.contains(au, "client_id=example-app")
assert.contains(au, "response_type=code")
assert.contains(au, "state=xyz")
assert.contains(au, "scope=openid%20profile%20email")
assert.contains(au, "redirect_uri=https%3A%2F%2Fapp.example.com%2Fcallback")
assert.contains(au, "nonce=n%201")
assert.contains(au, "&code_challenge=abc&code_challenge_method=S256&prompt=login") -- extras sorted
local parsed = url.parse(au).params
assert.eq(parsed.redirect_uri, "https://app.example.com/callback")
assert.eq(url.parse(ph.oauth2:authorize_url("x")).params.redirect_uri, nil)

-- token exchange
api:on("POST", "/oauth2/token", function(req)
  local f = form(req)
  if req.headers["content-type"] ~= "application/x-www-form-urlencoded" then return { status = 400, json = { error = "invalid_request" } } end
  if f.grant_type == "authorization_code" and f.code == "abc" then
    return { json = { access_token = "access.jwt", id_token = "id.jwt", refresh_token = "refresh.tok", token_type = "bearer", expires_in = 3599, scope = "openid" } }
  end
  if f.grant_type == "refresh_token" and f.refresh_token == "refresh.tok" then
    return { json = { access_token = "access2.jwt", token_type = "bearer", expires_in = 3599 } }
  end
  return { status = 400, json = { error = "invalid_grant", error_description = "The provided authorization grant is invalid" } }
end)
local tokens = h.oauth2:exchange_code({ code = "abc", redirect_uri = "https://app.example.com/cb", client_id = "example-app", client_secret = "s3cret" })
assert.eq(tokens.access_token, "access.jwt")
assert.eq(tokens.id_token, "id.jwt")
local body = api:last().body
assert.contains(body, "grant_type=authorization_code")
assert.contains(body, "code=abc")
assert.contains(body, "client_secret=s3cret")
-- a public client (PKCE, no secret): the field is absent, never the text "nil"
h.oauth2:exchange_code({ code = "abc", client_id = "spa", code_verifier = "verifier-123" })
local f = form(api:last())
assert.eq(f.client_secret, nil)
assert.eq(f.code_verifier, "verifier-123")
assert.eq(f.redirect_uri, nil)
assert.is_true(not api:last().body:find("nil", 1, true))
-- client_secret_basic: credentials in the Authorization header, not in the form
local hb = hydra.client({ public_url = U, token_endpoint_auth_method = "client_secret_basic" })
hb.oauth2:exchange_code({ code = "abc", client_id = "example-app", client_secret = "s3cret" })
assert.eq(api:last().headers["authorization"], "Basic " .. base64.encode("example-app:s3cret"))
assert.eq(form(api:last()).client_secret, nil)
h.oauth2:exchange_code({ code = "abc", client_id = "example-app", client_secret = "s3cret", auth_method = "client_secret_basic" })
assert.eq(api:last().headers["authorization"], "Basic " .. base64.encode("example-app:s3cret"))
raises(function() h.oauth2:exchange_code({ code = "bad", client_id = "x" }) end, "hydra: token exchange /oauth2/token HTTP 400")
assert.eq(h.oauth2:refresh_token("example-app", "s3cret", "refresh.tok").access_token, "access2.jwt")
assert.eq(form(api:last()).grant_type, "refresh_token")
raises(function() h.oauth2:refresh_token("example-app", "s3cret", "old") end, "hydra: refresh token /oauth2/token HTTP 400")

api:on("POST", "/admin/oauth2/introspect", function(req)
  if form(req).token ~= "access.jwt" then return { json = { active = false } } end
  return { json = { active = true, sub = "user:alice", scope = "openid profile", client_id = "example-app", exp = 1893456000 } }
end)
local intro = h.oauth2:introspect("access.jwt")
assert.eq(intro.active, true)
assert.eq(intro.sub, "user:alice")
assert.eq(h.oauth2:introspect("other").active, false)
api:on("POST", "/oauth2/revoke", function(req)
  local fr = form(req)
  if fr.token == "access.jwt" and fr.client_id == "example-app" then return { status = 200 } end
  return { status = 401, json = { error = "invalid_client" } }
end)
assert.eq(h.oauth2:revoke_token("example-app", "s3cret", "access.jwt"), nil)
raises(function() h.oauth2:revoke_token("wrong", "s3cret", "access.jwt") end, "hydra: revoke /oauth2/revoke HTTP 401")

-- login / consent / logout challenges
local REQ = "/admin/oauth2/auth/requests/"
api:on("GET", REQ .. "login", { json = { challenge = "abc123", subject = "", skip = false, client = { client_id = "example-app" },
  requested_scope = { "openid", "email" } } }, { query = { login_challenge = "abc123" } })
local lr = h.login:get("abc123")
assert.eq(lr.challenge, "abc123")
assert.eq(lr.requested_scope[2], "email")
api:on("PUT", REQ .. "login/accept", function(req)
  return { json = { redirect_to = "https://hydra.example.com/oauth2/auth?login_verifier=v1", got = req:json() } }
end, { query = { login_challenge = "abc123" } })
local acc = h.login:accept("abc123", "user:alice", { remember = true, remember_for = 3600, amr = {} })
assert.contains(acc.redirect_to, "hydra.example.com")
assert.eq(acc.got.subject, "user:alice")
assert.eq(acc.got.remember_for, 3600)
assert.contains(api:last().body, '"amr":[]')
api:on("PUT", REQ .. "login/reject", function(req) return { json = { redirect_to = "https://app.example.com/?error=" .. req:json().error } } end)
assert.contains(h.login:reject("abc123").redirect_to, "error=access_denied")
h.login:reject("abc123", { error = "login_required", error_description = "no session" })
assert.eq(api:last():json().error_description, "no session")
-- a challenge with reserved characters is percent-encoded
api:on("GET", REQ .. "login", { json = { challenge = "a=b+c/d" } }, { query = { login_challenge = "a=b+c/d" } })
assert.eq(h.login:get("a=b+c/d").challenge, "a=b+c/d")
assert.eq(api:last().query, "login_challenge=a%3Db%2Bc%2Fd")

api:on("GET", REQ .. "consent", { json = { challenge = "xyz789", subject = "user:alice", requested_scope = { "openid" } } },
  { query = { consent_challenge = "xyz789" } })
assert.eq(h.consent:get("xyz789").subject, "user:alice")
api:on("PUT", REQ .. "consent/accept", function(req)
  return { json = { redirect_to = "https://app.example.com/callback?code=c1", got = req:json() } }
end, { query = { consent_challenge = "xyz789" } })
local ca = h.consent:accept("xyz789", { grant_scope = { "openid", "email" }, remember = true,
  session = { id_token = { email = "alice@example.com", groups = { "admins" } }, access_token = {} } })
assert.contains(ca.redirect_to, "app.example.com")
assert.eq(ca.got.grant_scope, { "openid", "email" })
assert.eq(ca.got.session.id_token.email, "alice@example.com")
local raw = api:last().body
assert.contains(raw, '"grant_access_token_audience":[]') -- an array, not {}
assert.contains(raw, '"access_token":{}') -- an object, not []
ca = h.consent:accept("xyz789")
assert.eq(ca.got.grant_scope, { "openid", "profile", "email" })
api:on("PUT", REQ .. "consent/reject", { json = { redirect_to = "https://app.example.com/?error=access_denied" } })
assert.contains(h.consent:reject("xyz789").redirect_to, "access_denied")

api:on("GET", REQ .. "logout", { json = { request_url = "https://hydra.example.com/oauth2/sessions/logout", rp_initiated = true,
  sid = "sid-1", subject = "user:alice", client = { client_id = "example-app" } } }, { query = { logout_challenge = "logout-abc" } })
local lo = h.logout:get("logout-abc")
assert.eq(lo.subject, "user:alice")
assert.eq(lo.rp_initiated, true)
assert.eq(lo.client.client_id, "example-app")
api:on("PUT", REQ .. "logout/accept", { json = { redirect_to = "https://app.example.com/logged-out" } }, { query = { logout_challenge = "logout-abc" } })
assert.eq(h.logout:accept("logout-abc").redirect_to, "https://app.example.com/logged-out")
assert.eq(api:last().body, "") -- no body (the original sent [])
api:on("PUT", REQ .. "logout/reject", { json = json.object() }, { times = 1 })
h.logout:reject("logout-abc") -- 200 {} → no error
api:on("PUT", REQ .. "logout/reject", { status = 204 }) -- what Hydra really answers
assert.eq(h.logout:reject("logout-abc"), nil)
raises(function() h.login:accept("nope", "user:x") end, "hydra: PUT /admin/oauth2/auth/requests/login/accept?login_challenge=nope HTTP 404")

-- discovery
api:on("GET", "/.well-known/openid-configuration", { json = { issuer = "https://hydra.example.com/", token_endpoint = "https://hydra.example.com/oauth2/token" } })
assert.contains(h.discovery:openid_config().issuer, "hydra.example.com")
api:on("GET", "/.well-known/jwks.json", { json = { keys = { { kid = "hydra.openid.id-token", kty = "RSA", use = "sig" } } } })
assert.eq(h.discovery:jwks().keys[1].kid, "hydra.openid.id-token")

-- bad input
raises(function() hydra.client("x") end, "hydra.client: opts must be a table, got string")
raises(function() hydra.client({ token_endpoint_auth_method = "private_key_jwt" }) end, "hydra.client: token_endpoint_auth_method must be")
raises(function() h.clients:get(nil) end, "hydra.clients:get: client_id must be a non-empty string, got nil")
raises(function() h.clients:create("x") end, "hydra.clients:create: spec must be a table, got string")
raises(function() h.clients:update("a", nil) end, "hydra.clients:update: spec must be a table, got nil")
raises(function() h.oauth2:exchange_code({ client_id = "a" }) end, "hydra.oauth2:exchange_code: opts.code must be a non-empty string, got nil")
raises(function() h.oauth2:exchange_code() end, "hydra.oauth2:exchange_code: opts must be a table, got nil")
raises(function() h.login:accept("abc123", nil) end, "hydra.login:accept: subject must be a non-empty string, got nil")
raises(function() h.login:get({}) end, "hydra.login:get: challenge must be a non-empty string, got table")
raises(function() h.consent:reject("x", "denied") end, "hydra.consent:reject: error must be a table, got string")
raises(function() h.oauth2:introspect(nil) end, "hydra.oauth2:introspect: token must be a non-empty string, got nil")

-- ================================================================== assay.ory.kratos
assert.eq(type(kratos.client), "function")
local k = kratos.client({ public_url = U .. "/", admin_url = U })
local SESSION = { id = "sess-1", active = true, expires_at = "2030-01-01T00:00:00Z",
                  identity = { id = "id-alice", schema_id = "default", traits = { email = "alice@example.com" } } }
api:on("GET", "/sessions/whoami", function(req)
  if req.headers["cookie"] == "ory_session_abc=xyz" or req.headers["x-session-token"] == "ory_st_token123" then return { json = SESSION } end
  return { status = 401, json = { error = { code = 401, status = "Unauthorized", message = "No valid session credentials found" } } }
end)
local s = k.sessions:whoami("ory_session_abc=xyz")
assert.eq(s.identity.traits.email, "alice@example.com")
assert.eq(api:last().headers["accept"], "application/json")
assert.eq(k.sessions:whoami("ory_st_token123").id, "sess-1") -- fixed: a session token works too
assert.eq(api:last().headers["cookie"], nil)
assert.eq(k.sessions:whoami({ session_token = "ory_st_token123" }).active, true)
assert.eq(k.sessions:whoami({ cookie = "ory_session_abc=xyz" }).id, "sess-1")
assert.eq(k.sessions:whoami(), nil) -- 401 → nil
assert.eq(k.sessions:whoami("ory_session_abc=wrong"), nil)
api:on("GET", "/sessions/whoami", { status = 500, body = "db down" }, { times = 1 })
raises(function() k.sessions:whoami("a=b") end, "kratos: whoami /sessions/whoami HTTP 500: db down")

-- identities (admin)
local ALICE = { id = "user-123", schema_id = "default", state = "active", traits = { email = "alice@example.com", name = { first = "Alice" } } }
api:on("GET", "/admin/identities/user-123", { json = ALICE })
local ident = k.identities:get("user-123")
assert.eq(ident.id, "user-123")
assert.eq(ident.traits.email, "alice@example.com")
assert.eq(k.identities:get("nobody"), nil) -- admin GET 404 → nil
api:on("GET", "/admin/identities", function(req)
  if req.params.page_token == "t2" then return { json = { { id = "user-3" } } } end
  local resp = { json = { ALICE, { id = "user-456", traits = { email = "bob@example.com" } } } }
  if req.params.page_size then resp.headers = { Link = '<' .. U .. '/admin/identities?page_size=2&page_token=t2>; rel="next"' } end
  return resp
end)
assert.eq(#k.identities:list(), 2)
k.identities:list({ per_page = 10, page = 2, credentials_identifier = "alice@example.com" })
assert.eq(api:last().query, "per_page=10&page=2&credentials_identifier=alice%40example.com")
local all_ids = k.identities:list({ all = true, page_size = 2 })
assert.eq(#all_ids, 3)
assert.eq(all_ids[3].id, "user-3")
api:on("POST", "/admin/identities", function(req)
  local b = req:json()
  return { status = 201, json = { id = "new-user-id", schema_id = b.schema_id, traits = b.traits } }
end)
local new_user = k.identities:create({ schema_id = "default", traits = { email = "carol@example.com" },
  credentials = { password = { config = { password = "correct horse" } } } })
assert.eq(new_user.id, "new-user-id")
assert.eq(api:last().headers["content-type"], "application/json")
api:on("PUT", "/admin/identities/user-123", function(req) return { json = req:json() } end)
assert.eq(k.identities:update("user-123", { schema_id = "default", state = "inactive", traits = ALICE.traits }).state, "inactive")
api:on("DELETE", "/admin/identities/user-123", { status = 204 })
assert.eq(k.identities:delete("user-123"), nil)
raises(function() k.identities:delete("nobody") end, "kratos: delete identity /admin/identities/nobody HTTP 404")
api:on("GET", "/admin/identities/user-123/sessions", { json = { { id = "sess-1", active = true } } })
assert.eq(k.sessions:list("user-123")[1].id, "sess-1")
assert.eq(k.sessions:list("nobody"), nil)
api:on("DELETE", "/admin/identities/user-123/sessions", { status = 204 })
assert.eq(k.sessions:revoke("user-123"), nil)
raises(function() k.sessions:revoke("nobody") end, "kratos: delete sessions /admin/identities/nobody/sessions HTTP 404")

-- self-service flows: JSON answers, CSRF cookies carried from create to submit
local LOGIN_FLOW = { id = "flow-abc", type = "browser", oauth2_login_challenge = "challenge-1",
  ui = { action = U .. "/self-service/login?flow=flow-abc", method = "POST", nodes = { { attributes = { name = "csrf_token", value = "csrf-1" } } } } }
api:on("GET", "/self-service/login/browser", function(req)
  if req.headers["accept"] ~= "application/json" then
    return { status = 303, headers = { Location = "/ui/login" } } -- what Kratos does for a browser
  end
  return { json = LOGIN_FLOW, headers = { ["Set-Cookie"] = { "csrf_token_abc=tok1; Path=/; HttpOnly; SameSite=Lax", "ory_kratos_continuity=c1; Path=/" } } }
end)
local flow, cookies = k.flows:create_login({ return_to = "https://app.example.com/after", refresh = true, login_challenge = "challenge-1", aal = "aal1" })
assert.eq(flow.id, "flow-abc")
assert.eq(cookies, "csrf_token_abc=tok1; ory_kratos_continuity=c1")
assert.eq(api:last().query, "return_to=https%3A%2F%2Fapp.example.com%2Fafter&refresh=true&login_challenge=challenge-1&aal=aal1")
api:on("GET", "/self-service/login/flows", { json = LOGIN_FLOW }, { query = { id = "flow-abc" } })
local got_flow = k.flows:get_login("flow-abc", cookies)
assert.eq(got_flow.id, "flow-abc")
assert.eq(got_flow.oauth2_login_challenge, "challenge-1")
assert.eq(api:last().headers["cookie"], cookies)
api:on("GET", "/admin/self-service/login/flows", { json = LOGIN_FLOW }, { query = { id = "flow-abc" } })
assert.eq(k.flows:get_login_admin("flow-abc").id, "flow-abc")
assert.eq(k.flows:get_login_admin("flow-zzz"), nil)
api:on("POST", "/self-service/login", function(req)
  local p = req:json()
  if not (req.headers["cookie"] or ""):find("csrf_token_abc=tok1", 1, true) or p.csrf_token ~= "csrf-1" then
    return { status = 403, json = { error = { id = "security_csrf_violation" } } }
  end
  if p.password ~= "correct horse" then return { status = 400, json = { id = "flow-abc", ui = { messages = { { id = 4000006 } } } } } end
  return { json = { session = SESSION }, headers = { ["Set-Cookie"] = "ory_kratos_session=sess-cookie; Path=/; HttpOnly" } }
end, { query = { flow = "flow-abc" } })
local result, after = k.flows:submit_login("flow-abc", { method = "password", identifier = "alice@example.com",
  password = "correct horse", csrf_token = "csrf-1" }, cookies)
assert.eq(result.session.identity.id, "id-alice")
assert.eq(after, "csrf_token_abc=tok1; ory_kratos_continuity=c1; ory_kratos_session=sess-cookie")
local ct = 0
for name in pairs(api:last().headers) do if name == "content-type" then ct = ct + 1 end end
assert.eq(ct, 1)
assert.eq(api:last().headers["content-type"], "application/json") -- one Content-Type (fixed)
raises(function() k.flows:submit_login("flow-abc", { method = "password", password = "x", csrf_token = "csrf-1" }, cookies) end,
  "kratos: POST /self-service/login?flow=flow-abc HTTP 400")
raises(function() k.flows:submit_login("flow-abc", { method = "password" }) end, "HTTP 403") -- no CSRF cookie

-- registration: 422 "browser location change required" is an answer, not an error
api:on("GET", "/self-service/registration/browser", { json = { id = "reg-1", type = "browser" } })
assert.eq(k.flows:create_registration({ return_to = "https://app/x" }).id, "reg-1")
assert.eq(api:last().query, "return_to=https%3A%2F%2Fapp%2Fx")
api:on("GET", "/self-service/registration/flows", { json = { id = "reg-1" } }, { query = { id = "reg-1" } })
assert.eq(k.flows:get_registration("reg-1").id, "reg-1")
api:on("POST", "/self-service/registration", { status = 422, json = { error = { id = "browser_location_change_required", code = 422 },
  redirect_browser_to = "https://app.example.com/welcome" } }, { query = { flow = "reg-1" } })
local reg = k.flows:submit_registration("reg-1", { method = "password", password = "pw", traits = { email = "d@example.com" } })
assert.eq(reg.redirect_browser_to, "https://app.example.com/welcome")
-- API flows (native apps): /api endpoints
api:on("GET", "/self-service/registration/api", { json = { id = "reg-api", type = "api" } })
assert.eq(k.flows:create_registration({ api = true }).type, "api")
api:on("POST", "/self-service/registration", { json = { identity = { id = "new" }, session_token = "ory_st_new" } }, { query = { flow = "reg-api" } })
assert.eq(k.flows:submit_registration("reg-api", { method = "password" }).session_token, "ory_st_new")

-- recovery and settings
api:on("GET", "/self-service/recovery/browser", { json = { id = "rec-1", state = "choose_method" } })
assert.eq(k.flows:create_recovery().id, "rec-1")
api:on("GET", "/self-service/recovery/flows", { json = { id = "rec-1" } }, { query = { id = "rec-1" } })
assert.eq(k.flows:get_recovery("rec-1").id, "rec-1")
api:on("POST", "/self-service/recovery", function(req) return { json = { id = "rec-1", state = "sent_email", email = req:json().email } } end, { query = { flow = "rec-1" } })
assert.eq(k.flows:submit_recovery("rec-1", { method = "code", email = "alice@example.com" }).state, "sent_email")
api:on("GET", "/self-service/settings/browser", function(req)
  if req.headers["cookie"] ~= "ory_kratos_session=sess-cookie" then return { status = 401, json = { error = { code = 401 } } } end
  return { json = { id = "set-1", identity = SESSION.identity } }
end)
assert.eq(k.flows:create_settings("ory_kratos_session=sess-cookie").id, "set-1")
raises(function() k.flows:create_settings() end, "kratos: GET /self-service/settings/browser HTTP 401")
api:on("GET", "/self-service/settings/api", function(req)
  return { json = { id = "set-api", token = req.headers["x-session-token"] } }
end)
assert.eq(k.flows:create_settings("ory_st_token123", { api = true }).token, "ory_st_token123")
api:on("GET", "/self-service/settings/flows", { json = { id = "set-1" } }, { query = { id = "set-1" } })
assert.eq(k.flows:get_settings("set-1", "ory_kratos_session=sess-cookie").id, "set-1")
api:on("POST", "/self-service/settings", { json = { id = "set-1", state = "success" } }, { query = { flow = "set-1" } })
assert.eq(k.flows:submit_settings("set-1", { method = "profile", traits = { email = "new@example.com" } }, "ory_kratos_session=sess-cookie").state, "success")

-- schemas
api:on("GET", "/schemas", { json = { { id = "default", schema = { type = "object" } } } })
assert.eq(k.schemas:list()[1].id, "default")
api:on("GET", "/schemas/default", { json = { ["$id"] = "default", type = "object" } })
assert.eq(k.schemas:get("default").type, "object")
assert.eq(k.schemas:get("missing"), nil) -- fixed: 404 → nil as documented

-- missing URLs and bad input
raises(function() kratos.client({ admin_url = U }).sessions:whoami("a=b") end, "kratos: public_url not configured")
raises(function() kratos.client({ public_url = U }).identities:get("x") end, "kratos: admin_url not configured")
raises(function() k.identities:get(nil) end, "kratos.identities:get: identity_id must be a non-empty string, got nil")
raises(function() k.flows:get_login(nil) end, "kratos.flows:get_login: flow_id must be a non-empty string, got nil")
raises(function() k.flows:submit_login("flow-abc", "x") end, "kratos.flows:submit_login: payload must be a table, got string")
raises(function() k.flows:create_login("x") end, "kratos.flows:create_login: opts must be a table, got string")
raises(function() k.sessions:whoami(42) end, "kratos.sessions:whoami: auth must be a cookie string, a session token or {cookie=, session_token=}, got number")
raises(function() k.identities:create(nil) end, "kratos.identities:create: spec must be a table, got nil")

-- ================================================================== assay.ory.keto
assert.eq(type(keto.client), "function")

-- A Keto fake with state: tuples on the write API, listing (paged), check and batch check on the
-- read API, all in Keto's documented shapes.
local store = {}
local function matches(t, q)
  for _, field in ipairs({ "namespace", "object", "relation", "subject_id" }) do
    if q[field] and t[field] ~= q[field] then return false end
  end
  if q.subject_set_namespace then
    local ss = t.subject_set or {}
    return ss.namespace == q.subject_set_namespace and ss.object == q.subject_set_object and ss.relation == q.subject_set_relation
  end
  return true
end
local batch_supported = true
local function install_keto()
  api:on("GET", "/relation-tuples", function(req)
    local q, found = req.params, {}
    for _, t in ipairs(store) do if matches(t, q) then found[#found + 1] = t end end
    local size, start = tonumber(q.page_size) or 100, tonumber(q.page_token) or 0
    local page = {}
    for i = start + 1, math.min(start + size, #found) do page[#page + 1] = found[i] end
    return { json = { relation_tuples = json.array(page), next_page_token = (start + size < #found) and tostring(start + size) or "" } }
  end)
  local function allowed(t)
    for _, s in ipairs(store) do if matches(s, t) and s.subject_id == t.subject_id then return true end end
    return false
  end
  api:on("GET", "/relation-tuples/check", function(req)
    if allowed(req.params) then return { json = { allowed = true } } end
    return { status = 403, json = { allowed = false } }
  end)
  api:on("POST", "/relation-tuples/batch/check", function(req)
    if not batch_supported then return { status = 404, json = { error = { code = 404 } } } end
    local results = {}
    for i, t in ipairs(req:json().tuples) do
      results[i] = t.namespace == "Unknown" and { allowed = false, error = "namespace Unknown not found" } or { allowed = allowed(t) }
    end
    return { json = { results = results } }
  end)
  keto_write:on("PUT", "/admin/relation-tuples", function(req)
    local t = req:json()
    store[#store + 1] = t
    return { status = 201, json = t }
  end)
  keto_write:on("DELETE", "/admin/relation-tuples", function(req)
    local keep = {}
    for _, t in ipairs(store) do if not matches(t, req.params) then keep[#keep + 1] = t end end
    store = keep
    return { status = 204 }
  end)
end
install_keto()
local kc = keto.client(U .. "/", { write_url = keto_write.url .. "/" })
assert.eq(kc.read_url, U)

-- tuples: list with filters (keto plan 2)
store = { { namespace = "Role", object = "namespace1:role-a", relation = "members", subject_id = "user:alice" },
          { namespace = "Other", object = "x", relation = "members", subject_id = "user:alice" } }
local listed = kc.tuples:list({ namespace = "Role" })
assert.eq(#listed.relation_tuples, 1)
assert.eq(listed.relation_tuples[1].object, "namespace1:role-a")
assert.eq(api:last().params.namespace, "Role")
kc.tuples:list({ namespace = "Role", object = "", subject_id = "user:a@b.c" })
assert.eq(api:last().query, "namespace=Role&subject_id=user%3Aa%40b.c") -- "" skipped, values encoded

-- check (3, 4 and a 403)
api:on("GET", "/relation-tuples/check", { json = { allowed = true } }, { times = 1 })
assert.eq(kc.permissions:check("Document", "readme", "view", "user:alice"), true)
local cq = api:last().params
assert.eq(cq.namespace, "Document")
assert.eq(cq.subject_id, "user:alice")
api:on("GET", "/relation-tuples/check", { json = { allowed = false } }, { times = 1 })
assert.eq(kc.permissions:check("Document", "readme", "view", "user:bob"), false)
assert.eq(kc.permissions:check("Document", "readme", "view", "user:eve"), false) -- the fake answers 403
-- table form with a subject set
api:on("GET", "/relation-tuples/check", { json = { allowed = true } }, { times = 1 })
assert.eq(kc.permissions:check({ namespace = "Document", object = "readme", relation = "view",
  subject = { namespace = "Group", object = "eng", relation = "members" } }), true)
cq = api:last().params
assert.eq(cq.subject_set_namespace, "Group")
assert.eq(cq.subject_set_object, "eng")
assert.eq(cq.subject_set_relation, "members")
assert.eq(cq.subject_id, nil)
api:on("GET", "/relation-tuples/check", { status = 500, body = "boom" }, { times = 1 })
raises(function() kc.permissions:check("D", "o", "r", "user:x") end, "keto: check failed /relation-tuples/check?")

-- user_roles / has_any (5, 6), including paging past the first page (fixed)
store = {}
for i = 1, 3 do store[#store + 1] = { namespace = "Role", object = "app:role-" .. i, relation = "members", subject_id = "user:alice" } end
api:on("GET", "/relation-tuples", function(req)
  assert.eq(req.params.namespace, "Role")
  assert.eq(req.params.relation, "members")
  assert.eq(req.params.subject_id, "user:alice")
  local first = req.params.page_token == nil
  return { json = { relation_tuples = first and { store[1], store[2] } or { store[3] }, next_page_token = first and "next" or "" } }
end, { times = 2 })
local roles = kc.roles:user_roles("alice")
assert.eq(#roles, 3)
assert.eq(roles[1], { object = "app:role-1", relation = "members" })
assert.eq(roles[3].object, "app:role-3")
install_keto()
store = { { namespace = "Role", object = "namespace2:role-b", relation = "members", subject_id = "user:bob" } }
assert.eq(kc.roles:has_any("bob", { "namespace1:role-a", "namespace2:role-a" }), false)
assert.eq(kc.roles:has_any("user:bob", { "namespace2:role-b" }), true)
assert.eq(#kc.roles:user_roles("bob", "Other"), 0)

-- expand (7)
api:on("GET", "/relation-tuples/expand", { json = { type = "union", tuple = { namespace = "Group", object = "eng", relation = "members" },
  children = { { type = "leaf", tuple = { subject_id = "user:alice" } } } } })
local tree = kc.permissions:expand("Group", "eng", "members")
assert.eq(tree.type, "union")
assert.eq(api:last().params["max-depth"], "3")
kc.permissions:expand("Group", "eng", "members", 5)
assert.eq(api:last().params["max-depth"], "5")

-- create on the separate write server (8); without write_url (9)
store = {}
assert.eq(kc.tuples:create({ namespace = "Document", object = "readme", relation = "owner", subject_id = "user:alice" }), nil)
assert.eq(#keto_write:requests_to("/admin/relation-tuples", "PUT"), 1)
assert.eq(store[1].object, "readme")
local ro = keto.client(U)
local werr = raises(function() ro.tuples:create({ namespace = "D", object = "o", relation = "r", subject_id = "u" }) end, "write_url not configured")
assert.contains(werr, "pass opts.write_url to keto.client()")
raises(function() ro.tuples:delete_all({ namespace = "D" }) end, "write_url not configured")

-- batch check: one request; an older Keto (404) gets one check per entry
store = { { namespace = "Document", object = "readme", relation = "view", subject_id = "user:alice" } }
api.requests = {}
local checks = { { namespace = "Document", object = "readme", relation = "view", subject_id = "user:alice" },
                 { namespace = "Document", object = "readme", relation = "view", subject_id = "user:bob" },
                 { namespace = "Document", object = "readme", relation = "view", subject = "user:alice" } }
assert.eq(kc.permissions:batch_check(checks), { true, false, true })
assert.eq(#api.requests, 1)
assert.eq(api:last().path, "/relation-tuples/batch/check")
assert.eq(#api:last():json().tuples, 3)
batch_supported = false
api.requests = {}
assert.eq(kc.permissions:batch_check(checks), { true, false, true })
assert.eq(#api:requests_to("/relation-tuples/check"), 3)
batch_supported = true
assert.eq(kc.permissions:batch_check({}), {})
raises(function() kc.permissions:batch_check({ { namespace = "Unknown", object = "o", relation = "r", subject_id = "u" } }) end,
  "keto.permissions:batch_check: entry 1: namespace Unknown not found")

-- delete with subject id or subject set; a missing tuple is not an error (false)
store = { { namespace = "Document", object = "readme", relation = "view", subject_id = "user:alice" },
          { namespace = "Document", object = "readme", relation = "view", subject_id = "user:bob" } }
assert.eq(kc.tuples:delete({ namespace = "Document", object = "readme", relation = "view", subject_id = "user:alice" }), true)
assert.eq(#store, 1)
assert.eq(store[1].subject_id, "user:bob")
kc.tuples:delete({ namespace = "Document", object = "readme", relation = "view", subject_set = { namespace = "Group", object = "eng", relation = "members" } })
local dq = keto_write:last().params
assert.eq(dq.subject_set_namespace, "Group")
assert.eq(dq.subject_set_relation, "members")
keto_write:on("DELETE", "/admin/relation-tuples", { status = 404, json = { error = { code = 404 } } }, { times = 1 })
assert.eq(kc.tuples:delete({ namespace = "D", object = "o", relation = "r", subject_id = "user:ghost" }), false)
-- fixed: a delete that would match more than one tuple is refused, as is an unfiltered delete_all
raises(function() kc.tuples:delete({ namespace = "Document", object = "readme", relation = "view" }) end,
  "keto.tuples:delete: tuple needs subject_id or subject_set")
raises(function() kc.tuples:delete_all(nil) end, "keto.tuples:delete_all: filters must be a table, got nil")
raises(function() kc.tuples:delete_all({}) end, "keto.tuples:delete_all: filters must name at least one of namespace")
raises(function() kc.tuples:delete_all({ page_size = 10, object = "" }) end, "refusing to delete every tuple")
assert.eq(#store, 1)
kc.tuples:delete_all({ namespace = "Document" })
assert.eq(#store, 0)

-- bad input
raises(function() keto.client(nil) end, "keto.client: read_url must be a non-empty string, got nil")
raises(function() keto.client(U, "w") end, "keto.client: opts must be a table, got string")
raises(function() kc.permissions:check("D", "o", nil, "user:x") end, "keto.permissions:check: relation must be a non-empty string, got nil")
raises(function() kc.permissions:check("D", "o", "r") end, "keto.permissions:check: a subject (subject_id or subject set) is required")
raises(function() kc.permissions:check("D", "o", "r", 5) end, "keto.permissions:check: subject must be a string or a subject set")
raises(function() kc.tuples:list("Role") end, "keto.tuples:list: filters must be a table, got string")
raises(function() kc.tuples:create(nil) end, "keto.tuples:create: tuple must be a table, got nil")
raises(function() kc.roles:user_roles(nil) end, "keto.roles:user_roles: user_id must be a non-empty string, got nil")
raises(function() kc.roles:has_any("bob", "admin") end, "keto.roles:has_any: role_objects must be a table, got string")
raises(function() kc.permissions:batch_check({ "x" }) end, "keto.permissions:batch_check: entry 1 must be a table, got string")

-- ================================================================== assay.ory.rbac
assert.eq(type(rbac.policy), "function")
install_keto()
local ROLES = {
  owner = { rank = 5, capabilities = { "read", "trigger", "approve", "configure", "manage_roles" } },
  admin = { rank = 4, capabilities = { "read", "trigger", "approve", "configure" } },
  approver = { rank = 3, capabilities = { "read", "approve" } },
  operator = { rank = 2, capabilities = { "read", "trigger" } },
  viewer = { rank = 1, capabilities = { "read" }, label = "Viewer", description = "read only" },
}
local p = rbac.policy({ namespace = "demo-app", keto = kc, roles = ROLES, default_role = "viewer" })
local function member(object, user) return { namespace = "Role", object = object, relation = "members", subject_id = "user:" .. user } end

-- 2: no tuples → default role
store = {}
assert.eq(p.users:roles("nobody"), {})
assert.eq(p.users:primary_role("nobody"), "viewer")
assert.eq(p.users:capabilities("nobody"), { read = true })
-- 3: one role
store = { member("demo-app:operator", "olive") }
assert.eq(p.users:roles("olive"), { "operator" })
assert.eq(p.users:capabilities("olive"), { read = true, trigger = true })
assert.eq(p.users:has_capability("olive", "trigger"), true)
assert.eq(p.users:has_capability("user:olive", "approve"), false)
local rq = api:requests_to("/relation-tuples")
assert.eq(rq[#rq].params, { namespace = "Role", relation = "members", subject_id = "user:olive" })
-- 4: two roles, union, rank order (separation of duties: no configure)
store = { member("demo-app:operator", "amy"), member("demo-app:approver", "amy"), member("demo-app:operator", "amy") }
assert.eq(p.users:roles("amy"), { "approver", "operator" })
assert.eq(p.users:primary_role("amy"), "approver")
assert.eq(p.users:capabilities("amy"), { read = true, trigger = true, approve = true })
assert.eq(p.users:has_capability("amy", "configure"), false)
-- 5-6: unknown roles and other namespaces are ignored
store = { member("demo-app:legacy-role", "lee") }
assert.eq(p.users:roles("lee"), {})
assert.eq(p.users:primary_role("lee"), "viewer")
store = { member("platform:admin", "pat"), member("demo-app:operator", "pat"), member("demo-appx:owner", "pat") }
assert.eq(p.users:roles("pat"), { "operator" })
-- fixed: a namespace with pattern characters matches literally
local dotted = rbac.policy({ namespace = "acme.app+1", keto = kc, roles = ROLES })
store = { member("acme.app+1:admin", "dan"), member("acmeXapp+1:owner", "dan"), member("acme.app1:owner", "dan") }
assert.eq(dotted.users:roles("dan"), { "admin" })
assert.eq(dotted.users:primary_role("nobody"), nil) -- no default_role
assert.eq(dotted.users:capabilities("nobody"), {})

-- 7: members:list (de-duplicated, prefix stripped, every page)
store = { member("demo-app:admin", "alice"), member("demo-app:admin", "bob"), member("demo-app:admin", "alice"), member("demo-app:owner", "zed") }
assert.eq(p.members:list("admin"), { "alice", "bob" })
local lq = api:last().params
assert.eq(lq.namespace, "Role")
assert.eq(lq.object, "demo-app:admin")
assert.eq(lq.relation, "members")
store = {}
for i = 1, 150 do store[i] = member("demo-app:viewer", "u" .. i) end
assert.eq(#p.members:list("viewer"), 150) -- the fake pages by 100
-- 8: add creates the tuple on the write API
store = {}
keto_write.requests = {}
p.members:add("seth", "approver")
local put = keto_write:requests_to("/admin/relation-tuples", "PUT")
assert.eq(#put, 1)
assert.contains(put[1].body, "demo-app:approver")
assert.contains(put[1].body, "user:seth")
-- 9: idempotent: already a member → no PUT
p.members:add("user:seth", "approver")
assert.eq(#keto_write:requests_to("/admin/relation-tuples", "PUT"), 1)
assert.eq(p.users:roles("seth"), { "approver" })
-- 10: remove
store = { member("demo-app:operator", "bob"), member("demo-app:operator", "carl") }
p.members:remove("bob", "operator")
local del = keto_write:last()
assert.eq(del.method, "DELETE")
assert.eq(del.params.object, "demo-app:operator")
assert.eq(del.params.subject_id, "user:bob")
assert.eq(p.members:list("operator"), { "carl" })
-- removing a membership that is not there: no error, whether Keto answers 204 or 404 (no text matching)
p.members:remove("bob", "operator")
keto_write:on("DELETE", "/admin/relation-tuples", { status = 404, json = { error = { code = 404, message = "not found" } } }, { times = 1 })
p.members:remove("bob", "operator")
keto_write:on("DELETE", "/admin/relation-tuples", { status = 500, body = "keto down" }, { times = 1 })
raises(function() p.members:remove("carl", "operator") end, "keto: delete tuple /admin/relation-tuples?")
-- 11: reset
store = { member("demo-app:owner", "o1"), member("demo-app:owner", "o2"), member("demo-app:admin", "a1") }
p.members:reset("owner")
local rs = keto_write:last().params
assert.eq(rs.namespace, "Role")
assert.eq(rs.object, "demo-app:owner")
assert.eq(rs.relation, "members")
assert.eq(rs.subject_id, nil)
assert.eq(#store, 1)
local snapshot = p.members:list_all()
assert.eq(snapshot.admin, { "a1" })
assert.eq(snapshot.owner, {})
assert.eq(snapshot.viewer, {})
-- 12: unknown role
raises(function() p.members:add("x", "superuser") end, "unknown role")
raises(function() p.members:list("superuser") end, "assay.ory.rbac: unknown role superuser")
raises(function() p.members:remove("x", nil) end, "unknown role")
raises(function() p.members:reset("nope") end, "unknown role")
-- 13-14: policy metadata
assert.eq(p.policy:roles(), { "owner", "admin", "approver", "operator", "viewer" })
local ap = p.policy:get("approver")
assert.eq(ap.rank, 3)
assert.eq(ap.capabilities, { "approve", "read" })
assert.eq(p.policy:get("nope"), nil)
local tie = rbac.policy({ namespace = "t", keto = kc, roles = { b = { rank = 1 }, a = { rank = 1 }, c = { rank = "2" }, d = {} } })
assert.eq(tie.policy:roles(), { "c", "a", "b", "d" })
-- 15: validation
raises(function() rbac.policy({ keto = kc, roles = ROLES }) end, "assay.ory.rbac.policy: namespace is required")
raises(function() rbac.policy({ namespace = "x", roles = ROLES }) end, "assay.ory.rbac.policy: keto client is required")
raises(function() rbac.policy({ namespace = "x", keto = kc, roles = {} }) end, "assay.ory.rbac.policy: roles map is required and must not be empty")
raises(function() rbac.policy({ namespace = "x", keto = kc }) end, "assay.ory.rbac.policy: roles map is required and must not be empty")
raises(function() rbac.policy({ namespace = "x", keto = {}, roles = ROLES }) end, "assay.ory.rbac.policy: keto must be an assay.ory.keto client")
raises(function() rbac.policy() end, "assay.ory.rbac.policy: expected an options table")
raises(function() p.users:roles("") end, "assay.ory.rbac.users:roles: user_id must be a non-empty string")
raises(function() p.users:has_capability(nil, "read") end, "assay.ory.rbac.users:has_capability: user_id must be a non-empty string")
raises(function() p.members:add(nil, "admin") end, "assay.ory.rbac.members:add: user_id must be a non-empty string")

-- ------------------------------------------------------------------ the guard on real http.serve routes
-- The user comes from a Kratos session (cookie) resolved by the guard, or from req.user_id set
-- by an earlier step; Keto decides.
api:on("GET", "/sessions/whoami", function(req)
  local user = (req.headers["cookie"] or ""):match("ory_kratos_session=([%w-]+)")
  if not user then return { status = 401, json = { error = { code = 401 } } } end
  return { json = { id = "s-" .. user, active = true, identity = { id = user } } }
end)
local function session_user(req)
  local sess = k.sessions:whoami(req.headers["cookie"])
  return sess and sess.identity.id
end
local function deploy(req) return { status = 202, json = { deployed = true, by = req.user_id } } end
local down = rbac.policy({ namespace = "demo-app", keto = keto.client("http://127.0.0.1:1", { retries = 0 }), roles = ROLES })
local guard_approve = p.middleware:require_capability("approve", function(req) return { json = { approved = req.params.id, by = req.user_id } } end)
local app = local_server.start({
  POST = {
    ["/deploy"] = p.middleware:require_capability("trigger", deploy, { user_id = session_user }),
    ["/changes/:id/approve"] = function(req)
      req.user_id = req.headers["x-user"] -- an earlier auth step
      return guard_approve(req)
    end,
    ["/down"] = down.middleware:require_capability("read", deploy, { user_id = session_user }),
  },
}, { host = "127.0.0.1" })
store = { member("demo-app:operator", "olive"), member("demo-app:approver", "amy") }
local function post(path, headers) return http.post(app .. path, "", { headers = headers }) end

local r = post("/deploy", { Cookie = "ory_kratos_session=olive" })
assert.eq(r.status, 202)
assert.eq(r:json(), { deployed = true, by = "olive" })
r = post("/deploy", { Cookie = "ory_kratos_session=amy" })
assert.eq(r.status, 403)
assert.eq(r:json(), { error = "trigger capability required" })
assert.eq(r.headers["content-type"], "application/json")
r = post("/deploy", {})
assert.eq(r.status, 401)
assert.eq(r:json(), { error = "Authentication required" })
r = post("/changes/42/approve", { ["X-User"] = "amy" })
assert.eq(r.status, 200)
assert.eq(r:json(), { approved = "42", by = "amy" })
assert.eq(post("/changes/42/approve", { ["X-User"] = "olive" }).status, 403)
assert.eq(post("/changes/42/approve", {}).status, 401)
-- a role granted while the server runs takes effect on the next request (no cache)
p.members:add("olive", "approver")
assert.eq(post("/changes/43/approve", { ["X-User"] = "olive" }).status, 200)
-- Keto unreachable: fail closed with 503, the server keeps serving
r = post("/down", { Cookie = "ory_kratos_session=olive" })
assert.eq(r.status, 503)
assert.eq(r:json(), { error = "Authorization service unavailable" })
assert.eq(post("/deploy", { Cookie = "ory_kratos_session=olive" }).status, 202)

raises(function() p.middleware:require_capability(nil, deploy) end, "assay.ory.rbac.middleware:require_capability: capability must be a non-empty string, got nil")
raises(function() p.middleware:require_capability("read", "deploy") end, "assay.ory.rbac.middleware:require_capability: handler must be a function, got string")
raises(function() p.middleware:require_capability("read", deploy, { user_id = "x" }) end, "opts.user_id must be a function(req), got string")
http.stop()
