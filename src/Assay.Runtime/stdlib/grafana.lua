--- @module assay.grafana
--- @description Grafana HTTP API client: health, datasources, search dashboards and get one, annotations, organization, provisioned alert rules, folders.
--- @keywords grafana, dashboards, dashboard, datasource, datasources, annotations, annotation, deploy marker, folders, alert rules, org, panels, visualization, observability, service account token
--- @quickref c = grafana.client(url, {api_key | username, password, org_id}) -> client
--- @quickref c.health:check() ; c.datasources:list() ; c.datasources:get(id_or_uid) ; c.dashboards:search({query, type, tag, limit}) ; c.dashboards:get(uid)
--- @quickref c.annotations:list({from, to, dashboard_id, limit, tags}) ; c.annotations:create({text, tags, time}) ; c.org:get() ; c.alerts:rules() ; c.folders:list()
--- @example local g = require("assay.grafana").client("http://grafana:3000", {api_key = env.get("GRAFANA_TOKEN")}); g.annotations:create({text = "deployed v1.2", tags = {"deploy"}})
--
-- Built on assay.rest (auth, encoding, errors). See docs/modules/grafana.md.
local rest = require("assay.rest")

local M = {}

local type, tostring, error = type, tostring, error

function M.client(url, opts)
  opts = rest.need_table("grafana.client", "opts", opts) or {}
  local api = rest.client_from_opts("grafana", url, opts, {
    auth = rest.bearer_or_basic(opts.api_key, opts.username, opts.password),
    headers = { ["X-Grafana-Org-Id"] = opts.org_id and tostring(opts.org_id) or nil },
  })
  -- /api/health is public: no credentials sent to it
  local public = rest.client({ module = "grafana", base_url = url, timeout = opts.timeout, retries = opts.retries })

  local function get(path, query) return (api:get(path, { query = query })) end

  local c = { health = {}, datasources = {}, dashboards = {}, annotations = {}, org = {}, alerts = {}, folders = {} }

  function c.health:check() return (public:get("/api/health")) end

  function c.datasources:list() return get("/api/datasources") end

  --- A number is the (deprecated) numeric id; a string is the uid.
  function c.datasources:get(id)
    if type(id) == "number" then return get("/api/datasources/" .. tostring(math.tointeger(id) or id)) end
    rest.need_string("grafana.datasources:get", "id_or_uid", id)
    return get(rest.path("api", "datasources", "uid", id))
  end

  function c.dashboards:search(o)
    o = rest.need_table("grafana.dashboards:search", "opts", o) or {}
    return get("/api/search", { { "query", o.query }, { "type", o.type }, { "tag", o.tag },
      { "folderUIDs", o.folder_uids }, { "limit", o.limit }, { "page", o.page } })
  end

  function c.dashboards:get(uid)
    rest.need_string("grafana.dashboards:get", "uid", uid)
    return get(rest.path("api", "dashboards", "uid", uid))
  end

  function c.annotations:list(o)
    o = rest.need_table("grafana.annotations:list", "opts", o) or {}
    return get("/api/annotations", { { "from", o.from }, { "to", o.to }, { "dashboardId", o.dashboard_id },
      { "dashboardUID", o.dashboard_uid }, { "limit", o.limit }, { "tags", o.tags } })
  end

  function c.annotations:create(annotation)
    local fn = "grafana.annotations:create"
    if type(annotation) ~= "table" then error(fn .. ": annotation must be a table, got " .. type(annotation), 2) end
    return (api:post("/api/annotations", rest.object(annotation)))
  end

  function c.org:get() return get("/api/org") end
  function c.alerts:rules() return get("/api/v1/provisioning/alert-rules") end
  function c.folders:list() return get("/api/folders") end

  return c
end

return M
