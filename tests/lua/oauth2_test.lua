-- assay.oauth2 against a mock of Google's OAuth 2.0 token endpoint (form-encoded refresh_token
-- grant): the reference's test plan, save() round trip with mode 0600, ~ expansion, expiry,
-- error messages and bad input.
local oauth2 = require("assay.oauth2")
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local raises = dofile(here .. "/fixtures/mock_api.lua").raises
local google = dofile(here .. "/fixtures/google_api.lua").start()
google.refresh_tokens["refresh-123"] = true
local dir = fs.tempdir("oauth2-test-")
local token_url = google.url .. "/token"

local function write(name, value)
  local path = dir .. "/" .. name
  fs.write(path, type(value) == "string" and value or json.encode(value))
  return path
end

-- 1. the module
assert.eq(type(oauth2.from_file), "function")

-- 2. "installed" credentials (Google's desktop-app JSON)
local creds = write("creds.json", { installed = { client_id = "test-client", client_secret = "test-secret",
  auth_uri = "https://accounts.google.com/o/oauth2/auth", token_uri = "https://oauth2.googleapis.com/token" } })
local tok = write("token.json", { access_token = "old-token", refresh_token = "refresh-123", token_type = "Bearer", expires_in = 10 })
local auth = oauth2.from_file(creds, tok, { token_url = token_url })
assert.eq(auth._credentials.client_id, "test-client")
assert.eq(auth._token_data.refresh_token, "refresh-123")
assert.eq(auth._token_file, tok)
assert.eq(auth._token_url, token_url)
assert.eq(auth._access_token, "old-token")
assert.eq(oauth2.from_file(creds, tok)._token_url, "https://oauth2.googleapis.com/token")

-- 3. flat credentials, and the "web" key
local flat = write("flat.json", { client_id = "test-client", client_secret = "test-secret" })
assert.eq(oauth2.from_file(flat, tok):access_token(), "old-token")
local web = write("web.json", { web = { client_id = "web-client", client_secret = "s" } })
assert.eq(oauth2.from_file(web, tok)._credentials.client_id, "web-client")

-- 4. refresh: a form-encoded refresh_token grant with the four fields (the mock refuses JSON)
google.rotate_refresh_token = "refresh-next"
assert.eq(auth:refresh(), "access-1")
assert.eq(auth:access_token(), "access-1")
assert.eq(auth._token_data.access_token, "access-1")
assert.eq(auth._token_data.refresh_token, "refresh-next")
assert.eq(auth._token_data.token_type, "Bearer")
assert.eq(auth._token_data.expires_in, 3599)
local sent = google:requests_to("/token")[1]
assert.eq(sent.headers["content-type"], "application/x-www-form-urlencoded")
assert.eq(url.parse("?" .. sent.body).params, { grant_type = "refresh_token", refresh_token = "refresh-123",
  client_id = "test-client", client_secret = "test-secret" })
-- expiry is tracked now: expires_at from expires_in
assert.eq(auth:expired(), false)
assert.lt(math.abs(auth._token_data.expires_at - (time() + 3599)), 5)
assert.eq(auth:expired(3600), true)
google.rotate_refresh_token = nil

-- save(): the whole token data back in the file, atomically, mode 0600 (it was 0644)
fs.chmod(tok, "644")
assert.eq(auth:save(), true)
local saved = json.parse(fs.read(tok))
assert.eq(saved.access_token, "access-1")
assert.eq(saved.refresh_token, "refresh-next")
assert.eq(saved.expires_at, auth._token_data.expires_at)
assert.eq(fs.stat(tok).permissions, "600")
local p = io.popen("stat -c %a " .. tok)
assert.eq(p:read("l"), "600")
p:close()
for _, e in ipairs(fs.list(dir)) do assert.eq(e.name:find("%.tmp%-"), nil, "temporary file left: " .. e.name) end
-- a fresh client sees the saved token
assert.eq(oauth2.from_file(creds, tok):access_token(), "access-1")

-- a response without expires_in drops the old expiry (it described the old token)
google:fail("POST", "/token", { json = { access_token = "no-expiry", token_type = "Bearer" } })
auth:refresh()
assert.eq(auth._token_data.expires_in, nil)
assert.eq(auth._token_data.expires_at, nil)
assert.eq(auth:expired(), false)

-- 5. refresh failures: wrong client secret (401 invalid_client), revoked refresh token (400 invalid_grant)
local wrong = write("wrong.json", { installed = { client_id = "test-client", client_secret = "nope" } })
raises(function() oauth2.from_file(wrong, tok, { token_url = token_url }):refresh() end,
  'oauth2: token refresh failed HTTP 401: {"error":"invalid_client"')
local revoked = write("revoked.json", { access_token = "a", refresh_token = "gone" })
raises(function() oauth2.from_file(creds, revoked, { token_url = token_url }):refresh() end,
  "oauth2: token refresh failed HTTP 400: {\"error\":\"invalid_grant\"")
google:fail("POST", "/token", { json = { token_type = "Bearer" } })
raises(function() auth:refresh() end, "oauth2: token refresh answered without an access_token")
raises(function() oauth2.from_file(creds, write("noref.json", { access_token = "a" }), { token_url = token_url }):refresh() end,
  "oauth2.refresh: the token file has no refresh_token: " .. dir .. "/noref.json")
raises(function() oauth2.from_file(write("noid.json", { client_secret = "x" }), tok, { token_url = token_url }):refresh() end,
  "oauth2.refresh: the credentials file has no client_id")

-- 6. headers
local h = oauth2.from_file(creds, write("h.json", { access_token = "header-token", refresh_token = "r" })):headers()
assert.eq(h.Authorization, "Bearer header-token")
assert.eq(h["Content-Type"], "application/json")
raises(function() oauth2.from_file(creds, write("none.json", { refresh_token = "r" })):headers() end,
  "oauth2.headers: no access token")

-- ~ expansion with a fake HOME (only "~" and "~/", not "~user")
local real_home = env.get("HOME")
env.set("HOME", dir)
fs.mkdir(dir .. "/.config/gog")
fs.write(dir .. "/.config/gog/credentials.json", json.encode({ installed = { client_id = "default-client", client_secret = "s" } }))
fs.write(dir .. "/.config/gog/token.json", json.encode({ access_token = "default-token" }))
local d = oauth2.from_file()
assert.eq(d._credentials.client_id, "default-client")
assert.eq(d._token_file, dir .. "/.config/gog/token.json")
assert.eq(oauth2.from_file("~/creds.json", "~/token.json")._token_file, dir .. "/token.json")
raises(function() oauth2.from_file("~nobody/creds.json", tok) end, "oauth2: failed to read file: ~nobody/creds.json")
env.set("HOME", "")
raises(function() oauth2.from_file("~/creds.json", tok) end, "oauth2.from_file: cannot expand '~' in ~/creds.json: HOME is not set")
env.set("HOME", real_home)

-- unreadable, empty and malformed files
raises(function() oauth2.from_file(dir .. "/missing.json", tok) end, "oauth2: failed to read file: " .. dir .. "/missing.json (fs.read: no such file")
raises(function() oauth2.from_file(write("empty.json", ""), tok) end, "oauth2: failed to read file: " .. dir .. "/empty.json (it is empty)")
raises(function() oauth2.from_file(write("bad.json", "{nope"), tok) end, "oauth2: " .. dir .. "/bad.json is not valid JSON")
raises(function() oauth2.from_file(write("list.json", "42"), tok) end, "oauth2: " .. dir .. "/list.json must hold a JSON object")

-- bad input names the function
raises(function() oauth2.from_file(42) end, "oauth2.from_file: credentials_path must be a string, got number")
raises(function() oauth2.from_file(creds, {}) end, "oauth2.from_file: token_path must be a string, got table")
raises(function() oauth2.from_file(creds, tok, "x") end, "oauth2.from_file: opts must be a table, got string")
raises(function() auth.refresh() end, "oauth2.refresh: call it as a method, client:refresh()")
raises(function() auth:expired("soon") end, "oauth2.expired: margin must be a number, got string")

fs.remove(dir, { recursive = true })
print("oauth2 ok")
http.stop()
