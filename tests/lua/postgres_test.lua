-- assay.postgres against the real PostgreSQL of the suite (ASSAY_TEST_POSTGRES_URL; the server
-- part is skipped when it is not set): users and databases created idempotently with owner and
-- grants, identifier and literal quoting with odd names, a password full of URL and SQL special
-- characters (stored exactly, and encoded in the connection URL), logging in as the new user,
-- client_from_vault reading credentials through assay.vault (mock Vault), and bad input.
local postgres = require("assay.postgres")
local vault = require("assay.vault")
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local mock_api = dofile(here .. "/fixtures/mock_api.lua")
local raises = mock_api.raises
local mock = mock_api.start()
local vc = vault.client(mock.url, "s.test-token")

-- ------------------------------------------------------------------ quoting (test plan 1-5)
for _, f in ipairs({ "client", "client_from_vault", "_quote_ident", "_quote_literal" }) do
  assert.eq(type(postgres[f]), "function", f)
end
assert.eq(postgres._quote_ident("users"), '"users"')
assert.eq(postgres._quote_ident('my"table'), '"my""table"')
assert.eq(postgres._quote_literal("hello"), "'hello'")
assert.eq(postgres._quote_literal("it's"), "'it''s'")
assert.eq(postgres._quote_literal([[C:\dir\it's]]), [[E'C:\\dir\\it''s']]) -- backslashes: an E'' literal
raises(function() postgres._quote_ident("a\0b") end, "postgres._quote_ident: identifier must not contain a NUL byte")
raises(function() postgres._quote_literal(nil) end, "postgres._quote_literal: literal must be a string, got nil")

-- ------------------------------------------------------------------ connection URL
local PW = [[P@ss:w/rd?#%'"\ é&=+]]
local function userinfo(u)
  local user, pass = u:match("^postgres://([^:@/]*):([^@/]*)@")
  return url.decode(user), url.decode(pass)
end
local built = postgres._url("db.internal", 5432, [[odd "user's" @:/?#%]], PW, "app db/1")
local user, pass = userinfo(built)
assert.eq(user, [[odd "user's" @:/?#%]])
assert.eq(pass, PW)
assert.eq(built:match("@.*$"), "@db.internal:5432/app%20db%2F1")
assert.eq(postgres._url("::1", "6432", "u", nil, nil), "postgres://u@[::1]:6432/postgres") -- IPv6 bracketed, database "postgres"
assert.eq(postgres._url("h", 5432, "u", "p", "d", { sslmode = "require" }), "postgres://u:p@h:5432/d?sslmode=require")

-- ------------------------------------------------------------------ client_from_vault without a server (test plan 6)
raises(function() postgres.client_from_vault(vc, "db/postgres", "localhost", 5432) end, "postgres.client_from_vault: no secret at secrets/db/postgres")
assert.eq(mock:last().path, "/v1/secrets/data/db/postgres") -- vault.kv:get("secrets", path): a function that exists
mock:on("GET", "/v1/secrets/data/db/nopass", { json = { data = { data = { username = "app" }, metadata = { version = 1 } } } })
raises(function() postgres.client_from_vault(vc, "db/nopass", "localhost") end, "postgres.client_from_vault: missing password in secrets/db/nopass")
mock:on("GET", "/v1/secrets/data/db/nouser", { json = { data = { data = { password = "x" } } } })
raises(function() postgres.client_from_vault(vc, "db/nouser", "localhost") end, "postgres.client_from_vault: missing username in secrets/db/nouser")
mock:on("GET", "/v1/secrets/data/db/deleted", { json = { data = { metadata = { version = 2, deletion_time = "2024-01-01T00:00:00Z" } } } })
raises(function() postgres.client_from_vault(vc, "db/deleted", "localhost") end, "postgres.client_from_vault: no data at secrets/db/deleted")
raises(function() postgres.client_from_vault({ kv_get = function() end }, "db/x", "localhost") end,
  "postgres.client_from_vault: vault_client must be an assay.vault client, got table")

-- ------------------------------------------------------------------ bad input
raises(function() postgres.client(nil, 5432, "u", "p") end, "postgres.client: host must be a non-empty string, got nil")
raises(function() postgres.client("localhost", "abc", "u", "p") end, "postgres.client: port must be a number from 1 to 65535, got abc")
raises(function() postgres.client("localhost", 70000, "u", "p") end, "postgres.client: port must be a number from 1 to 65535, got 70000")
raises(function() postgres.client("localhost", 5432, nil, "p") end, "postgres.client: username must be a non-empty string, got nil")
raises(function() postgres.client("localhost", 5432, "u", 42) end, "postgres.client: password must be a string, got number")

local PG = env.get("ASSAY_TEST_POSTGRES_URL")
if PG == nil or PG == "" then
  print("assay.postgres: PostgreSQL part skipped (ASSAY_TEST_POSTGRES_URL not set)")
  http.stop()
  return
end

-- ------------------------------------------------------------------ against the real server
local target = url.parse(PG)
local HOST, PORT = target.host, target.port
local run = string.format("%x%x", os.time(), math.random(0, 0xffffff))
local APP = [[odd "us'er" @:/?#% ]] .. run           -- quotes, space and URL characters in a role name
local OTHER = "assay_pg_other_" .. run
local DB = [[db "odd'name/x ]] .. run
local admin = postgres.client(PG)
local clients = {}
local function track(c) clients[#clients + 1] = c return c end

-- PostgreSQL stores SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>; recompute the
-- StoredKey from a candidate password (RFC 5802 / 7677) to prove the stored password is exactly it.
local function scram_matches(stored, password)
  local iter, salt, stored_key = stored:match("^SCRAM%-SHA%-256%$(%d+):([^$]+)%$([^:]+):")
  assert(iter, "not a SCRAM verifier: " .. tostring(stored))
  local u = crypto.hmac(password, base64.decode(salt) .. "\0\0\0\1", "sha256", true)
  local acc = { u:byte(1, -1) }
  for _ = 2, tonumber(iter) do
    u = crypto.hmac(password, u, "sha256", true)
    for i = 1, #acc do acc[i] = acc[i] ~ u:byte(i) end
  end
  local client_key = crypto.hmac(string.char(table.unpack(acc)), "Client Key", "sha256", true)
  return crypto.hash(client_key, "sha256", "base64") == stored_key
end
local superuser = admin.queries:query("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")[1].rolsuper
local function password_is(role, password)
  if not superuser then return true end -- pg_authid is readable by superusers only
  local row = admin.queries:query("SELECT rolpassword FROM pg_authid WHERE rolname = $1", { role })[1]
  return scram_matches(row.rolpassword, password)
end

local function scenario()
  -- literals survive the server whatever standard_conforming_strings says
  local weird = [[it's a \n "test" \\ ]] .. "é\t"
  assert.eq(admin.queries:query("SELECT " .. postgres._quote_literal(weird) .. " AS v")[1].v, weird)
  local raw = db.connect(PG)
  db.transaction(raw, function(tx)
    tx:execute("SET LOCAL standard_conforming_strings = off")
    assert.eq(tx:query_one("SELECT " .. postgres._quote_literal(weird) .. " AS v").v, weird)
  end)
  db.close(raw)

  -- users: created once, then found
  assert.eq(admin.users:exists(APP), false)
  assert.eq(admin.users:ensure(APP, PW, { createdb = true }), true)
  assert.eq(admin.users:ensure(APP, "another password"), false)
  assert.eq(admin.users:exists(APP), true)
  local role = admin.queries:query("SELECT rolcanlogin, rolcreatedb, rolsuper FROM pg_roles WHERE rolname = $1", { APP })[1]
  assert.eq(role, { rolcanlogin = true, rolcreatedb = true, rolsuper = false })
  assert(password_is(APP, PW), "the stored password is not the one given")
  assert.eq(admin.users:ensure(OTHER, "other-pw"), true)

  -- databases: created once with the owner
  assert.eq(admin.databases:exists(DB), false)
  assert.eq(admin.databases:ensure(DB, APP), true)
  assert.eq(admin.databases:ensure(DB, APP), false)
  assert.eq(admin.databases:exists(DB), true)
  assert.eq(admin.queries:query("SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1", { DB })[1].owner, APP)

  -- grants
  local function can(who, priv)
    return admin.queries:query("SELECT has_database_privilege($1, $2, $3) AS ok", { who, DB, priv })[1].ok
  end
  assert.eq(can(OTHER, "CREATE"), false)
  admin.databases:grant(DB, OTHER, "connect, temp")
  assert.eq(can(OTHER, "TEMPORARY"), true)
  assert.eq(can(OTHER, "CREATE"), false)
  admin.databases:grant(DB, OTHER, { "CREATE" })
  assert.eq(can(OTHER, "CREATE"), true)
  admin.queries:execute("REVOKE ALL ON DATABASE " .. postgres._quote_ident(DB) .. " FROM " .. postgres._quote_ident(OTHER))
  assert.eq(can(OTHER, "CREATE"), false)
  admin.databases:grant(DB, OTHER) -- ALL PRIVILEGES
  assert.eq(can(OTHER, "CREATE"), true)
  raises(function() admin.databases:grant(DB, OTHER, "ALL; DROP DATABASE postgres") end,
    "postgres.databases:grant: unknown database privilege 'ALL; DROP DATABASE postgres'")
  raises(function() admin.databases:grant(DB, OTHER, "SELECT") end, "postgres.databases:grant: unknown database privilege 'SELECT'")

  -- log in as the new user (host/port form: user, password and database encoded in the URL)
  local app = track(postgres.client(HOST, PORT, APP, PW, DB))
  local who = app.queries:query("SELECT current_user AS u, current_database() AS d, $1::text AS echo", { PW })[1]
  assert.eq(who.u, APP)
  assert.eq(who.d, DB)
  assert.eq(who.echo, PW)
  app.queries:execute("CREATE TABLE items (id int PRIMARY KEY, name text)") -- the owner may create in its database
  assert.eq(app.queries:execute("INSERT INTO items VALUES ($1, $2), ($3, $4)", { 1, "a'b", 2, PW }).rows_affected, 2)
  local rows = app.queries:query("SELECT id, name FROM items WHERE id >= $1 ORDER BY id", { 1 })
  assert.eq(#rows, 2)
  assert.eq(rows[2].name, PW)
  assert.eq(app.queries:execute("UPDATE items SET name = 'x'").rows_affected, 2)
  raises(function() app.queries:query("SELECT * FROM nope") end, 'relation "nope" does not exist')
  -- a wrong password fails where the server checks passwords (this suite's cluster trusts local logins)
  local ok_wrong, err_wrong = pcall(postgres.client, HOST, PORT, APP, "wrong-password", DB)
  if ok_wrong then
    err_wrong:close()
    print("assay.postgres: the server does not check passwords (trust auth); wrong-password check skipped")
  else
    assert(tostring(err_wrong):find("28P01", 1, true), tostring(err_wrong))
  end
  app:close()
  raises(function() app.queries:query("SELECT 1") end, "connection is closed")

  -- password rotation: set_password stores the new one
  local PW2 = PW .. "-rotated"
  admin.users:set_password(APP, PW2)
  assert(password_is(APP, PW2), "set_password did not store the new password")

  -- client_from_vault: credentials from the KV v2 secret, through the vault client's kv:get
  mock:on("GET", "/v1/secrets/data/db/app", { json = { data = { data = { username = APP, password = PW2, database = DB }, metadata = { version = 1 } } } })
  local fv = track(postgres.client_from_vault(vc, "db/app", HOST, PORT))
  local row = fv.queries:query("SELECT current_user AS u, current_database() AS d")[1]
  assert.eq(row.u, APP)
  assert.eq(row.d, DB)
  assert.eq(mock:last().headers["x-vault-token"], "s.test-token")
  fv:close()
  -- another mount, host and port from the secret, a database override
  mock:on("GET", "/v1/kv/data/db/other", { json = { data = { data = { username = OTHER, password = "other-pw", host = HOST, port = tostring(PORT) } } } })
  local fo = track(postgres.client_from_vault(vc, "db/other", nil, nil, { mount = "kv", database = DB }))
  row = fo.queries:query("SELECT current_user AS u, current_database() AS d")[1]
  assert.eq(row.u, OTHER)
  assert.eq(row.d, DB)
  fo:close()

  -- the flat method names of earlier releases
  assert.eq(admin:user_exists(APP), true)
  assert.eq(admin:database_exists(DB), true)
  assert.eq(admin:ensure_user(APP, "x"), false)
  assert.eq(admin:ensure_database(DB), false)
  assert.eq(admin:query("SELECT $1::int + 1 AS n", { 41 })[1].n, 42)

  -- bad input on a live client
  raises(function() admin.users:ensure(APP, nil) end, "postgres.users:ensure: password must be a string, got nil")
  raises(function() admin.users:ensure(APP, "") end, "postgres.users:ensure: password must not be empty")
  raises(function() admin.users:exists(string.rep("x", 64)) end, "postgres.users:exists: name is longer than 63 bytes")
  raises(function() admin.databases:ensure(nil) end, "postgres.databases:ensure: name must be a non-empty string, got nil")
  raises(function() admin.queries:query(nil) end, "postgres.queries:query: sql must be a non-empty string, got nil")
  raises(function() admin.queries:execute("SELECT 1", "x") end, "postgres.queries:execute: params must be a table, got string")
end

local ok, err = pcall(scenario)
for _, c in ipairs(clients) do pcall(c.close) end
-- clean up whatever the scenario created, then check the drops reported it
local dropped_db = admin.databases:drop(DB, { force = true })
local dropped_app, dropped_other = admin.users:drop(APP), admin.users:drop(OTHER)
if not ok then error(err, 0) end
assert.eq(dropped_db, true)
assert.eq(dropped_app, true)
assert.eq(dropped_other, true)
assert.eq(admin.databases:drop(DB), false)
assert.eq(admin.users:drop(APP), false)
assert.eq(admin.users:exists(APP), false)
admin:close()
http.stop()
