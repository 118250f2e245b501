--- @module assay.gcal
--- @description Google Calendar API v3 client: list, get, create, update and delete calendar events (meetings, appointments, schedule), list calendars; OAuth2 token refreshed on 401.
--- @keywords gcal, google calendar, calendar, calendars, event, events, meeting, meetings, appointment, schedule, agenda, invite, attendees, busy, oauth2, google
--- @quickref c = gcal.client{credentials_file, token_file, token_url?, api_base?, calendar_id?} -> client
--- @quickref c.events:list({timeMin, timeMax, maxResults, q, singleEvents, orderBy, all}) -> [event] ; c.events:get(id) -> event|nil
--- @quickref c.events:create(event) ; c.events:update(id, event) ; c.events:delete(id) -> true ; c.calendars:list() -> [calendar]
--- @example local c = require("assay.gcal").client{credentials_file = "~/.config/gog/credentials.json", token_file = "~/.config/gog/token.json"}; for _, e in ipairs(c.events:list{timeMin = "2026-04-06T00:00:00Z", singleEvents = true, orderBy = "startTime"}) do print(e.summary) end
--
-- Built on assay.oauth2 (credentials, refresh on 401) and assay.rest. See docs/modules/gcal.md.
local rest = require("assay.rest")
local oauth2 = require("assay.oauth2")

local M = {}

local type, error, setmetatable = type, error, setmetatable

M.API_BASE = "https://www.googleapis.com"

-- Time bounds may be RFC 3339 strings (sent as given, encoded) or Unix seconds.
local function time_param(v)
  if type(v) == "number" then return rest.rfc3339(v) end
  return v
end

function M.client(opts)
  local _, api = oauth2.api_client("gcal", opts, M.API_BASE)
  local calendar_id = opts.calendar_id or "primary" -- opts is a table now
  rest.need_string("gcal.client", "calendar_id", calendar_id)
  local events_path = "/calendar/v3/calendars/" .. rest.segment(calendar_id) .. "/events"
  local function event_path(fn, id)
    rest.need_string(fn, "event_id", id)
    return events_path .. "/" .. rest.segment(id)
  end
  local function event_body(fn, event)
    if type(event) ~= "table" then error(fn .. ": event must be a table, got " .. type(event), 3) end
    return rest.object(event)
  end

  local c = { events = {}, calendars = {} }

  --- One page (Google's default 250 events), or every page with all = true.
  function c.events:list(o)
    o = rest.need_table("gcal.events:list", "opts", o) or {}
    local query = { { "timeMin", time_param(o.timeMin) }, { "timeMax", time_param(o.timeMax) },
                    { "maxResults", o.maxResults }, { "q", o.q }, { "singleEvents", o.singleEvents },
                    { "orderBy", o.orderBy }, { "showDeleted", o.showDeleted }, { "timeZone", o.timeZone },
                    { "pageToken", o.pageToken } }
    local items, token = {}, nil
    repeat
      if token then query[#query] = { "pageToken", token } end
      local page = api:get(events_path, { query = query, not_found = "nil" })
      if type(page) ~= "table" then break end
      for _, e in ipairs(page.items or {}) do items[#items + 1] = e end
      token = o.all and page.nextPageToken or nil
    until token == nil
    return items
  end

  function c.events:get(id) return (api:get(event_path("gcal.events:get", id), { not_found = "nil" })) end

  function c.events:create(event)
    return (api:post(events_path, event_body("gcal.events:create", event)))
  end

  --- A full replacement (PUT): fields left out of `event` are cleared by Google.
  function c.events:update(id, event)
    local path = event_path("gcal.events:update", id)
    return (api:put(path, event_body("gcal.events:update", event)))
  end

  function c.events:delete(id)
    api:delete(event_path("gcal.events:delete", id))
    return true
  end

  function c.calendars:list()
    local page = api:get("/calendar/v3/users/me/calendarList", { not_found = "nil" })
    return type(page) == "table" and page.items or {}
  end

  -- The original's documentation showed flat methods; they work too: c:events(opts), c:calendars()
  -- (the sub-tables are callable), c:event_get(id), c:event_create(e), c:event_update(id, e), c:event_delete(id).
  setmetatable(c.events, { __call = function(_, _, o) return c.events:list(o) end })
  setmetatable(c.calendars, { __call = function() return c.calendars:list() end })
  function c:event_get(id) return c.events:get(id) end
  function c:event_create(event) return c.events:create(event) end
  function c:event_update(id, event) return c.events:update(id, event) end
  function c:event_delete(id) return c.events:delete(id) end

  return c
end

return M
