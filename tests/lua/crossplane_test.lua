-- assay.crossplane against the in-memory Kubernetes API (fixtures/kube_api.lua): the original's
-- test plan, 404 policies, providers:status on a missing provider, functions version, bad input.
local dir = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local kube = dofile(dir .. "/fixtures/kube_api.lua")
local api = kube.start({ token = "fake-token" })
local crossplane = require("assay.crossplane")

local function conds(list)
  local out = {}
  for _, c in ipairs(list) do out[#out + 1] = { type = c[1], status = c[2], reason = c[3] or "", lastTransitionTime = "2026-02-01T00:00:00Z" } end
  return out
end
local function pkg(kind, name, healthy, installed, version)
  return { apiVersion = "pkg.crossplane.io/" .. (version or "v1"), kind = kind, metadata = { name = name },
    spec = { package = "xpkg.upbound.io/upbound/" .. name .. ":v1.0.0" },
    status = { currentRevision = name .. "-rev1", currentIdentifier = "xpkg.upbound.io/upbound/" .. name .. ":v1.0.0",
               conditions = conds({ { "Installed", installed or "True", "ActivePackageRevision" }, { "Healthy", healthy, "HealthyPackageRevision" } }) } }
end
api:add_all({ pkg("Provider", "provider-aws-s3", "True"), pkg("Provider", "provider-aws-ec2", "True"),
              pkg("Provider", "provider-aws-rds", "False", "True") })
api:add({ apiVersion = "pkg.crossplane.io/v1", kind = "ProviderRevision", metadata = { name = "provider-aws-s3-rev1" },
  spec = { desiredState = "Active", revision = 1, image = "xpkg.upbound.io/upbound/provider-aws-s3:v1.0.0" },
  status = { conditions = conds({ { "Healthy", "True" } }) } })
api:add(pkg("Configuration", "platform-ref-aws", "True"))
api:add(pkg("Function", "function-patch-and-transform", "True", "True", "v1beta1"))
local function xrd(name, established)
  return { apiVersion = "apiextensions.crossplane.io/v1", kind = "CompositeResourceDefinition", metadata = { name = name },
    spec = { group = "platform.example.org", names = { kind = "XNetwork", plural = "xnetworks" },
             versions = { { name = "v1alpha1", served = true, referenceable = true } } },
    status = { conditions = conds({ { "Established", established, "WatchingCompositeResource" }, { "Offered", "True" } }) } }
end
api:add_all({ xrd("xnetworks.platform.example.org", "True"), xrd("xdatabases.platform.example.org", "False") })
api:add({ apiVersion = "apiextensions.crossplane.io/v1", kind = "Composition", metadata = { name = "xnetworks-aws" },
  spec = { compositeTypeRef = { apiVersion = "platform.example.org/v1alpha1", kind = "XNetwork" }, mode = "Pipeline",
           pipeline = { { step = "patch-and-transform", functionRef = { name = "function-patch-and-transform" } } } } })
local function bucket(name, ready)
  return { apiVersion = "s3.aws.upbound.io/v1beta1", kind = "Bucket", metadata = { name = name },
    spec = { forProvider = { region = "eu-west-1" }, providerConfigRef = { name = "default" } },
    status = { atProvider = { region = "eu-west-1", arn = "arn:aws:s3:::" .. name },
               conditions = conds({ { "Ready", ready, "Available" }, { "Synced", "True", "ReconcileSuccess" } }) } }
end
api:add_all({ bucket("my-bucket", "True"), bucket("pending-bucket", "False") })
-- Crossplane 2: a namespaced managed resource
api:add({ apiVersion = "s3.aws.m.upbound.io/v1beta1", kind = "Bucket", metadata = { name = "team-bucket", namespace = "team-a" },
  status = { conditions = conds({ { "Ready", "True" } }) } })

-- 1. require
assert.eq(type(crossplane.client), "function")
-- 21. trailing slashes stripped
local c = crossplane.client(api.url .. "///", "fake-token")

-- 2/3. providers list and get
local pl = c.providers:list()
assert.eq(pl.kind, "ProviderList")
assert.eq(#pl.items, 3)
assert.eq(pl.items[1].metadata.name, "provider-aws-s3")
assert.eq(api.requests[#api.requests].path, "/apis/pkg.crossplane.io/v1/providers")
assert.eq(api.requests[#api.requests].headers["authorization"], "Bearer fake-token")
assert.eq(c.providers:get("provider-aws-s3").status.currentRevision, "provider-aws-s3-rev1")

-- 4/5/6. health and installed
assert.is_true(c.providers:is_healthy("provider-aws-s3"))
assert.is_false(c.providers:is_healthy("provider-aws-rds"))
assert.is_true(c.providers:is_installed("provider-aws-s3"))

-- 7. status
local st = c.providers:status("provider-aws-s3")
assert.is_true(st.installed)
assert.is_true(st.healthy)
assert.eq(st.current_revision, "provider-aws-s3-rev1")
assert.eq(#st.conditions, 2)

-- 8/9. configurations
assert.eq(c.configurations:list().kind, "ConfigurationList")
assert.is_true(c.configurations:is_healthy("platform-ref-aws"))
assert.is_true(c.configurations:is_installed("platform-ref-aws"))
assert.eq(c.configurations:get("platform-ref-aws").metadata.name, "platform-ref-aws")

-- 10/11. functions (v1beta1 by default)
assert.eq(#c.functions:list().items, 1)
assert.eq(api.requests[#api.requests].path, "/apis/pkg.crossplane.io/v1beta1/functions")
assert.is_true(c.functions:is_healthy("function-patch-and-transform"))
assert.eq(c.functions:get("function-patch-and-transform").kind, "Function")

-- 12/13/23. XRDs
assert.eq(#c.xrds:list().items, 2)
assert.eq(api.requests[#api.requests].path, "/apis/apiextensions.crossplane.io/v1/compositeresourcedefinitions")
assert.is_true(c.xrds:is_established("xnetworks.platform.example.org"))
assert.is_false(c.xrds:is_established("xdatabases.platform.example.org"))
assert.eq(c.xrds:get("xnetworks.platform.example.org").spec.names.kind, "XNetwork")

-- 14/24. compositions
assert.eq(c.compositions:list().kind, "CompositionList")
assert.eq(c.compositions:get("xnetworks-aws").spec.mode, "Pipeline")

-- 15/16/17/20. managed resources (the third argument is the plural)
local b = c.managed_resources:get("s3.aws.upbound.io", "v1beta1", "buckets", "my-bucket")
assert.eq(b.kind, "Bucket")
assert.eq(b.status.atProvider.region, "eu-west-1")
assert.eq(api.requests[#api.requests].path, "/apis/s3.aws.upbound.io/v1beta1/buckets/my-bucket")
assert.is_true(c.managed_resources:is_ready("s3.aws.upbound.io", "v1beta1", "buckets", "my-bucket"))
assert.is_false(c.managed_resources:is_ready("s3.aws.upbound.io", "v1beta1", "buckets", "pending-bucket"))
local ml = c.managed_resources:list("s3.aws.upbound.io", "v1beta1", "buckets")
assert.eq(ml.kind, "BucketList")
assert.eq(#ml.items, 2)
-- namespaced managed resources (Crossplane 2)
assert.is_true(c.managed_resources:is_ready("s3.aws.m.upbound.io", "v1beta1", "buckets", "team-bucket", "team-a"))
assert.eq(api.requests[#api.requests].path, "/apis/s3.aws.m.upbound.io/v1beta1/namespaces/team-a/buckets/team-bucket")
assert.eq(#c.managed_resources:list("s3.aws.m.upbound.io", "v1beta1", "buckets", "team-a").items, 1)

-- 18/19. aggregates
assert.eq(c.providers:all_healthy(), { healthy = 2, unhealthy = 1, total = 3, unhealthy_names = { "provider-aws-rds" } })
local est = c.xrds:all_established()
assert.eq(est.established, 1)
assert.eq(est.not_established, 1)
assert.eq(est.total, 2)
assert.eq(est.not_established_names, { "xdatabases.platform.example.org" })

-- 22. provider revisions
assert.eq(c.provider_revisions:list().items[1].spec.desiredState, "Active")
assert.eq(c.provider_revisions:get("provider-aws-s3-rev1").spec.revision, 1)

-- 404s: get nil, list {items = {}}, checks false, providers:status raises "provider not found"
assert.eq(c.providers:get("ghost"), nil)
assert.is_false(c.providers:is_healthy("ghost"))
assert.eq(c.managed_resources:get("s3.aws.upbound.io", "v1beta1", "buckets", "ghost"), nil)
assert.eq(c.managed_resources:list("ec2.aws.upbound.io", "v1beta1", "vpcs").items, {})
local e = assert.error(function() c.providers:status("ghost") end)
assert.contains(e, "crossplane: provider not found: ghost")
local fresh = kube.start({ token = "fake-token" })
local c2 = crossplane.client(fresh.url, "fake-token")
assert.eq(c2.providers:list().items, {})
assert.eq(c2.providers:all_healthy(), { healthy = 0, unhealthy = 0, total = 0, unhealthy_names = {} })

-- errors: verb, path and status
api:fail("GET", "/apis/pkg.crossplane.io/v1/providers", { status = 500, body = "boom" })
e = assert.error(function() c.providers:all_healthy() end)
assert.contains(e, "crossplane: LIST /apis/pkg.crossplane.io/v1/providers HTTP 500: boom")
api:fail("GET", "/apis/pkg.crossplane.io/v1/providers/provider-aws-s3", { status = 403, body = "forbidden" })
e = assert.error(function() c.providers:is_healthy("provider-aws-s3") end)
assert.contains(e, "crossplane: GET /apis/pkg.crossplane.io/v1/providers/provider-aws-s3 HTTP 403")

-- functions_version: newer Crossplane serves pkg.crossplane.io/v1 functions
api:add(pkg("Function", "function-go-templating", "True", "True", "v1"))
local c3 = crossplane.client(api.url, "fake-token", { functions_version = "v1" })
assert.is_true(c3.functions:is_healthy("function-go-templating"))
assert.eq(api.requests[#api.requests].path, "/apis/pkg.crossplane.io/v1/functions/function-go-templating")

-- bad input names the function
e = assert.error(function() c.providers:is_healthy(nil) end)
assert.contains(e, "crossplane.providers:is_healthy: name must be a non-empty string, got nil")
e = assert.error(function() c.providers:get(5) end)
assert.contains(e, "crossplane.providers:get: name must be a non-empty string, got number")
e = assert.error(function() c.managed_resources:get("s3.aws.upbound.io", "v1beta1", nil, "x") end)
assert.contains(e, "crossplane.managed_resources:get: plural must be a non-empty string, got nil")
e = assert.error(function() c.managed_resources:is_ready("s3.aws.upbound.io", "v1beta1", "buckets", nil) end)
assert.contains(e, "crossplane.managed_resources:is_ready: name must be a non-empty string, got nil")
e = assert.error(function() c.xrds:is_established({}) end)
assert.contains(e, "crossplane.xrds:is_established: name must be a non-empty string, got table")
e = assert.error(function() crossplane.client(api.url, "t", { functions_version = 2 }) end)
assert.contains(e, "crossplane.client: opts.functions_version must be a string")

print("crossplane ok")
http.stop()
