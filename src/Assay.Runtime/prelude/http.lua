-- http: the public Lua API over the natives in Builtins/HttpModule.cs and Builtins/Http/.
-- Wrappers tail-call the natives where they can, so errors point at the caller's line.
local N = ...
local type, error, pairs, ipairs, tostring, setmetatable, getmetatable, select =
  type, error, pairs, ipairs, tostring, setmetatable, getmetatable, select
local concat, sort, format, byte = table.concat, table.sort, string.format, string.byte
local sse_next, sse_close = N.sse_next, N.sse_close

local Response = N.response_mt
Response.__name = "http.response"
Response.__index = {
  json = function(self) return json.parse(self.body) end,
}

local Request = N.request_mt
Request.__name = "http.request"
Request.__index = {
  json = function(self) return json.parse(self.body) end,
}

http = {}

local function urlencode(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return format("%%%02X", byte(c)) end))
end

-- {a = 1, b = {2, 3}} → "a=1&b=2&b=3" (keys sorted: deterministic)
local function encode_pairs(t, what, level)
  if type(t) == "string" then return t end
  if type(t) ~= "table" then error("http: '" .. what .. "' must be a table or a string", level + 1) end
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = tostring(k) end
  sort(keys)
  local out = {}
  for _, k in ipairs(keys) do
    local v = t[k]
    if v == nil then v = t[tonumber(k)] end
    if type(v) == "table" then
      for _, item in ipairs(v) do out[#out + 1] = urlencode(k) .. "=" .. urlencode(item) end
    elseif v ~= false then
      out[#out + 1] = urlencode(k) .. "=" .. urlencode(v)
    end
  end
  return concat(out, "&")
end
http.urlencode = urlencode
http.encode_query = function(t) return encode_pairs(t, "query", 2) end

-- Option names each function takes: any other key is an error naming the function and the key,
-- so a typo ({timeot = 5}) never passes silently (C# builtins do the same through call.Options).
local function option_set(names)
  local set = {}
  for _, n in ipairs(names) do set[n] = true end
  return { names = set, text = concat(names, ", ") }
end
local REQUEST_OPTIONS = option_set({ "headers", "query", "body", "json", "form", "timeout", "connect_timeout",
  "follow_redirects", "on_event" })
local REQUEST_FIELDS = option_set({ "method", "url", "headers", "query", "body", "json", "form", "timeout",
  "connect_timeout", "follow_redirects", "on_event" })
local CLIENT_OPTIONS = option_set({ "base_url", "headers", "timeout", "connect_timeout", "follow_redirects", "ca_cert",
  "ca_cert_file", "client_cert", "client_key", "client_cert_file", "client_key_file", "insecure" })
local STATIC_OPTIONS = option_set({ "dotfiles" })

local function check_options(fname, t, known, level)
  for k in pairs(t) do
    if not known.names[k] then
      local shown = type(k) == "string" and k or "[" .. tostring(k) .. "]"
      error(fname .. ": unknown option '" .. shown .. "' (known: " .. known.text .. ")", level + 1)
    end
  end
end

local function has_header(h, name)
  for k in pairs(h) do
    if type(k) == "string" and k:lower() == name then return true end
  end
  return false
end

local function copy_headers(into, from)
  if from == nil then return end
  if type(from) ~= "table" then error("http: 'headers' must be a table", 4) end
  for k, v in pairs(from) do into[k] = v end
end

-- A request body is an object far more often than an array: an empty table without a
-- json.array() marker goes out as {} (json.encode alone keeps [] for it).
local function encode_body(t)
  if next(t) == nil and getmetatable(t) == nil then return "{}" end
  return json.encode(t)
end

-- Normalises a request into the native's arguments:
-- method, url, headers, body, timeout, connect_timeout, follow_redirects, client_id, stream
local function prepare(d, fname, method, url, body, opts, has_body_arg, known)
  if type(url) ~= "string" then error(fname .. ": first argument must be a URL string", 3) end
  if opts ~= nil and type(opts) ~= "table" then
    error(fname .. ": " .. (has_body_arg and "third" or "second") .. " argument must be a table or nil", 3)
  end
  opts = opts or {}
  check_options(fname, opts, known, 3)
  local headers = {}
  if d then copy_headers(headers, d.headers) end
  copy_headers(headers, opts.headers)
  if d and d.base_url and not url:find("^%a[%w+.-]*://") then
    url = d.base_url:gsub("/+$", "") .. "/" .. url:gsub("^/+", "")
  end
  if opts.query ~= nil then
    local q = encode_pairs(opts.query, "query", 3)
    if q ~= "" then url = url .. (url:find("?", 1, true) and "&" or "?") .. q end
  end
  -- http.delete(url, {body = ...}): APIs such as GitLab's file delete take a body with DELETE
  if body == nil and not has_body_arg then body = opts.body end
  if opts.json ~= nil then
    body = encode_body(opts.json)
    if not has_header(headers, "content-type") then headers["Content-Type"] = "application/json" end
  elseif opts.form ~= nil then
    body = encode_pairs(opts.form, "form", 3)
    if not has_header(headers, "content-type") then headers["Content-Type"] = "application/x-www-form-urlencoded" end
  elseif type(body) == "table" then
    body = encode_body(body)
    if not has_header(headers, "content-type") then headers["Content-Type"] = "application/json" end
  elseif body ~= nil and type(body) ~= "string" then
    if type(body) == "number" then body = tostring(body)
    else error(fname .. ": second argument must be a string, table, or nil", 3) end
  end
  local timeout = opts.timeout
  if timeout == nil and d then timeout = d.timeout end
  local connect_timeout = opts.connect_timeout
  if connect_timeout == nil and d then connect_timeout = d.connect_timeout end
  local follow = opts.follow_redirects
  if follow == nil and d then follow = d.follow_redirects end
  if follow == nil then follow = true end
  local on_event = opts.on_event
  if on_event ~= nil and type(on_event) ~= "function" then error(fname .. ": 'on_event' must be a function", 3) end
  return method, url, headers, body, timeout, connect_timeout, follow, d and d.client or 0, on_event ~= nil, on_event
end

-- SSE: the stream is read event by event; on_event may wait (sleep, http, …); "close" stops it.
local function stream_events(native, on_event, ...)
  local ok, resp, id = pcall(native, ...)
  -- a native's error (no position: pcall called it): mark it so the public function re-positions it
  if not ok then error(type(resp) == "string" and ("[assay http]:0: " .. resp) or resp, 0) end
  if id == nil then return resp end
  local guard <close> = setmetatable({}, { __close = function() sse_close(id) end })
  while true do
    local ev = sse_next(id)
    if ev == nil then break end
    if on_event(ev) == "close" then break end
  end
  return resp
end

-- Natives raise with the position of the prelude line that called them (Lua 5.4 keeps the
-- caller's frame when tail-calling a C function): re-raise such errors at the user's call site.
local function fail(e, level)
  if type(e) == "string" then
    local stripped, n = e:gsub("^%[assay %a+%]:%d+: ", "", 1)
    if n > 0 then error(stripped, level + 1) end
  end
  error(e, 0)
end

local function call_native(native, method, url, headers, body, timeout, ct, follow, client, stream, on_event)
  if stream then
    return stream_events(native, on_event, method, url, headers, body, timeout, ct, follow, client, true)
  end
  return native(method, url, headers, body, timeout, ct, follow, client, false)
end

local function verbs(target, d)
  for _, m in ipairs({ "get", "delete" }) do
    local native, name, upper = N[m], "http." .. m, m:upper()
    target[m] = function(a, b)
      local ok, r = pcall(call_native, native, prepare(d, name, upper, a, nil, b, false, REQUEST_OPTIONS))
      if not ok then fail(r, 2) end
      return r
    end
  end
  for _, m in ipairs({ "post", "put", "patch" }) do
    local native, name, upper = N[m], "http." .. m, m:upper()
    target[m] = function(a, b, c)
      local ok, r = pcall(call_native, native, prepare(d, name, upper, a, b, c, true, REQUEST_OPTIONS))
      if not ok then fail(r, 2) end
      return r
    end
  end
  local native = N.request
  target.request = function(spec)
    if type(spec) ~= "table" then error("http.request: expected a table {method, url, …}", 2) end
    local method = spec.method or "GET"
    if type(method) ~= "string" then error("http.request: 'method' must be a string", 2) end
    local ok, r = pcall(call_native, native, prepare(d, "http.request", method:upper(), spec.url, spec.body, spec, true, REQUEST_FIELDS))
    if not ok then fail(r, 2) end
    return r
  end
end

verbs(http, nil)

local Client = {}
Client.__name = "http.client"
Client.__index = Client
Client.__gc = function(c)
  local id = rawget(c, "_d") and c._d.client
  if id and id ~= 0 then pcall(N.client_free, id) end
end

function http.client(opts)
  if opts ~= nil and type(opts) ~= "table" then error("http.client: argument must be a table or nil", 2) end
  opts = opts or {}
  check_options("http.client", opts, CLIENT_OPTIONS, 2)
  if opts.base_url ~= nil and type(opts.base_url) ~= "string" then error("http.client: 'base_url' must be a string", 2) end
  if opts.headers ~= nil and type(opts.headers) ~= "table" then error("http.client: 'headers' must be a table", 2) end
  local id = 0
  for _, k in ipairs({ "ca_cert", "ca_cert_file", "client_cert", "client_key", "client_cert_file", "client_key_file" }) do
    if opts[k] ~= nil and type(opts[k]) ~= "string" then error("http.client: '" .. k .. "' must be a string", 2) end
  end
  if opts.ca_cert ~= nil or opts.ca_cert_file ~= nil or opts.insecure or opts.client_cert ~= nil
    or opts.client_cert_file ~= nil or opts.client_key ~= nil or opts.client_key_file ~= nil then
    local ok, r = pcall(N.client_new, opts.ca_cert, opts.ca_cert_file, opts.insecure and true or false,
      opts.client_cert, opts.client_key, opts.client_cert_file, opts.client_key_file)
    if not ok then fail(r, 2) end
    id = r
  end
  local d = {
    base_url = opts.base_url, headers = opts.headers, timeout = opts.timeout,
    connect_timeout = opts.connect_timeout, follow_redirects = opts.follow_redirects, client = id,
  }
  local c = setmetatable({ _d = d }, Client)
  return c
end

-- Methods of client objects read their defaults from self._d.
do
  local function method_of(fn_name, has_body)
    local native, name, upper = N[fn_name], "http." .. fn_name, fn_name:upper()
    if has_body then
      return function(self, url, body, opts)
        local ok, r = pcall(call_native, native, prepare(self._d, name, upper, url, body, opts, true, REQUEST_OPTIONS))
        if not ok then fail(r, 2) end
        return r
      end
    end
    return function(self, url, opts)
      local ok, r = pcall(call_native, native, prepare(self._d, name, upper, url, nil, opts, false, REQUEST_OPTIONS))
      if not ok then fail(r, 2) end
      return r
    end
  end
  Client.get, Client.delete = method_of("get", false), method_of("delete", false)
  Client.post, Client.put, Client.patch = method_of("post", true), method_of("put", true), method_of("patch", true)
  function Client:request(spec)
    if type(spec) ~= "table" then error("http.request: expected a table {method, url, …}", 2) end
    local method = spec.method or "GET"
    local ok, r = pcall(call_native, N.request, prepare(self._d, "http.request", method:upper(), spec.url, spec.body, spec, true, REQUEST_FIELDS))
    if not ok then fail(r, 2) end
    return r
  end
end

-- ------------------------------------------------------------------ server

function http.serve(port, routes, opts)
  -- called through pcall, the native's message carries no position: error() adds the caller's
  local ok, id, actual = pcall(N.serve_start, port, routes, opts)
  if not ok then error(id, 2) end
  _SERVER_PORT = actual
  local ok, r = pcall(N.serve_wait, id)
  if not ok then fail(r, 2) end
  return r
end

function http.stop(port)
  return N.stop(port)
end

function http.static(dir, opts)
  if type(dir) ~= "string" then error("http.static: expected a directory path", 2) end
  if opts ~= nil and type(opts) ~= "table" then error("http.static: second argument must be a table or nil", 2) end
  if opts ~= nil then check_options("http.static", opts, STATIC_OPTIONS, 2) end
  local dotfiles = opts ~= nil and opts.dotfiles
  if dotfiles ~= nil and type(dotfiles) ~= "boolean" then error("http.static: option 'dotfiles' must be a boolean", 2) end
  local root = N.static_root(dir)
  local serve = N.static_serve
  dotfiles = dotfiles or false
  return function(req)
    return serve(root, req.wildcard or req.path, dotfiles)
  end
end

local sse_send = N.sse_send

-- hooks the server calls (registry "assay.http.hooks")
return {
  run_sse = function(fn, id)
    return fn(function(ev)
      local ok, e = pcall(sse_send, id, ev)
      if not ok then fail(e, 2) end
    end)
  end,
}
