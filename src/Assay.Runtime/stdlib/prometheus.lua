--- @module assay.prometheus
--- @description Prometheus HTTP API client: PromQL metrics query (instant and range), alerts, scrape targets, rules, label values, series and config reload.
--- @keywords prometheus, promql, metrics, metrics query, metric, query, instant query, range query, time series, series, scrape, targets, rules, recording rules, alerting rules, labels, monitoring, observability, reload
--- @quickref c = prometheus.client(url, opts?) -> client
--- @quickref c.queries:instant(promql, time?) -> number | string | [{metric, value}] ; c.queries:range(promql, start, end, step) -> [{metric, values}]
--- @quickref c.alerts:list() ; c.targets:list() ; c.targets:metadata(opts) ; c.rules:list({type}) ; c.labels:values(name) ; c.series:list(selectors) ; c.config:reload() -> bool
--- @example local p = require("assay.prometheus").client("http://prometheus:9090"); local up = p.queries:instant('sum(up{job="api"})'); assert(up > 0)
--
-- Every call goes through assay.rest (encoding, errors, retries). Prometheus answers errors with
-- a JSON envelope ({"status":"error","errorType","error"}), so those statuses are read as JSON
-- and reported with the server's message. See docs/modules/prometheus.md.
local rest = require("assay.rest")

local M = {}

local type, tostring, tonumber, ipairs, error = type, tostring, tonumber, ipairs, error

-- statuses the Prometheus API answers with an error envelope (bad parameters, unexecutable
-- expression, timeout/abort); anything else that is not 200 is a plain HTTP error
local ENVELOPE_STATUSES = { 200, 400, 422, 503 }

-- A time argument: Unix seconds (number) or a string the server parses (RFC 3339 or seconds).
local function time_param(fn, what, v)
  if v == nil then return nil end
  if type(v) == "number" then return tostring(v) end
  if type(v) == "string" and v ~= "" then return v end
  error(fn .. ": " .. what .. " must be a number (Unix seconds) or a string, got " .. type(v), 3)
end

function M.client(url, opts)
  opts = rest.need_table("prometheus.client", "opts", opts) or {}
  local api = rest.client_from_opts("prometheus", url, opts, { auth = opts.auth, ok = ENVELOPE_STATUSES })

  -- GET an API path with query pairs; returns `data` of a success envelope, raises otherwise.
  local function get_data(path, query)
    local q = rest.query(query)
    if q ~= "" then path = path .. "?" .. q end
    local body, resp = api:get(path, { raw = true })
    local ok, env = pcall(json.parse, body)
    if not ok or type(env) ~= "table" then
      if resp.status ~= 200 then error(rest.http_error("prometheus", "GET", path, resp.status, body), 0) end
      error("prometheus: GET " .. path .. ": response is not JSON: " .. body:sub(1, 200), 0)
    end
    if env.status ~= "success" then
      local msg = (env.errorType and (env.errorType .. ": ") or "") .. tostring(env.error or "unknown error")
      error("prometheus: GET " .. path .. " HTTP " .. resp.status .. ": " .. msg, 0)
    end
    return env.data
  end

  local c = { queries = {}, alerts = {}, targets = {}, rules = {}, labels = {}, series = {}, config = {} }

  --- Instant query. Scalars and strings come back as a number/string; a vector with exactly one
  --- sample as its number; other vectors as {{metric, value}, ...}; matrices as returned.
  function c.queries:instant(promql, time)
    local fn = "prometheus.queries:instant"
    rest.need_string(fn, "promql", promql)
    local data = get_data("/api/v1/query", { { "query", promql }, { "time", time_param(fn, "time", time) } })
    if type(data) ~= "table" or data.result == nil then error("prometheus: unexpected response format", 0) end
    local kind, result = data.resultType, data.result
    if kind == "scalar" or kind == "string" then
      return tonumber(result[2]) or result[2]
    elseif kind == "matrix" then
      return result
    end
    if #result == 1 then
      local v = result[1].value[2]
      return tonumber(v) or v
    end
    local out = {}
    for i, s in ipairs(result) do out[i] = { metric = s.metric, value = tonumber(s.value[2]) or s.value[2] } end
    return out
  end

  function c.queries:range(promql, start, stop, step)
    local fn = "prometheus.queries:range"
    rest.need_string(fn, "promql", promql)
    return get_data("/api/v1/query_range", {
      { "query", promql }, { "start", time_param(fn, "start", start) }, { "end", time_param(fn, "end", stop) },
      { "step", time_param(fn, "step", step) },
    }).result
  end

  function c.alerts:list() return get_data("/api/v1/alerts").alerts end

  function c.targets:list(opts)
    rest.need_table("prometheus.targets:list", "opts", opts)
    return get_data("/api/v1/targets", { { "state", opts and opts.state } })
  end

  function c.targets:metadata(opts)
    rest.need_table("prometheus.targets:metadata", "opts", opts)
    opts = opts or {}
    return get_data("/api/v1/targets/metadata",
      { { "match_target", opts.match_target }, { "metric", opts.metric }, { "limit", opts.limit } })
  end

  function c.rules:list(opts)
    rest.need_table("prometheus.rules:list", "opts", opts)
    return get_data("/api/v1/rules", { { "type", opts and opts.type } }).groups
  end

  function c.labels:values(name)
    rest.need_string("prometheus.labels:values", "name", name)
    return get_data(rest.path("api", "v1", "label", name, "values"))
  end

  function c.series:list(selectors, opts)
    local fn = "prometheus.series:list"
    if type(selectors) == "string" then selectors = { selectors } end
    if type(selectors) ~= "table" or #selectors == 0 then
      error(fn .. ": selectors must be a non-empty list of series selectors, got " .. type(selectors), 2)
    end
    for i, s in ipairs(selectors) do rest.need_string(fn, "selector " .. i, s) end
    rest.need_table(fn, "opts", opts)
    opts = opts or {}
    return get_data("/api/v1/series", { { "match[]", selectors },
      { "start", time_param(fn, "start", opts.start) }, { "end", time_param(fn, "end", opts["end"]) } })
  end

  --- POST /-/reload: true on 200, false on any other status (403 without --web.enable-lifecycle).
  function c.config:reload()
    local _, resp = api:post("/-/reload", "", { ok = rest.ANY_STATUS, raw = true })
    return resp.status == 200
  end

  return c
end

return M
