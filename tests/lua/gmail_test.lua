-- assay.gmail against a mock of Gmail v1 (messages, threads, labels, send with base64url `raw`)
-- and Google's token endpoint: the reference's test plan, the sent RFC 2822 messages decoded and
-- checked, query encoding, refresh exactly once on 401 (token file mode 0600), fixed bugs, bad input.
local gmail = require("assay.gmail")
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local raises = dofile(here .. "/fixtures/mock_api.lua").raises
local google = dofile(here .. "/fixtures/google_api.lua").start()
local dir = fs.tempdir("gmail-test-")
local creds, token_file = google:oauth_files(dir, { installed = { client_id = "test-client", client_secret = "test-secret" } })
local function client(tok)
  return gmail.client({ credentials_file = creds, token_file = tok or token_file("token.json"),
                        api_base = google.url, token_url = google.url .. "/token" })
end
-- the RFC 2822 message the mock received last, split into headers (name → value) and body
local function last_sent()
  local s = google.sent[#google.sent]
  local headers = {}
  for _, h in ipairs(s.headers) do headers[h.name] = h.value end
  return headers, s.body, s
end

-- 1. the module
assert.eq(type(gmail.client), "function")
local c = client()

-- 2. search: the list, then each message in full
google:add_message({ id = "msg-1", from = "Alice <alice@example.com>", subject = "Lunch?", text = "Are you free for lunch?" })
google:add_message({ id = "msg-2", from = "Bob <bob@example.com>", subject = "Report", text = "Here is the report." })
local found = c.messages:search("newer_than:1d")
assert.eq(#found, 2)
assert.eq(found[1].id, "msg-2") -- newest first, as Gmail lists
assert.eq(found[2].id, "msg-1")
assert.eq(found[2].snippet, "Are you free for lunch?")
assert.eq(gmail.header(found[1], "subject"), "Report")
local list_call = google:requests_to("/gmail/v1/users/me/messages")[1]
assert.eq(list_call.query, "q=newer_than%3A1d&maxResults=10") -- maxResults defaults to 10
assert.eq(google:last().params.format, "full")
-- the query is encoded: spaces, ":" and "@" reach Gmail intact, so both terms apply
google:add_message({ id = "msg-3", from = "alice@example.com", subject = "Old", text = "read already", labels = { "INBOX" } })
local unread = c.messages:search("from:alice@example.com is:unread", { max = 5 })
assert.eq(#unread, 1)
assert.eq(unread[1].id, "msg-1")
assert.eq(google:requests_to("/gmail/v1/users/me/messages")[2].query, "q=from%3Aalice%40example.com%20is%3Aunread&maxResults=5")
-- nothing found: Gmail leaves "messages" out
assert.eq(c.messages:search("subject:nothing-like-this"), {})
-- a message deleted between the list and the fetch is skipped
google:fail("GET", "/gmail/v1/users/me/messages/msg-2", { status = 404, json = { error = { code = 404, message = "Requested entity was not found." } } })
local rest_of = c.messages:search("newer_than:1d")
assert.eq(#rest_of, 2)
assert.eq(rest_of[1].id, "msg-3")

-- 3. get, in full by default (format=full in the query)
google:add_message({ id = "msg-abc", thread_id = "thread-abc", from = "carol@example.com", subject = "Plain", text = "a>>>b???" })
local m = c.messages:get("msg-abc")
assert.eq(m.payload.mimeType, "text/plain")
assert.eq(google:last().query, "format=full")
-- the body is base64url (here with "-" and "_" in it); gmail.text decodes it
assert.contains(m.payload.body.data, "-")
assert.contains(m.payload.body.data, "_")
assert.eq(gmail.text(m), "a>>>b???")
assert.eq(c.messages:get("msg-abc", { format = "metadata" }).payload.body, nil)
assert.eq(google:last().query, "format=metadata")
assert.eq(c.messages:get("missing"), nil) -- 404 → nil
-- a multipart message: the text/plain part, non-ASCII intact
google:add_message({ id = "msg-multi", from = "dora@example.com", subject = "Grüße", text = "Hallo — schöne Grüße", html = "<p>Hallo</p>" })
assert.eq(gmail.text(c.messages:get("msg-multi")), "Hallo — schöne Grüße")
assert.eq(gmail.text({ payload = { mimeType = "text/html", body = { data = "" } } }), nil)

-- 4. send: the raw field is base64url (no "+", "/" or "=") of an RFC 2822 message
local sent = c.messages:send("erin@example.com", "Project update", "Line one\nLine two")
assert.eq(sent.labelIds, { "SENT" })
assert.not_nil(sent.id)
local h, body, s = last_sent()
assert.eq(s.raw:find("[+/=]"), nil)
assert.eq(h.To, "erin@example.com")
assert.eq(h.Subject, "Project update")
assert.eq(h["Content-Type"], "text/plain; charset=utf-8")
assert.eq(body, "Line one\r\nLine two")
assert.eq(s.threadId, nil)
-- options: from, cc, bcc; a non-ASCII subject is RFC 2047-encoded
c.messages:send("erin@example.com", "Grüße aus Köln — Übersicht der Änderungen dieser langen Woche", "Hallo", { from = "me@example.com", cc = "frank@example.com", bcc = "gina@example.com" })
h, body = last_sent()
assert.eq(h.From, "me@example.com")
assert.eq(h.Cc, "frank@example.com")
assert.eq(h.Bcc, "gina@example.com")
assert.eq(h.Subject:sub(1, 10), "=?UTF-8?B?")
local decoded = {}
for word in h.Subject:gmatch("=%?UTF%-8%?B%?(.-)%?=") do decoded[#decoded + 1] = base64.decode(word) end
assert.eq(table.concat(decoded), "Grüße aus Köln — Übersicht der Änderungen dieser langen Woche")
assert.gt(#decoded, 1) -- long subjects are split into several encoded words
-- header injection is refused
raises(function() c.messages:send("erin@example.com", "hi\r\nBcc: victim@example.com", "x") end,
  "gmail.messages:send: subject must not contain line breaks")
raises(function() c.messages:send("erin@example.com\nBcc: v@example.com", "hi", "x") end, "gmail.messages:send: to must not contain line breaks")

-- 5. reply: in the thread, to the sender, "Re: " subject, In-Reply-To and References
google:add_message({ id = "orig-1", thread_id = "thread-1", from = "Alice <alice@example.com>", subject = "Budget",
  message_id = "<CAF-orig-1@mail.gmail.com>", text = "Can you check the budget?",
  headers = { { name = "References", value = "<older@mail.gmail.com>" } } })
local reply = c.messages:reply("orig-1", { body = "Looks good." })
assert.eq(reply.threadId, "thread-1")
h, body, s = last_sent()
assert.eq(s.threadId, "thread-1")
assert.eq(h.To, "Alice <alice@example.com>")
assert.eq(h.Subject, "Re: Budget")
assert.eq(h["In-Reply-To"], "<CAF-orig-1@mail.gmail.com>")
assert.eq(h.References, "<older@mail.gmail.com> <CAF-orig-1@mail.gmail.com>")
assert.eq(body, "Looks good.")
-- "RE:" any case is not prefixed again; Reply-To wins over From; no References → just the id
google:add_message({ id = "orig-2", thread_id = "thread-2", from = "list@example.com", subject = "RE: Budget",
  message_id = "<m2@example.com>", headers = { { name = "Reply-To", value = "owner@example.com" } } })
c.messages:reply("orig-2", { body = "ok" })
h = last_sent()
assert.eq(h.Subject, "RE: Budget")
assert.eq(h.To, "owner@example.com")
assert.eq(h.References, "<m2@example.com>")
raises(function() c.messages:reply("nope", { body = "x" }) end, "gmail: message not found: nope")
-- the reply is in the thread
local thread = c.threads:get("thread-1")
assert.eq(#thread.messages, 2)
assert.eq(gmail.text(thread.messages[2]), "Looks good.")
assert.eq(c.threads:get("no-thread"), nil)
local threads = c.threads:list("subject:budget")
assert.eq(#threads, 2)
assert.eq(google:last().query, "q=subject%3Abudget&maxResults=10")

-- 6. labels
local labels = c.labels:list()
assert.eq(#labels, 3)
assert.eq(labels[3].type, "user")
assert.eq(labels[3].name, "Receipts")

-- 7. token refresh on 401: labels 401 → one POST /token → labels again with the new token;
-- the token file is rewritten with mode 0600
google.access["valid-token"] = nil
local tok = token_file("refresh.json")
local r = client(tok)
local before = #google:requests_to("/token")
assert.eq(#r.labels:list(), 3)
assert.eq(#google:requests_to("/token") - before, 1)
local calls = google:requests_to("/gmail/v1/users/me/labels")
assert.eq(calls[#calls - 1].headers["authorization"], "Bearer valid-token")
assert.eq(calls[#calls].headers["authorization"], "Bearer access-" .. google.issued)
assert.eq(json.parse(fs.read(tok)).access_token, "access-" .. google.issued)
assert.eq(fs.stat(tok).permissions, "600")
-- a POST is repeated after the refresh too
google.access["access-" .. google.issued] = nil
before = #google:requests_to("/token")
local n_sent = #google.sent
r.messages:send("erin@example.com", "after refresh", "body")
assert.eq(#google:requests_to("/token") - before, 1)
assert.eq(#google.sent, n_sent + 1)
-- a second 401 is an error after exactly one refresh
google.issue_valid_tokens = false
before = #google:requests_to("/token")
raises(function() client(token_file("dead.json", { access_token = "dead", refresh_token = "refresh-123" })).labels:list() end,
  "gmail: GET /gmail/v1/users/me/labels HTTP 401")
assert.eq(#google:requests_to("/token") - before, 1)
google.issue_valid_tokens = true
google.access["valid-token"] = true

-- the original's documented flat methods
assert.eq(#c:labels(), 3)
assert.eq(#c:search("from:bob@example.com"), 1)
assert.eq(c:get("msg-1").id, "msg-1")
assert.not_nil(c:send("erin@example.com", "flat", "x").id)
assert.eq(c:reply("orig-1", { body = "again" }).threadId, "thread-1")

-- Google's errors keep their message
raises(function() c.messages:get("msg-1", { format = "everything" }) end, "gmail: GET /gmail/v1/users/me/messages/msg-1?format=everything HTTP 400")

-- bad input
raises(function() gmail.client({}) end, "gmail: credentials_file is required")
raises(function() gmail.client({ credentials_file = creds }) end, "gmail: token_file is required")
raises(function() c.messages:search(nil) end, "gmail.messages:search: query must be a string, got nil")
raises(function() c.messages:get(42) end, "gmail.messages:get: message_id must be a non-empty string, got number")
raises(function() c.messages:send(nil, "s", "b") end, "gmail.messages:send: to must be a non-empty string, got nil")
raises(function() c.messages:send("a@example.com", "s", nil) end, "gmail.messages:send: body must be a string, got nil")
raises(function() c.messages:send("a@example.com", "s", "b", { cc = 5 }) end, "gmail.messages:send: opts.cc must be a string, got number")
raises(function() c.messages:reply("orig-1", "x") end, "gmail.messages:reply: opts must be a table, got string")
raises(function() c.threads:get(nil) end, "gmail.threads:get: thread_id must be a non-empty string, got nil")
raises(function() gmail.header("x", "From") end, "gmail.header: message must be a table, got string")
raises(function() gmail.text(nil) end, "gmail.text: message must be a table, got nil")

fs.remove(dir, { recursive = true })
print("gmail ok")
http.stop()
