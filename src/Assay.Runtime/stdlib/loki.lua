--- @module assay.loki
--- @description Grafana Loki client: push logs and query logs back with LogQL (instant, range, live tail over WebSocket), labels, series, readiness and metrics.
--- @keywords loki, logs, log, logging, log lines, push logs, logql, query logs, tail, log stream, labels, series, grafana loki, observability, tenant, X-Scope-OrgID
--- @quickref c = loki.client(url, {tenant, token, username, password}) -> client ; loki.selector({app = "web"}) -> '{app="web"}'
--- @quickref c.logs:push({app = "web"}, {"line", {ts_ns, "line"}}) -> true ; c.queries:instant(logql, {limit, time, direction}) ; c.queries:range(logql, {start, end_time, limit, step, direction})
--- @quickref c.queries:tail(logql, {duration = 2, limit, start, on_message}) -> {streams, dropped_entries} (WebSocket) ; c.labels:list() ; c.labels:values(name) ; c.series:list({selector}) ; c.health:ready() ; c.health:metrics()
--- @example local loki = require("assay.loki"); local c = loki.client("http://loki:3100"); c.logs:push({app = "deploy"}, {"release 1.2 rolled out"}); local r = c.queries:range(loki.selector({app = "deploy"}), {limit = 10})
--
-- Built on assay.rest (encoding, auth, errors); tail uses the ws client, since Loki's tail
-- endpoint is a WebSocket. See docs/modules/loki.md.
local rest = require("assay.rest")

local M = {}

local type, tostring, pairs, ipairs, error, pcall, format = type, tostring, pairs, ipairs, error, pcall, string.format

local function escape(v) return (tostring(v):gsub('[\\"]', "\\%0"):gsub("\n", "\\n")) end

--- {app="web", env="prod"} → '{app="web",env="prod"}' (names sorted, values escaped).
function M.selector(labels)
  if type(labels) ~= "table" then error("loki.selector: labels must be a table, got " .. type(labels), 2) end
  local keys = {}
  for k in pairs(labels) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = k .. '="' .. escape(labels[k]) .. '"' end
  return "{" .. table.concat(parts, ",") .. "}"
end

-- Now in nanoseconds as an integer string (time() has microsecond resolution).
local function now_ns() return format("%d", math.floor(time() * 1e6) * 1000) end

-- A timestamp as Loki wants it: a decimal integer string of nanoseconds, never "1.7e+18".
local function ns_string(fn, ts)
  if type(ts) == "string" and ts:match("^%d+$") then return ts end
  if type(ts) == "number" then
    if math.type(ts) == "integer" then return format("%d", ts) end
    return format("%.0f", ts)
  end
  error(fn .. ": timestamp must be an integer of nanoseconds (number or digit string), got " .. tostring(ts), 3)
end

-- start/end/time query values: numbers as integers (ns or s, Loki accepts both), strings as is
local function tparam(v)
  if type(v) == "number" then return math.type(v) == "integer" and format("%d", v) or format("%.0f", v) end
  return v
end

function M.client(url, opts)
  opts = rest.need_table("loki.client", "opts", opts) or {}
  local api = rest.client_from_opts("loki", url, opts, {
    auth = rest.bearer_or_basic(opts.token, opts.username, opts.password),
    headers = { ["X-Scope-OrgID"] = opts.tenant and tostring(opts.tenant) or nil },
  })

  local function get(path, query) return (api:get(path, { query = query })) end

  local c = { logs = {}, queries = {}, labels = {}, series = {}, health = {} }

  --- Pushes one stream. Entries: a line (timestamped now) or {ts_ns, line}. Returns true.
  function c.logs:push(stream_labels, entries)
    local fn = "loki.logs:push"
    if type(stream_labels) ~= "table" then error(fn .. ": stream_labels must be a table, got " .. type(stream_labels), 2) end
    if type(entries) ~= "table" or #entries == 0 then error(fn .. ": entries must be a non-empty list", 2) end
    local stream = json.object()
    for k, v in pairs(stream_labels) do stream[tostring(k)] = tostring(v) end
    local values = json.array()
    for i, e in ipairs(entries) do
      if type(e) == "string" then values[i] = { now_ns(), e }
      elseif type(e) == "table" and type(e[2]) == "string" then values[i] = { ns_string(fn, e[1]), e[2] }
      else error(fn .. ": entry " .. i .. " must be a line or {timestamp_ns, line}", 2) end
    end
    api:post("/loki/api/v1/push", { streams = { { stream = stream, values = values } } }, { ok = { 200, 204 } })
    return true
  end

  function c.queries:instant(logql, o)
    local fn = "loki.queries:instant"
    rest.need_string(fn, "logql", logql)
    o = rest.need_table(fn, "opts", o) or {}
    return get("/loki/api/v1/query", { { "query", logql }, { "limit", o.limit }, { "time", tparam(o.time) },
      { "direction", o.direction } }).data.result
  end

  function c.queries:range(logql, o)
    local fn = "loki.queries:range"
    rest.need_string(fn, "logql", logql)
    o = rest.need_table(fn, "opts", o) or {}
    return get("/loki/api/v1/query_range", { { "query", logql }, { "start", tparam(o.start) },
      { "end", tparam(o.end_time or o["end"]) }, { "limit", o.limit }, { "step", o.step },
      { "direction", o.direction } }).data.result
  end

  --- Live tail over Loki's WebSocket endpoint: listens for opts.duration seconds (2) or until
  --- opts.on_message(msg) returns false, and returns every message's streams and dropped
  --- entries merged: {streams = {...}, dropped_entries = {...}}.
  function c.queries:tail(logql, o)
    local fn = "loki.queries:tail"
    rest.need_string(fn, "logql", logql)
    o = rest.need_table(fn, "opts", o) or {}
    local duration = o.duration or 2
    if type(duration) ~= "number" or duration <= 0 then error(fn .. ": duration must be a number of seconds > 0", 2) end
    local q = rest.query({ { "query", logql }, { "limit", o.limit }, { "start", tparam(o.start) }, { "delay_for", o.delay_for } })
    local wsurl = api.base_url:gsub("^http", "ws") .. "/loki/api/v1/tail?" .. q
    local ok, conn = pcall(ws.connect, wsurl, { headers = api.headers, timeout = o.timeout or 10 })
    if not ok then error("loki: TAIL /loki/api/v1/tail?" .. q .. ": " .. tostring(conn), 2) end
    local out = { streams = {}, dropped_entries = {} }
    local deadline = os.monotonic() + duration
    while true do
      local left = deadline - os.monotonic()
      if left <= 0 then break end
      local got, data = pcall(conn.recv, conn, left)
      if not got or data == nil then break end -- timeout (the listening time is over) or closed
      local parsed, msg = pcall(json.parse, data)
      if parsed and type(msg) == "table" then
        for _, s in ipairs(msg.streams or {}) do out.streams[#out.streams + 1] = s end
        for _, d in ipairs(msg.dropped_entries or {}) do out.dropped_entries[#out.dropped_entries + 1] = d end
        if o.on_message and o.on_message(msg) == false then break end
      end
    end
    pcall(conn.close, conn)
    return out
  end

  function c.labels:list(o)
    o = rest.need_table("loki.labels:list", "opts", o) or {}
    return get("/loki/api/v1/labels", { { "start", tparam(o.start) }, { "end", tparam(o.end_time or o["end"]) } }).data
  end

  function c.labels:values(name, o)
    local fn = "loki.labels:values"
    rest.need_string(fn, "label_name", name)
    o = rest.need_table(fn, "opts", o) or {}
    return get(rest.path("loki", "api", "v1", "label", name, "values"),
      { { "start", tparam(o.start) }, { "end", tparam(o.end_time or o["end"]) } }).data
  end

  function c.series:list(selectors, o)
    local fn = "loki.series:list"
    if type(selectors) == "string" then selectors = { selectors } end
    if type(selectors) ~= "table" or #selectors == 0 then
      error(fn .. ": match_selectors must be a non-empty list of selectors, got " .. type(selectors), 2)
    end
    o = rest.need_table(fn, "opts", o) or {}
    return get("/loki/api/v1/series", { { "match[]", selectors }, { "start", tparam(o.start) },
      { "end", tparam(o.end_time or o["end"]) } }).data
  end

  function c.health:ready()
    local _, resp = api:get("/ready", { ok = rest.ANY_STATUS, raw = true, retries = 0 })
    return resp.status == 200
  end

  function c.health:metrics() return (api:get("/metrics", { raw = true })) end

  return c
end

return M
