--- @module assay.healthcheck
--- @description HTTP health checks that return result tables instead of raising: status code, JSON path value, body text, latency, several checks at once, and waiting until a URL is healthy.
--- @keywords healthcheck, health check, health, probe, readiness, liveness, uptime, smoke test, status code, latency, json path, body contains, wait until healthy, monitoring
--- @quickref healthcheck.http(url, {method, body, headers, expected_status, timeout}) -> {ok, status, latency_ms, error}
--- @quickref healthcheck.json_path(url, "status.items[1].ready", expected, opts) -> {ok, actual, expected, error}
--- @quickref healthcheck.status_code(url, code, opts) ; healthcheck.body_contains(url, text, opts) ; healthcheck.endpoint(url, {max_latency_ms}) ; healthcheck.multi({{name, check}}) -> {ok, results, passed, failed, total}
--- @quickref healthcheck.wait(url, {timeout = 60, interval = 2, expect_status = 200}) -> {ok, status, attempts} (raises on timeout)
--- @example local hc = require("assay.healthcheck"); local r = hc.multi({{name = "api", check = function() return hc.endpoint("http://api/healthz") end}}); assert(r.ok)
--
-- Probes never raise (a transport failure is ok=false, status=0); only wait raises, on timeout,
-- and it polls with rest.wait_until. See docs/modules/healthcheck.md.
local rest = require("assay.rest")

local M = {}

local type, tostring, tonumber, pairs, ipairs, pcall, error = type, tostring, tonumber, pairs, ipairs, pcall, error
local floor = math.floor

-- opts.expected_status, or the original wait's spelling expect_status, or `default`
local function expected_status(opts, default)
  return opts.expected_status or opts.expect_status or default
end

local function check_args(fn, url, opts)
  rest.need_string(fn, "url", url)
  return rest.need_table(fn, "opts", opts) or {}
end

-- One request; returns resp (nil on a transport failure), latency in ms, error text.
local function probe(url, opts, method)
  local started = os.monotonic()
  local ok, resp = pcall(http.request, {
    method = method or "GET", url = url, headers = opts.headers or {}, body = opts.body, timeout = opts.timeout,
  })
  local latency = floor((os.monotonic() - started) * 1000)
  if not ok then return nil, latency, tostring(resp) end
  return resp, latency
end

--- Any method (GET by default; POST/PUT/PATCH send opts.body or ""); ok when the status is
--- opts.expected_status (200).
function M.http(url, opts)
  opts = check_args("healthcheck.http", url, opts)
  local method = (opts.method or "GET"):upper()
  local o = opts
  if (method == "POST" or method == "PUT" or method == "PATCH") and opts.body == nil then
    o = {}
    for k, v in pairs(opts) do o[k] = v end
    o.body = ""
  end
  local want = expected_status(opts, 200)
  local resp, latency, err = probe(url, o, method)
  if not resp then return { ok = false, status = 0, latency_ms = latency, error = err } end
  local ok = resp.status == want
  return { ok = ok, status = resp.status, latency_ms = latency,
           error = not ok and ("expected status " .. want .. ", got " .. resp.status) or nil }
end

-- "a.b[2].c" / "a.b.2.c" → {"a", "b", 2, "c"}: numeric segments index arrays (1-based)
local function split_path(expr)
  local keys = {}
  for part in expr:gmatch("[^.]+") do
    local name, rest_ = part:match("^([^%[]*)(.*)$")
    if name ~= "" then keys[#keys + 1] = tonumber(name) and tonumber(name) or name end
    for idx in rest_:gmatch("%[(%d+)%]") do keys[#keys + 1] = tonumber(idx) end
  end
  return keys
end

-- equal, or the same number written as a number on one side and a string on the other
local function same(actual, expected)
  if actual == expected then return true end
  if type(actual) == "number" and type(expected) == "string" then return tonumber(expected) == actual end
  if type(actual) == "string" and type(expected) == "number" then return tonumber(actual) == expected end
  return false
end

--- GETs JSON and compares the value at `path_expr` ("status.ready", "items[1].name", "items.1.name").
function M.json_path(url, path_expr, expected, opts)
  local fn = "healthcheck.json_path"
  opts = check_args(fn, url, opts)
  rest.need_string(fn, "path_expr", path_expr)
  local function fail(msg, actual) return { ok = false, actual = actual, expected = expected, error = msg } end
  local resp, _, err = probe(url, opts)
  if not resp then return fail(err) end
  if resp.status ~= 200 then return fail("HTTP " .. resp.status) end
  local parsed, doc = pcall(json.parse, resp.body)
  if not parsed then return fail("JSON parse error: " .. tostring(doc)) end
  local v = doc
  for _, k in ipairs(split_path(path_expr)) do
    if type(v) ~= "table" then return fail("path traversal failed at '" .. tostring(k) .. "': not a table") end
    local nextv = v[k]
    if nextv == nil then return fail("path '" .. path_expr .. "': key '" .. tostring(k) .. "' not found") end
    v = nextv
  end
  if not same(v, expected) then return fail("expected " .. tostring(expected) .. ", got " .. tostring(v), v) end
  return { ok = true, actual = v, expected = expected }
end

function M.status_code(url, expected, opts)
  local fn = "healthcheck.status_code"
  opts = check_args(fn, url, opts)
  if type(expected) ~= "number" then error(fn .. ": expected must be a status number, got " .. type(expected), 2) end
  local resp, _, err = probe(url, opts)
  if not resp then return { ok = false, status = 0, error = err } end
  local ok = resp.status == expected
  return { ok = ok, status = resp.status, error = not ok and ("expected status " .. expected .. ", got " .. resp.status) or nil }
end

--- Plain substring search (not a Lua pattern) in the body, whatever the status.
function M.body_contains(url, pattern, opts)
  local fn = "healthcheck.body_contains"
  opts = check_args(fn, url, opts)
  rest.need_string(fn, "pattern", pattern)
  local resp, _, err = probe(url, opts)
  if not resp then return { ok = false, found = false, error = err } end
  local found = resp.body:find(pattern, 1, true) ~= nil
  return { ok = found, found = found, error = not found and "pattern not found in response body" or nil }
end

--- Status (opts.expected_status, 200) and latency (opts.max_latency_ms, 5000) together.
function M.endpoint(url, opts)
  opts = check_args("healthcheck.endpoint", url, opts)
  local want, max = expected_status(opts, 200), opts.max_latency_ms or 5000
  local resp, latency, err = probe(url, opts)
  if not resp then return { ok = false, status = 0, latency_ms = latency, error = err } end
  local status_ok, latency_ok = resp.status == want, latency <= max
  local msg
  if not status_ok then msg = "expected status " .. want .. ", got " .. resp.status
  elseif not latency_ok then msg = "latency " .. latency .. "ms exceeds threshold " .. max .. "ms" end
  return { ok = status_ok and latency_ok, status = resp.status, latency_ms = latency, error = msg }
end

--- Runs {name, check} entries in order; a check that raises counts as failed.
function M.multi(checks)
  local fn = "healthcheck.multi"
  if type(checks) ~= "table" then error(fn .. ": checks must be a list of {name, check} tables, got " .. type(checks), 2) end
  local results, passed, failed = {}, 0, 0
  for i, entry in ipairs(checks) do
    if type(entry) ~= "table" or type(entry.check) ~= "function" then error(fn .. ": checks[" .. i .. "].check must be a function", 2) end
    local ok, r = pcall(entry.check)
    if not ok then r = { ok = false, error = tostring(r) }
    elseif type(r) ~= "table" then r = { ok = false, error = "check returned " .. type(r) .. ", not a result table" } end
    local row = { name = entry.name }
    for k, v in pairs(r) do if k ~= "name" then row[k] = v end end
    row.ok = r.ok == true
    results[i] = row
    if row.ok then passed = passed + 1 else failed = failed + 1 end
  end
  return { ok = failed == 0, results = results, passed = passed, failed = failed, total = passed + failed }
end

--- Polls GET url until the status is opts.expect_status / expected_status (200); raises after
--- opts.timeout (60) seconds. opts.interval (2), opts.headers, opts.request_timeout.
function M.wait(url, opts)
  local fn = "healthcheck.wait"
  opts = check_args(fn, url, opts)
  local want, timeout = expected_status(opts, 200), opts.timeout or 60
  local attempts, status = 0, nil
  local probe_opts = { headers = opts.headers, timeout = opts.request_timeout or math.max(timeout, 1) }
  rest.wait_until(function()
    attempts = attempts + 1
    local resp, _, err = probe(url, probe_opts)
    if not resp then error(err, 0) end
    status = resp.status
    if status ~= want then error("HTTP " .. status, 0) end
    log.info("Healthy: " .. url .. " (attempt " .. attempts .. ")")
    return true
  end, { timeout = timeout, interval = opts.interval or 2, swallow_errors = true,
         message = fn .. ": " .. url .. " not healthy after " .. timeout .. "s (" .. "expected status " .. want .. ")" })
  return { ok = true, status = status, attempts = attempts }
end

return M
