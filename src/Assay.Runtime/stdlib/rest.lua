--- @module assay.rest
--- @description Base for REST/JSON API clients (and of the integration modules): auth strategies, query and path encoding, one error format, timeouts, retries with backoff and Retry-After, pagination, wait_until.
--- @keywords rest, api, client, sdk, integration, json, bearer, basic auth, api key, retry, backoff, retry-after, pagination, paginate, link header, continue token, wait, poll, query string, url encode
--- @quickref c:request(method, path, {query, body, headers, content_type, raw, ok, not_found}) -> value, response
--- @quickref c:get(path, opts) / c:post(path, body, opts) / c:put / c:patch / c:delete -> decoded JSON body
--- @quickref c:list_all(path, {page_size}) -> Kubernetes List with every page's items (continue tokens)
--- @quickref c:paginate(path, {items, max_pages}) -> all items, following Link rel="next"
--- @example local rest = require("assay.rest"); local c = rest.client{module = "svc", base_url = "https://api.example.com", auth = {bearer = token}}; local item = c:get("/items/" .. rest.segment(id))
--
-- Everything an integration repeats — URL joining, auth, encoding, status handling, errors,
-- retries, paging, polling — lives here once. See docs/modules/rest.md.
local M = {}

local type, tostring, tonumber, pairs, ipairs, error, pcall, select =
  type, tostring, tonumber, pairs, ipairs, error, pcall, select
local concat, sort, format, byte = table.concat, table.sort, string.format, string.byte

local MAX_ERROR_BODY = 1000
local RETRY_STATUSES = { [429] = true, [502] = true, [503] = true, [504] = true }
local IDEMPOTENT = { GET = true, HEAD = true, PUT = true, DELETE = true, OPTIONS = true }

-- ------------------------------------------------------------------ encoding

local function pct(c) return format("%%%02X", byte(c)) end

--- Percent-encodes one path segment (strict RFC 3986): the unreserved characters A-Z a-z 0-9
--- - . _ ~ stay, every other byte (UTF-8 bytes included) is %XX, uppercase: "a b/+" → "a%20b%2F%2B".
function M.segment(value)
  if value == nil then error("rest.segment: value is nil", 2) end
  -- spelled out rather than %w, which follows the C locale
  return (tostring(value):gsub("[^A-Za-z0-9%-%._~]", pct))
end

--- Percent-encodes a path, keeping its "/" separators — empty segments included, nothing is
--- normalised: "/dir/my file+x//y" → "/dir/my%20file%2Bx//y" (S3 keys, SigV4 canonical URIs).
function M.encode_path(path)
  if type(path) ~= "string" then error("rest.encode_path: path must be a string, got " .. type(path), 2) end
  return (path:gsub("[^/]+", M.segment))
end

local function encode_value(v)
  if v == true then return "true" elseif v == false then return "false" end
  return M.segment(v)
end

local function add_pair(out, k, v)
  if v == nil or v == json.null then return end
  if type(v) == "table" then
    for _, item in ipairs(v) do out[#out + 1] = M.segment(k) .. "=" .. encode_value(item) end
  else
    out[#out + 1] = M.segment(k) .. "=" .. encode_value(v)
  end
end

--- A query string (without "?"). `params` is a list of {name, value} pairs (kept in that order)
--- or a map (names sorted). nil values are skipped, booleans are true/false, a list value repeats
--- the name.
function M.query(params)
  if params == nil then return "" end
  if type(params) == "string" then return params end
  if type(params) ~= "table" then error("rest.query: params must be a table, got " .. type(params), 2) end
  local out = {}
  if #params > 0 and type(params[1]) == "table" then
    for _, kv in ipairs(params) do add_pair(out, kv[1], kv[2]) end
  else
    local keys = {}
    for k in pairs(params) do keys[#keys + 1] = tostring(k) end
    sort(keys)
    for _, k in ipairs(keys) do add_pair(out, k, params[k]) end
  end
  return concat(out, "&")
end

--- Joins path segments, encoding each: rest.path("api", "v1", name) → "/api/v1/<name>".
function M.path(...)
  local parts = {}
  for i = 1, select("#", ...) do
    local s = select(i, ...)
    if s == nil then error("rest.path: segment " .. i .. " is nil", 2) end
    parts[#parts + 1] = M.segment(s)
  end
  return "/" .. concat(parts, "/")
end

--- A copy of `t` that encodes as a JSON object even when empty ({} instead of []).
function M.object(t)
  local o = json.object()
  for k, v in pairs(t or {}) do o[k] = v end
  return o
end

--- Argument checks for module functions: raise "<fn>: <what> must be ..., got <type>" at the caller.
function M.need_string(fn, what, v)
  if type(v) ~= "string" or v == "" then
    error(fn .. ": " .. what .. " must be a non-empty string, got " .. (v == "" and "an empty string" or type(v)), 3)
  end
  return v
end

--- As need_string, for an optional table (nil passes).
function M.need_table(fn, what, v)
  if v ~= nil and type(v) ~= "table" then error(fn .. ": " .. what .. " must be a table, got " .. type(v), 3) end
  return v
end

--- As need_string, for the optional timeout_secs argument of a module's wait function: the
--- number given, or `default` for nil.
function M.need_timeout(fn, timeout_secs, default)
  if timeout_secs == nil then return default end
  if type(timeout_secs) ~= "number" then error(fn .. ": timeout_secs must be a number, got " .. type(timeout_secs), 3) end
  return timeout_secs
end

--- Every status 100–599, for `ok = rest.ANY_STATUS` when a caller reads the status itself.
M.ANY_STATUS = {}
for s = 100, 599 do M.ANY_STATUS[#M.ANY_STATUS + 1] = s end

--- RFC 3339 UTC date-time for Unix seconds: 1700000000 → "2023-11-14T22:13:20Z" (fractions dropped).
function M.rfc3339(seconds)
  if type(seconds) ~= "number" then error("rest.rfc3339: seconds must be a number, got " .. type(seconds), 2) end
  return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(seconds))
end

--- Strips every trailing "/" from a base URL.
function M.normalize_url(u)
  if type(u) ~= "string" or u == "" then return nil end
  return (u:gsub("/+$", ""))
end

--- Parses an RFC 8288 Link header into {rel = url}: `<https://x?page=2>; rel="next"` → {next = "https://x?page=2"}.
function M.parse_link(header)
  local links = {}
  if type(header) ~= "string" then return links end
  for target, params in header:gmatch("<([^>]*)>([^,]*)") do
    local rels = params:match('[Rr][Ee][Ll]%s*=%s*"([^"]*)"') or params:match("[Rr][Ee][Ll]%s*=%s*([^;%s]+)")
    if rels then
      for rel in rels:gmatch("%S+") do
        rel = rel:lower()
        if links[rel] == nil then links[rel] = target end
      end
    end
  end
  return links
end

-- ------------------------------------------------------------------ argument checks

--- The auth most vendor clients take from their options: a token as Bearer, else a user name and
--- password as Basic, else none (nil).
function M.bearer_or_basic(token, username, password)
  if token then return { bearer = token } end
  if username then return { basic = { username, password } } end
  return nil
end

-- check_string/check_table: the same checks under the names the operator modules use.
M.check_string, M.check_table = M.need_string, M.need_table

-- ------------------------------------------------------------------ waiting

--- Polls `check()` until it returns a truthy value (returned) or `timeout` seconds pass on a
--- monotonic clock (then raises `message`). opts: timeout (60), interval (2), swallow_errors
--- (false: an error from check propagates), message, clock, sleep.
function M.wait_until(check, opts)
  if type(check) ~= "function" then error("rest.wait_until: check must be a function", 2) end
  if opts ~= nil and type(opts) ~= "table" then error("rest.wait_until: opts must be a table", 2) end
  opts = opts or {}
  local timeout, interval = opts.timeout or 60, opts.interval or 2
  if type(timeout) ~= "number" or timeout < 0 then error("rest.wait_until: timeout must be a number >= 0", 2) end
  if type(interval) ~= "number" or interval <= 0 then error("rest.wait_until: interval must be a number > 0", 2) end
  local clock, pause = opts.clock or os.monotonic, opts.sleep or sleep
  local start = clock()
  local last_error
  while true do
    local ok, v = pcall(check)
    if ok and v then return v end
    if not ok then
      if not opts.swallow_errors then error(v, 0) end
      last_error = v
    end
    local remaining = timeout - (clock() - start)
    if remaining <= 0 then
      local msg = opts.message or ("rest.wait_until: condition not met after " .. timeout .. "s")
      if last_error ~= nil then msg = msg .. " (last error: " .. tostring(last_error) .. ")" end
      error(msg, 0)
    end
    pause(interval < remaining and interval or remaining)
  end
end

--- Polls GET `o.path` through `api` (a rest.client; build it with retries = 0) until it answers
--- 200 — any other status or a transport error means "not up yet" — then logs "<o.name> healthy
--- after N.Ns" and returns true. Raises "<o.fn>: not reachable at <o.url> after <o.timeout>s".
--- o: fn, name, url, path, timeout, interval (2), log_waits (log each non-200 attempt).
--- The service `wait` functions (vault.wait, unleash.wait) share this one loop.
function M.wait_healthy(api, o)
  local started, attempt = os.monotonic(), 0
  return M.wait_until(function()
    attempt = attempt + 1
    local _, resp = api:get(o.path, { ok = M.ANY_STATUS, raw = true })
    if resp.status ~= 200 then
      if o.log_waits then
        log.info("Waiting for " .. o.name .. " at " .. o.url .. "... (attempt " .. attempt .. ", HTTP " .. resp.status .. ")")
      end
      error("HTTP " .. resp.status, 0)
    end
    log.info(format("%s healthy after %.1fs", o.name, os.monotonic() - started))
    return true
  end, { timeout = o.timeout, interval = o.interval or 2, swallow_errors = true,
         message = o.fn .. ": not reachable at " .. o.url .. " after " .. o.timeout .. "s" })
end

-- ------------------------------------------------------------------ client

local Client = {}
Client.__index = Client
Client.__name = "rest.client"

local function auth_headers(auth, where)
  if auth == nil then return {} end
  if type(auth) ~= "table" then error(where .. ": auth must be a table", 3) end
  if type(auth.bearer) == "function" then return {} end -- asked for on each request (prepare)
  if auth.bearer ~= nil then return { Authorization = "Bearer " .. tostring(auth.bearer) } end
  if auth.basic ~= nil then
    local user, pass = auth.basic[1] or auth.basic.username, auth.basic[2] or auth.basic.password
    if user == nil then error(where .. ": auth.basic needs a username", 3) end
    return { Authorization = "Basic " .. base64.encode(tostring(user) .. ":" .. tostring(pass or "")) }
  end
  if auth.authorization ~= nil then return { Authorization = tostring(auth.authorization) } end
  if auth.header ~= nil then
    if auth.value == nil then error(where .. ": auth.header needs a value", 3) end
    return { [auth.header] = tostring(auth.value) }
  end
  if auth.cookie ~= nil then return { Cookie = tostring(auth.cookie) } end
  return {}
end

--- Creates a client. opts: module (error prefix), base_url, auth ({bearer=} | {basic={u,p}} |
--- {header=, value=} | {authorization=} | {cookie=}; with a `refresh` function, a 401 answer
--- calls it once and sends the request again), headers, timeout (30), retries (2),
--- retry_delay (0.25), max_retry_delay (30), ok (list of success codes; default any 2xx),
--- not_found ("error" | "nil" | "empty": {}), empty ("true" | "nil": result of an empty body), accept,
--- TLS: ca_cert, ca_cert_file, client_cert, client_key, client_cert_file, client_key_file, insecure.
function M.client(opts)
  if type(opts) ~= "table" then error("rest.client: expected an options table", 2) end
  local name = opts.module or "rest"
  local base = M.normalize_url(opts.base_url)
  if base == nil then error(name .. ": base URL must be a non-empty string", 2) end
  if not base:find("^https?://") then error(name .. ": base URL must start with http:// or https:// (got '" .. base .. "')", 2) end
  if opts.headers ~= nil and type(opts.headers) ~= "table" then error(name .. ": headers must be a table", 2) end
  if opts.timeout ~= nil and (type(opts.timeout) ~= "number" or opts.timeout < 0) then
    error(name .. ": timeout must be a number of seconds", 2)
  end
  if opts.not_found ~= nil and opts.not_found ~= "error" and opts.not_found ~= "nil" and opts.not_found ~= "empty" then
    error(name .. ": not_found must be \"error\", \"nil\" or \"empty\"", 2)
  end
  local headers = {}
  for k, v in pairs(auth_headers(opts.auth, name)) do headers[k] = v end
  for k, v in pairs(opts.headers or {}) do headers[k] = v end
  local h = opts.http
  if h == nil and (opts.ca_cert or opts.ca_cert_file or opts.client_cert or opts.client_key or opts.client_cert_file
      or opts.client_key_file or opts.insecure) then
    h = http.client({
      ca_cert = opts.ca_cert, ca_cert_file = opts.ca_cert_file, insecure = opts.insecure,
      client_cert = opts.client_cert, client_key = opts.client_key,
      client_cert_file = opts.client_cert_file, client_key_file = opts.client_key_file,
    })
  end
  local retries = opts.retries == nil and 2 or opts.retries
  if type(retries) ~= "number" or retries < 0 then error(name .. ": retries must be a number >= 0", 2) end
  local refresh = type(opts.auth) == "table" and opts.auth.refresh or nil
  if refresh ~= nil and type(refresh) ~= "function" then error(name .. ": auth.refresh must be a function", 2) end
  return setmetatable({
    module = name, base_url = base, headers = headers, http = h, timeout = opts.timeout or 30,
    retries = retries, retry_delay = opts.retry_delay or 0.25, max_retry_delay = opts.max_retry_delay or 30,
    ok = opts.ok, not_found = opts.not_found or "error", empty = opts.empty or "true", accept = opts.accept,
    user_agent = opts.user_agent or ("assay/" .. os.assay_version()),
    token_fn = opts.auth and type(opts.auth.bearer) == "function" and opts.auth.bearer or nil,
    refresh_fn = refresh,
  }, Client)
end

--- The client behind an integration module's `client(url, opts)`: base_url = url and the
--- connection options its caller gives in `opts` (headers, timeout, retries), plus the module's
--- own `settings` (auth, ok, accept, …). settings.base_url replaces url; settings.headers are
--- added to opts.headers (the module's win). `opts` is already checked: a table, {} for none.
function M.client_from_opts(module, url, opts, settings)
  local o = { module = module, base_url = url, headers = opts.headers, timeout = opts.timeout, retries = opts.retries }
  for k, v in pairs(settings or {}) do o[k] = v end
  if settings and settings.headers and opts.headers ~= nil then
    if type(opts.headers) ~= "table" then error(module .. ": headers must be a table", 2) end
    o.headers = {}
    for name, value in pairs(opts.headers) do o.headers[name] = value end
    for name, value in pairs(settings.headers) do o.headers[name] = value end
  end
  return M.client(o)
end

-- One header per name, whatever the case the caller wrote it in (so one Content-Type).
local function set_header(headers, name, value)
  local lname = name:lower()
  for k in pairs(headers) do
    if k:lower() == lname then headers[k] = nil end
  end
  if value ~= nil then headers[name] = value end
end

local function has_header(headers, name)
  for k in pairs(headers) do if k:lower() == name then return true end end
  return false
end

local function is_ok(status, ok)
  if ok == nil then return status >= 200 and status < 300 end
  for _, code in ipairs(ok) do if code == status then return true end end
  return false
end

local function cut(body)
  body = tostring(body or "")
  if #body <= MAX_ERROR_BODY then return body end
  return body:sub(1, MAX_ERROR_BODY) .. "… (" .. #body .. " bytes)"
end

--- The error message every integration uses: "<module>: <VERB> <path> HTTP <status>: <body>".
function M.http_error(module, verb, path, status, body)
  return module .. ": " .. verb .. " " .. path .. " HTTP " .. tostring(status) .. ": " .. cut(body)
end

-- Seconds to wait before retry `attempt` (1-based): Retry-After when given (seconds or an HTTP
-- date), else exponential backoff with jitter; never above max_retry_delay.
local function retry_delay(self, attempt, resp)
  local after = resp and resp.headers and resp.headers["retry-after"]
  local delay
  if after then
    delay = tonumber(after)
    if delay == nil then
      local ok, t = pcall(M.parse_http_date, after)
      if ok and t then delay = t - time() end
    end
    if delay and delay < 0 then delay = 0 end
  end
  if delay == nil then
    local base = self.retry_delay * 2 ^ (attempt - 1)
    delay = base / 2 + math.random() * base / 2
  end
  if delay > self.max_retry_delay then delay = self.max_retry_delay end
  return delay
end

local MONTHS = { jan = 1, feb = 2, mar = 3, apr = 4, may = 5, jun = 6, jul = 7, aug = 8, sep = 9, oct = 10, nov = 11, dec = 12 }

--- Parses an IMF-fixdate ("Wed, 21 Oct 2015 07:28:00 GMT") to Unix seconds; nil if malformed.
function M.parse_http_date(s)
  local d, mon, y, hh, mm, ss = tostring(s):match("^%a+,%s+(%d+)%s+(%a+)%s+(%d+)%s+(%d+):(%d+):(%d+)%s+GMT$")
  local m = mon and MONTHS[mon:lower()]
  if not m then return nil end
  -- days from civil (Howard Hinnant's algorithm), so no local time zone gets involved
  y = tonumber(y) - (m <= 2 and 1 or 0)
  local era = y // 400
  local yoe = y - era * 400
  local doy = (153 * (m + (m > 2 and -3 or 9)) + 2) // 5 + tonumber(d) - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  local days = era * 146097 + doe - 719468
  return days * 86400 + tonumber(hh) * 3600 + tonumber(mm) * 60 + tonumber(ss)
end

local function strip_position(e)
  e = tostring(e)
  e = e:gsub("^[^:\n]*:%d+: ", "", 1)
  e = e:gsub("^http%.%a+: ", "", 1)
  return e
end

-- Builds the URL, headers and body of one request.
local function prepare(self, method, path, o)
  local url
  if path:find("^https?://") then url = path else
    if path:sub(1, 1) ~= "/" then path = "/" .. path end
    url = self.base_url .. path
  end
  local q = M.query(o.query)
  if q ~= "" then url = url .. (url:find("?", 1, true) and "&" or "?") .. q end
  local headers = { ["User-Agent"] = self.user_agent }
  if self.accept then headers.Accept = self.accept end
  if self.token_fn then
    local token = self.token_fn()
    if token ~= nil and token ~= "" then headers.Authorization = "Bearer " .. tostring(token) end
  end
  for k, v in pairs(self.headers) do set_header(headers, k, v) end
  for k, v in pairs(o.headers or {}) do set_header(headers, k, v) end
  local body = o.body
  local content_type = o.content_type
  if o.form ~= nil then
    body = M.query(o.form)
    content_type = content_type or "application/x-www-form-urlencoded"
  elseif type(body) == "table" then
    -- a table body is JSON; an empty one the caller did not mark as an array is an object
    if next(body) == nil and getmetatable(body) == nil then body = json.object() end
    body = json.encode(body)
    content_type = content_type or (not has_header(headers, "content-type") and "application/json" or nil)
  elseif body ~= nil and type(body) ~= "string" then
    error(self.module .. ": request body must be a table or a string, got " .. type(body), 0)
  end
  if content_type then set_header(headers, "Content-Type", content_type) end
  return url, headers, body
end

-- Sends with retries; returns the response or raises a transport error naming the module and URL.
local function send(self, method, url, headers, body, o)
  local retries = o.retries
  if retries == nil then retries = self.retries end
  local idempotent = o.idempotent
  if idempotent == nil then idempotent = IDEMPOTENT[method] end
  if not idempotent then retries = 0 end
  local spec = { method = method, url = url, headers = headers, body = body, timeout = o.timeout or self.timeout }
  local attempt = 0
  while true do
    attempt = attempt + 1
    local ok, resp
    if self.http then ok, resp = pcall(self.http.request, self.http, spec)
    else ok, resp = pcall(http.request, spec) end
    -- a status the caller accepts (ok = {503}) is an answer, not a reason to retry
    local retryable = (not ok) or (RETRY_STATUSES[resp.status] and not is_ok(resp.status, o.ok or self.ok))
    if not retryable or attempt > retries then
      if not ok then error(self.module .. ": " .. method .. " " .. url .. ": " .. strip_position(resp), 0) end
      return resp
    end
    local wait = retry_delay(self, attempt, ok and resp or nil)
    if log and log.debug then
      log.debug(self.module .. ": " .. method .. " " .. url .. " " .. (ok and ("HTTP " .. resp.status) or strip_position(resp))
        .. ", retry " .. attempt .. "/" .. retries .. " in " .. format("%.2f", wait) .. "s")
    end
    sleep(wait)
  end
end

local function decode(self, verb, path, resp, o)
  local body = resp.body or ""
  if o.raw then return body end
  if body == "" or body:match("^%s*$") then
    local empty = o.empty or self.empty
    if empty == "nil" then return nil end
    return true
  end
  local ok, v = pcall(json.parse, body)
  if not ok then
    error(self.module .. ": " .. verb .. " " .. path .. ": response is not JSON (HTTP " .. resp.status .. "): " .. cut(body), 0)
  end
  return v
end

--- One request. opts: query, body (table → JSON, string → raw), form, headers, content_type,
--- raw (return the body bytes), ok (success codes), not_found ("error" | "nil" | "empty"), empty, verb
--- (the word used in error messages, e.g. "LIST"), timeout, retries, idempotent.
--- Returns the decoded body (or true/nil for an empty one) and the response.
Client.request = function(self, method, path, opts)
  if type(method) ~= "string" then error(self.module .. ": request method must be a string", 2) end
  if type(path) ~= "string" then error(self.module .. ": request path must be a string, got " .. type(path), 2) end
  local o = opts or {}
  if type(o) ~= "table" then error(self.module .. ": request options must be a table", 2) end
  method = method:upper()
  local url, headers, body = prepare(self, method, path, o)
  local resp = send(self, method, url, headers, body, o)
  if resp.status == 401 and self.refresh_fn then
    -- the token expired (or was revoked): get a new one, once, and send the request again with it
    -- (safe for any verb: the server refused the request before acting on it)
    self.refresh_fn()
    url, headers, body = prepare(self, method, path, o)
    resp = send(self, method, url, headers, body, o)
  end
  local shown = url:sub(1, #self.base_url) == self.base_url and url:sub(#self.base_url + 1) or url
  local verb = o.verb or method
  local nf = o.not_found or self.not_found
  if resp.status == 404 and nf == "nil" then return nil, resp end
  if resp.status == 404 and nf == "empty" then return json.array(), resp end
  if not is_ok(resp.status, o.ok or self.ok) then
    error(M.http_error(self.module, verb, shown, resp.status, resp.body), 0)
  end
  return decode(self, verb, shown, resp, o), resp
end

Client.get = function(self, path, opts) return self:request("GET", path, opts) end
Client.delete = function(self, path, opts) return self:request("DELETE", path, opts) end

local function with_body(method)
  return function(self, path, body, opts)
    local o = {}
    for k, v in pairs(opts or {}) do o[k] = v end
    o.body = body
    return self:request(method, path, o)
  end
end
Client.post, Client.put, Client.patch = with_body("POST"), with_body("PUT"), with_body("PATCH")

-- A copy of opts with its query extended by `extra` pairs (the caller's query stays first).
local function with_query(opts, extra)
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  local q = {}
  local base = opts.query
  if type(base) == "table" then
    if #base > 0 and type(base[1]) == "table" then for _, kv in ipairs(base) do q[#q + 1] = kv end
    else
      local keys = {}
      for k in pairs(base) do keys[#keys + 1] = k end
      sort(keys)
      for _, k in ipairs(keys) do q[#q + 1] = { k, base[k] } end
    end
  end
  for _, kv in ipairs(extra) do q[#q + 1] = kv end
  o.query = q
  return o
end

--- Kubernetes-style pagination: GETs `path` with `limit` = opts.page_size and follows
--- metadata.continue until it is empty. Returns the first page's List object with every item.
Client.list_all = function(self, path, opts)
  opts = opts or {}
  local token, all, first
  local pages = 0
  repeat
    local list = self:request("GET", path, with_query(opts, { { "limit", opts.page_size }, { "continue", token } }))
    if list == nil then return nil end
    if type(list) ~= "table" then error(self.module .. ": LIST " .. path .. ": expected a List object", 0) end
    pages = pages + 1
    if first == nil then first, all = list, {} end
    for _, item in ipairs(list.items or {}) do all[#all + 1] = item end
    token = list.metadata and list.metadata["continue"]
    if token == "" or token == json.null then token = nil end
    if opts.max_pages and pages >= opts.max_pages then break end
  until token == nil
  first.items = all
  if first.metadata then first.metadata["continue"] = nil end
  return first
end

local function origin(u) return (u:match("^(https?://[^/]+)") or ""):lower() end

--- RFC 8288 pagination: GETs `path` and follows Link rel="next" (same origin only) until there
--- is none. Each page's items are `page` itself when it is an array, else page[opts.items]
--- (or opts.items(page) when a function). Returns all items in order.
Client.paginate = function(self, path, opts)
  opts = opts or {}
  local all, pages = {}, 0
  local url, o = path, opts
  while url do
    local page, resp = self:request("GET", url, o)
    pages = pages + 1
    if page == nil then break end
    local items = page
    if type(opts.items) == "function" then items = opts.items(page)
    elseif opts.items then items = page[opts.items] end
    for _, item in ipairs(type(items) == "table" and items or {}) do all[#all + 1] = item end
    local nxt = M.parse_link(resp.headers and resp.headers["link"]).next
    if nxt and not nxt:find("^https?://") then nxt = origin(self.base_url) .. (nxt:sub(1, 1) == "/" and "" or "/") .. nxt end
    if nxt and origin(nxt) ~= origin(self.base_url) then
      error(self.module .. ": refusing to follow a Link rel=\"next\" to another origin: " .. nxt, 0)
    end
    if opts.max_pages and pages >= opts.max_pages then break end
    url = nxt
    -- the next URL carries its own query string
    if url then o = with_query(opts, {}); o.query = nil end
  end
  return all
end

return M
