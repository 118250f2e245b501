-- assay.grafana against a mock following Grafana's HTTP API shapes: the reference's test plan,
-- auth (api_key, basic, none on /api/health), org header, query encoding, errors, bad input.
local grafana = require("assay.grafana")
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local mock_api = dofile(here .. "/fixtures/mock_api.lua")
local raises = mock_api.raises
local mock = mock_api.start()
local g = grafana.client(mock.url .. "/", { api_key = "glsa_test_key_12345" })

mock:on("GET", "/api/health", { json = { commit = "abc123", database = "ok", version = "10.4.1" } })
local h = g.health:check()
assert.eq(h.database, "ok")
assert.eq(h.version, "10.4.1")
assert.eq(h.commit, "abc123")
assert.eq(mock:last().headers["authorization"], nil) -- the public endpoint gets no credentials

mock:on("GET", "/api/datasources", { json = { { id = 1, uid = "prometheus-uid", type = "prometheus" }, { id = 2, uid = "loki-uid", type = "loki" } } })
local ds = g.datasources:list()
assert.eq(#ds, 2)
assert.eq(ds[2].uid, "loki-uid")
assert.eq(ds[1].type, "prometheus")
assert.eq(mock:last().headers["authorization"], "Bearer glsa_test_key_12345")
mock:on("GET", "/api/datasources/uid/prometheus-uid", { json = { id = 1, uid = "prometheus-uid", isDefault = true } })
local one = g.datasources:get("prometheus-uid")
assert.eq(one.id, 1)
assert.eq(one.isDefault, true)
mock:on("GET", "/api/datasources/2", { json = { id = 2, uid = "loki-uid" } })
assert.eq(g.datasources:get(2).uid, "loki-uid")

mock:on("GET", "/api/search", { json = { { id = 1, uid = "node-exp", title = "Node Exporter" }, { id = 2, uid = "node-2", title = "Node 2" } } })
local hits = g.dashboards:search({ query = "node exporter", type = "dash-db", tag = "env:prod", limit = 10 })
assert.eq(#hits, 2)
assert.eq(hits[1].uid, "node-exp")
assert.eq(mock:last().query, "query=node%20exporter&type=dash-db&tag=env%3Aprod&limit=10")
mock:on("GET", "/api/dashboards/uid/node-exp", { json = { dashboard = { title = "Node Exporter", panels = { {}, {} } },
                                                        meta = { folderTitle = "Infra", slug = "node-exporter" } } })
local d = g.dashboards:get("node-exp")
assert.eq(d.dashboard.title, "Node Exporter")
assert.eq(#d.dashboard.panels, 2)
assert.eq(d.meta.folderTitle, "Infra")
assert.eq(d.meta.slug, "node-exporter")

mock:on("GET", "/api/annotations", { json = { { id = 1, tags = { "deploy" } }, { id = 2, tags = { "alert" } } } })
local anns = g.annotations:list({ from = 1700000000000, to = 1700003600000, dashboard_id = 5, limit = 20, tags = { "deploy", "prod" } })
assert.eq(#anns, 2)
assert.eq(anns[1].tags[1], "deploy")
assert.eq(mock:last().query, "from=1700000000000&to=1700003600000&dashboardId=5&limit=20&tags=deploy&tags=prod")
mock:on("POST", "/api/annotations", function(req) return { json = { id = 42, message = "Annotation added", got = req:json() } } end)
local created = g.annotations:create({ text = "deployed v1.2", tags = { "deploy" } })
assert.eq(created.id, 42)
assert.eq(created.message, "Annotation added")
assert.eq(created.got.text, "deployed v1.2")
assert.eq(mock:last().headers["content-type"], "application/json")

mock:on("GET", "/api/org", function(req)
  if req.headers["authorization"] ~= "Bearer glsa_test_key_12345" then return { status = 401, json = { message = "Unauthorized" } } end
  return { json = { id = 1, name = "Main Org." } }
end)
assert.eq(g.org:get(), { id = 1, name = "Main Org." })
mock:on("GET", "/api/v1/provisioning/alert-rules", { json = { { uid = "r1", ruleGroup = "critical" }, { uid = "r2", ruleGroup = "warning" } } })
local rules = g.alerts:rules()
assert.eq(#rules, 2)
assert.eq(rules[2].ruleGroup, "warning")
mock:on("GET", "/api/folders", { json = { { id = 1, uid = "infra", title = "Infrastructure" }, { id = 2, uid = "apps", title = "Apps" } } })
local folders = g.folders:list()
assert.eq(#folders, 2)
assert.eq(folders[1].uid, "infra")

-- basic auth and the org header
local b = grafana.client(mock.url, { username = "admin", password = "admin", org_id = 3 })
b.folders:list()
assert.eq(mock:last().headers["authorization"], "Basic YWRtaW46YWRtaW4=")
assert.eq(mock:last().headers["x-grafana-org-id"], "3")
-- the caller's headers go with the org header (its own value wins), but not to the public /api/health
local hb = grafana.client(mock.url, { api_key = "k", org_id = 4, headers = { ["X-Proxy"] = "p", ["X-Grafana-Org-Id"] = "1" } })
hb.folders:list()
assert.eq(mock:last().headers["x-proxy"], "p")
assert.eq(mock:last().headers["x-grafana-org-id"], "4")
hb.health:check()
assert.eq(mock:last().headers["x-proxy"], nil)

-- errors and bad input
raises(function() grafana.client(mock.url).org:get() end, 'grafana: GET /api/org HTTP 401: {"message":"Unauthorized"}')
raises(function() g.dashboards:get("missing") end, "grafana: GET /api/dashboards/uid/missing HTTP 404")
raises(function() g.dashboards:get(nil) end, "grafana.dashboards:get: uid must be a non-empty string, got nil")
raises(function() g.datasources:get({}) end, "grafana.datasources:get: id_or_uid must be a non-empty string, got table")
raises(function() g.annotations:create("x") end, "grafana.annotations:create: annotation must be a table, got string")
raises(function() g.dashboards:search("node") end, "grafana.dashboards:search: opts must be a table, got string")
http.stop()
