--- @module assay.gmail
--- @description Gmail API v1 client: search and read email messages and threads, send email, reply in thread, list labels; decodes base64url bodies; OAuth2 token refreshed on 401.
--- @keywords gmail, email, emails, email client, send email, read email, reply to email, e-mail, mail, inbox, message, messages, thread, threads, labels, unread, search mail, google, oauth2, base64url
--- @quickref c = gmail.client{credentials_file, token_file, token_url?, api_base?} -> client
--- @quickref c.messages:search(query, {max}) -> [message] ; c.messages:get(id, {format}) -> message|nil ; c.labels:list() -> [label]
--- @quickref c.messages:send(to, subject, body, {from, cc, bcc}) ; c.messages:reply(id, {body}) ; c.threads:list(query, {max}) ; c.threads:get(id)
--- @quickref gmail.header(message, name) -> value ; gmail.text(message) -> decoded text/plain body
--- @example local gmail = require("assay.gmail"); local c = gmail.client{credentials_file = "~/.config/gog/credentials.json", token_file = "~/.config/gog/token.json"}; for _, m in ipairs(c.messages:search("is:unread newer_than:1d")) do print(gmail.header(m, "Subject"), gmail.text(m)) end
--
-- Built on assay.oauth2 (credentials, refresh on 401) and assay.rest. See docs/modules/gmail.md.
local rest = require("assay.rest")
local oauth2 = require("assay.oauth2")

local M = {}

local type, error, ipairs, concat = type, error, ipairs, table.concat

M.API_BASE = "https://gmail.googleapis.com"
local USER = "/gmail/v1/users/me"

-- ------------------------------------------------------------------ reading messages

--- The value of header `name` (any case) of a message in "full" or "metadata" format, or nil.
function M.header(message, name)
  if type(message) ~= "table" then error("gmail.header: message must be a table, got " .. type(message), 2) end
  rest.need_string("gmail.header", "name", name)
  local lname = name:lower()
  for _, h in ipairs(message.payload and message.payload.headers or {}) do
    if type(h.name) == "string" and h.name:lower() == lname then return h.value end
  end
  return nil
end

local function find_part(part, mime)
  if part.mimeType == mime and part.body and part.body.data then return part end
  for _, p in ipairs(part.parts or {}) do
    local hit = find_part(p, mime)
    if hit then return hit end
  end
end

--- The decoded text/plain body of a "full" message (the first text/plain part of a multipart
--- one), or nil when it has none.
function M.text(message)
  if type(message) ~= "table" then error("gmail.text: message must be a table, got " .. type(message), 2) end
  local part = message.payload and find_part(message.payload, "text/plain")
  if part == nil then return nil end
  return base64.url_decode(part.body.data)
end

-- ------------------------------------------------------------------ writing messages

local function check_header_value(fn, what, v)
  if v == nil then return nil end
  if type(v) ~= "string" then error(fn .. ": " .. what .. " must be a string, got " .. type(v), 3) end
  -- a line break would start a header of the caller's choosing (header injection)
  if v:find("[\r\n]") then error(fn .. ": " .. what .. " must not contain line breaks", 3) end
  return v
end

-- RFC 2047 encoded words (UTF-8, base64) for a header value that is not plain ASCII, cut at
-- character boundaries so each word stays under 75 characters.
local function encode_header(v)
  if not v:find("[\128-\255]") then return v end
  local words, i = {}, 1
  while i <= #v do
    local j = math.min(i + 44, #v)
    -- do not split a UTF-8 sequence: back up while the next byte is a continuation byte
    while j < #v and j > i and v:byte(j + 1) >= 0x80 and v:byte(j + 1) < 0xC0 do j = j - 1 end
    words[#words + 1] = "=?UTF-8?B?" .. base64.encode(v:sub(i, j)) .. "?="
    i = j + 1
  end
  return concat(words, "\r\n ")
end

-- An RFC 2822 message (CRLF line ends), base64url-encoded without padding as Gmail's `raw` wants.
local function raw_message(headers, body)
  local lines = {}
  for _, h in ipairs(headers) do
    if h[2] ~= nil and h[2] ~= "" then lines[#lines + 1] = h[1] .. ": " .. h[2] end
  end
  lines[#lines + 1] = "MIME-Version: 1.0"
  lines[#lines + 1] = "Content-Type: text/plain; charset=utf-8"
  if body:find("[\128-\255]") then lines[#lines + 1] = "Content-Transfer-Encoding: 8bit" end
  body = body:gsub("\r?\n", "\r\n")
  return base64.url_encode(concat(lines, "\r\n") .. "\r\n\r\n" .. body)
end

local function reply_subject(subject)
  if subject:sub(1, 3):lower() == "re:" then return subject end
  return "Re: " .. subject
end

-- ------------------------------------------------------------------ client

function M.client(opts)
  local _, api = oauth2.api_client("gmail", opts, M.API_BASE)

  local function message_path(fn, id)
    rest.need_string(fn, "message_id", id)
    return USER .. "/messages/" .. rest.segment(id)
  end
  local function get_message(fn, id, format)
    return (api:get(message_path(fn, id), { query = { { "format", format or "full" } }, not_found = "nil" }))
  end
  local function send(fn, headers, body, thread_id)
    if type(body) ~= "string" then error(fn .. ": body must be a string, got " .. type(body), 3) end
    return (api:post(USER .. "/messages/send", { raw = raw_message(headers, body), threadId = thread_id }))
  end

  local c = { messages = {}, labels = {}, threads = {} }

  --- Lists the ids matching `query` (Gmail's search syntax), then fetches each one in full.
  function c.messages:search(query, o)
    local fn = "gmail.messages:search"
    if type(query) ~= "string" then error(fn .. ": query must be a string, got " .. type(query), 2) end
    o = rest.need_table(fn, "opts", o) or {}
    local list = api:get(USER .. "/messages", { query = { { "q", query }, { "maxResults", o.max or 10 },
      { "labelIds", o.label_ids }, { "includeSpamTrash", o.include_spam_trash } }, not_found = "nil" })
    if type(list) ~= "table" or list.messages == nil then return {} end
    local out = {}
    for _, m in ipairs(list.messages) do
      local full = get_message(fn, m.id, o.format)
      if full then out[#out + 1] = full end -- deleted between the list and the fetch
    end
    return out
  end

  function c.messages:get(id, o)
    o = rest.need_table("gmail.messages:get", "opts", o) or {}
    return get_message("gmail.messages:get", id, o.format)
  end

  --- Sends a plain-text email. opts: from, cc, bcc (strings), thread_id.
  function c.messages:send(to, subject, body, o)
    local fn = "gmail.messages:send"
    rest.need_string(fn, "to", to)
    if type(subject) ~= "string" then error(fn .. ": subject must be a string, got " .. type(subject), 2) end
    o = rest.need_table(fn, "opts", o) or {}
    local headers = {
      { "From", check_header_value(fn, "opts.from", o.from) },
      { "To", check_header_value(fn, "to", to) },
      { "Cc", check_header_value(fn, "opts.cc", o.cc) },
      { "Bcc", check_header_value(fn, "opts.bcc", o.bcc) },
      { "Subject", encode_header(check_header_value(fn, "subject", subject)) },
    }
    return send(fn, headers, body, o.thread_id)
  end

  --- Replies in the message's thread: to its Reply-To (else From), "Re: " subject, In-Reply-To
  --- and References. opts: body, from, cc.
  function c.messages:reply(id, o)
    local fn = "gmail.messages:reply"
    rest.need_string(fn, "message_id", id)
    o = rest.need_table(fn, "opts", o) or {}
    local original = get_message(fn, id, "full")
    if original == nil then error("gmail: message not found: " .. id, 2) end
    local to = M.header(original, "Reply-To") or M.header(original, "From")
    if to == nil or to == "" then error(fn .. ": message " .. id .. " has no From or Reply-To header to answer", 2) end
    local message_id = M.header(original, "Message-ID")
    local references = M.header(original, "References")
    if message_id then references = references and (references .. " " .. message_id) or message_id end
    local headers = {
      { "From", check_header_value(fn, "opts.from", o.from) },
      { "To", check_header_value(fn, "To header", to) },
      { "Cc", check_header_value(fn, "opts.cc", o.cc) },
      { "Subject", encode_header(reply_subject(check_header_value(fn, "Subject header", M.header(original, "Subject") or ""))) },
      { "In-Reply-To", message_id },
      { "References", references },
    }
    return send(fn, headers, o.body or "", original.threadId)
  end

  function c.labels:list()
    local r = api:get(USER .. "/labels", { not_found = "nil" })
    return type(r) == "table" and r.labels or {}
  end

  --- Thread summaries {id, snippet, historyId} matching `query` (nil: all). opts: max (10).
  function c.threads:list(query, o)
    local fn = "gmail.threads:list"
    if query ~= nil and type(query) ~= "string" then error(fn .. ": query must be a string, got " .. type(query), 2) end
    o = rest.need_table(fn, "opts", o) or {}
    local r = api:get(USER .. "/threads", { query = { { "q", query }, { "maxResults", o.max or 10 } }, not_found = "nil" })
    return type(r) == "table" and r.threads or {}
  end

  --- A thread with all its messages ({id, messages = {...}}), or nil. opts: format ("full").
  function c.threads:get(id, o)
    local fn = "gmail.threads:get"
    rest.need_string(fn, "thread_id", id)
    o = rest.need_table(fn, "opts", o) or {}
    return (api:get(USER .. "/threads/" .. rest.segment(id), { query = { { "format", o.format or "full" } }, not_found = "nil" }))
  end

  -- The original's documentation showed flat methods; they work too: c:search(q, o), c:get(id, o),
  -- c:reply(id, o), c:send(to, subject, body), c:labels() (the sub-table is callable).
  function c:search(query, o) return c.messages:search(query, o) end
  function c:get(id, o) return c.messages:get(id, o) end
  function c:reply(id, o) return c.messages:reply(id, o) end
  function c:send(to, subject, body, o) return c.messages:send(to, subject, body, o) end
  setmetatable(c.labels, { __call = function() return c.labels:list() end })

  return c
end

return M
