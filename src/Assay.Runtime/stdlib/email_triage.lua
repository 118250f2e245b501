--- @module assay.email_triage
--- @description Sort emails into needs_reply, needs_action and fyi buckets: fixed rules (action words, automated senders, newsletters, list headers) or an OpenClaw LLM task.
--- @keywords triage, inbox triage, categorize, classify, sort emails, prioritize, needs reply, needs action, fyi, newsletter, noreply, automated mail, inbox zero, buckets
--- @quickref triage.categorize(emails) -> {needs_reply, needs_action, fyi} (emails: {from, subject, automated?} or Gmail messages)
--- @quickref triage.categorize_llm(emails, openclaw_client, {prompt, output_schema}) -> buckets
--- @example local triage = require("assay.email_triage"); local b = triage.categorize(gmail_client.messages:search("is:unread")); print(#b.needs_action .. " need action")
--
-- See docs/modules/email_triage.md.
local M = {}

local type, error, ipairs, tostring, pcall = type, error, ipairs, tostring, pcall

local BUCKETS = { "needs_reply", "needs_action", "fyi" }

-- Whole words or phrases, so "urgent" does not match "insurgent", and a negated form
-- ("non-urgent", "not urgent") does not count.
local ACTION_WORDS = { "action required", "urgent", "deadline" }
local AUTOMATED_SENDERS = { "noreply", "no-reply", "donotreply", "do-not-reply", "newsletter" }
local AUTOMATED_SUBJECTS = { "newsletter", "automated" }

local function has_phrase(text, phrase)
  local start = 1
  while true do
    local i, j = text:find(phrase, start, true)
    if not i then return false end
    local before, after = text:sub(1, i - 1), text:sub(j + 1, j + 1)
    local word_start = not before:find("[%w]$")
    local word_end = not after:find("^[%w]")
    local negated = before:find("non%-$") or before:find("not%s+$") or before:find("non%s+$")
    if word_start and word_end and not negated then return true end
    start = j + 1
  end
end

local function any_phrase(text, list)
  for _, p in ipairs(list) do if has_phrase(text, p) then return true end end
  return false
end

local function contains_any(text, list)
  for _, p in ipairs(list) do if text:find(p, 1, true) then return true end end
  return false
end

-- A Gmail API message ({payload = {headers = ...}}) has its fields in headers.
local function header(email, name)
  local payload = type(email.payload) == "table" and email.payload or nil
  for _, h in ipairs(payload and payload.headers or {}) do
    if type(h) == "table" and type(h.name) == "string" and h.name:lower() == name then return h.value end
  end
end

local function field(email, name)
  local v = email[name]
  if v == nil then v = header(email, name) end
  return type(v) == "string" and v:lower() or ""
end

-- Mailing-list and auto-generated mail announce itself in its headers (RFC 3834, RFC 2369).
local function automated_by_headers(email)
  local auto = header(email, "auto-submitted")
  if auto and auto:lower() ~= "no" then return true end
  if header(email, "list-unsubscribe") then return true end
  local precedence = (header(email, "precedence") or ""):lower()
  return precedence == "bulk" or precedence == "list" or precedence == "junk"
end

local function bucket_of(email)
  local subject, from = field(email, "subject"), field(email, "from")
  if any_phrase(subject, ACTION_WORDS) then return "needs_action" end
  if email.automated == true or contains_any(from, AUTOMATED_SENDERS) or contains_any(subject, AUTOMATED_SUBJECTS)
      or automated_by_headers(email) then
    return "fyi"
  end
  return "needs_reply"
end

local function check_emails(fn, emails)
  if emails == nil then return {} end
  if type(emails) ~= "table" then error(fn .. ": emails must be a list of tables, got " .. type(emails), 3) end
  for i, e in ipairs(emails) do
    if type(e) ~= "table" then error(fn .. ": emails[" .. i .. "] must be a table, got " .. type(e), 3) end
  end
  return emails
end

local function empty_buckets()
  return { needs_reply = json.array(), needs_action = json.array(), fyi = json.array() }
end

--- Deterministic rules, in this order: action words in the subject → needs_action; an automated
--- sender, subject or header → fyi; anything else → needs_reply. The buckets hold the input
--- tables themselves, in input order.
function M.categorize(emails, opts)
  emails = check_emails("email_triage.categorize", emails)
  if opts ~= nil and type(opts) ~= "table" then error("email_triage.categorize: opts must be a table, got " .. type(opts), 2) end
  local b = empty_buckets()
  for _, e in ipairs(emails) do
    local list = b[bucket_of(e)]
    list[#list + 1] = e
  end
  return b
end

M.DEFAULT_PROMPT = "Classify each email in the input into exactly one of three buckets and return JSON "
  .. "with the keys needs_reply, needs_action and fyi, each a list of the emails (as given) in it. "
  .. "needs_reply: mail from a person that expects a response. "
  .. "needs_action: mail that asks for an explicit or urgent action or has a deadline. "
  .. "fyi: newsletters, no-reply and automated notifications, and anything informational."

M.DEFAULT_SCHEMA = {
  type = "object",
  properties = {
    needs_reply = { type = "array" },
    needs_action = { type = "array" },
    fyi = { type = "array" },
  },
  required = { "needs_reply", "needs_action", "fyi" },
}

-- The LLM call of an OpenClaw client: the real client's c.llm:task, or a flat llm_task method
-- (the original's documentation; fakes in tests).
local function llm_call(client)
  if type(client) ~= "table" then return nil end
  local llm = client.llm
  if type(llm) == "table" and type(llm.task) == "function" then
    return function(prompt, o) return llm.task(llm, prompt, o) end
  end
  if type(client.llm_task) == "function" then
    return function(prompt, o) return client.llm_task(client, prompt, o) end
  end
  return nil
end

local function is_buckets(t)
  if type(t) ~= "table" then return false end
  for _, k in ipairs(BUCKETS) do if t[k] ~= nil then return true end end
  return false
end

-- Finds the buckets in whatever shape the answer came: the gateway's {ok, result} envelope,
-- llm-task's {details = {json}} or JSON text content, the original's {categories} or {result}.
local function find_buckets(r)
  local openclaw = require("assay.openclaw")
  for _ = 1, 6 do
    if is_buckets(r) then return r end
    if type(r) == "string" then
      local ok, parsed = pcall(json.parse, r)
      if not ok then return nil end
      r = parsed
    elseif type(r) ~= "table" then return nil
    elseif r.categories ~= nil then r = r.categories
    elseif r.details ~= nil or r.content ~= nil or (r.ok ~= nil and r.result ~= nil) then
      local inner = openclaw.output(r)
      if inner == r then return nil end
      r = inner
    elseif r.result ~= nil then r = r.result
    else return nil end
  end
  return nil
end

--- Asks an OpenClaw LLM task (client.llm:task, or a client:llm_task method) to bucket the emails.
--- opts: prompt, output_schema (alias schema), model, temperature, max_tokens. A bucket item that
--- is an index into `emails` is replaced by that email.
function M.categorize_llm(emails, openclaw_client, opts)
  local fn = "email_triage.categorize_llm"
  emails = check_emails(fn, emails)
  if opts ~= nil and type(opts) ~= "table" then error(fn .. ": opts must be a table, got " .. type(opts), 2) end
  opts = opts or {}
  local call = llm_call(openclaw_client)
  if call == nil then
    error(fn .. ": openclaw_client with llm:task (or llm_task) is required, e.g. require(\"assay.openclaw\").client()", 2)
  end
  local task_opts = { artifacts = emails, output_schema = opts.output_schema or opts.schema or M.DEFAULT_SCHEMA }
  for _, k in ipairs({ "model", "temperature", "max_tokens", "provider", "thinking", "timeout_ms" }) do task_opts[k] = opts[k] end
  local result = call(opts.prompt or M.DEFAULT_PROMPT, task_opts)
  local b = find_buckets(result)
  if b == nil then error("email_triage: invalid LLM response: " .. (pcall(json.encode, result) and json.encode(result) or tostring(result)), 2) end
  for _, k in ipairs(BUCKETS) do
    local list = b[k]
    if list == nil or list == json.null then list = {} end
    if type(list) ~= "table" then error("email_triage: invalid LLM response: " .. k .. " is not a list", 2) end
    for i, item in ipairs(list) do
      if math.type(item) == "integer" and emails[item] ~= nil then list[i] = emails[item] end
    end
    b[k] = list
  end
  return b
end

return M
