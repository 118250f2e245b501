-- assay.flux against the in-memory Kubernetes API (fixtures/kube_api.lua): the original's test
-- plan, the pinned API versions of every kind, 404 policies (get nil, list raises), bad input.
local dir = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local kube = dofile(dir .. "/fixtures/kube_api.lua")
local api = kube.start({ token = "fake-token" })
local flux = require("assay.flux")

local NS = "flux-system"
local function ready_cond(status, reason, msg)
  return { type = "Ready", status = status, reason = reason, message = msg or "", lastTransitionTime = "2026-02-01T10:00:00Z",
           observedGeneration = 1 }
end
local function git(name, ns, status)
  return { apiVersion = "source.toolkit.fluxcd.io/v1", kind = "GitRepository", metadata = { name = name, namespace = ns },
    spec = { interval = "1m", url = "https://github.com/example/" .. name, ref = { branch = "main" } },
    status = { artifact = { revision = "main@sha1:abc123", digest = "sha256:0f1e", path = "gitrepository/x.tar.gz" },
               conditions = { ready_cond(status, status == "True" and "Succeeded" or "GitOperationFailed") } } }
end
local function ks(name, ns, status, path)
  return { apiVersion = "kustomize.toolkit.fluxcd.io/v1", kind = "Kustomization", metadata = { name = name, namespace = ns },
    spec = { interval = "10m", path = path or "./apps", prune = true, sourceRef = { kind = "GitRepository", name = "flux-system" } },
    status = { lastAppliedRevision = "main@sha1:abc123", lastAttemptedRevision = "main@sha1:abc123", observedGeneration = 1,
               conditions = { ready_cond(status, status == "True" and "ReconciliationSucceeded" or "BuildFailed", "Applied revision: main@sha1:abc123"),
                              { type = "Healthy", status = "True", reason = "Succeeded" } } } }
end
local function hr(name, ns, status)
  return { apiVersion = "helm.toolkit.fluxcd.io/v2", kind = "HelmRelease", metadata = { name = name, namespace = ns },
    spec = { interval = "5m", chart = { spec = { chart = "podinfo", version = "6.x", sourceRef = { kind = "HelmRepository", name = "podinfo" } } } },
    status = { lastAttemptedRevision = "6.5.4", lastAppliedRevision = "6.5.4",
               conditions = { ready_cond(status, status == "True" and "InstallSucceeded" or "UpgradeFailed") } } }
end

api:add_all({ git("flux-system", NS, "True"), git("broken-repo", NS, "False") })
api:add({ apiVersion = "source.toolkit.fluxcd.io/v1", kind = "HelmRepository", metadata = { name = "bitnami", namespace = NS },
  spec = { url = "https://charts.bitnami.com/bitnami", interval = "1h" }, status = { conditions = { ready_cond("True", "Succeeded") } } })
api:add({ apiVersion = "source.toolkit.fluxcd.io/v1", kind = "HelmChart", metadata = { name = "default-podinfo", namespace = NS },
  spec = { chart = "podinfo" }, status = { conditions = { ready_cond("True", "ChartPullSucceeded") } } })
api:add({ apiVersion = "source.toolkit.fluxcd.io/v1beta2", kind = "OCIRepository", metadata = { name = "podinfo-oci", namespace = NS },
  spec = { url = "oci://ghcr.io/stefanprodan/manifests/podinfo" } })
api:add_all({ ks("infrastructure", NS, "True", "./infrastructure"), ks("apps", NS, "True") })
api:add_all({ ks("a", "multi", "True"), ks("b", "multi", "True"), ks("monitoring", "multi", "False") })
api:add_all({ hr("podinfo", "default", "True"), hr("redis", "default", "False") })
api:add({ apiVersion = "notification.toolkit.fluxcd.io/v1beta3", kind = "Alert", metadata = { name = "slack-alert", namespace = NS },
  spec = { providerRef = { name = "slack" }, eventSeverity = "error" } })
api:add({ apiVersion = "notification.toolkit.fluxcd.io/v1beta3", kind = "Provider", metadata = { name = "slack", namespace = NS },
  spec = { type = "slack", channel = "alerts" } })
api:add({ apiVersion = "notification.toolkit.fluxcd.io/v1", kind = "Receiver", metadata = { name = "github-receiver", namespace = NS },
  spec = { type = "github", events = { "push" } } })
api:add({ apiVersion = "image.toolkit.fluxcd.io/v1beta2", kind = "ImagePolicy", metadata = { name = "podinfo", namespace = NS },
  spec = { imageRepositoryRef = { name = "podinfo" }, policy = { semver = { range = "5.0.x" } } }, status = { latestImage = "ghcr.io/podinfo:5.0.3" } })

-- 1. require
assert.eq(type(flux.client), "function")
local c = flux.client(api.url .. "/", "fake-token")

-- 2/3/4/5. git repositories
local gl = c.git_repos:list(NS)
assert.eq(gl.kind, "GitRepositoryList")
assert.eq(#gl.items, 2)
assert.eq(gl.items[1].metadata.name, "flux-system")
assert.eq(gl.items[2].metadata.name, "broken-repo")
assert.eq(api.requests[#api.requests].path, "/apis/source.toolkit.fluxcd.io/v1/namespaces/flux-system/gitrepositories")
assert.eq(api.requests[#api.requests].headers["authorization"], "Bearer fake-token")
local g = c.git_repos:get(NS, "flux-system")
assert.eq(g.spec.url, "https://github.com/example/flux-system")
assert.eq(g.status.artifact.revision, "main@sha1:abc123")
assert.is_true(c.git_repos:is_ready(NS, "flux-system"))
assert.is_false(c.git_repos:is_ready(NS, "broken-repo"))

-- 6. helm repositories
local hl = c.helm_repos:list(NS)
assert.eq(#hl.items, 1)
assert.eq(hl.items[1].metadata.name, "bitnami")
assert.is_true(c.helm_repos:is_ready(NS, "bitnami"))
assert.eq(c.helm_repos:get(NS, "bitnami").spec.interval, "1h")

-- 7/8/9/10. kustomizations
assert.eq(#c.kustomizations:list(NS).items, 2)
assert.eq(c.kustomizations:get(NS, "infrastructure").spec.path, "./infrastructure")
assert.is_true(c.kustomizations:is_ready(NS, "infrastructure"))
local st = c.kustomizations:status(NS, "infrastructure")
assert.is_true(st.ready)
assert.eq(st.revision, "main@sha1:abc123")
assert.eq(st.last_applied_revision, "main@sha1:abc123")
assert.eq(#st.conditions, 2)
assert.eq(st.conditions[1].reason, "ReconciliationSucceeded")

-- 11/12. helm releases (and their status)
local rl = c.helm_releases:list("default")
assert.eq(rl.kind, "HelmReleaseList")
assert.eq(api.requests[#api.requests].path, "/apis/helm.toolkit.fluxcd.io/v2/namespaces/default/helmreleases")
assert.is_true(c.helm_releases:is_ready("default", "podinfo"))
assert.is_false(c.helm_releases:is_ready("default", "redis"))
local hst = c.helm_releases:status("default", "redis")
assert.eq(hst, { ready = false, revision = "6.5.4", last_applied_revision = "6.5.4", conditions = hst.conditions })
assert.eq(hst.conditions[1].reason, "UpgradeFailed")
assert.eq(c.helm_releases:all_ready("default"), { ready = 1, not_ready = 1, total = 2, not_ready_names = { "redis" } })

-- 13. sources all_ready: git repos then helm repos
assert.eq(c.sources:all_ready(NS), { ready = 2, not_ready = 1, total = 3, not_ready_names = { "broken-repo" } })
-- 14. kustomizations all_ready
assert.eq(c.kustomizations:all_ready("multi"), { ready = 2, not_ready = 1, total = 3, not_ready_names = { "monitoring" } })

-- the other kinds, at their pinned API versions
local function last_path() return api.requests[#api.requests].path end
assert.eq(c.helm_charts:list(NS).items[1].spec.chart, "podinfo")
assert.eq(last_path(), "/apis/source.toolkit.fluxcd.io/v1/namespaces/flux-system/helmcharts")
assert.eq(c.oci_repos:list(NS).items[1].metadata.name, "podinfo-oci")
assert.eq(last_path(), "/apis/source.toolkit.fluxcd.io/v1beta2/namespaces/flux-system/ocirepositories")
assert.eq(c.notifications:alerts(NS).items[1].spec.eventSeverity, "error")
assert.eq(last_path(), "/apis/notification.toolkit.fluxcd.io/v1beta3/namespaces/flux-system/alerts")
assert.eq(c.notifications:providers(NS).items[1].spec.type, "slack")
assert.eq(last_path(), "/apis/notification.toolkit.fluxcd.io/v1beta3/namespaces/flux-system/providers")
assert.eq(c.notifications:receivers(NS).items[1].metadata.name, "github-receiver")
assert.eq(last_path(), "/apis/notification.toolkit.fluxcd.io/v1/namespaces/flux-system/receivers")
assert.eq(c.image_policies:list(NS).items[1].status.latestImage, "ghcr.io/podinfo:5.0.3")
assert.eq(last_path(), "/apis/image.toolkit.fluxcd.io/v1beta2/namespaces/flux-system/imagepolicies")

-- versions can follow newer Flux releases (OCIRepository and ImagePolicy are v1 there)
api:add({ apiVersion = "source.toolkit.fluxcd.io/v1", kind = "OCIRepository", metadata = { name = "new-oci", namespace = NS } })
local cv = flux.client(api.url, "fake-token", { versions = { oci_repos = "v1" } })
assert.eq(cv.oci_repos:list(NS).items[1].metadata.name, "new-oci")
assert.eq(last_path(), "/apis/source.toolkit.fluxcd.io/v1/namespaces/flux-system/ocirepositories")

-- 404: get nil, status nil, is_ready false; a list of a type that is not served raises
assert.eq(c.kustomizations:get(NS, "ghost"), nil)
assert.eq(c.kustomizations:status(NS, "ghost"), nil)
assert.is_false(c.git_repos:is_ready(NS, "ghost"))
local fresh = kube.start({ token = "fake-token" })
local e = assert.error(function() flux.client(fresh.url, "fake-token").kustomizations:all_ready(NS) end)
assert.contains(e, "flux: LIST /apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations HTTP 404")
api:fail("GET", "/apis/helm.toolkit.fluxcd.io/v2/namespaces/default/helmreleases/podinfo", { status = 500, body = "boom" })
e = assert.error(function() c.helm_releases:get("default", "podinfo") end)
assert.contains(e, "flux: GET /apis/helm.toolkit.fluxcd.io/v2/namespaces/default/helmreleases/podinfo HTTP 500: boom")

-- bad input names the function
e = assert.error(function() c.kustomizations:is_ready(NS, nil) end)
assert.contains(e, "flux.kustomizations:is_ready: name must be a non-empty string, got nil")
e = assert.error(function() c.helm_releases:status(nil, "x") end)
assert.contains(e, "flux.helm_releases:status: namespace must be a non-empty string, got nil")
e = assert.error(function() c.git_repos:get(NS, 3) end)
assert.contains(e, "flux.git_repos:get: name must be a non-empty string, got number")
e = assert.error(function() c.sources:all_ready(nil) end)
assert.contains(e, "flux.sources:all_ready: namespace must be a non-empty string, got nil")
e = assert.error(function() flux.client(api.url, "t", { versions = { oci_repos = 1 } }) end)
assert.contains(e, "flux.client: opts.versions.oci_repos must be a string")

print("flux ok")
http.stop()
