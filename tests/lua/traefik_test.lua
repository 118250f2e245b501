-- assay.traefik against a mock following Traefik v3's API shapes: the reference's test plan,
-- X-Next-Page pagination, encoded names, auth, 404 errors, bad input.
local traefik = require("assay.traefik")
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local mock_api = dofile(here .. "/fixtures/mock_api.lua")
local raises = mock_api.raises
local mock = mock_api.start()
local t = traefik.client(mock.url .. "//")

mock:on("GET", "/api/overview", { json = { http = { routers = { total = 10, warnings = 1, errors = 0 }, services = { total = 8 } },
                                           tcp = { routers = { total = 2 } } } })
local o = t.info:overview()
assert.eq(o.http.routers.total, 10)
assert.eq(o.http.routers.warnings, 1)
assert.eq(o.http.services.total, 8)
assert.eq(o.tcp.routers.total, 2)
mock:on("GET", "/api/version", { json = { Version = "3.2.0", Codename = "picodon" } })
assert.eq(t.info:version().Version, "3.2.0")
assert.eq(t.info:version().Codename, "picodon")
mock:on("GET", "/api/rawdata", { json = { routers = { ["a@docker"] = {} } } })
assert.not_nil(t.info:rawdata().routers["a@docker"])

mock:on("GET", "/api/entrypoints", { json = { { name = "web", address = ":80" }, { name = "websecure", address = ":443" } } })
local eps = t.entrypoints:list()
assert.eq(eps[1].name, "web")
assert.eq(eps[1].address, ":80")
assert.eq(eps[2].address, ":443")
mock:on("GET", "/api/entrypoints/web", { json = { name = "web", address = ":80" } })
assert.eq(t.entrypoints:get("web").address, ":80")

mock:on("GET", "/api/http/routers", { json = { { name = "dashboard@internal", status = "enabled" },
                                               { name = "my-app@docker", rule = "Host(`app.example.com`)", status = "enabled" } } })
local routers = t.routers:list()
assert.eq(routers[1].name, "dashboard@internal")
assert.eq(routers[1].status, "enabled")
assert.eq(routers[2].rule, "Host(`app.example.com`)")
assert.eq(mock:last().query, "page=1&per_page=100")
mock:on("GET", "/api/http/routers/my-app@docker", { json = { name = "my-app@docker", service = "my-app", status = "enabled",
  middlewares = { "auth@file", "ratelimit@file" }, tls = { certResolver = "letsencrypt" } } })
local r = t.routers:get("my-app@docker")
assert.eq(r.service, "my-app")
assert.eq(#r.middlewares, 2)
assert.eq(r.tls.certResolver, "letsencrypt")
assert.eq(t.routers:is_enabled("my-app@docker"), true)
assert.eq(t.routers:has_tls("my-app@docker"), true)
mock:on("GET", "/api/http/routers/off@docker", { json = { name = "off@docker", status = "disabled" } })
assert.eq(t.routers:is_enabled("off@docker"), false)
assert.eq(t.routers:has_tls("off@docker"), false)
mock:on("GET", "/api/http/routers/empty-tls@docker", { json = { name = "empty-tls@docker", status = "enabled", tls = json.object() } })
assert.eq(t.routers:has_tls("empty-tls@docker"), true)

mock:on("GET", "/api/http/services", { json = { { name = "my-app@docker", type = "loadbalancer",
  loadBalancer = { servers = { { url = "http://10.0.0.1:80" }, { url = "http://10.0.0.2:80" } } } } } })
local svcs = t.services:list()
assert.eq(svcs[1].type, "loadbalancer")
assert.eq(#svcs[1].loadBalancer.servers, 2)
assert.eq(svcs[1].loadBalancer.servers[1].url, "http://10.0.0.1:80")
mock:on("GET", "/api/http/services/my-app@docker", { json = { name = "my-app@docker", loadBalancer = {
  servers = { { url = "a" }, { url = "b" }, { url = "c" } }, healthCheck = { path = "/health" } } } })
assert.eq(t.services:get("my-app@docker").loadBalancer.healthCheck.path, "/health")
assert.eq(t.services:server_count("my-app@docker"), 3)
mock:on("GET", "/api/http/services/weighted@file", { json = { name = "weighted@file", weighted = {} } })
assert.eq(t.services:server_count("weighted@file"), 0)

mock:on("GET", "/api/http/middlewares", { json = { { name = "auth@file", type = "forwardauth" }, { name = "rl@file", rateLimit = { average = 100 } } } })
local mws = t.middlewares:list()
assert.eq(mws[1].type, "forwardauth")
assert.eq(mws[2].rateLimit.average, 100)
mock:on("GET", "/api/http/middlewares/auth@file", { json = { name = "auth@file", type = "forwardauth" } })
assert.eq(t.middlewares:get("auth@file").type, "forwardauth")
mock:on("GET", "/api/tcp/routers", { json = { { name = "db@docker" } } })
mock:on("GET", "/api/tcp/services", { json = { { name = "db@docker" }, { name = "cache@docker" } } })
assert.eq(#t.tcp:routers(), 1)
assert.eq(#t.tcp:services(), 2)

-- healthy: two counts
mock:on("GET", "/api/http/routers", { json = { { status = "enabled" }, { status = "enabled" }, { status = "enabled" },
                                               { status = "disabled" }, { status = "warning" } } })
local enabled, errored = t.routers:healthy()
assert.eq(enabled, 3)
assert.eq(errored, 2)

-- every page, following X-Next-Page
mock:on("GET", "/api/http/routers", function(req)
  local page = tonumber(req.params.page)
  return { json = { { name = "r" .. page } }, headers = { ["X-Next-Page"] = page < 3 and tostring(page + 1) or "1" } }
end)
local all = t.routers:list()
assert.eq(#all, 3)
assert.eq(all[3].name, "r3")

-- names are encoded path segments
mock:on("GET", "/api/http/routers/a b%2Fc@file", { json = { name = "odd", status = "enabled" } })
assert.eq(t.routers:get("a b/c@file").name, "odd")

-- auth
traefik.client(mock.url, { username = "admin", password = "pw" }).info:version()
assert.eq(mock:last().headers["authorization"], "Basic YWRtaW46cHc=")

-- errors and bad input
raises(function() t.routers:get("x") end, "traefik: GET /api/http/routers/x HTTP 404")
raises(function() t.routers:get(nil) end, "traefik.routers:get: name must be a non-empty string, got nil")
raises(function() t.services:server_count("") end, "traefik.services:server_count: name must be a non-empty string, got an empty string")
raises(function() traefik.client("") end, "traefik: base URL must be a non-empty string")
http.stop()
