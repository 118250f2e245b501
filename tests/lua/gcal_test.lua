-- assay.gcal against a mock of Google Calendar v3 and Google's token endpoint: the reference's
-- test plan, refresh exactly once on 401 (token file rewritten, mode 0600), query encoding,
-- paging, 404s, the documented flat methods, and bad input.
local gcal = require("assay.gcal")
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local raises = dofile(here .. "/fixtures/mock_api.lua").raises
local google = dofile(here .. "/fixtures/google_api.lua").start()
local dir = fs.tempdir("gcal-test-")
local creds, token_file = google:oauth_files(dir, { client_id = "test-client", client_secret = "test-secret" })
local function client(tok, extra)
  local opts = { credentials_file = creds, token_file = tok or token_file("token.json"), api_base = google.url .. "/",
                 token_url = google.url .. "/token" }
  for k, v in pairs(extra or {}) do opts[k] = v end
  return gcal.client(opts)
end

-- 1. the module
assert.eq(type(gcal.client), "function")
local c = client()

-- 2. list events
google:add_event("primary", { id = "evt-1", summary = "Team standup", start = { dateTime = "2026-04-06T09:00:00Z" }, ["end"] = { dateTime = "2026-04-06T09:30:00Z" } })
google:add_event("primary", { id = "evt-2", summary = "Lunch with Bob", location = "Cafe", start = { dateTime = "2026-04-06T12:00:00Z" }, ["end"] = { dateTime = "2026-04-06T13:00:00Z" } })
local events = c.events:list()
assert.eq(#events, 2)
assert.eq(events[1].id, "evt-1")
assert.eq(events[2].id, "evt-2")
assert.eq(events[1].summary, "Team standup")
assert.eq(events[2].summary, "Lunch with Bob")
assert.eq(google:last().headers["authorization"], "Bearer valid-token")

-- query values are encoded: a "+02:00" offset stays a "+" (unencoded it would reach Google as a
-- space and be refused), q with spaces; only the options given, in Google's names
local lunch = c.events:list({ timeMin = "2026-04-06T13:30:00+02:00", timeMax = "2026-04-06T23:00:00Z", maxResults = 5, q = "lunch bob" })
assert.eq(#lunch, 1)
assert.eq(lunch[1].id, "evt-2")
assert.eq(google:last().query, "timeMin=2026-04-06T13%3A30%3A00%2B02%3A00&timeMax=2026-04-06T23%3A00%3A00Z&maxResults=5&q=lunch%20bob")
-- Unix seconds are sent as RFC 3339; singleEvents/orderBy pass through
local ordered = c.events:list({ timeMin = 1775466000, singleEvents = true, orderBy = "startTime" })
assert.eq(#ordered, 2)
assert.eq(google:last().params.timeMin, "2026-04-06T09:00:00Z")
assert.eq(google:last().params.singleEvents, "true")

-- paging: one page by default (as the original), every page with all = true
for i = 1, 5 do
  google:add_event("primary", { id = "bulk-" .. i, summary = "Bulk " .. i, start = { dateTime = "2026-05-0" .. i .. "T10:00:00Z" }, ["end"] = { dateTime = "2026-05-0" .. i .. "T11:00:00Z" } })
end
assert.eq(#c.events:list({ maxResults = 3 }), 3)
local before = #google.requests
local all = c.events:list({ maxResults = 3, all = true })
assert.eq(#all, 7)
assert.eq(all[7].id, "bulk-5")
assert.eq(#google.requests - before, 3)
assert.eq(google:last().params.pageToken, "page-7")

-- 3. create
local created = c.events:create({
  summary = "Planning", description = "Sprint planning",
  start = { dateTime = "2026-04-07T10:00:00Z", timeZone = "UTC" }, ["end"] = { dateTime = "2026-04-07T11:00:00Z", timeZone = "UTC" },
  attendees = { { email = "alice@example.com" } },
})
assert.eq(created.status, "confirmed")
assert.not_nil(created.id)
assert.eq(google:last().method, "POST")
assert.eq(google:last().path, "/calendar/v3/calendars/primary/events")
assert.eq(google:last().headers["content-type"], "application/json")
assert.eq(json.parse(google:last().body).attendees[1].email, "alice@example.com")

-- 4. get
google:add_event("primary", { id = "evt-123", summary = "Design review", description = "Review the new API",
  start = { dateTime = "2026-04-08T15:00:00Z" }, ["end"] = { dateTime = "2026-04-08T16:00:00Z" },
  attendees = { { email = "carol@example.com", responseStatus = "accepted" } } })
local ev = c.events:get("evt-123")
assert.eq(ev.description, "Review the new API")
assert.eq(#ev.attendees, 1)
assert.eq(c.events:get("no-such-event"), nil) -- 404 → nil

-- 5. update (full replacement)
local updated = c.events:update("evt-123", { summary = "Design review (moved)", start = { dateTime = "2026-04-09T15:00:00Z" }, ["end"] = { dateTime = "2026-04-09T16:00:00Z" } })
assert.eq(updated.summary, "Design review (moved)")
assert.eq(updated.description, nil)
assert.eq(google:last().method, "PUT")
raises(function() c.events:update("no-such-event", { summary = "x", start = {}, ["end"] = {} }) end,
  "gcal: PUT /calendar/v3/calendars/primary/events/no-such-event HTTP 404")

-- 6. calendars
local cals = c.calendars:list()
assert.eq(#cals, 2)
assert.eq(cals[1].primary, true)
assert.eq(cals[2].summary, "Team")

-- 7. delete (Google answers 204 without a body)
google:add_event("primary", { id = "evt-del", summary = "Cancelled", start = { dateTime = "2026-04-10T09:00:00Z" }, ["end"] = { dateTime = "2026-04-10T10:00:00Z" } })
assert.eq(c.events:delete("evt-del"), true)
assert.eq(google:last().method, "DELETE")
assert.eq(c.events:get("evt-del"), nil)
raises(function() c.events:delete("evt-del") end, "gcal: DELETE /calendar/v3/calendars/primary/events/evt-del HTTP 404")

-- ids are encoded into the path; another calendar by id
google:add_event("team@group.calendar.google.com", { id = "team1", summary = "All hands", start = { dateTime = "2026-04-06T16:00:00Z" }, ["end"] = { dateTime = "2026-04-06T17:00:00Z" } })
local team = client(nil, { calendar_id = "team@group.calendar.google.com" })
assert.eq(team.events:list()[1].summary, "All hands")
assert.eq(google:last().query, "")
assert.eq(team.events:get("a/b?c"), nil)
-- (the server decodes %3F but keeps %2F: one segment, no query)
assert.eq(google:last().path, "/calendar/v3/calendars/team@group.calendar.google.com/events/a%2Fb?c")
assert.eq(google:last().query, "")

-- 8. refresh on 401: exactly one refresh, the request repeated with the new token, the token
-- file rewritten (mode 0600) with the new token
google.access["valid-token"] = nil -- expired
local tok = token_file("refresh.json")
fs.chmod(tok, "644")
local r = client(tok)
local before_token = #google:requests_to("/token")
local list = r.calendars:list()
assert.eq(#list, 2)
local tokens = google:requests_to("/token")
assert.eq(#tokens - before_token, 1)
assert.eq(url.parse("?" .. tokens[#tokens].body).params.refresh_token, "refresh-123")
local calls = google:requests_to("/calendar/v3/users/me/calendarList")
assert.eq(calls[#calls - 1].headers["authorization"], "Bearer valid-token")
local new_token = "access-" .. google.issued
assert.eq(calls[#calls].headers["authorization"], "Bearer " .. new_token)
local saved = json.parse(fs.read(tok))
assert.eq(saved.access_token, new_token)
assert.eq(saved.refresh_token, "refresh-123")
assert.eq(fs.stat(tok).permissions, "600")
-- the new token is used from now on: no more refreshes
r.events:list()
assert.eq(#google:requests_to("/token") - before_token, 1)
assert.eq(google:last().headers["authorization"], "Bearer " .. new_token)

-- a second 401 after the refresh is an error, not a loop
google.issue_valid_tokens = false
local twice = client(token_file("twice.json", { access_token = "dead", refresh_token = "refresh-123" }))
before_token = #google:requests_to("/token")
raises(function() twice.calendars:list() end, "gcal: GET /calendar/v3/users/me/calendarList HTTP 401")
assert.eq(#google:requests_to("/token") - before_token, 1)
google.issue_valid_tokens = true

-- a failed refresh says so
local revoked = client(token_file("revoked.json", { access_token = "dead", refresh_token = "revoked" }))
raises(function() revoked.events:list() end, 'oauth2: token refresh failed HTTP 400: {"error":"invalid_grant"')

-- a token the file says has expired is refreshed before the request (no 401 round trip)
local stale = token_file("stale.json", { access_token = "dead", refresh_token = "refresh-123", expires_at = 1000 })
local s = client(stale)
before = #google.requests
assert.eq(#s.calendars:list(), 2)
assert.eq(#google.requests - before, 2) -- POST /token, then one GET
assert.eq(google.requests[before + 1].path, "/token")
assert.gt(json.parse(fs.read(stale)).expires_at, time())

-- the original's documented flat methods
google.access["valid-token"] = true
local f = client()
assert.eq(#f:calendars(), 2)
assert.eq(f:events({ q = "standup" })[1].id, "evt-1")
assert.eq(f:event_get("evt-1").summary, "Team standup")
local fc = f:event_create({ summary = "Flat", start = { dateTime = "2026-04-11T09:00:00Z" }, ["end"] = { dateTime = "2026-04-11T10:00:00Z" } })
assert.eq(f:event_update(fc.id, { summary = "Flat 2", start = fc.start, ["end"] = fc["end"] }).summary, "Flat 2")
assert.eq(f:event_delete(fc.id), true)

-- errors from Google keep its message
google:fail("GET", "/calendar/v3/users/me/calendarList", { status = 500, json = { error = { code = 500, message = "Backend Error" } } }, 3)
raises(function() c.calendars:list() end, 'gcal: GET /calendar/v3/users/me/calendarList HTTP 500: {"error":{"code":500,"message":"Backend Error"}}')

-- bad input
raises(function() gcal.client() end, "gcal: credentials_file is required")
raises(function() gcal.client({ credentials_file = creds }) end, "gcal: token_file is required")
raises(function() gcal.client("x") end, "gcal.client: expected an options table, got string")
raises(function() gcal.client({ credentials_file = creds, token_file = dir .. "/missing.json" }) end,
  "oauth2: failed to read file: " .. dir .. "/missing.json")
raises(function() c.events:get(nil) end, "gcal.events:get: event_id must be a non-empty string, got nil")
raises(function() c.events:delete("") end, "gcal.events:delete: event_id must be a non-empty string, got an empty string")
raises(function() c.events:create("x") end, "gcal.events:create: event must be a table, got string")
raises(function() c.events:update("evt-1", nil) end, "gcal.events:update: event must be a table, got nil")
raises(function() c.events:list("x") end, "gcal.events:list: opts must be a table, got string")

fs.remove(dir, { recursive = true })
print("gcal ok")
http.stop()
