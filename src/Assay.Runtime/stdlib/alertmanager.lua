--- @module assay.alertmanager
--- @description Prometheus Alertmanager API v2 client: list, filter and post alerts, alert groups, create/list/expire an alert silence, status and receivers.
--- @keywords alertmanager, alert, alerts, alert silence, silence, silences, mute, firing, alert groups, receivers, matchers, on-call, paging, notification, prometheus, monitoring, observability
--- @quickref c = alertmanager.client(url, opts?) -> client
--- @quickref c.alerts:list({active, silenced, inhibited, unprocessed, filter = {'alertname="X"'}, receiver}) ; c.alerts:post(alerts) ; c.alerts:groups(opts) ; c.alerts:is_firing(name) ; c.alerts:active_count()
--- @quickref c.silences:list({filter}) ; c.silences:get(id) ; c.silences:create(silence) -> {silenceID} ; c.silences:delete(id) ; c.silences:silence_alert(alertname, hours, {created_by, comment}) -> id
--- @quickref c.status:get() ; c.receivers:list()
--- @example local am = require("assay.alertmanager").client("http://alertmanager:9093"); local id = am.silences:silence_alert("DiskFull", 2, {comment = "maintenance"})
--
-- Built on assay.rest (encoding, errors, retries). Times are sent as RFC 3339 (UTC), as
-- Alertmanager demands. See docs/modules/alertmanager.md.
local rest = require("assay.rest")

local M = {}

local type, tostring, ipairs, pairs, error = type, tostring, ipairs, pairs, error

-- filter = 'alertname="X"' or a list of matchers → a list value (the name repeats)
local function filters(fn, v)
  if v == nil then return nil end
  if type(v) == "string" then return { v } end
  if type(v) ~= "table" then error(fn .. ": filter must be a list of matcher strings, got " .. type(v), 3) end
  return v
end

local function bool(fn, opts, key)
  local v = opts[key]
  if v ~= nil and type(v) ~= "boolean" then error(fn .. ": " .. key .. " must be a boolean, got " .. type(v), 3) end
  return v
end

local function alert_query(fn, opts, with_unprocessed)
  rest.need_table(fn, "opts", opts)
  opts = opts or {}
  return {
    { "active", bool(fn, opts, "active") }, { "silenced", bool(fn, opts, "silenced") },
    { "inhibited", bool(fn, opts, "inhibited") },
    { "unprocessed", with_unprocessed and bool(fn, opts, "unprocessed") or nil },
    { "filter", filters(fn, opts.filter) }, { "receiver", opts.receiver },
  }
end

-- startsAt/endsAt given as Unix seconds become RFC 3339; strings are sent as they are
local function with_rfc3339(silence)
  local s = {}
  for k, v in pairs(silence) do s[k] = v end
  for _, k in ipairs({ "startsAt", "endsAt" }) do
    if type(s[k]) == "number" then s[k] = rest.rfc3339(s[k]) end
  end
  return s
end

function M.client(url, opts)
  opts = rest.need_table("alertmanager.client", "opts", opts) or {}
  local api = rest.client_from_opts("alertmanager", url, opts, { auth = opts.auth })
  local c = { alerts = {}, silences = {}, status = {}, receivers = {} }

  function c.alerts:list(o)
    return api:get("/api/v2/alerts", { query = alert_query("alertmanager.alerts:list", o, true) })
  end

  --- Posts alerts (a list of {labels, annotations, startsAt, endsAt, generatorURL}; one alert
  --- table is wrapped). Returns true.
  function c.alerts:post(alerts)
    local fn = "alertmanager.alerts:post"
    if type(alerts) ~= "table" then error(fn .. ": alerts must be a list of alert tables, got " .. type(alerts), 2) end
    if alerts.labels ~= nil then alerts = { alerts } end
    local list = json.array()
    for i, a in ipairs(alerts) do
      if type(a) ~= "table" or type(a.labels) ~= "table" then error(fn .. ": alert " .. i .. " needs a labels table", 2) end
      list[i] = with_rfc3339(a)
    end
    api:post("/api/v2/alerts", list)
    return true
  end

  function c.alerts:groups(o)
    return api:get("/api/v2/alerts/groups", { query = alert_query("alertmanager.alerts:groups", o, false) })
  end

  function c.alerts:is_firing(alertname)
    rest.need_string("alertmanager.alerts:is_firing", "alertname", alertname)
    local list = c.alerts:list({ active = true, silenced = false, inhibited = false,
                                 filter = { 'alertname="' .. alertname:gsub('[\\"]', "\\%0") .. '"' } })
    return #list > 0
  end

  function c.alerts:active_count()
    return #c.alerts:list({ active = true, silenced = false, inhibited = false })
  end

  function c.silences:list(o)
    local fn = "alertmanager.silences:list"
    rest.need_table(fn, "opts", o)
    return api:get("/api/v2/silences", { query = { { "filter", filters(fn, o and o.filter) } } })
  end

  function c.silences:get(id)
    rest.need_string("alertmanager.silences:get", "id", id)
    return api:get(rest.path("api", "v2", "silence", id))
  end

  --- Creates (or, with `id`, updates) a silence; numeric startsAt/endsAt are Unix seconds.
  function c.silences:create(silence)
    local fn = "alertmanager.silences:create"
    if type(silence) ~= "table" then error(fn .. ": silence must be a table, got " .. type(silence), 2) end
    if type(silence.matchers) ~= "table" or #silence.matchers == 0 then error(fn .. ": silence needs a non-empty matchers list", 2) end
    return api:post("/api/v2/silences", with_rfc3339(silence))
  end

  --- Expires a silence (Alertmanager keeps it, in state "expired").
  function c.silences:delete(id)
    rest.need_string("alertmanager.silences:delete", "id", id)
    api:delete(rest.path("api", "v2", "silence", id))
    return true
  end

  function c.silences:silence_alert(alertname, duration_hours, o)
    local fn = "alertmanager.silences:silence_alert"
    rest.need_string(fn, "alertname", alertname)
    if type(duration_hours) ~= "number" or duration_hours <= 0 then
      error(fn .. ": duration_hours must be a positive number, got " .. tostring(duration_hours), 2)
    end
    rest.need_table(fn, "opts", o)
    o = o or {}
    local now = time()
    local result = c.silences:create({
      matchers = { { name = "alertname", value = alertname, isRegex = false, isEqual = true } },
      startsAt = rest.rfc3339(now), endsAt = rest.rfc3339(now + duration_hours * 3600),
      createdBy = o.created_by or "assay", comment = o.comment or "Silenced by assay",
    })
    return result.silenceID
  end

  function c.status:get() return api:get("/api/v2/status") end
  function c.receivers:list() return api:get("/api/v2/receivers") end

  return c
end

return M
