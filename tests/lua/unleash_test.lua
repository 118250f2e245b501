-- assay.unleash against a mock following Unleash's documented Admin API. The real server is
-- exercised by unleash_server_test.lua (open-source unleash-server 7.5 on PostgreSQL); this file
-- keeps what that server cannot easily produce: the reference's test plan as written, project
-- create/update/delete answers (Enterprise-only), the pre-7 single-project path, 5xx and 403
-- errors, a /health that fails and recovers for wait, bad input, and the exact requests sent
-- (raw Authorization token, encoded paths, {} toggle bodies, Content-Type only on writes).
local unleash = require("assay.unleash")
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local mock_api = dofile(here .. "/fixtures/mock_api.lua")
local raises = mock_api.raises
local mock = mock_api.start()
local TOKEN = "*:*.test-admin-token"
local c = unleash.client(mock.url .. "/", { token = TOKEN })
local P = "/api/admin/projects/demo-project"

for _, f in ipairs({ "client", "wait", "ensure_project", "ensure_environment", "ensure_token" }) do
  assert.eq(type(unleash[f]), "function", f)
end

-- health with the raw token (no "Bearer ")
mock:on("GET", "/health", function(req)
  if req.headers["authorization"] ~= TOKEN then return { status = 401, json = { message = "unauthorized" } } end
  return { json = { health = "GOOD" } }
end)
assert.eq(c.health:check().health, "GOOD")
assert.eq(mock:last().headers["content-type"], nil) -- no Content-Type on a GET

-- projects
mock:on("GET", "/api/admin/projects", { json = { version = 1, projects = { { id = "default", name = "Default" }, { id = "demo-project", name = "Demo Project" } } } })
local projects = c.projects:list()
unleash.client(mock.url, { token = TOKEN, headers = { ["X-Proxy"] = "p" } }).projects:list()
assert.eq(mock:last().headers["x-proxy"], "p") -- the caller's headers, as every rest-based client takes them
assert.eq(#projects, 2)
assert.eq(projects[2].name, "Demo Project")
mock:on("GET", P, { json = { id = "demo-project", environments = { { environment = "development" }, { environment = "production" } } } })
assert.eq(#c.projects:get("demo-project").environments, 2) -- servers before 7: …/{id} (after …/overview 404s)
assert.eq(c.projects:get("nope"), nil)
-- Unleash 7 answers at …/overview, without the id (filled in); no second request then
mock:on("GET", "/api/admin/projects/current/overview", { json = { name = "Current", environments = {} } })
local current = c.projects:get("current")
assert.eq(current.id, "current")
assert.eq(current.name, "Current")
assert.eq(mock:last().path, "/api/admin/projects/current/overview")
assert.eq(#mock:requests_to("/api/admin/projects/current"), 0)
mock:on("POST", "/api/admin/projects", function(req) return { status = 201, json = req:json() } end)
assert.eq(c.projects:create({ id = "new", name = "New" }).id, "new")
assert.eq(mock:last().headers["content-type"], "application/json")
mock:on("PUT", "/api/admin/projects/new", function(req) return { json = req:json() } end)
assert.eq(c.projects:update("new", { id = "new", name = "Renamed" }).name, "Renamed")
mock:on("DELETE", "/api/admin/projects/new", { status = 200 })
assert.eq(c.projects:delete("new"), nil)
mock:on("DELETE", "/api/admin/projects/gone", { status = 202 }) -- any 2xx
assert.eq(c.projects:delete("gone"), nil)

-- environments
mock:on("GET", "/api/admin/environments", { json = { version = 1, environments = { { name = "development" }, { name = "production" } } } })
local envs = c.environments:list()
assert.eq(envs[1].name, "development")
assert.eq(envs[2].name, "production")
mock:on("POST", P .. "/environments", function(req) return { json = json.object(), headers = { ["X-Env"] = req:json().environment } } end)
c.environments:enable("demo-project", "staging")
assert.eq(mock:last():json(), { environment = "staging" })
mock:on("DELETE", P .. "/environments/staging", { status = 200 })
assert.eq(c.environments:disable("demo-project", "staging"), nil)

-- features
mock:on("GET", P .. "/features", { json = { version = 2, features = { { name = "dark-mode", enabled = false }, { name = "new-checkout", enabled = true } } } })
local features = c.features:list("demo-project")
assert.eq(#features, 2)
assert.eq(features[2].enabled, true)
mock:on("GET", P .. "/features/dark-mode", { json = { name = "dark-mode", type = "release", environments = { {}, {} } } })
local f = c.features:get("demo-project", "dark-mode")
assert.eq(f.type, "release")
assert.eq(#f.environments, 2)
assert.eq(c.features:get("demo-project", "missing"), nil)
mock:on("POST", P .. "/features", function(req) return { status = 201, json = req:json() } end)
assert.eq(c.features:create("demo-project", { name = "beta", type = "experiment" }).name, "beta")
mock:on("PUT", P .. "/features/beta", function(req) return { json = req:json() } end)
assert.eq(c.features:update("demo-project", "beta", { description = "d" }).description, "d")
mock:on("DELETE", P .. "/features/beta", { status = 202 })
assert.eq(c.features:archive("demo-project", "beta"), nil)
mock:on("POST", P .. "/features/dark-mode/environments/development/on", { status = 200 })
c.features:toggle_on("demo-project", "dark-mode", "development")
assert.eq(mock:last().body, "{}") -- an object, not []
mock:on("POST", P .. "/features/dark-mode/environments/production/off", { status = 200 })
c.features:toggle_off("demo-project", "dark-mode", "production")
assert.eq(mock:last().path, P .. "/features/dark-mode/environments/production/off")

-- strategies
local S = P .. "/features/dark-mode/environments/production/strategies"
mock:on("GET", S, { json = { { id = "strategy-1", name = "default" }, { id = "strategy-2", name = "flexibleRollout" } } })
local strategies = c.strategies:list("demo-project", "dark-mode", "production")
assert.eq(#strategies, 2)
assert.eq(strategies[2].name, "flexibleRollout")
assert.eq(c.strategies:list("demo-project", "dark-mode", "nowhere"), {})
mock:on("POST", S, function(req) local b = req:json() b.id = "strategy-3" return { json = b } end)
local added = c.strategies:add("demo-project", "dark-mode", "production",
  { name = "flexibleRollout", parameters = { rollout = "50", stickiness = "default" } })
assert.eq(added.id, "strategy-3")
assert.eq(added.parameters.rollout, "50")

-- tokens
mock:on("GET", "/api/admin/api-tokens", { json = { tokens = {
  { secret = "s1", tokenName = "ci", type = "client", environment = "development" },
  { secret = "s2", tokenName = "ci", type = "client", environment = "production" } } } })
assert.eq(#c.tokens:list(), 2)
mock:on("POST", "/api/admin/api-tokens", function(req) local b = req:json() b.secret = "new-secret" return { status = 201, json = b } end)
assert.eq(c.tokens:create({ tokenName = "x", type = "client" }).secret, "new-secret")
mock:on("DELETE", "/api/admin/api-tokens/old-token-secret", { status = 200 })
assert.eq(c.tokens:delete("old-token-secret"), nil)
mock:on("DELETE", "/api/admin/api-tokens/*:a%2Fb", { status = 200 }) -- secrets are encoded path segments
c.tokens:delete("*:a/b")
assert.eq(mock:last().path, "/api/admin/api-tokens/*:a%2Fb")

-- ensure_* helpers
assert.eq(unleash.ensure_project(c, "demo-project").id, "demo-project")
local posts = #mock:requests_to("/api/admin/projects", "POST")
assert.not_nil(unleash.ensure_project(c, "fresh", { name = "Fresh", description = "new one" }))
assert.eq(#mock:requests_to("/api/admin/projects", "POST"), posts + 1)
assert.eq(mock:last():json(), { id = "fresh", name = "Fresh", description = "new one" })
mock:on("POST", "/api/admin/projects", { status = 403, json = { message = "forbidden" } })
raises(function() unleash.ensure_project(c, "other") end, "unleash.ensure_project: unleash: POST /api/admin/projects HTTP 403")
assert.eq(unleash.ensure_environment(c, "demo-project", "staging"), true)
mock:on("POST", P .. "/environments", { status = 409, json = { message = "Environment already enabled" } })
assert.eq(unleash.ensure_environment(c, "demo-project", "staging"), true)
mock:on("POST", P .. "/environments", { status = 403, json = { message = "forbidden" } })
raises(function() unleash.ensure_environment(c, "demo-project", "staging") end, "unleash.ensure_environment: unleash: POST /api/admin/projects/demo-project/environments HTTP 403")
local before = #mock:requests_to("/api/admin/api-tokens", "POST")
assert.eq(unleash.ensure_token(c, { tokenName = "ci", type = "client", environment = "production" }).secret, "s2")
assert.eq(#mock:requests_to("/api/admin/api-tokens", "POST"), before)
assert.eq(unleash.ensure_token(c, { tokenName = "deploy", type = "admin" }).secret, "new-secret")
assert.eq(#mock:requests_to("/api/admin/api-tokens", "POST"), before + 1)
raises(function() unleash.ensure_token(c, { type = "client" }) end, "unleash.ensure_token: opts.tokenName is required")
raises(function() unleash.ensure_token(c, { tokenName = "x" }) end, "unleash.ensure_token: opts.type is required")

-- wait
assert.eq(unleash.wait(mock.url, { timeout = 5, interval = 0.1, token = TOKEN }), true)
mock:on("GET", "/health", { status = 503 }, { times = 2 })
assert.eq(unleash.wait(mock.url, { timeout = 5, interval = 0.05, token = TOKEN }), true)
assert.eq(#mock:requests_to("/health"), 5)
mock:on("GET", "/health", { status = 503 })
local started = os.monotonic()
raises(function() unleash.wait(mock.url, { timeout = 0.5, interval = 0.2 }) end, "unleash.wait: not reachable at " .. mock.url .. " after 0.5s")
assert(os.monotonic() - started < 2, "wait overran its timeout")

-- errors and bad input
mock:on("GET", "/api/admin/projects", { status = 500, body = "db down" })
raises(function() unleash.client(mock.url, { retries = 0 }).projects:list() end, "unleash: GET /api/admin/projects HTTP 500: db down")
raises(function() c.features:get("demo-project", nil) end, "unleash.features:get: feature name must be a non-empty string, got nil")
raises(function() c.features:toggle_on("demo-project", "dark-mode", nil) end, "unleash.features:toggle_on: environment must be a non-empty string, got nil")
raises(function() c.projects:create("x") end, "unleash.projects:create: body must be a table, got string")
raises(function() unleash.ensure_project({}, "x") end, "unleash.ensure_project: client must be an unleash client")
raises(function() unleash.wait(nil) end, "unleash.wait: url must be a non-empty string, got nil")
http.stop()
