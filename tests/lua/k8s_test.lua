-- assay.k8s against the in-memory Kubernetes API (fixtures/kube_api.lua): every scenario of the
-- original's test plan, the fixed bugs (encoded selectors, content types, binary secrets,
-- exists on 403/500, immutable built-in kinds), pagination, retries and bad input.
local dir = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local kube = dofile(dir .. "/fixtures/kube_api.lua")
local api = kube.start({ token = "fake-token" })
local k8s = require("assay.k8s")
local O = { base_url = api.url, token = "fake-token" }

local function with(extra)
  local o = { base_url = api.url, token = "fake-token" }
  for k, v in pairs(extra) do o[k] = v end
  return o
end

local function pod(name, phase, labels, ready)
  return { apiVersion = "v1", kind = "Pod",
    metadata = { name = name, namespace = "default", labels = labels or { app = "web" } },
    spec = { containers = { { name = "app", image = "nginx:1.27" } }, nodeName = "node-1" },
    status = { phase = phase, podIP = "10.0.0." .. #name,
               conditions = { { type = "Initialized", status = "True" }, { type = "Ready", status = ready or "True" } } } }
end

api:add_all({ pod("web-1", "Running"), pod("web-2", "Running", { app = "web", tier = "canary" }), pod("web-3", "Pending", { app = "api" }, "False") })
api.logs["default/web-1"] = "server started\nlistening on :8080\nready\n"
api:add({ apiVersion = "v1", kind = "Secret", metadata = { name = "db-creds", namespace = "default" }, type = "Opaque",
  data = { username = base64.encode("admin"), password = base64.encode("secret"), blob = base64.encode("\0\255\254binary") } })
api:add({ apiVersion = "v1", kind = "Secret", metadata = { name = "empty", namespace = "default" }, type = "Opaque" })
api:add({ apiVersion = "v1", kind = "ConfigMap", metadata = { name = "app-config", namespace = "default" },
  data = { ["app.env"] = "production", LOG_LEVEL = "info" } })
api:add({ apiVersion = "v1", kind = "Endpoints", metadata = { name = "web", namespace = "default" },
  subsets = { { addresses = { { ip = "10.0.0.5" }, { ip = "10.0.0.6" } }, notReadyAddresses = { { ip = "10.0.0.9" } },
                ports = { { port = 8080, protocol = "TCP" } } } } })
api:add({ apiVersion = "v1", kind = "Endpoints", metadata = { name = "idle", namespace = "default" }, subsets = json.array() })
local function deployment(name, replicas, ready, updated)
  return { apiVersion = "apps/v1", kind = "Deployment", metadata = { name = name, namespace = "default", generation = 2 },
    spec = { replicas = replicas, selector = { matchLabels = { app = name } } },
    status = { observedGeneration = 2, replicas = replicas, readyReplicas = ready, updatedReplicas = updated or ready,
               availableReplicas = ready, unavailableReplicas = replicas - ready } }
end
api:add_all({ deployment("web", 3, 3), deployment("api", 3, 1) })
api:add({ apiVersion = "networking.k8s.io/v1", kind = "Ingress", metadata = { name = "web", namespace = "default" },
  spec = { rules = { { host = "web.example.com" } } }, status = { conditions = { { type = "Ready", status = "True" } } } })
api:add({ apiVersion = "v1", kind = "PersistentVolumeClaim", metadata = { name = "data", namespace = "default" },
  spec = { accessModes = { "ReadWriteOnce" } }, status = { phase = "Bound" } })
api:add({ apiVersion = "batch/v1", kind = "Job", metadata = { name = "migrate", namespace = "default" },
  status = { succeeded = 1, completionTime = "2026-01-01T00:00:00Z" } })
api:add({ apiVersion = "v1", kind = "Node", metadata = { name = "cp-1",
  labels = { ["node-role.kubernetes.io/control-plane"] = "", ["kubernetes.io/hostname"] = "cp-1" } },
  status = { capacity = { cpu = "4", memory = "16Gi" }, allocatable = { cpu = "3800m" },
             conditions = { { type = "MemoryPressure", status = "False" }, { type = "Ready", status = "True" } } } })
api:add({ apiVersion = "v1", kind = "Namespace", metadata = { name = "infra" }, status = { phase = "Active" } })
local function event(name, reason, kind, obj)
  return { apiVersion = "v1", kind = "Event", metadata = { name = name, namespace = "default" }, reason = reason, type = "Normal",
           involvedObject = { kind = kind, name = obj, namespace = "default" } }
end
api:add_all({ event("web-1.a", "Scheduled", "Pod", "web-1"), event("web-1.b", "Pulled", "Pod", "web-1"),
              event("web.c", "ScalingReplicaSet", "Deployment", "web") })
api:add({ apiVersion = "argoproj.io/v1alpha1", kind = "Application", metadata = { name = "traefik", namespace = "argocd" },
  spec = { project = "default" }, status = { health = { status = "Healthy" } } })

-- 1. the module's surface
assert.eq(type(k8s.get), "function")
assert.eq(type(k8s.secrets), "table")
assert.eq(type(k8s.resources), "table")

-- 2. raw get
local list = k8s.get("/api/v1/namespaces/default/pods", O)
assert.eq(list.kind, "PodList")
assert.eq(list.items[1].metadata.name, "web-1")
-- the bearer token reaches the server, with the User-Agent
local last = api.requests[#api.requests]
assert.eq(last.headers["authorization"], "Bearer fake-token")
assert.matches(last.headers["user-agent"], "^assay/%d+%.%d+")

-- 3. secrets (and binary values, which the original could not decode)
local s = k8s.secrets:get("default", "db-creds", O)
assert.eq(s.username, "admin")
assert.eq(s.password, "secret")
assert.eq(s.blob, "\0\255\254binary")
assert.eq(k8s.secrets:get("default", "empty", O), {})

-- 4, 5. exists
assert.is_true(k8s.resources:exists("default", "pod", "web-1", O))
assert.is_false(k8s.resources:exists("default", "pod", "nope", O))
-- fixed: 403/500 are errors, not "absent"
api:fail("GET", "/api/v1/namespaces/default/pods/web-1", { status = 403, json = { kind = "Status", code = 403, reason = "Forbidden" } })
local e = assert.error(function() k8s.resources:exists("default", "pod", "web-1", O) end)
assert.contains(e, "k8s: GET /api/v1/namespaces/default/pods/web-1 HTTP 403")

-- 6, 7. deployments by replicas
assert.is_true(k8s.resources:is_ready("default", "deployment", "web", O))
assert.is_false(k8s.resources:is_ready("default", "deployment", "api", O))
-- 8. pod via its Ready condition
assert.is_true(k8s.resources:is_ready("default", "pod", "web-1", O))
assert.is_false(k8s.resources:is_ready("default", "pod", "web-3", O))

-- 9. pod status counts
local st = k8s.pods:status("default", O)
assert.eq(st, { total = 3, running = 2, pending = 1, failed = 0, succeeded = 0, unknown = 0 })

-- 10, 11. endpoints (ready addresses only, in order)
assert.eq(k8s.services:endpoints("default", "web", O), { "10.0.0.5", "10.0.0.6" })
assert.eq(k8s.services:endpoints("default", "idle", O), {})

-- 12. logs, with the query the original never checked
local text = k8s.pods:logs("default", "web-1", with({ tail = 50, container = "app", previous = true, since = 300 }))
assert.contains(text, "started")
assert.contains(text, "ready")
last = api.requests[#api.requests]
assert.eq(last.path, "/api/v1/namespaces/default/pods/web-1/log")
assert.eq(last.query, "tailLines=50&container=app&previous=true&sinceSeconds=300")
e = assert.error(function() k8s.pods:logs("default", "ghost", O) end)
assert.contains(e, "HTTP 404")

-- 13. rollout status
local ro = k8s.deployments:rollout_status("default", "web", O)
assert.eq(ro, { desired = 3, updated = 3, ready = 3, available = 3, unavailable = 0, complete = true })
assert.is_false(k8s.deployments:rollout_status("default", "api", O).complete)

-- 14. register_crd
k8s.register_crd("application", "argoproj.io", "v1alpha1", "applications")
local app = k8s.resources:get("argocd", "application", "traefik", O)
assert.eq(app.status.health.status, "Healthy")
assert.eq(api.requests[#api.requests].path, "/apis/argoproj.io/v1alpha1/namespaces/argocd/applications/traefik")
-- fixed: built-in kinds cannot be redefined for everyone in the VM
e = assert.error(function() k8s.register_crd("deployment", "example.com", "v1", "deployments") end)
assert.contains(e, "k8s.register_crd: 'deployment' is a built-in kind")
assert.eq(k8s._resource_path("default", "deployment", "web"), "/apis/apps/v1/namespaces/default/deployments/web")

-- 15. list deployments
assert.eq(#k8s.resources:list("default", "deployment", O).items, 2)

-- 16-18. ingress condition, pvc phase, job succeeded
assert.is_true(k8s.resources:is_ready("default", "ingress", "web", O))
assert.is_true(k8s.resources:is_ready("default", "pvc", "data", O))
assert.is_true(k8s.resources:is_ready("default", "job", "migrate", O))

-- 19. nodes
local nodes = k8s.nodes:status(O)
assert.eq(#nodes, 1)
assert.eq(nodes[1].name, "cp-1")
assert.is_true(nodes[1].ready)
assert.eq(nodes[1].roles[1], "control-plane")
assert.eq(nodes[1].capacity.cpu, "4")
assert.eq(nodes[1].allocatable.cpu, "3800m")

-- 20. events for one resource (field selector encoded; the server filters on it)
local ev = k8s.events:for_resource("default", "Pod", "web-1", O)
assert.eq(#ev.items, 2)
assert.eq(ev.items[1].reason, "Scheduled")
assert.eq(api.requests[#api.requests].query, "fieldSelector=involvedObject.kind%3DPod%2CinvolvedObject.name%3Dweb-1")
assert.eq(#k8s.events:list("default", O).items, 3)

-- 21. configmaps
assert.eq(k8s.configmaps:get("default", "app-config", O), { ["app.env"] = "production", LOG_LEVEL = "info" })

-- 22-36: the resources API end to end, plus namespaces and cluster-scoped paths
assert.eq(k8s.resources:get("default", "pod", "web-2", O).metadata.labels.tier, "canary")
assert.eq(#k8s.pods:list("default", O).items, 3)
assert.is_true(k8s.namespaces:exists("infra", O))
assert.eq(api.requests[#api.requests].path, "/api/v1/namespaces/infra")
assert.is_false(k8s.namespaces:exists("nope", O))
-- cluster-scoped kinds ignore the namespace
assert.eq(k8s._resource_path("whatever", "node", "cp-1"), "/api/v1/nodes/cp-1")
assert.eq(k8s._list_path(nil, "namespace"), "/api/v1/namespaces")

-- label selectors are encoded (set-based ones contain spaces, commas, parentheses)
local sel = k8s.resources:list("default", "pod", with({ label_selector = "app in (web,api),tier!=canary" }))
assert.eq(#sel.items, 2)
assert.eq(api.requests[#api.requests].query, "labelSelector=app%20in%20%28web%2Capi%29%2Ctier%21%3Dcanary")
assert.eq(#k8s.resources:list("default", "pod", with({ label_selector = "app=web", field_selector = "status.phase=Running" })).items, 2)

-- pagination across three pages: limit 1 page by page, and all = true following continue tokens
local page = k8s.resources:list("default", "pod", with({ limit = 1 }))
assert.eq(#page.items, 1)
assert.eq(page.metadata["continue"], "tok-2")
api:reset_log()
local all = k8s.resources:list("default", "pod", with({ limit = 1, all = true }))
assert.eq(#all.items, 3)
assert.eq(all.items[3].metadata.name, "web-3")
assert.eq(all.kind, "PodList")
assert.eq(#api.requests, 3)
assert.eq(api.requests[2].query, "limit=1&continue=tok-2")

-- create / update / patch / delete, and the Status errors of the server
local created = k8s.resources:create("default", "configmap",
  { apiVersion = "v1", kind = "ConfigMap", metadata = { name = "new-cm" }, data = { a = "1" } }, O)
assert.eq(created.metadata.name, "new-cm")
e = assert.error(function()
  k8s.resources:create("default", "configmap", { apiVersion = "v1", kind = "ConfigMap", metadata = { name = "new-cm" } }, O)
end)
assert.contains(e, "k8s: POST /api/v1/namespaces/default/configmaps HTTP 409")
assert.contains(e, "AlreadyExists")
e = assert.error(function()
  k8s.resources:create("default", "configmap", { apiVersion = "v1", kind = "ConfigMap", metadata = {} }, O)
end)
assert.contains(e, "HTTP 422")
assert.contains(e, "metadata.name: Required value")
-- a string body gets a content type (the original sent none: HTTP 415)
created = k8s.post("/api/v1/namespaces/default/configmaps", '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"from-json"}}', O)
assert.eq(created.metadata.name, "from-json")
assert.eq(api.requests[#api.requests].headers["content-type"], "application/json")
created = k8s.post("/api/v1/namespaces/default/configmaps", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\n", O)
assert.eq(created.metadata.name, "from-yaml")
assert.eq(api.requests[#api.requests].headers["content-type"], "application/yaml")

local cm = k8s.resources:get("default", "configmap", "new-cm", O)
cm.data.a = "2"
assert.eq(k8s.resources:update("default", "configmap", "new-cm", cm, O).data.a, "2")
local patched = k8s.resources:patch("default", "configmap", "new-cm", { data = { b = "3" } }, O)
assert.eq(patched.data, { a = "2", b = "3" })
assert.eq(api.requests[#api.requests].headers["content-type"], "application/merge-patch+json")
-- a content type of the caller's choosing, exactly once
e = assert.error(function()
  k8s.resources:patch("default", "configmap", "new-cm", { { op = "add", path = "/data/c", value = "4" } },
    with({ content_type = "application/json-patch+json" }))
end)
assert.contains(e, "HTTP 415")
assert.eq(api.requests[#api.requests].headers["content-type"], "application/json-patch+json")
assert.eq(k8s.resources:delete("default", "configmap", "new-cm", O), nil)
assert.is_false(k8s.resources:exists("default", "configmap", "new-cm", O))
e = assert.error(function() k8s.resources:get("default", "configmap", "new-cm", O) end)
assert.contains(e, "k8s: GET /api/v1/namespaces/default/configmaps/new-cm HTTP 404")
assert.contains(e, "NotFound")

-- wrong token → 401 with the server's Status
e = assert.error(function() k8s.get("/api/v1/namespaces", with({ token = "wrong" })) end)
assert.contains(e, "HTTP 401")

-- retries: 503 with Retry-After, then success (GET is idempotent)
api:fail("GET", "/apis/apps/v1/namespaces/default/deployments/web",
  { status = 503, headers = { ["Retry-After"] = "1" }, json = { kind = "Status", code = 503 } }, 1)
local t0 = os.monotonic()
assert.is_true(k8s.resources:is_ready("default", "deployment", "web", O))
assert.gt(os.monotonic() - t0, 0.9) -- waited as the server asked
-- retries = 0 turns them off
api:fail("GET", "/apis/apps/v1/namespaces/default/deployments/web", { status = 503, json = { kind = "Status", code = 503 } }, 1)
e = assert.error(function() k8s.resources:get("default", "deployment", "web", with({ retries = 0 })) end)
assert.contains(e, "HTTP 503")

-- wait_ready: success at once, and the timeout message (errors such as 404 count as not ready)
assert.is_true(k8s.resources:wait_ready("default", "deployment", "web", 5, O))
t0 = os.monotonic()
e = assert.error(function() k8s.resources:wait_ready("default", "deployment", "ghost", 0.3, with({ interval = 0.1 })) end)
assert.contains(e, "k8s.wait_ready: deployment/ghost not ready after 0.3s")
assert.lt(os.monotonic() - t0, 4)

-- unknown kinds and bad input name the function
e = assert.error(function() k8s.resources:get("default", "widget", "x", O) end)
assert.contains(e, "unknown resource kind 'widget'")
e = assert.error(function() k8s.resources:get("default", "pod", nil, O) end)
assert.contains(e, "k8s.resources:get: name must be a non-empty string, got nil")
e = assert.error(function() k8s.secrets:get("default", 42, O) end)
assert.contains(e, "k8s.secrets:get: name must be a non-empty string, got number")
e = assert.error(function() k8s.resources:get(nil, "pod", "web-1", O) end)
assert.contains(e, "namespace must be a non-empty string, got nil")
e = assert.error(function() k8s.resources:list("default", "pod", "app=web") end)
assert.contains(e, "k8s.resources:list: opts must be a table, got string")
e = assert.error(function() k8s.get("api/v1/pods", O) end)
assert.contains(e, "k8s.get: path must be a string starting with '/'")
e = assert.error(function() k8s.resources:create("default", "configmap", nil, O) end)
assert.contains(e, "k8s.resources:create: body must be a table or a string, got nil")

-- no base_url, not in a pod, no kubeconfig
env.set("KUBERNETES_SERVICE_HOST", nil)
env.set("KUBECONFIG", nil)
local home = env.get("HOME")
env.set("HOME", "/nonexistent-home")
e = assert.error(function() k8s.get("/api/v1/namespaces") end)
assert.contains(e, "k8s: not running in a Kubernetes pod (KUBERNETES_SERVICE_HOST not set)")
env.set("HOME", home)

-- transport errors name the module and the URL
e = assert.error(function() k8s.get("/api/v1/namespaces", { base_url = "http://127.0.0.1:1", token = "t", retries = 0 }) end)
assert.contains(e, "k8s: GET http://127.0.0.1:1/api/v1/namespaces")

-- the access layer the operator modules use: typed accessor, conditions, the aggregate counter
local conn = k8s.connect({ base_url = api.url .. "///", token = "fake-token", module = "demo" })
assert.eq(conn.base_url, api.url)
assert.eq(conn.source, "explicit")
local pods = conn:resource({ group = "", version = "v1", plural = "pods", namespaced = true })
assert.eq(pods:path("default", "web-1"), "/api/v1/namespaces/default/pods/web-1")
assert.eq(pods:get("default", "web-1").metadata.name, "web-1")
assert.eq(pods:get("default", "missing"), nil)
assert.eq(#pods:list(nil).items, 3) -- all namespaces
assert.eq(#pods:list("default", { label_selector = "app=web" }).items, 2)
assert.eq(#pods:list("default", { limit = 1, all = true }).items, 3)
assert.eq(#pods:list("nowhere-ns").items, 0)
e = assert.error(function() conn:resource({ version = "v1", plural = "widgets" }):list("x") end)
assert.contains(e, "demo: LIST /api/v1/namespaces/x/widgets HTTP 404")
local widgets = conn:resource({ group = "example.com", version = "v1", plural = "widgets", list_not_found = "empty" })
assert.eq(widgets:list("x"), { items = {} })
e = assert.error(function() pods:get("default", nil) end)
assert.contains(e, "pods:get: name must be a non-empty string, got nil")
local nodes_r = conn:resource({ version = "v1", plural = "nodes", namespaced = false })
assert.eq(nodes_r:path("cp-1"), "/api/v1/nodes/cp-1")
assert.eq(nodes_r:get("cp-1").metadata.name, "cp-1")
local items = pods:list("default").items
assert.eq(k8s.find_condition(items[1], "Ready").status, "True")
assert.eq(k8s.find_condition(items[1], "Missing"), nil)
assert.is_true(k8s.condition_true(items[1], "Ready"))
assert.eq(k8s.tally(items, function(p) return k8s.condition_true(p) end),
  { ready = 2, not_ready = 1, total = 3, not_ready_names = { "web-3" } })
assert.eq(k8s.tally(items, function(p) return p.status.phase == "Running" end, { "healthy", "unhealthy", "unhealthy_names" }),
  { healthy = 2, unhealthy = 1, total = 3, unhealthy_names = { "web-3" } })
-- a connection can be handed to the module-level API
assert.eq(k8s.resources:get("default", "pod", "web-1", { connection = conn }).metadata.name, "web-1")

-- the legacy flat names of older releases still work
assert.eq(k8s.get_secret("default", "db-creds", O).username, "admin")
assert.is_true(k8s.is_ready("default", "deployment", "web", O))
assert.eq(k8s.rollout_status("default", "web", O).desired, 3)
assert.eq(#k8s.list("default", "deployment", O).items, 2)
assert.is_true(k8s.namespace_exists("infra", O))
assert.eq(#k8s.events_for("default", "Pod", "web-1", O).items, 2)

-- discovery: `assay modules` lists the embedded modules, `assay context` ranks k8s first
local bin = env.get("ASSAY_BIN")
assert.not_nil(bin, "run through `assay test`")
local cwd = fs.tempdir("k8s-discovery-")
local r = process.run({ bin, "modules" }, { cwd = cwd })
assert.matches(r.stdout, "assay%.k8s%s+builtin")
assert.matches(r.stdout, "assay%.rest%s+builtin")
r = process.run({ bin, "context", "deploy to kubernetes" }, { cwd = cwd })
assert.eq(r.stdout:match("### (%S+)"), "assay.k8s")
fs.remove(cwd, { recursive = true })

print("k8s ok")
http.stop()
