--- @module assay.s3
--- @description S3-compatible object storage (AWS S3, MinIO, Cloudflare R2, Ceph, s3rver): buckets and objects — create, list with continuation, put/get binary-safe, head, copy, delete — signed with AWS Signature Version 4, path-style or virtual-host addressing.
--- @keywords s3, object storage, bucket, buckets, object, objects, blob, upload, download, aws, amazon, minio, r2, cloudflare, ceph, sigv4, signature v4, aws4-hmac-sha256, presign, copy object, list objects, continuation token, storage
--- @quickref c = s3.client{endpoint, region, access_key, secret_key, path_style?, session_token?} -> client
--- @quickref c.buckets:create(b) ; c.buckets:delete(b) ; c.buckets:list() -> [{name, creation_date}] ; c.buckets:exists(b) -> bool
--- @quickref c.objects:put(b, key, body, {content_type, headers}) ; c.objects:get(b, key) -> bytes|nil ; c.objects:head(b, key) -> {status, headers}|nil ; c.objects:delete(b, key)
--- @quickref c.objects:list(b, {prefix, max_keys, continuation_token, delimiter, start_after}) -> {objects, is_truncated, next_continuation_token, key_count} ; c.objects:list_all(b, opts) ; c.objects:copy(sb, sk, db, dk)
--- @quickref s3.sign{method, path, query, headers, body | payload_hash, region, service, access_key, secret_key, time} -> {authorization, headers, canonical_request, string_to_sign, signature}
--- @example local s3 = require("assay.s3"); local c = s3.client{endpoint = "http://minio:9000", region = "us-east-1", access_key = env.get("S3_KEY"), secret_key = env.get("S3_SECRET")}; c.objects:put("backups", "db/2026-01-01.sql.gz", fs.read_bytes("dump.sql.gz"))
--
-- The signer is one standalone function (s3.sign, clock injectable through `time`); the client
-- builds each request's encoded path once (rest.encode_path) and uses it for the URL and the
-- signature alike. Transport, retries and error formatting come from assay.rest. See
-- docs/modules/s3.md.
local rest = require("assay.rest")

local M = {}

local type, tostring, tonumber, pairs, ipairs, error = type, tostring, tonumber, pairs, ipairs, error
local concat, sort, floor = table.concat, table.sort, math.floor

local EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
local ALGORITHM = "AWS4-HMAC-SHA256"

-- ------------------------------------------------------------------ SigV4

local function unescape(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- AWS's canonical query: every name and value encoded (strict RFC 3986), pairs sorted by name,
-- then value; a bare name is "name=". `query` is a query string as sent (its escapes are
-- decoded first, so "a%2Fb" and "a/b" canonicalise alike) or a table for rest.query.
local function canonical_query(query)
  if query == nil then return "" end
  if type(query) == "table" then query = rest.query(query) end
  if type(query) ~= "string" then error("s3.sign: query must be a string or a table, got " .. type(query), 3) end
  local pairs_ = {}
  for part in query:gmatch("[^&]+") do
    local k, v = part:match("^([^=]*)=?(.*)$")
    pairs_[#pairs_ + 1] = { rest.segment(unescape(k)), rest.segment(unescape(v)) }
  end
  sort(pairs_, function(a, b)
    if a[1] ~= b[1] then return a[1] < b[1] end
    return a[2] < b[2]
  end)
  local out = {}
  for i, kv in ipairs(pairs_) do out[i] = kv[1] .. "=" .. kv[2] end
  return concat(out, "&")
end

-- RFC 3986 §5.2.4 on the segments, plus empty segments dropped: what AWS does for every service
-- but S3 (get-slashes: "//example//" → "/example/").
local function normalize_path(path)
  local out = {}
  for seg in path:gmatch("[^/]+") do
    if seg == ".." then out[#out] = nil
    elseif seg ~= "." then out[#out + 1] = seg end
  end
  local trailing = #out > 0 and (path:sub(-1) == "/" or path:match("/%.%.?$") ~= nil)
  return "/" .. concat(out, "/") .. (trailing and "/" or "")
end

local function canonical_uri(req)
  if req.canonical_uri ~= nil then
    if type(req.canonical_uri) ~= "string" then error("s3.sign: canonical_uri must be a string", 3) end
    return req.canonical_uri
  end
  local path = req.path or "/"
  if type(path) ~= "string" then error("s3.sign: path must be a string, got " .. type(path), 3) end
  if path:sub(1, 1) ~= "/" then path = "/" .. path end
  local normalize = req.normalize_path
  if normalize == nil then normalize = (req.service or "s3") ~= "s3" end
  if normalize then path = normalize_path(path) end
  return rest.encode_path(path)
end

-- "  a   b  " → "a b" (AWS's Trimall); a list of values is one comma-separated value.
local function header_value(v)
  if type(v) == "table" then
    local parts = {}
    for i, item in ipairs(v) do parts[i] = header_value(item) end
    return concat(parts, ",")
  end
  return (tostring(v):gsub("^%s+", ""):gsub("%s+$", ""):gsub("%s+", " "))
end

local function need(req, field)
  local v = req[field]
  if type(v) ~= "string" or v == "" then
    error("s3.sign: " .. field .. " must be a non-empty string, got " .. (v == "" and "an empty string" or type(v)), 3)
  end
  return v
end

local function hmac(key, data) return crypto.hmac(key, data, "sha256", true) end

--- Signs one request with AWS Signature Version 4 (header form). `req`: method, path (unencoded;
--- each segment is encoded once — S3's rule; other services also normalise the path) or
--- canonical_uri (used as is), query (string as sent, or a table), headers (name → value or list
--- of values; all are signed, `host` is required), body or payload_hash, region, service
--- ("s3"), access_key, secret_key, session_token, and the clock: time (Unix seconds, default now)
--- unless headers carry x-amz-date. Returns {authorization, signature, signed_headers,
--- canonical_request, string_to_sign, credential_scope, amz_date, headers}: `headers` is the
--- input plus x-amz-date, x-amz-security-token and Authorization — what to send.
function M.sign(req)
  if type(req) ~= "table" then error("s3.sign: expected a request table, got " .. type(req), 2) end
  local method = need(req, "method"):upper()
  local region, access_key, secret_key = need(req, "region"), need(req, "access_key"), need(req, "secret_key")
  local service = req.service or "s3"
  if req.headers ~= nil and type(req.headers) ~= "table" then error("s3.sign: headers must be a table", 2) end

  local out, canon = {}, {}
  for name, value in pairs(req.headers or {}) do
    if type(name) ~= "string" then error("s3.sign: header names must be strings", 2) end
    out[name] = value
    local lname = name:lower()
    if canon[lname] ~= nil then error("s3.sign: header '" .. lname .. "' is given twice (pass a list of values)", 2) end
    canon[lname] = header_value(value)
  end
  if canon.host == nil then error("s3.sign: headers must include host", 2) end
  local amz_date = canon["x-amz-date"]
  if amz_date == nil then
    local t = req.time
    if t == nil then t = time() end
    if type(t) ~= "number" then error("s3.sign: time must be a number of Unix seconds, got " .. type(t), 2) end
    amz_date = os.date("!%Y%m%dT%H%M%SZ", floor(t))
    out["x-amz-date"], canon["x-amz-date"] = amz_date, amz_date
  elseif not amz_date:match("^%d%d%d%d%d%d%d%dT%d%d%d%d%d%dZ$") then
    error("s3.sign: x-amz-date must look like 20150830T123600Z, got '" .. amz_date .. "'", 2)
  end
  if req.session_token ~= nil then
    out["x-amz-security-token"], canon["x-amz-security-token"] = req.session_token, header_value(req.session_token)
  end

  local payload_hash = req.payload_hash
  if payload_hash == nil then
    if req.body ~= nil and type(req.body) ~= "string" then error("s3.sign: body must be a string, got " .. type(req.body), 2) end
    payload_hash = (req.body == nil or req.body == "") and EMPTY_SHA256 or crypto.hash(req.body, "sha256")
  end

  local names = {}
  for name in pairs(canon) do names[#names + 1] = name end
  sort(names)
  local lines = {}
  for i, name in ipairs(names) do lines[i] = name .. ":" .. canon[name] .. "\n" end
  local signed_headers = concat(names, ";")
  local canonical_request = concat({ method, canonical_uri(req), canonical_query(req.query), concat(lines),
    signed_headers, payload_hash }, "\n")

  local date = amz_date:sub(1, 8)
  local scope = date .. "/" .. region .. "/" .. service .. "/aws4_request"
  local string_to_sign = concat({ ALGORITHM, amz_date, scope, crypto.hash(canonical_request, "sha256") }, "\n")
  local key = hmac(hmac(hmac(hmac("AWS4" .. secret_key, date), region), service), "aws4_request")
  local signature = crypto.hmac(key, string_to_sign, "sha256")
  local authorization = ALGORITHM .. " Credential=" .. access_key .. "/" .. scope .. ", SignedHeaders=" .. signed_headers
    .. ", Signature=" .. signature
  out.Authorization = authorization
  return {
    authorization = authorization, signature = signature, signed_headers = signed_headers,
    canonical_request = canonical_request, string_to_sign = string_to_sign, credential_scope = scope,
    amz_date = amz_date, payload_hash = payload_hash, headers = out,
  }
end

-- ------------------------------------------------------------------ XML (S3's fixed shapes)

local ENTITIES = { lt = "<", gt = ">", amp = "&", quot = '"', apos = "'" }

local function unxml(s)
  return (s:gsub("&(#?%w+);", function(name)
    local n = name:match("^#[xX](%x+)$")
    n = n and tonumber(n, 16) or tonumber(name:match("^#(%d+)$") or "")
    if n then return n < 0x110000 and utf8.char(n) or nil end
    return ENTITIES[name]
  end))
end

-- The text of the first <tag> in s (entities decoded), or nil; <tag/> is "".
local function xml_value(s, tag)
  local v = s:match("<" .. tag .. ">(.-)</" .. tag .. ">")
  if v == nil and s:find("<" .. tag .. "%s*/>") then v = "" end
  return v and unxml(v)
end

local function xml_blocks(s, tag)
  local out = {}
  for block in s:gmatch("<" .. tag .. ">(.-)</" .. tag .. ">") do out[#out + 1] = block end
  return out
end

-- ------------------------------------------------------------------ client

-- Statuses the module reads itself; the others (429, 502, 503, 504: SlowDown and friends) are
-- retried by assay.rest, whose error names the status when retries run out.
local ANSWERS = {}
for status = 100, 599 do
  if status ~= 429 and status ~= 502 and status ~= 503 and status ~= 504 then ANSWERS[#ANSWERS + 1] = status end
end

-- Argument checks for the helpers below: the error points at the script line that called the method.
local function need_string(fn, what, v)
  if type(v) ~= "string" or v == "" then
    error(fn .. ": " .. what .. " must be a non-empty string, got " .. (v == "" and "an empty string" or type(v)), 4)
  end
end

-- "http(s)://host[:port]" → scheme, authority as the HTTP client writes it in Host (lower-case,
-- default port dropped), so the signed host is the one sent.
local function parse_endpoint(endpoint)
  local url = rest.normalize_url(endpoint)
  local scheme, authority = url:match("^([Hh][Tt][Tt][Pp][Ss]?)://([^/?#@]+)$")
  if not scheme then
    error("s3.client: endpoint must be http(s)://host[:port] without a path (got '" .. endpoint .. "')", 3)
  end
  scheme, authority = scheme:lower(), authority:lower()
  local default = scheme == "https" and ":443" or ":80"
  if authority:sub(-#default) == default then authority = authority:sub(1, -#default - 1) end
  return scheme, authority
end

local function check_bucket(fn, bucket, path_style)
  need_string(fn, "bucket", bucket)
  if bucket:find("/", 1, true) then error(fn .. ": bucket must not contain '/' (got '" .. bucket .. "')", 3) end
  if not path_style and not bucket:match("^[%w][%w.-]*$") then
    error(fn .. ": bucket '" .. bucket .. "' cannot be a host name (virtual-host style); use path_style = true", 3)
  end
end

-- URLs cannot carry "." and ".." segments: the HTTP client resolves them (even as %2E) before sending.
local function check_key(fn, key)
  need_string(fn, "key", key)
  for seg in (key .. "/"):gmatch("([^/]*)/") do
    if seg == "." or seg == ".." then
      error(fn .. ": key '" .. key .. "' has a '" .. seg .. "' segment, which a URL cannot carry", 3)
    end
  end
end

-- "s3: GET /b/k HTTP 403: SignatureDoesNotMatch: The request signature …": S3's <Code> and
-- <Message> when the body is an S3 error document, else the body itself.
local function s3_error(verb, path, resp)
  local body = resp.body or ""
  local code = xml_value(body, "Code")
  if code then
    local message = xml_value(body, "Message")
    body = code .. (message and message ~= "" and (": " .. message) or "")
  end
  return rest.http_error("s3", verb, path, resp.status, body)
end

function M.client(opts)
  if type(opts) ~= "table" then error("s3.client: expected an options table, got " .. type(opts), 2) end
  for _, field in ipairs({ "endpoint", "region", "access_key", "secret_key" }) do
    local v = opts[field]
    if v == nil or v == "" then error("s3.client: " .. field .. " is required", 2) end
    if type(v) ~= "string" then error("s3.client: " .. field .. " must be a string, got " .. type(v), 2) end
  end
  local path_style = opts.path_style
  if path_style == nil then path_style = true end
  if type(path_style) ~= "boolean" then error("s3.client: path_style must be a boolean, got " .. type(path_style), 2) end
  if opts.session_token ~= nil and type(opts.session_token) ~= "string" then
    error("s3.client: session_token must be a string, got " .. type(opts.session_token), 2)
  end
  local clock = opts.clock or time
  if type(clock) ~= "function" then error("s3.client: clock must be a function returning Unix seconds", 2) end
  local scheme, authority = parse_endpoint(opts.endpoint)
  local region, access_key, secret_key, session_token = opts.region, opts.access_key, opts.secret_key, opts.session_token
  local api = rest.client({ module = "s3", base_url = scheme .. "://" .. authority, timeout = opts.timeout,
                            retries = opts.retries })

  -- One signed request: `r` = {method, bucket?, key?, query? (list of {name, value}), body?,
  -- headers? (extras, signed)}. Returns the body bytes and the response, whatever the status.
  local function send(r)
    local host, path = authority, "/"
    if r.bucket and not path_style then
      host = r.bucket .. "." .. authority
      path = "/" .. (r.key or "")
    elseif r.bucket then
      path = "/" .. r.bucket .. (r.key and ("/" .. r.key) or "")
    end
    local encoded = rest.encode_path(path) -- the URL's path and the canonical URI
    local query = rest.query(r.query)
    local body = r.body or ""
    local headers = { host = host, ["x-amz-content-sha256"] = body == "" and EMPTY_SHA256 or crypto.hash(body, "sha256") }
    for k, v in pairs(r.headers or {}) do headers[k:lower()] = v end
    local signed = M.sign({
      method = r.method, canonical_uri = encoded, query = query, headers = headers,
      payload_hash = headers["x-amz-content-sha256"], region = region, access_key = access_key,
      secret_key = secret_key, session_token = session_token, time = clock(),
    })
    signed.headers.host = nil -- the HTTP client writes Host from the URL: the same authority
    local url = scheme .. "://" .. host .. encoded .. (query ~= "" and ("?" .. query) or "")
    return api:request(r.method, url, { headers = signed.headers, body = r.body, raw = true, ok = ANSWERS,
                                        verb = r.method })
  end

  -- The body when the status is one of `ok_statuses` (default 200, 204), else the S3 error.
  local function expect(verb, path, body, resp, ok_statuses)
    for _, s in ipairs(ok_statuses or { 200, 204 }) do
      if resp.status == s then return body end
    end
    error(s3_error(verb, path, resp), 0)
  end

  -- send + expect, the request named "<method> /bucket/key" in an error.
  local function call(r, ok_statuses)
    local b, resp = send(r)
    return expect(r.method, "/" .. (r.bucket or "") .. (r.key and ("/" .. r.key) or ""), b, resp, ok_statuses)
  end

  local c = { buckets = {}, objects = {} }

  function c.buckets:create(bucket)
    check_bucket("s3.buckets:create", bucket, path_style)
    local body = ""
    if region ~= "us-east-1" then
      body = '<?xml version="1.0" encoding="UTF-8"?><CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        .. "<LocationConstraint>" .. region .. "</LocationConstraint></CreateBucketConfiguration>"
    end
    call({ method = "PUT", bucket = bucket, body = body, headers = { ["content-type"] = "application/xml" } })
    return true
  end

  function c.buckets:delete(bucket)
    check_bucket("s3.buckets:delete", bucket, path_style)
    call({ method = "DELETE", bucket = bucket })
    return true
  end

  function c.buckets:list()
    local b = call({ method = "GET" }, { 200 })
    local out = {}
    for _, block in ipairs(xml_blocks(b, "Bucket")) do
      out[#out + 1] = { name = xml_value(block, "Name"), creation_date = xml_value(block, "CreationDate") }
    end
    return out
  end

  --- true when the bucket answers a zero-key listing with 200 (403, 404, … → false; never raises on status).
  function c.buckets:exists(bucket)
    check_bucket("s3.buckets:exists", bucket, path_style)
    local _, resp = send({ method = "GET", bucket = bucket, query = { { "list-type", "2" }, { "max-keys", "0" } } })
    return resp.status == 200
  end

  function c.objects:put(bucket, key, body, opts)
    local fn = "s3.objects:put"
    check_bucket(fn, bucket, path_style)
    check_key(fn, key)
    if body ~= nil and type(body) ~= "string" then error(fn .. ": body must be a string (bytes), got " .. type(body), 2) end
    local o = rest.need_table(fn, "opts", opts) or {}
    rest.need_table(fn, "opts.headers", o.headers)
    local headers = {}
    for k, v in pairs(o.headers or {}) do headers[k] = v end
    if o.content_type ~= nil then
      if type(o.content_type) ~= "string" then error(fn .. ": opts.content_type must be a string, got " .. type(o.content_type), 2) end
      headers["content-type"] = o.content_type
    end
    call({ method = "PUT", bucket = bucket, key = key, body = body or "", headers = headers })
    return true
  end

  -- GET or HEAD of one object: the response and body, or nil when the object does not exist. A
  -- missing bucket raises — a GET's NoSuchBucket tells it apart; a HEAD has no body to tell.
  local function read_object(method, bucket, key)
    local b, resp = send({ method = method, bucket = bucket, key = key })
    if resp.status == 404 and xml_value(b or "", "Code") ~= "NoSuchBucket" then return nil end
    return resp, expect(method, "/" .. bucket .. "/" .. key, b, resp, { 200 })
  end

  --- The object's bytes, exactly as stored; nil when it does not exist (a missing bucket raises).
  function c.objects:get(bucket, key)
    local fn = "s3.objects:get"
    check_bucket(fn, bucket, path_style)
    check_key(fn, key)
    local _, b = read_object("GET", bucket, key)
    return b
  end

  --- A HEAD request (no body downloaded): {status, headers} or nil when the object does not exist.
  function c.objects:head(bucket, key)
    local fn = "s3.objects:head"
    check_bucket(fn, bucket, path_style)
    check_key(fn, key)
    local resp = read_object("HEAD", bucket, key)
    return resp and { status = resp.status, headers = resp.headers }
  end

  function c.objects:delete(bucket, key)
    local fn = "s3.objects:delete"
    check_bucket(fn, bucket, path_style)
    check_key(fn, key)
    call({ method = "DELETE", bucket = bucket, key = key })
    return true
  end

  --- One page of ListObjectsV2; loop while is_truncated with continuation_token = next_continuation_token.
  function c.objects:list(bucket, opts)
    local fn = "s3.objects:list"
    check_bucket(fn, bucket, path_style)
    local o = rest.need_table(fn, "opts", opts) or {}
    if o.max_keys ~= nil and (math.type(o.max_keys) ~= "integer" or o.max_keys < 0) then
      error(fn .. ": opts.max_keys must be an integer >= 0, got " .. tostring(o.max_keys), 2)
    end
    for _, f in ipairs({ "prefix", "continuation_token", "delimiter", "start_after" }) do
      if o[f] ~= nil and type(o[f]) ~= "string" then error(fn .. ": opts." .. f .. " must be a string, got " .. type(o[f]), 2) end
    end
    local b, resp = send({ method = "GET", bucket = bucket, query = {
      { "list-type", "2" }, { "prefix", o.prefix }, { "max-keys", o.max_keys },
      { "continuation-token", o.continuation_token }, { "delimiter", o.delimiter }, { "start-after", o.start_after } } })
    expect("GET", "/" .. bucket .. "?list-type=2", b, resp, { 200 })
    -- the listing's own <Prefix> and those of <CommonPrefixes> must not be read as object fields
    local objects, prefixes = {}, {}
    for _, block in ipairs(xml_blocks(b, "Contents")) do
      objects[#objects + 1] = { key = xml_value(block, "Key"), size = tonumber(xml_value(block, "Size")) or 0,
        last_modified = xml_value(block, "LastModified"), etag = xml_value(block, "ETag"),
        storage_class = xml_value(block, "StorageClass") }
    end
    for _, block in ipairs(xml_blocks(b, "CommonPrefixes")) do prefixes[#prefixes + 1] = xml_value(block, "Prefix") end
    local token = xml_value(b, "NextContinuationToken")
    return { objects = objects, common_prefixes = prefixes, is_truncated = xml_value(b, "IsTruncated") == "true",
             next_continuation_token = token ~= "" and token or nil, key_count = tonumber(xml_value(b, "KeyCount")) or 0 }
  end

  --- Every object under opts.prefix, following continuation tokens (opts as for list; max_keys is the page size).
  function c.objects:list_all(bucket, opts)
    local fn = "s3.objects:list_all"
    check_bucket(fn, bucket, path_style)
    local o = rest.need_table(fn, "opts", opts) or {}
    local page_opts, all = {}, {}
    for k, v in pairs(o) do page_opts[k] = v end
    repeat
      local page = c.objects.list(c.objects, bucket, page_opts)
      for _, obj in ipairs(page.objects) do all[#all + 1] = obj end
      page_opts.continuation_token = page.next_continuation_token
    until not (page.is_truncated and page.next_continuation_token)
    return all
  end

  --- Server-side copy. The source is sent URL-encoded (x-amz-copy-source: /bucket/encoded-key), and
  --- an <Error> in a 200 answer (S3 reports late copy failures that way) raises.
  function c.objects:copy(src_bucket, src_key, dst_bucket, dst_key)
    local fn = "s3.objects:copy"
    check_bucket(fn, src_bucket, true)
    check_key(fn, src_key)
    check_bucket(fn, dst_bucket, path_style)
    check_key(fn, dst_key)
    local b, resp = send({ method = "PUT", bucket = dst_bucket, key = dst_key,
      headers = { ["x-amz-copy-source"] = rest.encode_path("/" .. src_bucket .. "/" .. src_key) } })
    local what = "/" .. src_bucket .. "/" .. src_key .. " -> /" .. dst_bucket .. "/" .. dst_key
    expect("COPY", what, b, resp, { 200 })
    if b:find("<Error>", 1, true) then error(s3_error("COPY", what, resp), 0) end
    return true
  end

  return c
end

return M
