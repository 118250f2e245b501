-- assay.rest, the base of the integration modules: encoding, auth strategies, headers, bodies,
-- status policy, error format, timeouts, retries (Retry-After), pagination and wait_until.
-- One local server for the whole file.
local rest = require("assay.rest")

local hits = {}
local function count(key) hits[key] = (hits[key] or 0) + 1 return hits[key] end
local function echo(req)
  return { json = { method = req.method, path = req.path, query = req.query, headers = req.headers, body = req.body } }
end
local big = string.rep("x", 5000)
local binary = {}
for i = 0, 255 do binary[#binary + 1] = string.char(i) end
binary = table.concat(binary)

local local_server = dofile((debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or ".") .. "/fixtures/local_server.lua")
local base
base = local_server.start({
  GET = {
    ["/echo/*"] = echo,
    ["/echo"] = echo,
    ["/status/:code"] = function(req) return { status = tonumber(req.params.code), body = "status body " .. req.params.code } end,
    ["/empty"] = function() return { status = 204 } end,
    ["/big"] = function() return { status = 500, body = big } end,
    ["/text"] = function() return { body = "not json" } end,
    ["/bin"] = function() return { body = binary, headers = { ["Content-Type"] = "application/octet-stream" } } end,
    ["/slow"] = function() sleep(3) return { json = { ok = true } } end,
    ["/flaky/:key"] = function(req)
      local n = count(req.params.key)
      local fails = tonumber(req.params.fails or "1")
      if n <= fails then
        return { status = tonumber(req.params.code or "503"), headers = { ["Retry-After"] = req.params.after }, body = "busy" }
      end
      return { json = { attempt = n } }
    end,
    ["/pages"] = function(req)
      local p = tonumber(req.params.page or "1")
      local link = p < 3 and ('<' .. base .. '/pages?page=' .. (p + 1) .. '&per_page=2>; rel="next", <' .. base .. '/pages?page=3>; rel="last"') or nil
      return { json = { (p - 1) * 2 + 1, (p - 1) * 2 + 2 }, headers = { Link = link } }
    end,
    ["/wrapped"] = function(req)
      local p = tonumber(req.params.page or "1")
      return { json = { values = { "p" .. p } }, headers = { Link = p < 3 and ('</wrapped?page=' .. (p + 1) .. '>; rel="next"') or nil } }
    end,
    ["/evil"] = function() return { json = { 1 }, headers = { Link = '<http://attacker.invalid/steal>; rel="next"' } } end,
    ["/kube"] = function(req)
      local c = req.params["continue"]
      local page = c == nil and 1 or tonumber(c:match("%d+"))
      return { json = { kind = "WidgetList", metadata = { ["continue"] = page < 3 and ("c" .. (page + 1)) or nil },
                        items = { { name = "w" .. page } } } }
    end,
  },
  POST = {
    ["/echo"] = echo,
    ["/raw"] = function(req) return { body = req.body, headers = { ["Content-Type"] = "application/octet-stream", ["X-Type"] = req.headers["content-type"] } } end,
    ["/flaky/:key"] = function(req)
      local n = count("post-" .. req.params.key)
      if n == 1 then return { status = 503, body = "busy" } end
      return { json = { attempt = n } }
    end,
    ["/created"] = function(req) return { status = 201, json = { id = 7 } } end,
    ["/guarded"] = function(req)
      count("guarded")
      if req.headers["authorization"] ~= "Bearer fresh" then return { status = 401, json = { error = "expired" } } end
      return { json = { body = req.body } }
    end,
  },
  PUT = { ["/echo"] = echo }, PATCH = { ["/echo"] = echo }, DELETE = { ["/echo"] = echo },
})

-- encoding helpers
assert.eq(rest.segment("a b/c?d%é"), "a%20b%2Fc%3Fd%25%C3%A9")
assert.eq(rest.segment("A-z_0.9~"), "A-z_0.9~")
assert.eq(rest.path("api", "v1", "a/b"), "/api/v1/a%2Fb")
-- every byte but the unreserved ones, whatever the locale's idea of %w (0xAA, 0xE9 are letters in Latin-1)
assert.eq(rest.segment("\xAA\xE9\x00\x7F"), "%AA%E9%00%7F")
assert.eq(rest.encode_path("/dir/my file+x#?//y/"), "/dir/my%20file%2Bx%23%3F//y/")
assert.eq(rest.encode_path("ሴ/é"), "%E1%88%B4/%C3%A9")
assert.error(function() rest.encode_path(nil) end, "rest.encode_path: path must be a string, got nil")
assert.eq(rest.query({ b = "x y", a = { 1, 2 }, c = true, d = false, skip = nil }), "a=1&a=2&b=x%20y&c=true&d=false")
assert.eq(rest.query({ { "z", "1" }, { "a", nil }, { "m[]", { "p", "q" } } }), "z=1&m%5B%5D=p&m%5B%5D=q")
assert.eq(rest.query(nil), "")
assert.eq(rest.normalize_url("https://x.example///"), "https://x.example")
assert.eq(rest.parse_link('<https://a/p?page=2>; rel="next", <https://a/p?page=9>; rel="last"'),
  { next = "https://a/p?page=2", last = "https://a/p?page=9" })
assert.eq(rest.parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT"), 1445412480)
assert.error(function() rest.segment(nil) end, "rest.segment: value is nil")

-- auth strategies, chosen once per client; User-Agent; trailing slashes stripped
local function headers_with(auth)
  return rest.client({ module = "t", base_url = base .. "//", auth = auth }):get("/echo").headers
end
assert.eq(headers_with({ bearer = "tok" })["authorization"], "Bearer tok")
assert.eq(headers_with({ basic = { "admin", "password" } })["authorization"], "Basic YWRtaW46cGFzc3dvcmQ=")
assert.eq(headers_with({ header = "PRIVATE-TOKEN", value = "glpat" })["private-token"], "glpat")
assert.eq(headers_with({ authorization = "token abc" })["authorization"], "token abc")
assert.eq(headers_with({ cookie = "sid=1" })["cookie"], "sid=1")
assert.eq(headers_with(nil)["authorization"], nil)
local n = 0
assert.eq(headers_with({ bearer = function() n = n + 1 return "rotated-" .. n end })["authorization"], "Bearer rotated-1")
local h = headers_with(nil)
assert.eq(h["user-agent"], "assay/" .. os.assay_version())

-- client_from_opts: a module's client from its caller's opts (headers, timeout, retries) and its own settings
local from = rest.client_from_opts("mod", base, { headers = { ["X-A"] = "caller", ["X-B"] = "caller" }, timeout = 7, retries = 1 },
                                   { auth = { bearer = "m" }, headers = { ["X-B"] = "module" } })
assert.eq(from.module, "mod")
assert.eq(from.timeout, 7)
assert.eq(from.retries, 1)
h = from:get("/echo").headers
assert.eq(h["x-a"], "caller")
assert.eq(h["x-b"], "module") -- the module's own header wins
assert.eq(h["authorization"], "Bearer m")
from = rest.client_from_opts("mod", "http://ignored.invalid", {}, { base_url = base .. "/echo" })
assert.eq(from:get("/x").path, "/echo/x")
assert.eq(rest.client_from_opts("mod", base, {}).timeout, 30)
assert.error(function() rest.client_from_opts("mod", base, { headers = "X-A: 1" }, { headers = { ["X-B"] = "1" } }) end,
  "mod: headers must be a table")
assert.error(function() rest.client_from_opts("mod", base, { headers = "X-A: 1" }) end, "mod: headers must be a table")

local c = rest.client({ module = "svc", base_url = base, auth = { bearer = "tok" } })
local resp

-- request: query builder, path, JSON bodies ({} for an empty table), one Content-Type
local r = c:get("/echo", { query = { { "q", "a b&c" }, { "n", 2 } } })
assert.eq(r.query, "q=a%20b%26c&n=2")
r = c:post("/echo", {})
assert.eq(r.body, "{}")
assert.eq(r.headers["content-type"], "application/json")
r = c:post("/echo", json.array())
assert.eq(r.body, "[]")
r = c:put("/echo", { a = 1 }, { headers = { ["content-type"] = "application/vnd.api+json" } })
assert.eq(r.headers["content-type"], "application/vnd.api+json")
r = c:patch("/echo", { a = 1 }, { content_type = "application/merge-patch+json", headers = { ["Content-Type"] = "text/plain" } })
assert.eq(r.headers["content-type"], "application/merge-patch+json")
r = c:request("POST", "/echo", { form = { b = "2 3", a = "1" } })
assert.eq(r.body, "a=1&b=2%203")
assert.eq(r.headers["content-type"], "application/x-www-form-urlencoded")
-- binary-safe raw bodies, both ways
local raw_back
raw_back, resp = c:post("/raw", binary, { content_type = "application/octet-stream", raw = true })
assert.eq(raw_back, binary)
assert.eq(resp.headers["x-type"], "application/octet-stream")
assert.eq(c:get("/bin", { raw = true }), binary)
local value
value, resp = c:get("/echo")
assert.eq(resp.status, 200)
assert.eq(value.method, "GET")

-- status policy
assert.eq(c:get("/empty"), true)
assert.eq(c:get("/empty", { empty = "nil" }), nil)
assert.eq(c:get("/status/404", { not_found = "nil" }), nil)
assert.eq(rest.client({ base_url = base, not_found = "nil" }):get("/status/404"), nil)
assert.eq(c:get("/status/404", { not_found = "empty" }), {})
assert.eq(json.encode((c:get("/status/404", { not_found = "empty" }))), "[]")  -- (…): get returns value, resp
assert.eq(c:post("/created", {}, { ok = { 201 } }).id, 7)
local e = assert.error(function() c:post("/created", {}, { ok = { 200 } }) end)
assert.contains(e, "svc: POST /created HTTP 201")
e = assert.error(function() c:get("/status/404") end)
assert.eq(e, "svc: GET /status/404 HTTP 404: status body 404")
e = assert.error(function() c:get("/status/409", { verb = "LIST", query = { a = 1 } }) end)
assert.eq(e, "svc: LIST /status/409?a=1 HTTP 409: status body 409")
-- long bodies are cut
e = assert.error(function() c:get("/big", { retries = 0 }) end)
assert.lt(#e, 1100)
assert.contains(e, "(5000 bytes)")
e = assert.error(function() c:get("/text") end)
assert.contains(e, "svc: GET /text: response is not JSON")
assert.eq(c:get("/text", { raw = true }), "not json")

-- transport errors name the module and the URL; per-client timeout
e = assert.error(function() rest.client({ module = "down", base_url = "http://127.0.0.1:1", retries = 0 }):get("/x") end)
assert.contains(e, "down: GET http://127.0.0.1:1/x: ")
local t0 = os.monotonic()
e = assert.error(function() rest.client({ module = "slow", base_url = base, timeout = 0.3, retries = 0 }):get("/slow") end)
assert.contains(e, "slow: GET " .. base .. "/slow")
assert.contains(e, "timed out")
assert.lt(os.monotonic() - t0, 2.5) -- cut at 0.3 s, not after the server's 3 s

-- retries: 503 + Retry-After honoured; 429, 502, 504 too; off with retries = 0; not for POST
t0 = os.monotonic()
assert.eq(c:get("/flaky/a", { query = { after = "1" } }).attempt, 2)
assert.gt(os.monotonic() - t0, 0.95)
assert.eq(c:get("/flaky/b", { query = { code = 429, fails = 2 } }).attempt, 3)
assert.eq(c:get("/flaky/c", { query = { code = 502 } }).attempt, 2)
assert.eq(c:get("/flaky/d", { query = { code = 504 } }).attempt, 2)
e = assert.error(function() c:get("/flaky/e", { retries = 0 }) end)
assert.contains(e, "HTTP 503")
assert.eq(hits.e, 1)
e = assert.error(function() rest.client({ base_url = base, module = "r0", retries = 0 }):get("/flaky/f") end)
assert.contains(e, "r0: GET /flaky/f HTTP 503")
e = assert.error(function() c:get("/flaky/g", { query = { fails = 5 } }) end) -- default 2 retries: 3 attempts
assert.eq(hits.g, 3)
e = assert.error(function() c:post("/flaky/h", {}) end)
assert.eq(hits["post-h"], 1)
assert.eq(c:post("/flaky/i", {}, { idempotent = true }).attempt, 2) -- marked safe to repeat
assert.eq(c:get("/flaky/k", { ok = { 503 }, raw = true }), "busy") -- 503 accepted: an answer, no retry
assert.eq(hits.k, 1)
-- 500 is not retried
e = assert.error(function() c:get("/status/500") end)
-- Retry-After is capped by max_retry_delay
local capped = rest.client({ base_url = base, max_retry_delay = 0.1 })
t0 = os.monotonic()
assert.eq(capped:get("/flaky/j", { query = { after = "30" } }).attempt, 2)
assert.lt(os.monotonic() - t0, 5)

-- pagination: Link rel="next" across three pages, Kubernetes continue across three pages
assert.eq(c:paginate("/pages"), { 1, 2, 3, 4, 5, 6 })
assert.eq(c:paginate("/wrapped", { items = "values" }), { "p1", "p2", "p3" })
assert.eq(c:paginate("/pages", { max_pages = 2 }), { 1, 2, 3, 4 })
e = assert.error(function() c:paginate("/evil") end)
assert.contains(e, "refusing to follow a Link")
local list = c:list_all("/kube", { page_size = 1 })
assert.eq(list.kind, "WidgetList")
assert.eq(#list.items, 3)
assert.eq(list.items[3].name, "w3")

-- wait_until: monotonic deadline, interval, error policy
local calls = 0
assert.eq(rest.wait_until(function() calls = calls + 1 return calls >= 3 and "done" end, { timeout = 5, interval = 0.05 }), "done")
assert.eq(calls, 3)
t0 = os.monotonic()
e = assert.error(function() rest.wait_until(function() return false end, { timeout = 0.2, interval = 0.05, message = "never ready" }) end)
assert.eq(e, "never ready")
assert.lt(os.monotonic() - t0, 3)
e = assert.error(function() rest.wait_until(function() error("boom", 0) end, { timeout = 1, interval = 0.05 }) end)
assert.eq(e, "boom")
e = assert.error(function() rest.wait_until(function() error("boom", 0) end, { timeout = 0.1, interval = 0.05, swallow_errors = true }) end)
assert.contains(e, "last error: boom")
-- the clock is injectable (and the check runs once more at the deadline)
local fake, slept = 0, {}
e = assert.error(function()
  rest.wait_until(function() return false end, { timeout = 10, interval = 4, clock = function() return fake end,
    sleep = function(s) slept[#slept + 1] = s fake = fake + s end })
end)
assert.eq(slept, { 4, 4, 2 })

-- wait_healthy: non-200 answers are "not up yet"; the deadline raises "<fn>: not reachable at <url> after <t>s"
local probe = rest.client({ module = "svc", base_url = base, retries = 0 })
assert.eq(rest.wait_healthy(probe, { fn = "svc.wait", name = "Svc", url = base, path = "/flaky/health?fails=2&code=503",
                                     timeout = 5, interval = 0.05, log_waits = true }), true)
assert.eq(hits.health, 3)
e = assert.error(function()
  rest.wait_healthy(probe, { fn = "svc.wait", name = "Svc", url = base, path = "/status/500", timeout = 0.2, interval = 0.05 })
end)
assert.contains(e, "svc.wait: not reachable at " .. base .. " after 0.2s")
assert.contains(e, "HTTP 500")

-- auth.refresh: a 401 refreshes once and the request goes again with the new token
local current, refreshes = "stale", 0
local oauth = rest.client({ module = "oa", base_url = base, auth = {
  bearer = function() return current end,
  refresh = function() refreshes = refreshes + 1 current = "fresh" end } })
assert.eq(oauth:post("/guarded", { n = 1 }).body, '{"n":1}')
assert.eq(refreshes, 1)
assert.eq(hits.guarded, 2)
assert.eq(oauth:post("/guarded", { n = 2 }).body, '{"n":2}') -- the new token is kept: no refresh
assert.eq(refreshes, 1)
local revoked = rest.client({ module = "oa", base_url = base, auth = {
  bearer = function() return "revoked" end, refresh = function() refreshes = refreshes + 1 end } })
e = assert.error(function() revoked:post("/guarded", { n = 3 }) end)
assert.contains(e, 'oa: POST /guarded HTTP 401: {"error":"expired"}')
assert.eq(refreshes, 2) -- once, not in a loop
assert.error(function() rest.client({ module = "m", base_url = base, auth = { bearer = "t", refresh = "x" } }) end,
  "m: auth.refresh must be a function")

-- bad input
assert.error(function() rest.client("http://x") end, "rest.client: expected an options table")
e = assert.error(function() rest.client({ module = "m", base_url = "ftp://x" }) end)
assert.contains(e, "m: base URL must start with http")
e = assert.error(function() rest.client({ module = "m", base_url = base, timeout = "5" }) end)
assert.contains(e, "m: timeout must be a number of seconds")
e = assert.error(function() rest.client({ module = "m", base_url = base, headers = "x" }) end)
assert.contains(e, "m: headers must be a table")
e = assert.error(function() rest.client({ module = "m", base_url = base, not_found = "maybe" }) end)
assert.contains(e, "m: not_found must be")
e = assert.error(function() c:get(nil) end)
assert.contains(e, "svc: request path must be a string, got nil")
e = assert.error(function() c:post("/echo", 42) end)
assert.contains(e, "svc: request body must be a table or a string, got number")
e = assert.error(function() rest.wait_until("x") end)
assert.contains(e, "rest.wait_until: check must be a function")
assert.eq(rest.need_timeout("m.wait", nil, 60), 60)
assert.eq(rest.need_timeout("m.wait", 0.5, 60), 0.5)
e = assert.error(function() rest.need_timeout("m.wait", "5", 60) end)
assert.contains(e, "m.wait: timeout_secs must be a number, got string")

print("rest ok")
http.stop()
