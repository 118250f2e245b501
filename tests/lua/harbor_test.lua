-- assay.harbor against a mock following Harbor API v2.0 shapes: the reference's test plan,
-- double-encoded nested repository names, {} scan bodies, vulnerability summaries, auth,
-- errors and bad input.
local harbor = require("assay.harbor")
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local mock_api = dofile(here .. "/fixtures/mock_api.lua")
local raises = mock_api.raises
local mock = mock_api.start()
local h = harbor.client(mock.url .. "/", { api_key = "robot$mytoken123" })
local V = "/api/v2.0"
local NGINX = V .. "/projects/library/repositories/nginx"

-- system
local components = {}
for _, n in ipairs({ "core", "database", "jobservice", "portal", "redis", "registry", "registryctl" }) do
  components[#components + 1] = { name = n, status = "healthy" }
end
mock:on("GET", V .. "/health", { json = { status = "healthy", components = components } })
local health = h.system:health()
assert.eq(health.status, "healthy")
assert.eq(#health.components, 7)
assert.eq(health.components[1].name, "core")
assert.eq(mock:last().headers["authorization"], "Bearer robot$mytoken123")
assert.eq(h.system:is_healthy(), true)
mock:on("GET", V .. "/health", { json = { status = "unhealthy", components = { { name = "core", status = "healthy" },
                                                                               { name = "redis", status = "unhealthy" } } } })
assert.eq(h.system:is_healthy(), false)
mock:on("GET", V .. "/health", { json = { status = "healthy" } })
assert.eq(h.system:is_healthy(), false)
mock:on("GET", V .. "/systeminfo", { json = { harbor_version = "v2.11.0", auth_mode = "db_auth", with_trivy = true } })
assert.eq(h.system:info().harbor_version, "v2.11.0")
mock:on("GET", V .. "/statistics", { json = { total_project_count = 5, private_project_count = 2 } })
assert.eq(h.system:statistics().total_project_count, 5)

-- projects and repositories
mock:on("GET", V .. "/projects", { json = { { project_id = 1, name = "library" }, { project_id = 2, name = "team" } } })
assert.eq(#h.projects:list({ name = "lib", public = true, page = 1, page_size = 10 }), 2)
assert.eq(mock:last().query, "name=lib&public=true&page=1&page_size=10")
mock:on("GET", V .. "/projects/library", { json = { name = "library", metadata = { auto_scan = "true" } } })
assert.eq(h.projects:get("library").metadata.auto_scan, "true")
mock:on("GET", V .. "/projects/library/repositories", { json = { { name = "library/nginx" }, { name = "library/redis" } } })
assert.eq(h.repositories:list("library", { q = "name=~ngi" })[1].name, "library/nginx")
assert.eq(mock:last().params.q, "name=~ngi")
-- a nested repository name is encoded twice, as Harbor requires: sent as team%252Fapp, the
-- server's one decoding (Kestrel here, Harbor's router there) leaves the single segment team%2Fapp
mock:on("GET", V .. "/projects/library/repositories/team%2Fapp", { json = { name = "library/team/app" } })
assert.eq(h.repositories:get("library", "team/app").name, "library/team/app")
assert.eq(mock:last().path, V .. "/projects/library/repositories/team%2Fapp")

-- artifacts
mock:on("GET", NGINX .. "/artifacts", { json = {
  { digest = "sha256:aaa", type = "IMAGE", tags = { { name = "latest" }, { name = "1.27" } } },
  { digest = "sha256:bbb", type = "IMAGE", tags = { { name = "1.26" } } } } })
local arts = h.artifacts:list("library", "nginx", { with_tag = true, with_scan_overview = false, page_size = 2 })
assert.eq(#arts, 2)
assert.eq(arts[1].digest, "sha256:aaa")
assert.eq(#arts[1].tags, 2)
assert.eq(mock:last().query, "page_size=2&with_tag=true&with_scan_overview=false")
mock:on("GET", NGINX .. "/artifacts/latest", function(req)
  if req.params.with_scan_overview == "true" then
    return { json = { digest = "sha256:aaa", scan_overview = {
      ["application/vnd.scanner.adapter.vuln.report.harbor+json; version=1.0"] = { summary = { total = 1 } },
      ["application/vnd.security.vulnerability.report; version=1.1"] = { scan_status = "Success",
        summary = { total = 12, fixable = 5, summary = { Critical = 1, High = 3, Medium = 8 } } } } } }
  end
  return { json = { digest = "sha256:aaa", extra_attrs = { architecture = "amd64" } } }
end)
assert.eq(h.artifacts:get("library", "nginx", "latest").extra_attrs.architecture, "amd64")
mock:on("GET", NGINX .. "/artifacts/sha256:aaa/tags", { json = { { name = "latest", immutable = false }, { name = "1.27", immutable = true } } })
local tags = h.artifacts:tags("library", "nginx", "sha256:aaa")
assert.eq(#tags, 2)
assert.eq(tags[2].immutable, true)
assert.eq(h.artifacts:exists("library", "nginx", "latest"), true)
assert.eq(h.artifacts:exists("library", "nginx", "99.99.99"), false)
mock:on("GET", NGINX .. "/artifacts/broken", { status = 500, body = "db down" })
raises(function() harbor.client(mock.url, { retries = 0 }).artifacts:exists("library", "nginx", "broken") end, "harbor: GET /projects/library/repositories/nginx/artifacts/broken HTTP 500")
assert.eq(h.artifacts:latest("library", "nginx").digest, "sha256:aaa")
assert.eq(mock:last().query, "page_size=1&sort=-push_time")
mock:on("GET", V .. "/projects/library/repositories/empty/artifacts", { json = json.array() })
assert.eq(h.artifacts:latest("library", "empty"), nil)

-- scans
mock:on("POST", NGINX .. "/artifacts/latest/scan", { status = 202 })
assert.eq(h.scan:trigger("library", "nginx", "latest"), true)
assert.eq(mock:last().body, "{}")
mock:on("POST", NGINX .. "/artifacts/old/scan", { status = 200 })
raises(function() h.scan:trigger("library", "nginx", "old") end, "harbor: POST /projects/library/repositories/nginx/artifacts/old/scan HTTP 200")
local v = h.scan:vulnerabilities("library", "nginx", "latest")
assert.eq(v, { total = 12, fixable = 5, critical = 1, high = 3, medium = 8, low = 0, negligible = 0 })
mock:on("GET", NGINX .. "/artifacts/unscanned", { json = { digest = "sha256:ccc" } })
assert.eq(h.scan:vulnerabilities("library", "nginx", "unscanned"), nil)

-- replication
mock:on("GET", V .. "/replication/policies", { json = { { id = 1, trigger = { type = "scheduled" } }, { id = 2, trigger = { type = "manual" } } } })
local pols = h.replication:policies()
assert.eq(#pols, 2)
assert.eq(pols[1].trigger.type, "scheduled")
mock:on("GET", V .. "/replication/executions", { json = { { id = 9, status = "Succeed" } } })
assert.eq(h.replication:executions({ policy_id = 1 })[1].status, "Succeed")
assert.eq(mock:last().query, "policy_id=1")

-- basic auth (robot accounts use it too)
harbor.client(mock.url, { username = "admin", password = "Harbor12345" }).system:info()
assert.eq(mock:last().headers["authorization"], "Basic YWRtaW46SGFyYm9yMTIzNDU=")

-- errors and bad input
raises(function() h.projects:get("missing") end, "harbor: GET /projects/missing HTTP 404")
raises(function() h.repositories:get("library", nil) end, "harbor.repositories:get: repository must be a non-empty string, got nil")
raises(function() h.artifacts:get("library", "nginx", "") end, "harbor.artifacts:get: reference must be a non-empty string, got an empty string")
raises(function() h.projects:get({}) end, "harbor.projects:get: project must be a non-empty string, got table")
raises(function() harbor.client(nil) end, "harbor: base URL must be a non-empty string")
http.stop()
