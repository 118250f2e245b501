-- assay.kargo against the in-memory Kubernetes API (fixtures/kube_api.lua): the original's test
-- plan, one encoded label selector, the Promotion body, 404 → nil, waits, bad input.
local dir = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local kube = dofile(dir .. "/fixtures/kube_api.lua")
local api = kube.start({ token = "fake-token" })
local kargo = require("assay.kargo")

local NS = "jeebon-test"
local V = "kargo.akuity.io/v1alpha1"
local B = "/apis/kargo.akuity.io/v1alpha1"
local function stage(name, ns, phase, healthy_cond, freight)
  return { apiVersion = V, kind = "Stage", metadata = { name = name, namespace = ns },
    spec = { requestedFreight = { { origin = { kind = "Warehouse", name = "main" }, sources = { direct = true } } } },
    status = { phase = phase, currentFreightId = freight or "freight-abc123",
               health = { status = healthy_cond == "True" and "Healthy" or "Unhealthy" },
               conditions = healthy_cond and { { type = "Healthy", status = healthy_cond, reason = "Reconciled" } } or nil } }
end
local function freight(name, ns, labels)
  return { apiVersion = V, kind = "Freight", metadata = { name = name, namespace = ns, labels = labels },
    alias = name .. "-alias", origin = { kind = "Warehouse", name = "main" },
    images = { { repoURL = "ghcr.io/example/app", tag = "v1.2.3", digest = "sha256:abc" } },
    commits = { { repoURL = "https://github.com/example/app", id = "a1b2c3d" } },
    status = { verifiedIn = { dev = json.object() }, approvedFor = { prod = json.object() } } }
end

api:add_all({ stage("dev", NS, "Steady", "True"), stage("prod", NS, "Promoting", "True") })
api:add(stage("broken", "broken-ns", "Failed", "False", "freight-old789"))
-- pipeline: Steady, Promoting + Healthy True, Failed + Healthy False
api:add_all({ stage("dev", "pipe", "Steady", "True"), stage("staging", "pipe", "Promoting", "True"),
              stage("prod", "pipe", "Failed", "False", "freight-old789") })
-- Kargo 1.x status: no phase; health from status.health, freight from freightHistory
api:add({ apiVersion = V, kind = "Stage", metadata = { name = "qa", namespace = "v1x" },
  status = { health = { status = "Healthy" }, conditions = { { type = "Ready", status = "True" } },
             freightHistory = { { items = { ["Warehouse/main"] = { name = "freight-new111", origin = { kind = "Warehouse", name = "main" } } } } } } })
api:add_all({ freight("freight-abc123", NS, { ["kargo.akuity.io/stage"] = "dev", ["kargo.akuity.io/warehouse"] = "main" }),
              freight("freight-def456", NS, { ["kargo.akuity.io/warehouse"] = "main" }) })
local function promotion(name, phase, extra)
  local p = { apiVersion = V, kind = "Promotion", metadata = { name = name, namespace = NS, labels = { ["kargo.akuity.io/stage"] = "dev" } },
    spec = { stage = "dev", freight = "freight-abc123" },
    status = { phase = phase, message = phase == "Running" and "promotion in progress" or "", freight = { name = "freight-abc123" } } }
  for k, v in pairs(extra or {}) do p.status[k] = v end
  return p
end
api:add_all({ promotion("dev-abc", "Succeeded"), promotion("dev-def", "Running") })
api:add({ apiVersion = V, kind = "Warehouse", metadata = { name = "main", namespace = NS },
  spec = { subscriptions = { { image = { repoURL = "ghcr.io/example/app", semverConstraint = "^1.0.0" } } } } })
api:add_all({ { apiVersion = V, kind = "Project", metadata = { name = "jeebon-test" }, status = { phase = "Ready" } },
              { apiVersion = V, kind = "Project", metadata = { name = "other" }, status = { phase = "Ready" } } })

-- 1. require; 19. trailing slashes
assert.eq(type(kargo.client), "function")
local c = kargo.client(api.url .. "///", "fake-token")
local function last() return api.requests[#api.requests] end

-- 2/3/4. stages
local stages = c.stages:list(NS)
assert.eq(#stages, 2)
assert.eq(stages[1].status.phase, "Steady")
assert.eq(last().path, B .. "/namespaces/jeebon-test/stages")
assert.eq(last().headers["authorization"], "Bearer fake-token")
local s = c.stages:get(NS, "dev")
assert.eq(s.status.currentFreightId, "freight-abc123")
assert.eq(s.status.health.status, "Healthy")
local st = c.stages:status(NS, "dev")
assert.eq(st.phase, "Steady")
assert.eq(st.current_freight_id, "freight-abc123")
assert.eq(st.health.status, "Healthy")
assert.eq(#st.conditions, 1)
assert.eq(st.conditions[1].type, "Healthy")

-- 5/6/7. health rule
assert.is_true(c.stages:is_healthy(NS, "dev"))
assert.is_true(c.stages:is_healthy(NS, "prod"))
assert.is_false(c.stages:is_healthy("broken-ns", "broken"))
-- Kargo 1.x shape
assert.is_true(c.stages:is_healthy("v1x", "qa"))
assert.eq(c.stages:status("v1x", "qa").current_freight_id, "freight-new111")

-- 8/9/10. freight
local fl = c.freight:list(NS)
assert.eq(#fl, 2)
assert.eq(fl[1].metadata.name, "freight-abc123")
assert.eq(last().path, B .. "/namespaces/jeebon-test/freight")
local f = c.freight:get(NS, "freight-abc123")
assert.eq(f.images[1].tag, "v1.2.3")
assert.eq(f.commits[1].id, "a1b2c3d")
local fst = c.freight:status(NS, "freight-abc123")
assert.not_nil(fst.verifiedIn)
assert.not_nil(fst.approvedFor)
-- one labelSelector, encoded (the original sent two raw ones)
local only = c.freight:list(NS, { stage = "dev", warehouse = "main" })
assert.eq(#only, 1)
assert.eq(only[1].metadata.name, "freight-abc123")
assert.eq(last().query, "labelSelector=kargo.akuity.io%2Fstage%3Ddev%2Ckargo.akuity.io%2Fwarehouse%3Dmain")
assert.eq(#c.freight:list(NS, { warehouse = "main" }), 2)

-- 11/13. promotions
local pl = c.promotions:list(NS)
assert.eq(#pl, 2)
assert.eq(pl[1].status.phase, "Succeeded")
assert.eq(pl[2].status.phase, "Running")
assert.eq(#c.promotions:list(NS, { stage = "dev" }), 2)
assert.eq(last().query, "labelSelector=kargo.akuity.io%2Fstage%3Ddev")
assert.eq(#c.promotions:list(NS, { stage = "prod" }), 0)
local pst = c.promotions:status(NS, "dev-def")
assert.eq(pst, { phase = "Running", message = "promotion in progress", freight_id = "freight-abc123" })
assert.eq(c.promotions:get(NS, "dev-abc").spec.stage, "dev")

-- 12. create: the Promotion body and the created object
local created = c.promotions:create(NS, "prod", "freight-abc123")
assert.eq(last().method, "POST")
assert.eq(last().path, B .. "/namespaces/jeebon-test/promotions")
assert.eq(last().headers["content-type"], "application/json")
local body = json.parse(last().body)
assert.eq(body.apiVersion, "kargo.akuity.io/v1alpha1")
assert.eq(body.kind, "Promotion")
assert.eq(body.metadata, { namespace = NS, generateName = "prod-" })
assert.eq(body.spec, { stage = "prod", freight = "freight-abc123" })
assert.matches(created.metadata.name, "^prod%-")
assert.eq(created.spec.freight, "freight-abc123")

-- 14/15. warehouses; 16/17. projects (cluster-scoped)
assert.eq(#c.warehouses:list(NS), 1)
assert.eq(c.warehouses:get(NS, "main").kind, "Warehouse")
local projects = c.projects:list()
assert.eq(#projects, 2)
assert.eq(last().path, B .. "/projects")
assert.eq(c.projects:get("jeebon-test").status.phase, "Ready")

-- 18. pipeline_status
assert.eq(c.stages:pipeline_status("pipe"), {
  { name = "dev", phase = "Steady", freight = "freight-abc123", healthy = true },
  { name = "staging", phase = "Promoting", freight = "freight-abc123", healthy = true },
  { name = "prod", phase = "Failed", freight = "freight-old789", healthy = false },
})

-- 404: gets answer nil (the original raised), status raises "not found", lists of unserved types raise
assert.eq(c.stages:get(NS, "ghost"), nil)
assert.eq(c.freight:get(NS, "ghost"), nil)
assert.is_false(c.stages:is_healthy(NS, "ghost"))
local e = assert.error(function() c.stages:status(NS, "ghost") end)
assert.contains(e, "kargo: stage jeebon-test/ghost not found")
e = assert.error(function() c.promotions:status(NS, "ghost") end)
assert.contains(e, "kargo: promotion jeebon-test/ghost not found")
local fresh = kube.start({ token = "fake-token" })
e = assert.error(function() kargo.client(fresh.url, "fake-token").stages:list(NS) end)
assert.contains(e, "kargo: LIST " .. B .. "/namespaces/jeebon-test/stages HTTP 404")
api:fail("POST", B .. "/namespaces/jeebon-test/promotions", { status = 403, json = { kind = "Status", code = 403, reason = "Forbidden" } })
e = assert.error(function() c.promotions:create(NS, "prod", "freight-abc123") end)
assert.contains(e, "kargo: POST " .. B .. "/namespaces/jeebon-test/promotions HTTP 403")

-- wait_healthy: at once; errors while polling count as not healthy; timeout message
assert.is_true(c.stages:wait_healthy(NS, "dev", 5))
local t0 = os.monotonic()
e = assert.error(function() c.stages:wait_healthy("broken-ns", "broken", 0.3, { interval = 0.1 }) end)
assert.contains(e, "kargo: stage broken-ns/broken not healthy after 0.3s")
assert.lt(os.monotonic() - t0, 3)
api:fail("GET", B .. "/namespaces/late/stages/app", { status = 500, body = "flaky" }, 1)
async.spawn(function() sleep(0.2); api:add(stage("app", "late", "Steady", "True")) end)
assert.is_true(c.stages:wait_healthy("late", "app", 5, { interval = 0.1 }))

-- promotions:wait: Succeeded → status; Failed raises with the message
api:add(promotion("dev-run", "Running"))
async.spawn(function() sleep(0.2); api:add(promotion("dev-run", "Succeeded")) end)
assert.eq(c.promotions:wait(NS, "dev-run", 5, { interval = 0.1 }).phase, "Succeeded")
api:add(promotion("dev-bad", "Failed", { message = "step git-push failed" }))
e = assert.error(function() c.promotions:wait(NS, "dev-bad", 5, { interval = 0.1 }) end)
assert.contains(e, "kargo: promotion jeebon-test/dev-bad Failed: step git-push failed")

-- bad input names the function
e = assert.error(function() c.stages:get(NS, nil) end)
assert.contains(e, "kargo.stages:get: name must be a non-empty string, got nil")
e = assert.error(function() c.stages:list(nil) end)
assert.contains(e, "kargo.stages:list: namespace must be a non-empty string, got nil")
e = assert.error(function() c.promotions:create(NS, nil, "f") end)
assert.contains(e, "kargo.promotions:create: stage must be a non-empty string, got nil")
e = assert.error(function() c.freight:list(NS, "dev") end)
assert.contains(e, "kargo.freight:list: opts must be a table, got string")
e = assert.error(function() c.freight:list(NS, { stage = 1 }) end)
assert.contains(e, "kargo.freight:list: opts.stage must be a string, got number")
e = assert.error(function() c.stages:wait_healthy(NS, "dev", "1m") end)
assert.contains(e, "kargo.stages:wait_healthy: timeout_secs must be a number, got string")

print("kargo ok")
http.stop()
