-- assay.argocd against a mock Argo CD API server (fixtures/argocd_api.lua): the original's test
-- plan, the fixed bugs ({} sync body, encoded queries and paths, one Content-Type, POST rollback,
-- session login instead of Basic auth, "items": null), waits and bad input.
local dir = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local argo = dofile(dir .. "/fixtures/argocd_api.lua").start({ token = "test-token-123", users = { admin = "password" } })
local argocd = require("assay.argocd")

local function app(name, health, sync, extra)
  local a = { metadata = { name = name, namespace = "argocd", uid = "uid-" .. name, labels = { team = "web", env = "prod" } },
    spec = { project = "default", source = { repoURL = "https://github.com/argoproj/argocd-example-apps.git", path = name, targetRevision = "HEAD" },
             destination = { server = "https://kubernetes.default.svc", namespace = name } },
    status = { health = { status = health }, sync = { status = sync, revision = "a1b2c3d4" },
               operationState = { phase = "Succeeded" } } }
  for k, v in pairs(extra or {}) do a[k] = v end
  return a
end
argo.apps["guestbook"] = app("guestbook", "Healthy", "Synced")
argo.apps["broken"] = app("broken", "Degraded", "Synced")
argo.apps["broken"].status.health.message = "Pod crash loop"
argo.apps["drifted"] = app("drifted", "Healthy", "OutOfSync")
argo.apps["drifted"].spec.project = "infra"
argo.apps["drifted"].metadata.labels = { team = "platform" }
argo.trees["guestbook"] = { nodes = { { kind = "Deployment", name = "guestbook-ui", health = { status = "Healthy" } },
                                     { kind = "Service", name = "guestbook-ui" } } }
argo.manifests["guestbook"] = { '{"kind":"Service"}', '{"kind":"Deployment"}' }
argo.projects["default"] = { metadata = { name = "default" }, spec = { sourceRepos = { "*" }, destinations = { { server = "*", namespace = "*" } } } }
argo.projects["infra"] = { metadata = { name = "infra" }, spec = { sourceRepos = { "https://github.com/example/infra" } } }
argo.repositories["https://github.com/argoproj/argocd-example-apps.git"] = { repo = "https://github.com/argoproj/argocd-example-apps.git",
  type = "git", connectionState = { status = "Successful" } }
argo.clusters["https://kubernetes.default.svc"] = { server = "https://kubernetes.default.svc", name = "in-cluster",
  info = { serverVersion = "1.29", connectionState = { status = "Successful" } } }
argo.settings = { url = "https://argocd.example.com", statusBadgeEnabled = true, appLabelKey = "app.kubernetes.io/instance" }
argo.version = { Version = "v2.10.4+f5d63a5", BuildDate = "2024-03-18T08:09:00Z", GitCommit = "f5d63a5c77d2e804e51ef94bee3db441e0789d00",
                 GitTreeState = "clean", GoVersion = "go1.21.3", Compiler = "gc", Platform = "linux/amd64" }
local function last() return argo.requests[#argo.requests] end

-- 23. trailing slashes stripped; 1. bearer auth
local c = argocd.client(argo.url .. "///", { token = "test-token-123" })
local v = c:version()
assert.eq(v.Version, "v2.10.4+f5d63a5")
assert.eq(v.GitCommit, "f5d63a5c77d2e804e51ef94bee3db441e0789d00")
assert.eq(last().path, "/api/version")
assert.eq(last().headers["authorization"], "Bearer test-token-123")
assert.eq(last().headers["content-type"], nil) -- no body, no Content-Type
-- 17. version platform
assert.eq(v.Platform, "linux/amd64")

-- 2. username/password: a session token from /api/v1/session (Argo CD takes no Basic auth), fetched once
argo.requests = {}
local cb = argocd.client(argo.url, { username = "admin", password = "password" })
assert.eq(cb:version().Version, "v2.10.4+f5d63a5")
assert.eq(cb.settings:get().statusBadgeEnabled, true)
assert.eq(#argo.requests, 3)
assert.eq(argo.requests[1].method, "POST")
assert.eq(argo.requests[1].path, "/api/v1/session")
assert.eq(json.parse(argo.requests[1].body), { username = "admin", password = "password" })
assert.eq(argo.requests[2].headers["authorization"], "Bearer session-jwt-admin")
assert.eq(argo.requests[3].headers["authorization"], "Bearer session-jwt-admin")
local e = assert.error(function() argocd.client(argo.url, { username = "admin", password = "nope" }):version() end)
assert.contains(e, "argocd: POST /api/v1/session HTTP 401")
-- without credentials: no Authorization header, and the server's 401
e = assert.error(function() argocd.client(argo.url):version() end)
assert.contains(e, "argocd: GET /api/version HTTP 401")
assert.eq(last().headers["authorization"], nil)

-- 3. apps list
local apps = c.apps:list()
assert.eq(#apps, 3)
assert.eq(apps[1].metadata.name, "broken")
assert.eq(apps[3].status.health.status, "Healthy")
assert.eq(apps[3].status.sync.status, "Synced")
-- filters are encoded (the original spliced the selector raw)
local filtered = c.apps:list({ project = "default", selector = "team=web,env=prod" })
assert.eq(#filtered, 2)
assert.eq(last().query, "project=default&selector=team%3Dweb%2Cenv%3Dprod")
-- "items": null → {}
assert.eq(c.apps:list({ project = "nothing" }), {})

-- 4. app get
local g = c.apps:get("guestbook")
assert.eq(g.metadata.uid, "uid-guestbook")
assert.eq(g.spec.source.path, "guestbook")
assert.eq(g.status.sync.revision, "a1b2c3d4")

-- 5. health
assert.eq(c.apps:health("broken"), { status = "Degraded", sync = "Synced", message = "Pod crash loop" })

-- 6. sync: only the given keys; bare sync sends {} (the original sent [], which Argo CD rejects)
local s = c.apps:sync("guestbook", { revision = "main", prune = true })
assert.eq(s.status.operationState.phase, "Running")
assert.eq(last().method, "POST")
assert.eq(last().path, "/api/v1/applications/guestbook/sync")
assert.eq(json.parse(last().body), { revision = "main", prune = true })
assert.eq(last().headers["content-type"], "application/json")
c.apps:sync("guestbook")
assert.eq(last().body, "{}")
c.apps:sync("guestbook", { dry_run = true, strategy = { hook = { force = true } } })
assert.eq(json.parse(last().body), { dryRun = true, strategy = { hook = { force = true } } })

-- 7. refresh (query asserted)
assert.eq(c.apps:refresh("guestbook").metadata.name, "guestbook")
assert.eq(last().query, "refresh=normal")
c.apps:refresh("guestbook", { type = "hard" })
assert.eq(last().query, "refresh=hard")

-- 8. rollback: POST (Argo CD's verb) with {id}
local rb = c.apps:rollback("guestbook", 5)
assert.eq(rb.status.operationState.phase, "Succeeded")
assert.eq(last().method, "POST")
assert.eq(json.parse(last().body), { id = 5 })

-- 9. resource tree; 10. manifests
local tree = c.apps:resources("guestbook")
assert.eq(#tree.nodes, 2)
assert.eq(tree.nodes[1].kind, "Deployment")
assert.eq(tree.nodes[2].kind, "Service")
local man = c.apps:manifests("guestbook")
assert.eq(#man.manifests, 2)
assert.eq(man.revision, "a1b2c3d4")
assert.eq(c.apps:manifests("guestbook", { revision = "v1.0 beta" }).revision, "v1.0 beta")
assert.eq(last().query, "revision=v1.0%20beta")

-- 12/13. projects; 14. repositories; 15. clusters; 16. settings
local projects = c.projects:list()
assert.eq(#projects, 2)
assert.eq(c.projects:get("default").spec.sourceRepos[1], "*")
assert.eq(c.repositories:list()[1].type, "git")
assert.eq(c.repositories:get("https://github.com/argoproj/argocd-example-apps.git").connectionState.status, "Successful")
-- one path segment: the URL's slashes are encoded (":" may arrive either way; both are valid in a segment)
assert.matches(last().path, "^/api/v1/repositories/https[:%%][3A]*%%2F%%2Fgithub%.com%%2Fargoproj%%2Fargocd%-example%-apps%.git$")
assert.eq(c.clusters:list()[1].info.serverVersion, "1.29")
assert.eq(c.clusters:get("https://kubernetes.default.svc").name, "in-cluster")
assert.matches(last().path, "^/api/v1/clusters/https[:%%][3A]*%%2F%%2Fkubernetes%.default%.svc$")
assert.is_true(c.settings:get().statusBadgeEnabled)

-- 18-21. is_healthy / is_synced
assert.is_true(c.apps:is_healthy("guestbook"))
assert.is_false(c.apps:is_healthy("broken"))
assert.is_true(c.apps:is_synced("guestbook"))
assert.is_false(c.apps:is_synced("drifted"))

-- 22. errors: 404 raises with the status and Argo CD's message
e = assert.error(function() c.apps:get("missing") end)
assert.contains(e, "argocd: GET /api/v1/applications/missing HTTP 404")
assert.contains(e, "not found")
-- names are path-encoded
e = assert.error(function() c.apps:get("a/b") end)
assert.contains(e, "argocd: GET /api/v1/applications/a%2Fb HTTP 404")

-- waits: at once, timeout, and errors propagate
assert.is_true(c.apps:wait_healthy("guestbook", 5))
assert.is_true(c.apps:wait_synced("guestbook", 5))
local t0 = os.monotonic()
e = assert.error(function() c.apps:wait_healthy("broken", 0.3, { interval = 0.1 }) end)
assert.contains(e, "argocd: timeout waiting for broken to become healthy")
e = assert.error(function() c.apps:wait_synced("drifted", 0.3, { interval = 0.1 }) end)
assert.contains(e, "argocd: timeout waiting for drifted to become synced")
assert.lt(os.monotonic() - t0, 3)
e = assert.error(function() c.apps:wait_healthy("missing", 5) end)
assert.contains(e, "HTTP 404")
async.spawn(function() sleep(0.2); argo.apps["drifted"].status.sync.status = "Synced" end)
assert.is_true(c.apps:wait_synced("drifted", 5, { interval = 0.1 }))

-- 11. delete: query, parsed body (an empty answer would give nil)
local d = c.apps:delete("guestbook", { cascade = false, propagation_policy = "background" })
assert.eq(type(d), "table")
assert.eq(last().method, "DELETE")
assert.eq(last().query, "cascade=false&propagationPolicy=background")
assert.eq(argo.apps["guestbook"], nil)

-- bad input names the function
e = assert.error(function() c.apps:get(nil) end)
assert.contains(e, "argocd.apps:get: name must be a non-empty string, got nil")
e = assert.error(function() c.apps:sync("guestbook", "now") end)
assert.contains(e, "argocd.apps:sync: opts must be a table, got string")
e = assert.error(function() c.apps:wait_healthy("broken") end)
assert.contains(e, "argocd.apps:wait_healthy: timeout_secs must be a number, got nil")
e = assert.error(function() c.apps:rollback("broken", "5") end)
assert.contains(e, "argocd.apps:rollback: id must be a number (a history id), got string")
e = assert.error(function() c.apps:refresh("broken", { type = "soft" }) end)
assert.contains(e, "argocd.apps:refresh: opts.type must be \"normal\" or \"hard\", got soft")
e = assert.error(function() c.repositories:get(nil) end)
assert.contains(e, "argocd.repositories:get: repo_url must be a non-empty string, got nil")
e = assert.error(function() argocd.client(nil) end)
assert.contains(e, "argocd.client: url must be a non-empty string, got nil")
e = assert.error(function() argocd.client(argo.url, "token") end)
assert.contains(e, "argocd.client: opts must be a table, got string")
e = assert.error(function() argocd.client(argo.url, { username = "admin" }) end)
assert.contains(e, "argocd.client: opts.password must be a string, got nil")

print("argocd ok")
http.stop()
