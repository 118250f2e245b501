--- @module assay.harbor
--- @description Harbor container and docker registry API client: health, system info, projects, repositories, artifacts and tags, image exists/latest, vulnerability scans, replication.
--- @keywords harbor, docker, docker registry, container registry, registry, oci, image, images, artifact, artifacts, tags, repositories, vulnerability scan, trivy, cve, replication, robot account
--- @quickref c = harbor.client(url, {api_key | username, password}) -> client
--- @quickref c.system:health() ; c.system:is_healthy() ; c.system:info() ; c.system:statistics() ; c.projects:list({name, public, page, page_size}) ; c.projects:get(name)
--- @quickref c.repositories:list(proj) ; c.repositories:get(proj, "team/app") ; c.artifacts:list/get/tags/exists/latest(proj, repo, ref) ; c.scan:trigger(proj, repo, ref) ; c.scan:vulnerabilities(proj, repo, ref)
--- @quickref c.replication:policies() ; c.replication:executions({policy_id})
--- @example local h = require("assay.harbor").client("https://harbor.example.com", {username = "robot$ci", password = env.get("HARBOR_SECRET")}); assert(h.artifacts:exists("library", "nginx", "1.27"))
--
-- Built on assay.rest. Repository names are encoded twice in paths, as Harbor requires
-- ("team/app" → team%252Fapp). See docs/modules/harbor.md.
local rest = require("assay.rest")

local M = {}

local type, tostring, pairs, ipairs, error = type, tostring, pairs, ipairs, error

local VULN_REPORT = "application/vnd.security.vulnerability.report; version=1.1"

function M.client(url, opts)
  opts = rest.need_table("harbor.client", "opts", opts) or {}
  local base = rest.normalize_url(url)
  local api = rest.client_from_opts("harbor", url, opts, {
    base_url = base and (base .. "/api/v2.0"), auth = rest.bearer_or_basic(opts.api_key, opts.username, opts.password),
  })

  local function get(path, query) return (api:get(path, { query = query })) end

  local function project(fn, p)
    if type(p) == "number" then return "/projects/" .. tostring(math.tointeger(p) or p) end
    return "/projects/" .. rest.segment(rest.need_string(fn, "project", p))
  end
  -- Harbor decodes the repository name once before routing, so a "/" in it must arrive as %2F
  local function repo(fn, p, r)
    return project(fn, p) .. "/repositories/" .. rest.segment(rest.segment(rest.need_string(fn, "repository", r)))
  end
  local function artifact(fn, p, r, ref)
    return repo(fn, p, r) .. "/artifacts/" .. rest.segment(rest.need_string(fn, "reference", ref))
  end

  local c = { system = {}, projects = {}, repositories = {}, artifacts = {}, scan = {}, replication = {} }

  function c.system:health() return get("/health") end
  function c.system:info() return get("/systeminfo") end
  function c.system:statistics() return get("/statistics") end
  --- True when every component reports "healthy" (false when there is no component list).
  function c.system:is_healthy()
    local h = c.system:health()
    if type(h) ~= "table" or type(h.components) ~= "table" then return false end
    for _, comp in ipairs(h.components) do
      if comp.status ~= "healthy" then return false end
    end
    return true
  end

  function c.projects:list(o)
    o = rest.need_table("harbor.projects:list", "opts", o) or {}
    return get("/projects", { { "name", o.name }, { "public", o.public }, { "page", o.page }, { "page_size", o.page_size } })
  end
  function c.projects:get(name_or_id) return get(project("harbor.projects:get", name_or_id)) end

  function c.repositories:list(p, o)
    local fn = "harbor.repositories:list"
    local path = project(fn, p) .. "/repositories"
    o = rest.need_table(fn, "opts", o) or {}
    return get(path, { { "page", o.page }, { "page_size", o.page_size }, { "q", o.q } })
  end
  function c.repositories:get(p, r) return get(repo("harbor.repositories:get", p, r)) end

  function c.artifacts:list(p, r, o)
    local fn = "harbor.artifacts:list"
    local path = repo(fn, p, r) .. "/artifacts"
    o = rest.need_table(fn, "opts", o) or {}
    return get(path, { { "page", o.page }, { "page_size", o.page_size }, { "q", o.q }, { "with_tag", o.with_tag },
      { "with_scan_overview", o.with_scan_overview }, { "sort", o.sort } })
  end
  function c.artifacts:get(p, r, ref) return get(artifact("harbor.artifacts:get", p, r, ref)) end
  function c.artifacts:tags(p, r, ref) return get(artifact("harbor.artifacts:tags", p, r, ref) .. "/tags") end
  --- true on 200, false on 404; other statuses raise.
  function c.artifacts:exists(p, r, tag)
    local found = api:get(artifact("harbor.artifacts:exists", p, r, tag), { not_found = "nil" })
    return found ~= nil
  end
  --- The newest artifact (by push time), or nil when the repository has none.
  function c.artifacts:latest(p, r)
    local list = c.artifacts:list(p, r, { page_size = 1, sort = "-push_time" })
    return list[1]
  end

  --- Starts a scan; Harbor answers 202. Returns true.
  function c.scan:trigger(p, r, ref)
    api:post(artifact("harbor.scan:trigger", p, r, ref) .. "/scan", rest.object(), { ok = { 202 } })
    return true
  end

  --- Severity counts of the artifact's vulnerability report, or nil when it was not scanned.
  function c.scan:vulnerabilities(p, r, ref)
    local a = get(artifact("harbor.scan:vulnerabilities", p, r, ref), { { "with_scan_overview", true } })
    local overview = type(a) == "table" and a.scan_overview
    if type(overview) ~= "table" then return nil end
    local report = overview[VULN_REPORT]
    if report == nil then
      local keys = {}
      for k in pairs(overview) do keys[#keys + 1] = k end
      table.sort(keys) -- deterministic when only other report types exist
      report = keys[1] and overview[keys[1]]
    end
    if type(report) ~= "table" or type(report.summary) ~= "table" then return nil end
    local s, by = report.summary, report.summary.summary or {}
    return { total = s.total or 0, fixable = s.fixable or 0, critical = by.Critical or 0, high = by.High or 0,
             medium = by.Medium or 0, low = by.Low or 0, negligible = by.Negligible or 0 }
  end

  function c.replication:policies() return get("/replication/policies") end
  function c.replication:executions(o)
    o = rest.need_table("harbor.replication:executions", "opts", o) or {}
    return get("/replication/executions", { { "policy_id", o.policy_id } })
  end

  return c
end

return M
