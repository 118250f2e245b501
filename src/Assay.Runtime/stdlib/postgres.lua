--- @module assay.postgres
--- @description PostgreSQL administration on the db builtin: create login users (roles) and databases idempotently with an owner, grant privileges, run SQL; connection URLs with the user and password percent-encoded; login credentials read from Vault.
--- @keywords postgresql, pg, users, user, role, roles, login role, create user, create role, owner, grant, grants, privileges, permissions, idempotent, ensure, provisioning, vault credentials, set password
--- @quickref c = postgres.client(host, port, user, password, dbname?, {timeout, pool_size, sslmode}) -> client (or postgres.client(url, opts))
--- @quickref c.users:exists(name) ; c.users:ensure(name, password, {createdb, createrole, superuser}) -> created? ; c.users:set_password(name, password) ; c.users:drop(name)
--- @quickref c.databases:exists(name) ; c.databases:ensure(name, owner?) -> created? ; c.databases:grant(db, user, privileges?) ; c.databases:drop(name, {force})
--- @quickref c.queries:query(sql, params?) -> rows ; c.queries:execute(sql, params?) -> {rows_affected} ; c:close()
--- @quickref postgres.client_from_vault(vault_client, path, host?, port?, {mount, database}) -> client ; postgres._quote_ident(s) ; postgres._quote_literal(s)
--- @example local pg = require("assay.postgres").client("db.internal", 5432, "admin", env.get("PG_ADMIN_PASSWORD")); pg.users:ensure("app", crypto.random(32)); pg.databases:ensure("app", "app"); pg.databases:grant("app", "app", "CONNECT, TEMPORARY")
--
-- DDL cannot take bind parameters, so names and passwords are quoted with _quote_ident and
-- _quote_literal; everything else uses $n parameters. See docs/modules/postgres.md.
local rest = require("assay.rest")

local M = {}

local type, tostring, tonumber, pairs, ipairs, error, pcall = type, tostring, tonumber, pairs, ipairs, error, pcall

local MAX_NAME = 63 -- NAMEDATALEN - 1: PostgreSQL silently truncates longer names
local DATABASE_PRIVILEGES = { ALL = "ALL PRIVILEGES", ["ALL PRIVILEGES"] = "ALL PRIVILEGES", CREATE = "CREATE",
                              CONNECT = "CONNECT", TEMPORARY = "TEMPORARY", TEMP = "TEMPORARY" }

-- ------------------------------------------------------------------ quoting

local function need_text(fn, what, s, non_empty)
  if type(s) ~= "string" then error(fn .. ": " .. what .. " must be a string, got " .. type(s), 3) end
  if non_empty and s == "" then error(fn .. ": " .. what .. " must not be empty", 3) end
  if s:find("\0", 1, true) then error(fn .. ": " .. what .. " must not contain a NUL byte", 3) end
  return s
end

--- An SQL identifier: "name" with inner double quotes doubled.
function M._quote_ident(s)
  need_text("postgres._quote_ident", "identifier", s)
  return '"' .. s:gsub('"', '""') .. '"'
end

--- An SQL string literal: 'text' with inner quotes doubled; text with a backslash becomes an
--- E'' literal with the backslashes doubled, correct whatever standard_conforming_strings says.
function M._quote_literal(s)
  need_text("postgres._quote_literal", "literal", s)
  local quoted = s:gsub("'", "''")
  if s:find("\\", 1, true) then return "E'" .. quoted:gsub("\\", "\\\\") .. "'" end
  return "'" .. quoted .. "'"
end

-- A role or database name: non-empty, no NUL, at most 63 bytes (longer names would be truncated
-- by the server, and the exists-check would then never find what ensure created).
local function need_name(fn, what, name)
  rest.need_string(fn, what, name)
  if name:find("\0", 1, true) then error(fn .. ": " .. what .. " must not contain a NUL byte", 3) end
  if #name > MAX_NAME then error(fn .. ": " .. what .. " is longer than " .. MAX_NAME .. " bytes: " .. name, 3) end
  return name
end

-- ------------------------------------------------------------------ connection URL

local function need_port(fn, port)
  local n = tonumber(port)
  if n == nil or n ~= math.floor(n) or n < 1 or n > 65535 then
    error(fn .. ": port must be a number from 1 to 65535, got " .. tostring(port), 3)
  end
  return math.tointeger(n)
end

--- postgres://user:password@host:port/database with user, password and database percent-encoded
--- (so "@", ":", "/", "?", "#", "%" and quotes stay part of them) and an IPv6 host bracketed.
function M._url(host, port, username, password, dbname, opts)
  local fn = "postgres.client"
  rest.need_string(fn, "host", host)
  port = need_port(fn, port)
  rest.need_string(fn, "username", username)
  if password ~= nil and type(password) ~= "string" then error(fn .. ": password must be a string, got " .. type(password), 2) end
  if dbname ~= nil then rest.need_string(fn, "dbname", dbname) end
  if host:find(":", 1, true) and not host:find("^%[") then host = "[" .. host .. "]" end
  local userinfo = rest.segment(username) .. (password and (":" .. rest.segment(password)) or "")
  local query = rest.query({ sslmode = opts and opts.sslmode })
  return "postgres://" .. userinfo .. "@" .. host .. ":" .. port .. "/" .. rest.segment(dbname or "postgres")
    .. (query ~= "" and ("?" .. query) or "")
end

-- ------------------------------------------------------------------ client

-- SQLSTATEs of "already exists" (a concurrent ensure created it between our check and CREATE)
local function already_exists(err)
  local s = tostring(err)
  return s:find("SQLSTATE 42710", 1, true) or s:find("SQLSTATE 42P04", 1, true)
end

-- The privilege list of a GRANT, checked against the database privileges (it is spliced into
-- the statement, so nothing else may pass): "CONNECT, TEMPORARY" or {"CONNECT", "TEMP"}.
local function database_privileges(fn, privileges)
  if privileges == nil then return "ALL PRIVILEGES" end
  local list = {}
  if type(privileges) == "string" then
    for p in privileges:gmatch("[^,]+") do list[#list + 1] = p end
  elseif type(privileges) == "table" then
    list = privileges
  else
    error(fn .. ": privileges must be a string or a list, got " .. type(privileges), 3)
  end
  local out = {}
  for _, p in ipairs(list) do
    local key = type(p) == "string" and p:upper():gsub("^%s+", ""):gsub("%s+$", ""):gsub("%s+", " ") or nil
    local canonical = key and DATABASE_PRIVILEGES[key]
    if not canonical then
      error(fn .. ": unknown database privilege '" .. tostring(p) .. "' (expected ALL PRIVILEGES, CREATE, CONNECT or TEMPORARY)", 3)
    end
    out[#out + 1] = canonical
  end
  if #out == 0 then error(fn .. ": privileges must name at least one privilege", 3) end
  return table.concat(out, ", ")
end

--- Connects (db.connect, a pool) and returns the client. Either (host, port, username,
--- password, dbname?, opts?) — dbname "postgres" — or (url, opts?) with a postgres:// URL.
--- opts: timeout (seconds per statement), pool_size (10), sslmode.
function M.client(host, port, username, password, dbname, opts)
  local fn = "postgres.client"
  local dsn
  if type(host) == "string" and (host:find("^postgres://") or host:find("^postgresql://")) then
    dsn, opts = host, port
  else
    dsn = M._url(host, port, username, password, dbname, rest.need_table(fn, "opts", opts))
  end
  opts = rest.need_table(fn, "opts", opts) or {}
  local pool = db.connect(dsn, { timeout = opts.timeout, pool_size = opts.pool_size })

  local function query(sql, params) return db.query(pool, sql, params or {}) end
  local function execute(sql, params) return db.execute(pool, sql, params or {}) end
  -- runs a CREATE; false when a concurrent caller created the object first
  local function create(sql)
    local ok, err = pcall(execute, sql)
    if ok then return true end
    if already_exists(err) then return false end
    error(err, 0)
  end

  local c = { queries = {}, users = {}, databases = {} }

  function c.queries:query(sql, params)
    rest.need_string("postgres.queries:query", "sql", sql)
    return query(sql, rest.need_table("postgres.queries:query", "params", params))
  end
  function c.queries:execute(sql, params)
    rest.need_string("postgres.queries:execute", "sql", sql)
    return execute(sql, rest.need_table("postgres.queries:execute", "params", params))
  end
  function c:close() db.close(pool) end

  function c.users:exists(name)
    return #query("SELECT 1 FROM pg_roles WHERE rolname = $1", { need_name("postgres.users:exists", "name", name) }) > 0
  end
  --- Creates the login role unless it exists; true when created. opts: createdb, createrole, superuser.
  function c.users:ensure(name, password, opts)
    local fn = "postgres.users:ensure"
    need_name(fn, "name", name)
    need_text(fn, "password", password, true)
    local o = rest.need_table(fn, "opts", opts) or {}
    if c.users:exists(name) then
      log.info("PostgreSQL user '" .. name .. "' already exists")
      return false
    end
    local sql = "CREATE USER " .. M._quote_ident(name) .. " WITH PASSWORD " .. M._quote_literal(password)
    if o.createdb then sql = sql .. " CREATEDB" end
    if o.createrole then sql = sql .. " CREATEROLE" end
    if o.superuser then sql = sql .. " SUPERUSER" end
    if not create(sql) then
      log.info("PostgreSQL user '" .. name .. "' already exists")
      return false
    end
    log.info("Created PostgreSQL user '" .. name .. "'")
    return true
  end
  --- Sets a role's password (e.g. after rotating it in Vault).
  function c.users:set_password(name, password)
    local fn = "postgres.users:set_password"
    need_name(fn, "name", name)
    need_text(fn, "password", password, true)
    execute("ALTER ROLE " .. M._quote_ident(name) .. " WITH PASSWORD " .. M._quote_literal(password))
    log.info("Set the password of PostgreSQL user '" .. name .. "'")
  end
  --- Drops the role if it exists; true when it existed.
  function c.users:drop(name)
    need_name("postgres.users:drop", "name", name)
    if not c.users:exists(name) then return false end
    execute("DROP ROLE IF EXISTS " .. M._quote_ident(name))
    log.info("Dropped PostgreSQL user '" .. name .. "'")
    return true
  end

  function c.databases:exists(name)
    return #query("SELECT 1 FROM pg_database WHERE datname = $1", { need_name("postgres.databases:exists", "name", name) }) > 0
  end
  --- Creates the database (owned by `owner`, when given) unless it exists; true when created.
  function c.databases:ensure(name, owner)
    local fn = "postgres.databases:ensure"
    need_name(fn, "name", name)
    if owner ~= nil then need_name(fn, "owner", owner) end
    if c.databases:exists(name) then
      log.info("PostgreSQL database '" .. name .. "' already exists")
      return false
    end
    local sql = "CREATE DATABASE " .. M._quote_ident(name)
    if owner then sql = sql .. " OWNER " .. M._quote_ident(owner) end
    if not create(sql) then
      log.info("PostgreSQL database '" .. name .. "' already exists")
      return false
    end
    log.info("Created PostgreSQL database '" .. name .. "'" .. (owner and (" owned by '" .. owner .. "'") or ""))
    return true
  end
  --- GRANT <privileges> ON DATABASE; privileges (default ALL PRIVILEGES) from ALL [PRIVILEGES],
  --- CREATE, CONNECT, TEMPORARY/TEMP, as "CONNECT, TEMP" or a list.
  function c.databases:grant(dbname, user, privileges)
    local fn = "postgres.databases:grant"
    need_name(fn, "database", dbname)
    need_name(fn, "user", user)
    local privs = database_privileges(fn, privileges)
    execute("GRANT " .. privs .. " ON DATABASE " .. M._quote_ident(dbname) .. " TO " .. M._quote_ident(user))
    log.info("Granted " .. privs .. " on " .. dbname .. " to " .. user)
  end
  --- Drops the database if it exists; opts.force ends its sessions first. True when it existed.
  function c.databases:drop(name, opts)
    local fn = "postgres.databases:drop"
    need_name(fn, "name", name)
    local o = rest.need_table(fn, "opts", opts) or {}
    if not c.databases:exists(name) then return false end
    execute("DROP DATABASE IF EXISTS " .. M._quote_ident(name) .. (o.force and " WITH (FORCE)" or ""))
    log.info("Dropped PostgreSQL database '" .. name .. "'")
    return true
  end

  -- the flat method names of the module's earlier releases (c:query, c:ensure_user, ...)
  for old, target in pairs({ query = { "queries", "query" }, execute = { "queries", "execute" },
                             user_exists = { "users", "exists" }, ensure_user = { "users", "ensure" },
                             database_exists = { "databases", "exists" }, ensure_database = { "databases", "ensure" },
                             grant = { "databases", "grant" } }) do
    local sub, method = c[target[1]], target[2]
    c[old] = function(_, ...) return sub[method](sub, ...) end
  end

  return c
end

--- A client with the credentials of the KV v2 secret <mount>/<path> (fields username, password,
--- and optionally database, host, port), read through an assay.vault client. host and port
--- default to the secret's (port 5432); opts: mount (the client's kv_mount, "secrets"),
--- database, and the options of postgres.client.
function M.client_from_vault(vault_client, vault_path, host, port, opts)
  local fn = "postgres.client_from_vault"
  if type(vault_client) ~= "table" or type(vault_client.kv) ~= "table" or type(vault_client.kv.get) ~= "function" then
    error(fn .. ": vault_client must be an assay.vault client, got " .. type(vault_client), 2)
  end
  rest.need_string(fn, "vault_path", vault_path)
  local o = rest.need_table(fn, "opts", opts) or {}
  local mount = o.mount or vault_client.kv_mount or "secrets"
  local where = mount .. "/" .. vault_path
  local secret = vault_client.kv:get(mount, vault_path)
  if secret == nil then error(fn .. ": no secret at " .. where, 2) end
  local creds = secret.data
  if type(creds) ~= "table" then error(fn .. ": no data at " .. where, 2) end
  if type(creds.username) ~= "string" then error(fn .. ": missing username in " .. where, 2) end
  if type(creds.password) ~= "string" then error(fn .. ": missing password in " .. where, 2) end
  host = host or creds.host
  if type(host) ~= "string" or host == "" then error(fn .. ": host must be a non-empty string (or a host field in " .. where .. ")", 2) end
  return M.client(host, port or creds.port or 5432, creds.username, creds.password, o.database or creds.database or "postgres", o)
end

return M
