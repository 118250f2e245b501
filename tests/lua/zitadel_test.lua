-- assay.zitadel against a mock following Zitadel's v1 REST API (management/admin services) and its
-- OAuth token endpoint (Zitadel is not packaged for Debian or npm): the reference's 38-case test
-- plan, the Host override and bearer token on every request, the machine-key JWT profile login
-- (the mock decodes the assertion and verifies its RS256 signature with the public key, through
-- crypto.jwt_verify and independently through `openssl dgst`), token renewal, the fixed bugs, and
-- bad input.
local zitadel = require("assay.zitadel")
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local mock_api = dofile(here .. "/fixtures/mock_api.lua")
local raises = mock_api.raises
local mock = mock_api.start()
local HOST = "auth.example.com"

local function run(argv)
  local r = process.run(argv)
  assert.eq(r.status, 0, table.concat(argv, " ") .. ": " .. tostring(r.stderr))
  return r.stdout
end

-- Every request so far went to the external domain with the given token; then forget them.
local function check_requests(token, host)
  assert.is_true(#mock.requests > 0, "no requests were made")
  for _, r in ipairs(mock.requests) do
    assert.eq(r.headers["host"], host or HOST, r.method .. " " .. r.path)
    if r.path ~= "/oauth/v2/token" then
      assert.eq(r.headers["authorization"], "Bearer " .. token, r.method .. " " .. r.path)
      if r.method ~= "GET" then assert.eq(r.headers["content-type"], "application/json", r.path) end
    end
  end
  mock.requests = {}
end

assert.eq(type(zitadel.client), "function") -- 1

-- 2: token auth, exposed fields
local c = zitadel.client({ url = mock.url .. "//", domain = "example.com", token = "test-token" })
assert.eq(c.url, mock.url)
assert.eq(c.domain, "example.com")
assert.eq(c.host_header, HOST)
assert.eq(c.access_token, "test-token")

-- ------------------------------------------------------------------ domains (3-6)
local DOMAINS = "/management/v1/orgs/me/domains"
mock:on("POST", DOMAINS .. "/_search", { json = { details = { totalResult = "1" },
  result = { { orgId = "org-1", domainName = "example.com", isVerified = true, isPrimary = true } } } })
assert.eq(c.domains:ensure_primary("example.com"), true)
assert.eq(#mock.requests, 1) -- list only
assert.eq(mock:last():json().queries[1].domainNameQuery.name, "example.com")
check_requests("test-token")

mock:on("POST", DOMAINS .. "/_search", { json = { result = { { domainName = "old.example.org", isPrimary = true } } } })
mock:on("POST", DOMAINS, function(req) return { json = { details = { sequence = "2" } }, headers = { ["X-Domain"] = req:json().domain } } end)
mock:on("POST", DOMAINS .. "/example.com/_set_primary", { json = { details = { sequence = "3" } } })
assert.eq(c.domains:ensure_primary("example.com"), true)
assert.eq(mock:requests_to(DOMAINS)[1]:json(), { domain = "example.com" })
local set = mock:requests_to(DOMAINS .. "/example.com/_set_primary")
assert.eq(#set, 1)
assert.eq(set[1].body, "{}") -- an object, not [] (fixed)
check_requests("test-token")

mock:on("POST", DOMAINS, { status = 409, json = { code = 6, message = "Errors.Org.Domain.AlreadyExists" } })
assert.eq(c.domains:ensure_primary("example.com"), true) -- 5: already added
mock:on("POST", DOMAINS .. "/example.com/_set_primary", { status = 412, json = { message = "Errors.Org.DomainNotVerified" } })
local ok, err = c.domains:ensure_primary("example.com")
assert.eq(ok, false)
assert.contains(err, "HTTP 412")
mock:on("POST", DOMAINS .. "/_search", { status = 500, json = { message = "internal" } })
ok, err = c.domains:ensure_primary("example.com") -- 6
assert.eq(ok, false)
assert.eq(err, 'zitadel: POST /management/v1/orgs/me/domains/_search HTTP 500: {"message":"internal"}')
check_requests("test-token")

-- ------------------------------------------------------------------ projects (7-12)
local PROJECTS = "/management/v1/projects"
mock:on("POST", PROJECTS .. "/_search", { json = { details = { totalResult = "1" },
  result = { { id = "proj-123", name = "my-platform", state = "PROJECT_STATE_ACTIVE" } } } })
local p = c.projects:find("my-platform")
assert.eq(p.id, "proj-123")
assert.eq(p.name, "my-platform")
assert.eq(mock:last():json(), { queries = { { nameQuery = { name = "my-platform", method = "TEXT_QUERY_METHOD_EQUALS" } } } })
mock:on("POST", PROJECTS .. "/_search", { json = { details = { totalResult = "0" }, result = {} } }, { times = 1 })
assert.eq(c.projects:find("nope"), nil)
mock:on("POST", PROJECTS .. "/_search", { status = 500, body = "boom" }, { times = 1 })
local none, why = c.projects:find("x")
assert.eq(none, nil)
assert.contains(why, "HTTP 500: boom")

mock:on("POST", PROJECTS, function(req)
  local b = req:json()
  return { json = { id = "proj-456", details = { resourceOwner = "org-1" }, echo = b } }
end)
local created = c.projects:create("new-project", { projectRoleAssertion = true })
assert.eq(created.id, "proj-456")
assert.eq(created.echo, { name = "new-project", projectRoleAssertion = true })
mock:on("POST", PROJECTS .. "/_search", { json = { result = {} } }, { times = 1 })
assert.eq(c.projects:ensure("new-project").id, "proj-456") -- 11: creates
assert.eq(#mock:requests_to(PROJECTS), 2)
assert.eq(c.projects:ensure("my-platform").id, "proj-123") -- 12: existing, no create
assert.eq(#mock:requests_to(PROJECTS), 2)
mock:on("POST", PROJECTS, { status = 400, json = { message = "invalid name" } }, { times = 1 })
raises(function() c.projects:create("bad") end, "zitadel: failed to create project 'bad' (HTTP 400)")
check_requests("test-token")

-- ------------------------------------------------------------------ apps (13-17)
local APPS = PROJECTS .. "/proj-123/apps"
mock:on("POST", APPS .. "/_search", { json = { result = {
  { id = "app-0", name = "other" }, { id = "app-1", name = "grafana", oidcConfig = { clientId = "grafana-client" } } } } })
local app = c.apps:find("proj-123", "grafana")
assert.eq(app.id, "app-1")
assert.eq(app.oidcConfig.clientId, "grafana-client")
assert.eq(mock:last():json().query.limit, 100)
assert.eq(c.apps:find("proj-123", "missing"), nil) -- 14
-- an older Zitadel rejecting the name query: the search is retried without it
mock:on("POST", APPS .. "/_search", function(req)
  if req:json().queries then return { status = 400, json = { message = "unknown field" } } end
  return { json = { result = { { id = "app-9", name = "legacy" } } } }
end, { times = 2 })
assert.eq(c.apps:find("proj-123", "legacy").id, "app-9")

mock:on("POST", APPS .. "/oidc", function(req)
  return { json = { appId = "app-new", clientId = "client-xyz", clientSecret = "secret-abc", sent = req:json() } }
end)
local oidc = c.apps:create_oidc("proj-123", { name = "argocd", subdomain = "app", callbackPath = "/oauth/callback" }) -- 15
assert.eq(oidc.clientId, "client-xyz")
assert.eq(oidc.clientSecret, "secret-abc")
local sent = oidc.sent
assert.eq(sent.redirectUris, { "https://app.example.com/oauth/callback" })
assert.eq(sent.postLogoutRedirectUris, { "https://app.example.com/" })
assert.eq(sent.responseTypes, { "OIDC_RESPONSE_TYPE_CODE" })
assert.eq(sent.grantTypes, { "OIDC_GRANT_TYPE_AUTHORIZATION_CODE", "OIDC_GRANT_TYPE_REFRESH_TOKEN" })
assert.eq(sent.appType, "OIDC_APP_TYPE_WEB")
assert.eq(sent.authMethodType, "OIDC_AUTH_METHOD_TYPE_BASIC")
assert.eq(sent.accessTokenType, "OIDC_TOKEN_TYPE_BEARER")
assert.eq(sent.accessTokenRoleAssertion, true)
assert.eq(sent.idTokenRoleAssertion, true)
assert.eq(sent.idTokenUserinfoAssertion, true)
assert.eq(sent.devMode, false)
assert.eq(sent.clockSkew, "0s")
-- fixed: explicit URIs need no subdomain/callbackPath; explicit false stays false
oidc = c.apps:create_oidc("proj-123", { name = "cli", redirectUris = { "http://localhost:8000/cb" },
  postLogoutRedirectUris = { "http://localhost:8000/" }, appType = "OIDC_APP_TYPE_NATIVE", idTokenRoleAssertion = false, devMode = true })
assert.eq(oidc.sent.redirectUris, { "http://localhost:8000/cb" })
assert.eq(oidc.sent.appType, "OIDC_APP_TYPE_NATIVE")
assert.eq(oidc.sent.idTokenRoleAssertion, false)
assert.eq(oidc.sent.devMode, true)
raises(function() c.apps:create_oidc("proj-123", { name = "x" }) end,
  "zitadel.apps:create_oidc: opts.callbackPath must be a string when redirectUris is not given")
raises(function() c.apps:create_oidc("proj-123", { name = "x", callbackPath = "/cb" }) end,
  "zitadel.apps:create_oidc: opts.redirectUris or opts.subdomain (with opts.callbackPath) is required")

mock:on("POST", APPS .. "/_search", { json = { result = {} } }, { times = 1 })
assert.eq(c.apps:ensure_oidc("proj-123", { name = "new-app", subdomain = "new", callbackPath = "/cb" }).appId, "app-new") -- 16
assert.eq(c.apps:ensure_oidc("proj-123", { name = "grafana", subdomain = "g", callbackPath = "/cb" }).id, "app-1") -- 17
-- 409: the existing app from the search; a 409 the search cannot explain raises (no fake stub)
mock:on("POST", APPS .. "/oidc", { status = 409, json = { message = "Errors.Project.App.AlreadyExists" } })
assert.eq(c.apps:create_oidc("proj-123", { name = "grafana", subdomain = "g", callbackPath = "/cb" }).id, "app-1")
raises(function() c.apps:create_oidc("proj-123", { name = "ghost", subdomain = "g", callbackPath = "/cb" }) end,
  "zitadel: OIDC app 'ghost' already exists (HTTP 409) but was not found by the app search")
mock:on("POST", APPS .. "/oidc", { status = 403, body = "forbidden" }, { times = 1 })
raises(function() c.apps:create_oidc("proj-123", { name = "x", subdomain = "g", callbackPath = "/cb" }) end,
  "zitadel: failed to create OIDC app 'x' (HTTP 403): forbidden")
check_requests("test-token")

-- ------------------------------------------------------------------ identity providers (18-26)
local IDPS = "/admin/v1/idps"
mock:on("POST", IDPS .. "/templates/_search", function(req)
  local name = req:json().queries[1].idpNameQuery.name
  if name == "Google" then return { json = { result = { { id = "idp-google-1", name = "Google", type = "IDP_TYPE_GOOGLE" } } } } end
  if name == "Corp SSO" then return { json = { result = { { id = "idp-oidc-existing", name = "Corp SSO" } } } } end
  return { json = { details = { totalResult = "0" } } }
end)
assert.eq(c.idps:find("Google").id, "idp-google-1") -- 18
assert.eq(c.idps:find("Nope"), nil) -- 19
assert.eq(c.idps:ensure_google({ clientId = "g-id", clientSecret = "g-secret" }), "idp-google-1") -- 21
assert.eq(#mock:requests_to(IDPS .. "/google"), 0)
mock:on("POST", IDPS .. "/templates/_search", { json = { result = {} } }, { times = 1 })
mock:on("POST", IDPS .. "/google", { json = { id = "idp-google-new", details = {} } })
assert.eq(c.idps:ensure_google({ clientId = "g-id", clientSecret = "g-secret" }), "idp-google-new") -- 20
local g = mock:requests_to(IDPS .. "/google")[1]:json()
assert.eq(g.name, "Google")
assert.eq(g.scopes, { "openid", "email", "profile" })
assert.eq(g.providerOptions, { isLinkingAllowed = true, isCreationAllowed = true, isAutoCreation = true, isAutoUpdate = true })

mock:on("POST", IDPS .. "/generic_oidc", { json = { id = "idp-oidc-new" } })
assert.eq(c.idps:ensure_oidc({ name = "Keycloak", clientId = "kc", clientSecret = "s", issuer = "https://kc.example.com" }), "idp-oidc-new") -- 22
local body = mock:requests_to(IDPS .. "/generic_oidc")[1]:json()
assert.eq(body.issuer, "https://kc.example.com")
assert.eq(body.isIdTokenMapping, true)
assert.eq(body.providerOptions.autoLinking, "AUTO_LINKING_OPTION_EMAIL")
mock:on("PUT", IDPS .. "/generic_oidc/idp-oidc-existing", { json = { details = {} } })
assert.eq(c.idps:ensure_oidc({ name = "Corp SSO", clientId = "c", autoLinking = "AUTO_LINKING_OPTION_USERNAME" }), "idp-oidc-existing") -- 23
assert.eq(mock:last().method, "PUT")
assert.eq(mock:last():json().providerOptions.autoLinking, "AUTO_LINKING_OPTION_USERNAME")
mock:on("POST", IDPS .. "/generic_oidc", { status = 400, body = "bad issuer" }, { times = 1 })
local idp_id, idp_err = c.idps:ensure_oidc({ name = "Broken" })
assert.eq(idp_id, nil)
assert.contains(idp_err, "HTTP 400: bad issuer")

local POLICY_IDPS = "/admin/v1/policies/login/idps"
mock:on("POST", POLICY_IDPS, { json = { details = {} } }, { times = 1 })
assert.eq(c.idps:add_to_login_policy("idp-google-1"), true) -- 24
assert.eq(mock:last():json(), { idpId = "idp-google-1", ownerType = "IDPOWNERTYPE_SYSTEM" })
mock:on("POST", POLICY_IDPS, { status = 409, json = { message = "already exists" } }, { times = 1 })
assert.eq(c.idps:add_to_login_policy("idp-google-1"), true) -- 25
mock:on("POST", POLICY_IDPS, { status = 500, json = { message = "internal" } }, { times = 1 })
assert.eq(c.idps:add_to_login_policy("idp-google-1"), false) -- 26
check_requests("test-token")

-- ------------------------------------------------------------------ users (27-31)
local USERS = "/management/v1/users"
mock:on("POST", USERS .. "/_search", { json = { details = { totalResult = "2" }, result = {
  { id = "u1", userName = "alice", human = { email = { email = "alice@example.com", isEmailVerified = true } } },
  { id = "u2", userName = "bob" } } } })
local users = c.users:search({ queries = { { userNameQuery = { userName = "a", method = "TEXT_QUERY_METHOD_CONTAINS" } } } })
assert.eq(#users, 2)
assert.eq(users[1].human.email.email, "alice@example.com")
assert.eq(mock:last():json().queries[1].userNameQuery.userName, "a")
mock:on("POST", USERS .. "/_search", { json = { details = { totalResult = "0" } } }, { times = 1 })
assert.eq(#c.users:search({}), 0) -- 28
assert.eq(mock:last().body, "{}")
mock:on("POST", USERS .. "/_search", { status = 500, body = "err" }, { times = 1 })
local empty, uerr = c.users:search({})
assert.eq(empty, {}) -- 29
assert.contains(uerr, "HTTP 500")
mock:on("PUT", USERS .. "/u1/email", { json = { details = {} } })
assert.eq(c.users:update_email("u1", "new@example.com"), true) -- 30
assert.eq(mock:last():json(), { email = "new@example.com", isEmailVerified = true })
assert.eq(c.users:update_email("nobody", "x@example.com"), false) -- 31 (404: no route)
check_requests("test-token")

-- ------------------------------------------------------------------ login policy (32-38)
local POLICY = "/admin/v1/policies/login"
local policy = { allowUsernamePassword = true, allowRegister = true, allowExternalIdp = true, forceMfa = false,
  passwordlessType = "PASSWORDLESS_TYPE_ALLOWED", hidePasswordReset = false, passwordCheckLifetime = "864000s",
  externalLoginCheckLifetime = "864000s", mfaInitSkipLifetime = "2592000s", secondFactorCheckLifetime = "64800s",
  multiFactorCheckLifetime = "43200s" }
mock:on("GET", POLICY, { json = { policy = policy, isDefault = true } })
local got = c.login_policy:get() -- 32
assert.eq(got.allowUsernamePassword, true)
assert.eq(got.passwordCheckLifetime, "864000s")
mock:on("GET", POLICY, { status = 500, body = "err" }, { times = 1 })
assert.eq(c.login_policy:get(), nil) -- 33
mock:on("PUT", POLICY, { json = { details = {} } }, { times = 1 })
assert.eq(c.login_policy:update({ allowRegister = false }), true) -- 34
mock:on("PUT", POLICY, { status = 500, body = "err" }, { times = 1 })
assert.eq(c.login_policy:update({ allowRegister = false }), false) -- 35
mock:on("PUT", POLICY, { json = { details = {} } }, { times = 1 })
assert.eq(c.login_policy:disable_password(), true) -- 36
local put = mock:last():json()
assert.eq(put.allowUsernamePassword, false)
assert.eq(put.allowExternalIdp, true)
assert.eq(put.allowRegister, true)
assert.eq(put.passwordlessType, "PASSWORDLESS_TYPE_ALLOWED")
assert.eq(put.hidePasswordReset, true)
assert.eq(put.multiFactorCheckLifetime, "43200s")
assert.eq(put.secondFactorCheckLifetime, "64800s")
mock:on("GET", POLICY, { json = { policy = { allowUsernamePassword = false } } }, { times = 1 })
local puts = #mock:requests_to(POLICY, "PUT")
assert.eq(c.login_policy:disable_password(), true) -- 37: no PUT
assert.eq(#mock:requests_to(POLICY, "PUT"), puts)
mock:on("GET", POLICY, { status = 503, body = "down" }, { times = 1 })
assert.eq(c.login_policy:disable_password(), false) -- 38
check_requests("test-token")

-- ------------------------------------------------------------------ machine-key login
local dir = fs.tempdir("zitadel-test-")
local key_pem = dir .. "/key.pem"
run({ "openssl", "genrsa", "-traditional", "-out", key_pem, "2048" })
run({ "openssl", "rsa", "-in", key_pem, "-pubout", "-out", dir .. "/pub.pem" })
local PUBLIC = fs.read(dir .. "/pub.pem")
local MACHINE_KEY = { type = "serviceaccount", keyId = "key-123", key = fs.read(key_pem), userId = "sa-user-1",
                      expirationDate = "2099-01-01T00:00:00Z" }
assert.contains(MACHINE_KEY.key, "BEGIN RSA PRIVATE KEY") -- PKCS#1, as Zitadel issues it
fs.write(dir .. "/sa.json", json.encode(MACHINE_KEY))

-- The signature checked a second time by OpenSSL over the JWS signing input.
local function openssl_verifies(jwt)
  local h, c2, s = jwt:match("^([^.]+)%.([^.]+)%.([^.]+)$")
  fs.write(dir .. "/input", h .. "." .. c2)
  fs.write_bytes(dir .. "/sig", base64.url_decode(s))
  local r = process.run({ "openssl", "dgst", "-sha256", "-verify", dir .. "/pub.pem", "-signature", dir .. "/sig", dir .. "/input" })
  return r.status == 0 and r.stdout:find("Verified OK", 1, true) ~= nil
end

-- The token endpoint as Zitadel runs it: a JWT profile grant whose assertion must verify.
local issued, assertions = 0, {}
local token_ttl = 43199
mock:on("POST", "/oauth/v2/token", function(req)
  local form = url.parse("/?" .. req.body).params
  if req.headers["content-type"] ~= "application/x-www-form-urlencoded" then return { status = 415, json = { error = "unsupported" } } end
  if form.grant_type ~= "urn:ietf:params:oauth:grant-type:jwt-bearer" then return { status = 400, json = { error = "unsupported_grant_type" } } end
  if form.scope ~= "openid urn:zitadel:iam:org:project:id:zitadel:aud" then return { status = 400, json = { error = "invalid_scope" } } end
  local vok, claims, header = pcall(crypto.jwt_verify, form.assertion, PUBLIC,
    { algorithms = { "RS256" }, audience = "https://" .. req.headers["host"], issuer = "sa-user-1" })
  if not vok then return { status = 400, json = { error = "invalid_grant", error_description = tostring(claims) } } end
  if not openssl_verifies(form.assertion) then return { status = 400, json = { error = "invalid_grant", error_description = "openssl" } } end
  assertions[#assertions + 1] = { claims = claims, header = header, host = req.headers["host"] }
  issued = issued + 1
  return { json = { access_token = "machine-token-" .. issued, token_type = "Bearer", expires_in = token_ttl } }
end)
mock.requests = {}

local mk = zitadel.client({ url = mock.url, domain = "example.com", machine_key_file = dir .. "/sa.json" })
assert.eq(mk.access_token, "machine-token-1")
local a = assertions[1]
assert.eq(a.header.alg, "RS256")
assert.eq(a.header.typ, "JWT")
assert.eq(a.header.kid, "key-123")
assert.eq(a.claims.iss, "sa-user-1")
assert.eq(a.claims.sub, "sa-user-1")
assert.eq(a.claims.aud, "https://auth.example.com")
assert.eq(math.type(a.claims.iat), "integer") -- fixed: the original sent float seconds
assert.eq(math.type(a.claims.exp), "integer")
assert.eq(a.claims.exp - a.claims.iat, 300)
assert.is_true(math.abs(a.claims.iat - time()) < 60)
assert.eq(a.host, HOST)
local tok_req = mock:requests_to("/oauth/v2/token")[1]
assert.contains(tok_req.body, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer")
assert.eq(mk.projects:find("my-platform").id, "proj-123")
check_requests("machine-token-1")

-- the key as a table; a token the API rejects (401) is exchanged again and the call retried
local mt = zitadel.client({ url = mock.url, domain = "example.com", machine_key = MACHINE_KEY })
assert.eq(mt.access_token, "machine-token-2")
mock:on("GET", POLICY, function(req)
  if req.headers["authorization"] ~= "Bearer machine-token-3" then return { status = 401, json = { message = "token expired" } } end
  return { json = { policy = { allowUsernamePassword = false } } }
end)
assert.eq(mt.login_policy:get().allowUsernamePassword, false)
assert.eq(mt.access_token, "machine-token-3")

-- a token near its expiry is renewed before the next call
token_ttl = 1
local short = zitadel.client({ url = mock.url, domain = "example.com", machine_key = MACHINE_KEY })
assert.eq(short.access_token, "machine-token-4")
token_ttl = 43199
sleep(0.6)
mock:on("GET", POLICY, { json = { policy = { allowUsernamePassword = true } } })
short.login_policy:get()
assert.eq(short.access_token, "machine-token-5")
assert.eq(mock:last().headers["authorization"], "Bearer machine-token-5")

-- the Host override: another external name for the requests and the assertion's audience
mock.requests = {}
local custom = zitadel.client({ url = mock.url, domain = "example.com", host = "id.example.org", machine_key = MACHINE_KEY })
assert.eq(custom.host_header, "id.example.org")
assert.eq(assertions[#assertions].claims.aud, "https://id.example.org")
custom.login_policy:get()
check_requests(custom.access_token, "id.example.org")

-- a key the server does not know: the real signature check fails → the exchange error
local other_pem = dir .. "/other.pem"
run({ "openssl", "genrsa", "-traditional", "-out", other_pem, "2048" })
local wrong = { userId = "sa-user-1", keyId = "key-123", key = fs.read(other_pem) }
local e = raises(function() zitadel.client({ url = mock.url, domain = "example.com", machine_key = wrong }) end,
  "zitadel: token exchange failed (HTTP 400)")
assert.contains(e, "invalid signature")

-- a token answer without access_token
mock:on("POST", "/oauth/v2/token", { json = { token_type = "Bearer" } }, { times = 1 })
raises(function() zitadel.client({ url = mock.url, domain = "example.com", machine_key = MACHINE_KEY }) end,
  "zitadel: no access_token in token response")

-- ------------------------------------------------------------------ bad input
raises(function() zitadel.client() end, "zitadel.client: expected an options table")
raises(function() zitadel.client({ domain = "example.com", token = "t" }) end, "zitadel.client: url must be a non-empty string, got nil")
raises(function() zitadel.client({ url = mock.url, token = "t" }) end, "zitadel.client: domain must be a non-empty string, got nil")
raises(function() zitadel.client({ url = mock.url, domain = "example.com" }) end,
  "zitadel.client: one of machine_key, machine_key_file, or token required")
raises(function() zitadel.client({ url = mock.url, domain = "example.com", machine_key = { userId = "u", key = "k" } }) end,
  "zitadel: machine key missing keyId")
raises(function() zitadel.client({ url = mock.url, domain = "example.com", machine_key_file = dir .. "/missing.json" }) end,
  "zitadel.client: cannot read machine_key_file")
fs.write(dir .. "/bad.json", "not json")
raises(function() zitadel.client({ url = mock.url, domain = "example.com", machine_key_file = dir .. "/bad.json" }) end,
  "zitadel.client: machine_key_file " .. dir .. "/bad.json is not a JSON object")
raises(function() zitadel.client({ url = mock.url, domain = "example.com", machine_key = "key" }) end,
  "zitadel.client: machine_key must be a table {userId, key, keyId}, got string")
raises(function() c.domains:ensure_primary(nil) end, "zitadel.domains:ensure_primary: domain must be a non-empty string, got nil")
raises(function() c.projects:find(12) end, "zitadel.projects:find: name must be a non-empty string, got number")
raises(function() c.projects:create("p", "x") end, "zitadel.projects:create: opts must be a table, got string")
raises(function() c.apps:find(nil, "x") end, "zitadel.apps:find: project_id must be a non-empty string, got nil")
raises(function() c.apps:create_oidc("proj-123", nil) end, "zitadel.apps:create_oidc: opts must be a table, got nil")
raises(function() c.apps:ensure_oidc("proj-123", {}) end, "zitadel.apps:ensure_oidc: opts.name must be a non-empty string, got nil")
raises(function() c.idps:ensure_oidc({}) end, "zitadel.idps:ensure_oidc: opts.name must be a non-empty string, got nil")
raises(function() c.idps:add_to_login_policy(nil) end, "zitadel.idps:add_to_login_policy: idp_id must be a non-empty string, got nil")
raises(function() c.users:search("alice") end, "zitadel.users:search: query must be a table, got string")
raises(function() c.users:update_email("u1", nil) end, "zitadel.users:update_email: email must be a non-empty string, got nil")
raises(function() c.login_policy:update(nil) end, "zitadel.login_policy:update: policy must be a table, got nil")
-- ids are path segments: encoded, never able to change the path
mock:on("PUT", USERS .. "/a%2Fb/email", { json = {} })
assert.eq(c.users:update_email("a/b", "x@example.com"), true)
fs.remove(dir, { recursive = true })
http.stop()
