-- assay.email_triage: the keyword rules (the reference's test plan, the word-boundary fix, Gmail
-- messages as input), categorize_llm with fake clients of both shapes and every answer shape, and
-- end to end through a real assay.openclaw client against a mock OpenClaw gateway.
local triage = require("assay.email_triage")
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local raises = dofile(here .. "/fixtures/mock_api.lua").raises

-- 1. the module
assert.eq(type(triage.categorize), "function")
assert.eq(type(triage.categorize_llm), "function")

-- 2. action words win
local action = { { from = "boss@example.com", subject = "Action required: sign the contract" },
                 { from = "noreply@alerts.example.com", subject = "URGENT deadline tomorrow" } }
local b = triage.categorize(action)
assert.eq(#b.needs_action, 2)
assert.eq(#b.needs_reply, 0)
assert.eq(#b.fyi, 0)
assert.is_true(b.needs_action[1] == action[1]) -- the same tables, in input order

-- 3. people
b = triage.categorize({ { from = "alice@example.com", subject = "Lunch tomorrow?" }, { from = "bob@example.com", subject = "Re: the plan" } })
assert.eq(#b.needs_reply, 2)
assert.eq(b.needs_reply[1].from, "alice@example.com")

-- 4. automated mail
b = triage.categorize({ { from = "noreply@github.com", subject = "CI passed" }, { from = "robot@example.com", subject = "Report", automated = true },
                        { from = "news@example.com", subject = "Weekly Newsletter" }, { from = "do-not-reply@bank.example", subject = "Statement" } })
assert.eq(#b.fyi, 4)

-- 5. nothing in, nothing out
b = triage.categorize({})
assert.eq(#b.needs_reply + #b.needs_action + #b.fyi, 0)
assert.eq(json.encode(triage.categorize(nil)), '{"fyi":[],"needs_action":[],"needs_reply":[]}')

-- whole words: "non-urgent", "not urgent" and "insurgent" are not action words
b = triage.categorize({ { from = "a@example.com", subject = "Non-urgent: coffee sometime?" },
                        { from = "b@example.com", subject = "Not urgent, but take a look" },
                        { from = "c@example.com", subject = "The insurgent budget" },
                        { from = "d@example.com", subject = "Urgent: server down" } })
assert.eq(#b.needs_reply, 3)
assert.eq(b.needs_action[1].from, "d@example.com")

-- Gmail API messages work as they come (headers), and list mail announces itself
local function gmail_message(id, headers)
  local list = {}
  for name, value in pairs(headers) do list[#list + 1] = { name = name, value = value } end
  return { id = id, threadId = id, payload = { mimeType = "text/plain", headers = list } }
end
b = triage.categorize({
  gmail_message("g1", { From = "Carol <carol@example.com>", Subject = "Dinner on Friday?" }),
  gmail_message("g2", { From = "shop@example.com", Subject = "Spring sale", ["List-Unsubscribe"] = "<mailto:u@example.com>" }),
  gmail_message("g3", { From = "ops@example.com", Subject = "Disk usage", ["Auto-Submitted"] = "auto-generated" }),
  gmail_message("g4", { From = "boss@example.com", Subject = "Deadline moved" }),
})
assert.eq(b.needs_reply[1].id, "g1")
assert.eq(#b.fyi, 2)
assert.eq(b.needs_action[1].id, "g4")

-- categorize_llm with a fake flat client (the original's shape): what it is asked, and answers
local emails = { { from = "alice@example.com", subject = "Review my PR?" }, { from = "noreply@ci.example", subject = "Build failed" },
                 { from = "boss@example.com", subject = "Sign by Friday" } }
local asked
local answer
local flat = { llm_task = function(self, prompt, opts) asked = { self = self, prompt = prompt, opts = opts } return answer end }
answer = { categories = { needs_reply = { emails[1] }, needs_action = { emails[3] }, fyi = { emails[2] } } }
b = triage.categorize_llm(emails, flat)
assert.eq(b.needs_action[1].subject, "Sign by Friday")
assert.is_true(asked.self == flat)
assert.eq(asked.prompt, triage.DEFAULT_PROMPT)
assert.is_true(asked.opts.artifacts == emails)
assert.eq(asked.opts.output_schema.required, { "needs_reply", "needs_action", "fyi" })
-- { result = ... }, a bare bucket table, a partial one (missing buckets filled), indexes → the emails
answer = { result = { needs_reply = { emails[1] }, needs_action = {}, fyi = { emails[2], emails[3] } } }
assert.eq(#triage.categorize_llm(emails, flat).fyi, 2)
answer = { needs_reply = {}, needs_action = { emails[3] }, fyi = {} }
assert.eq(#triage.categorize_llm(emails, flat).needs_action, 1)
answer = { fyi = { 2 } }
b = triage.categorize_llm(emails, flat, { prompt = "Sort these.", output_schema = { type = "object" }, model = "small" })
assert.eq(b.needs_reply, {})
assert.eq(b.needs_action, {})
assert.is_true(b.fyi[1] == emails[2])
assert.eq(asked.prompt, "Sort these.")
assert.eq(asked.opts.output_schema, { type = "object" })
assert.eq(asked.opts.model, "small")
-- answers that are not buckets
answer = "not json at all"
raises(function() triage.categorize_llm(emails, flat) end, "email_triage: invalid LLM response")
answer = { something = "else" }
raises(function() triage.categorize_llm(emails, flat) end, "email_triage: invalid LLM response")
answer = { needs_reply = "nope" }
raises(function() triage.categorize_llm(emails, flat) end, "email_triage: invalid LLM response: needs_reply is not a list")

-- a fake with the real client's shape (client.llm:task)
local sub = { llm = { task = function(self, prompt, opts) asked = { self = self, opts = opts } return { categories = { fyi = { 1, 2, 3 } } } end } }
b = triage.categorize_llm(emails, sub)
assert.eq(#b.fyi, 3)
assert.is_true(asked.self == sub.llm)

-- end to end: a real assay.openclaw client, the gateway's llm-task tool answering in its envelope
local gw = dofile(here .. "/fixtures/openclaw_gateway.lua").start({ token = "gw-token" })
local seen
gw.llm = function(args)
  seen = args
  local out = { needs_reply = {}, needs_action = {}, fyi = {} }
  for _, e in ipairs(args.input) do
    local bucket = e.from:find("noreply") and "fyi" or (e.subject:find("Friday") and "needs_action" or "needs_reply")
    table.insert(out[bucket], e)
  end
  return out
end
local oc = require("assay.openclaw").client(gw.url, { token = "gw-token" })
b = triage.categorize_llm(emails, oc, { model = "gpt-test" })
assert.eq(#b.needs_reply, 1)
assert.eq(b.needs_reply[1].subject, "Review my PR?")
assert.eq(b.needs_action[1].subject, "Sign by Friday")
assert.eq(b.fyi[1].from, "noreply@ci.example")
-- what the gateway received: the llm-task tool with the emails as input and the bucket schema
local body = gw.last_body()
assert.eq(body.tool, "llm-task")
assert.eq(body.args.prompt, triage.DEFAULT_PROMPT)
assert.eq(body.args.model, "gpt-test")
assert.eq(#seen.input, 3)
assert.eq(seen.schema.required, { "needs_reply", "needs_action", "fyi" })
-- the model answering with indexes gets the caller's own tables back
gw.llm = function() return { needs_reply = { 1 }, needs_action = { 3 }, fyi = { 2 } } end
b = triage.categorize_llm(emails, oc)
assert.is_true(b.needs_action[1] == emails[3])
-- a gateway error surfaces
gw.llm = function() return { wrong = true } end
raises(function() triage.categorize_llm(emails, oc) end, "openclaw: POST /tools/invoke HTTP 400")

-- bad input
raises(function() triage.categorize("x") end, "email_triage.categorize: emails must be a list of tables, got string")
raises(function() triage.categorize({ "x" }) end, "email_triage.categorize: emails[1] must be a table, got string")
raises(function() triage.categorize({}, 5) end, "email_triage.categorize: opts must be a table, got number")
raises(function() triage.categorize_llm(emails, nil) end, "email_triage.categorize_llm: openclaw_client with llm:task (or llm_task) is required")
raises(function() triage.categorize_llm(emails, {}) end, "email_triage.categorize_llm: openclaw_client with llm:task (or llm_task) is required")
raises(function() triage.categorize_llm(emails, oc, "x") end, "email_triage.categorize_llm: opts must be a table, got string")

print("email_triage ok")
http.stop()
