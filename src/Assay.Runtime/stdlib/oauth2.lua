--- @module assay.oauth2
--- @description OAuth2 (Google) credentials and token files: load them, refresh the access token with the refresh_token grant, save the token file back (atomically, mode 0600), build Authorization headers; the 401-refresh-retry base of gmail and gcal.
--- @keywords oauth2, oauth, google, token, access token, refresh token, refresh, credentials, client secret, bearer, token file, expiry, authorization
--- @quickref auth = oauth2.from_file(credentials_path?, token_path?, {token_url}) -> client (defaults ~/.config/gog/credentials.json, token.json)
--- @quickref auth:access_token() ; auth:refresh() -> new token ; auth:save() -> true ; auth:headers() -> {Authorization, Content-Type} ; auth:expired(margin?)
--- @example local auth = require("assay.oauth2").from_file("~/secrets/google.json", "~/secrets/token.json"); auth:refresh(); auth:save(); http.get(url, {headers = auth:headers()})
--
-- Built on assay.rest. See docs/modules/oauth2.md.
local rest = require("assay.rest")

local M = {}

local type, tostring, error, pcall, setmetatable, getmetatable = type, tostring, error, pcall, setmetatable, getmetatable

M.DEFAULT_CREDENTIALS = "~/.config/gog/credentials.json"
M.DEFAULT_TOKEN = "~/.config/gog/token.json"
M.DEFAULT_TOKEN_URL = "https://oauth2.googleapis.com/token"

-- "~" and "~/..." start at $HOME; "~user/..." and everything else is used as written.
local function expand(fn, path)
  if path ~= "~" and path:sub(1, 2) ~= "~/" then return path end
  local home = env.get("HOME")
  if home == nil or home == "" then error(fn .. ": cannot expand '~' in " .. path .. ": HOME is not set", 3) end
  return home .. path:sub(2)
end

local function clean(e) return (tostring(e):gsub("^[^:\n]*:%d+: ", "", 1)) end

local function load_json(path)
  local ok, content = pcall(fs.read, path)
  if not ok then error("oauth2: failed to read file: " .. path .. " (" .. clean(content) .. ")", 0) end
  if content:match("^%s*$") then error("oauth2: failed to read file: " .. path .. " (it is empty)", 0) end
  local parsed, data = pcall(json.parse, content)
  if not parsed then error("oauth2: " .. path .. " is not valid JSON: " .. clean(data), 0) end
  if type(data) ~= "table" then error("oauth2: " .. path .. " must hold a JSON object", 0) end
  return data
end

local Client = {}
Client.__index = Client

local function self_check(fn, self)
  if getmetatable(self) ~= Client then error("oauth2." .. fn .. ": call it as a method, client:" .. fn .. "()", 3) end
end

function Client:access_token()
  self_check("access_token", self)
  return self._access_token
end

--- true when the token file (or the last refresh) says the access token expires within `margin`
--- seconds (default 60); false when it is valid or its expiry is unknown.
function Client:expired(margin)
  self_check("expired", self)
  if margin ~= nil and type(margin) ~= "number" then error("oauth2.expired: margin must be a number, got " .. type(margin), 2) end
  local at = self._token_data.expires_at
  if type(at) ~= "number" then return false end
  return time() >= at - (margin or 60)
end

function Client:refresh()
  self_check("refresh", self)
  local creds, data = self._credentials, self._token_data
  if type(data.refresh_token) ~= "string" or data.refresh_token == "" then
    error("oauth2.refresh: the token file has no refresh_token: " .. self._token_file, 2)
  end
  if type(creds.client_id) ~= "string" or creds.client_id == "" then
    error("oauth2.refresh: the credentials file has no client_id", 2)
  end
  -- RFC 6749 §6: the refresh_token grant is a form-encoded POST (Google's endpoint and every
  -- standard server accept it; the original sent JSON)
  local http_client = rest.client({ module = "oauth2", base_url = self._token_url, retries = 0, timeout = self._timeout })
  local body, resp = http_client:request("POST", self._token_url, {
    form = { { "grant_type", "refresh_token" }, { "refresh_token", data.refresh_token },
             { "client_id", creds.client_id }, { "client_secret", creds.client_secret } },
    ok = rest.ANY_STATUS, raw = true,
  })
  if resp.status ~= 200 then
    error("oauth2: token refresh failed HTTP " .. resp.status .. ": " .. tostring(body), 0)
  end
  local parsed, result = pcall(json.parse, body)
  if not parsed or type(result) ~= "table" or type(result.access_token) ~= "string" then
    error("oauth2: token refresh answered without an access_token: " .. tostring(body), 0)
  end
  self._access_token = result.access_token
  data.access_token = result.access_token
  if result.refresh_token then data.refresh_token = result.refresh_token end
  if result.token_type then data.token_type = result.token_type end
  if result.scope then data.scope = result.scope end
  -- expires_in describes this token only: an old value must not outlive it
  if type(result.expires_in) == "number" then
    data.expires_in = result.expires_in
    data.expires_at = math.floor(time()) + math.floor(result.expires_in)
  else
    data.expires_in, data.expires_at = nil, nil
  end
  return self._access_token
end

--- Writes the token data back: atomically (readers see the old or the new file) and with mode
--- 0600 from the moment it exists (it holds secrets).
function Client:save()
  self_check("save", self)
  fs.write_atomic(self._token_file, json.encode(self._token_data), { mode = "600" })
  return true
end

function Client:headers()
  self_check("headers", self)
  local token = self._access_token
  if type(token) ~= "string" or token == "" then
    error("oauth2.headers: no access token (the token file has none; call refresh() first)", 2)
  end
  return { Authorization = "Bearer " .. token, ["Content-Type"] = "application/json" }
end

local function optional_string(fn, what, v)
  if v ~= nil and type(v) ~= "string" then error(fn .. ": " .. what .. " must be a string, got " .. type(v), 3) end
  return v
end

function M.from_file(credentials_path, token_path, opts)
  local fn = "oauth2.from_file"
  optional_string(fn, "credentials_path", credentials_path)
  optional_string(fn, "token_path", token_path)
  opts = rest.need_table(fn, "opts", opts) or {}
  optional_string(fn, "opts.token_url", opts.token_url)
  local creds_file = expand(fn, credentials_path or M.DEFAULT_CREDENTIALS)
  local token_file = expand(fn, token_path or M.DEFAULT_TOKEN)
  local creds = load_json(creds_file)
  local token_data = load_json(token_file)
  -- Google's "installed app" or "web app" client JSON, or a flat {client_id, client_secret}
  creds = creds.installed or creds.web or creds
  return setmetatable({
    _credentials = creds,
    _token_data = token_data,
    _token_file = token_file,
    _token_url = opts.token_url or M.DEFAULT_TOKEN_URL,
    _access_token = token_data.access_token,
    _timeout = opts.timeout,
  }, Client)
end

-- ------------------------------------------------------------------ Google API clients

--- The base of gmail and gcal: validates the common options, loads the files and returns the
--- oauth2 client and an assay.rest client whose requests carry the current access token. A token
--- known to have expired is refreshed before the request; a 401 answer refreshes once (and saves
--- the token file) and the request is sent again.
function M.api_client(module, opts, default_base)
  if opts == nil then opts = {} end
  if type(opts) ~= "table" then error(module .. ".client: expected an options table, got " .. type(opts), 3) end
  if opts.credentials_file == nil then error(module .. ": credentials_file is required", 3) end
  if opts.token_file == nil then error(module .. ": token_file is required", 3) end
  local fn = module .. ".client"
  optional_string(fn, "credentials_file", opts.credentials_file)
  optional_string(fn, "token_file", opts.token_file)
  optional_string(fn, "api_base", opts.api_base)
  local auth = M.from_file(opts.credentials_file, opts.token_file, { token_url = opts.token_url, timeout = opts.timeout })
  local function refresh()
    auth:refresh()
    auth:save()
  end
  local api = rest.client({
    module = module, base_url = opts.api_base or default_base, timeout = opts.timeout, retries = opts.retries,
    auth = {
      bearer = function()
        if auth:expired() then refresh() end
        return auth:access_token()
      end,
      refresh = refresh,
    },
  })
  return auth, api
end

return M
