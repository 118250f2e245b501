-- assay.unleash against a real Unleash: the open-source npm unleash-server (pinned in
-- tests/tools/unleash, installed by test.sh) on its own fresh PostgreSQL database, started once
-- with an admin API token. Covers health, projects, environments, features on/off per
-- environment, strategies, tokens, wait, 404 → nil, and what the open-source edition refuses
-- (creating projects and environments), which must fail with a clear error.
-- Skipped (with a line saying why) when ASSAY_TEST_POSTGRES_URL is unset or the npm packages are
-- missing; test.sh provides both.
local unleash = require("assay.unleash")
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local raises = dofile(here .. "/fixtures/mock_api.lua").raises
local tools = here .. "/../tools/unleash"

local function skip(why) print("unleash_server_test: skipped: " .. why) end
local pg_url = os.getenv("ASSAY_TEST_POSTGRES_URL")
if pg_url == nil or pg_url == "" then
  return skip("ASSAY_TEST_POSTGRES_URL is not set (test.sh sets it)")
end
if not fs.exists(tools .. "/node_modules/unleash-server/package.json") then
  return skip("no unleash-server in " .. tools .. "/node_modules (run `npm ci` there; test.sh does)")
end
local node = io.popen("command -v node"):read("l")
if not node then return skip("node is not installed (test.sh installs Debian's nodejs)") end

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- ---------------------------------------------------------------- a fresh database
local admin = db.connect(pg_url)
local dbname = string.format("assay_unleash_%d_%d", os.time(), math.random(100000, 999999))
admin:execute("create database " .. dbname)
local base, query = pg_url:match("^(%a+://[^/?]+)/?[^?]*(.*)$")
local server_db_url = base .. "/" .. dbname .. query

-- ---------------------------------------------------------------- the server, started once
local TOKEN = "*:*.assay-test-admin-" .. math.random(100000, 999999)
local port = dofile(here .. "/fixtures/free_port.lua")()
local url = "http://127.0.0.1:" .. port
local dir = os.tmpname()
os.remove(dir)
os.execute("mkdir -p " .. sh_quote(dir))
local started = os.monotonic()
os.execute(string.format("%s %s %d %s %s >%s 2>&1 & echo $! >%s",
  sh_quote(node), sh_quote(tools .. "/start.mjs"), port, sh_quote(server_db_url), sh_quote(TOKEN),
  sh_quote(dir .. "/unleash.log"), sh_quote(dir .. "/pid")))
local pid = math.tointeger(tonumber(fs.read(dir .. "/pid"):match("%d+")))

local function stop()
  if pcall(process.kill, pid, "TERM") then
    for _ = 1, 100 do
      if not pcall(process.kill, pid, 0) then break end
      sleep(0.05)
    end
    pcall(process.kill, pid, "KILL")
  end
  -- the server's pool may linger for a moment; FORCE ends what is left
  local ok, err = pcall(admin.execute, admin, "drop database if exists " .. dbname .. " with (force)")
  if not ok then print("unleash_server_test: could not drop " .. dbname .. ": " .. tostring(err)) end
  admin:close()
end

local ok, err = pcall(function()
  -- wait: migrating an empty database is most of the start-up
  assert.eq(unleash.wait(url, { timeout = 120, interval = 0.25 }), true)
  print(string.format("unleash_server_test: unleash-server healthy after %.1f s (migrations included)", os.monotonic() - started))
  assert.eq(unleash.wait(url .. "/", { timeout = 5, interval = 0.1, token = TOKEN }), true)

  local c = unleash.client(url .. "/", { token = TOKEN })
  assert.eq(c.health:check().health, "GOOD")

  -- the raw token is what authenticates: another one is refused
  raises(function() unleash.client(url, { token = "*:*.wrong" }).projects:list() end,
    "unleash: GET /api/admin/projects HTTP 401: ")

  -- projects: the open-source edition has only "default"
  local projects = c.projects:list()
  assert.eq(#projects, 1)
  assert.eq(projects[1].id, "default")
  local default = c.projects:get("default")
  assert.eq(default.id, "default")
  assert.eq(default.name, "Default")
  local env_names = {}
  for _, e in ipairs(default.environments) do env_names[#env_names + 1] = e.environment end
  assert.eq(env_names, { "development", "production" })
  assert.eq(c.projects:get("no-such-project"), nil)
  assert.eq(unleash.ensure_project(c, "default").name, "Default")
  raises(function() c.projects:create({ id = "assay-new", name = "New" }) end,
    "unleash: POST /api/admin/projects HTTP 404: ")
  raises(function() c.projects:update("default", { id = "default", name = "Renamed" }) end,
    "unleash: PUT /api/admin/projects/default HTTP 404: ")
  raises(function() c.projects:delete("assay-new") end, "unleash: DELETE /api/admin/projects/assay-new HTTP 404: ")
  raises(function() unleash.ensure_project(c, "assay-new", { name = "New" }) end,
    "unleash.ensure_project: project assay-new does not exist and this server cannot create projects (the open-source Unleash has only the \"default\" project; creating projects needs Unleash Enterprise): unleash: POST /api/admin/projects HTTP 404")

  -- environments: the built-in two; enabling one already enabled is a 409 that ensure accepts
  local envs = {}
  for _, e in ipairs(c.environments:list()) do envs[#envs + 1] = e.name end
  assert.eq(envs, { "development", "production" })
  assert.eq(unleash.ensure_environment(c, "default", "production"), true)
  assert.eq(c.environments:disable("default", "production"), nil)
  assert.eq(#c.projects:get("default").environments, 1)
  assert.eq(unleash.ensure_environment(c, "default", "production"), true) -- enabled again (200)
  assert.eq(#c.projects:get("default").environments, 2)
  -- environments cannot be created on the open-source edition, so an unknown one is refused
  raises(function() unleash.ensure_environment(c, "default", "staging") end,
    "unleash.ensure_environment: unleash: POST /api/admin/projects/default/environments HTTP 400: ")
  raises(function() unleash.ensure_environment(c, "default", "staging") end, "Environment staging does not exist")

  -- features
  local created = c.features:create("default", { name = "assay-dark-mode", type = "release", description = "first" })
  assert.eq(created.name, "assay-dark-mode")
  assert.eq(created.project, "default")
  raises(function() c.features:create("default", { name = "assay-dark-mode" }) end,
    "unleash: POST /api/admin/projects/default/features HTTP 409: ")
  local names = {}
  for _, f in ipairs(c.features:list("default")) do names[#names + 1] = f.name end
  assert.eq(names, { "assay-dark-mode" })
  assert.eq(c.features:get("default", "no-such-flag"), nil)
  assert.eq(c.features:get("no-such-project", "assay-dark-mode"), nil)

  local function enabled(env)
    for _, e in ipairs(c.features:get("default", "assay-dark-mode").environments) do
      if e.name == env then return e.enabled end
    end
    error("no environment " .. env .. " on the feature")
  end
  assert.eq(enabled("development"), false)
  assert.eq(c.features:toggle_on("default", "assay-dark-mode", "development"), nil)
  assert.eq(enabled("development"), true)
  assert.eq(enabled("production"), false)
  c.features:toggle_on("default", "assay-dark-mode", "production")
  assert.eq(enabled("production"), true)
  c.features:toggle_off("default", "assay-dark-mode", "development")
  assert.eq(enabled("development"), false)
  assert.eq(enabled("production"), true)
  raises(function() c.features:toggle_on("default", "no-such-flag", "development") end,
    "unleash: POST /api/admin/projects/default/features/no-such-flag/environments/development/on HTTP 404: ")

  local updated = c.features:update("default", "assay-dark-mode", { description = "second", type = "experiment" })
  assert.eq(updated.description, "second")
  assert.eq(c.features:get("default", "assay-dark-mode").type, "experiment")

  -- strategies: turning a flag on with none gives it the default one; add one to a fresh flag
  assert.eq(#c.strategies:list("default", "assay-dark-mode", "development"), 1)
  c.features:create("default", { name = "assay-rollout", type = "release" })
  assert.eq(c.strategies:list("default", "assay-rollout", "production"), {})
  local added = c.strategies:add("default", "assay-rollout", "production",
    { name = "flexibleRollout", parameters = { rollout = "25", stickiness = "default", groupId = "assay-rollout" } })
  assert.not_nil(added.id)
  assert.eq(added.parameters.rollout, "25")
  local listed = c.strategies:list("default", "assay-rollout", "production")
  assert.eq(#listed, 1)
  assert.eq(listed[1].id, added.id)
  assert.eq(listed[1].name, "flexibleRollout")
  assert.eq(c.strategies:list("default", "assay-rollout", "nowhere"), {}) -- 404 → {}

  -- archive answers 202: any 2xx is success
  assert.eq(c.features:archive("default", "assay-rollout"), nil)
  assert.eq(c.features:get("default", "assay-rollout"), nil)

  -- tokens: the admin token the server started with, then an idempotent client token
  local function token_named(name)
    for _, t in ipairs(c.tokens:list()) do if t.tokenName == name then return t end end
  end
  assert.eq(token_named("assay-test-admin").type, "admin")
  local web = unleash.ensure_token(c, { tokenName = "assay-web", type = "client", environment = "production" })
  assert(web.secret:find("*:production.", 1, true) == 1, "unexpected secret " .. tostring(web.secret))
  local count = #c.tokens:list()
  assert.eq(unleash.ensure_token(c, { tokenName = "assay-web", type = "client", environment = "production" }).secret, web.secret)
  assert.eq(#c.tokens:list(), count)
  local dev = unleash.ensure_token(c, { tokenName = "assay-web", type = "client", environment = "development" })
  assert(dev.secret ~= web.secret, "a token for another environment is a new token")
  assert.eq(#c.tokens:list(), count + 1)
  -- the secret ("*:production.<hex>") travels as an encoded path segment and is deleted
  assert.eq(c.tokens:delete(web.secret), nil)
  assert.eq(#c.tokens:list(), count)
  assert.eq(token_named("assay-web").secret, dev.secret)

  -- wait on a port where nothing listens gives up at its deadline
  local dead = "http://127.0.0.1:" .. dofile(here .. "/fixtures/free_port.lua")()
  raises(function() unleash.wait(dead, { timeout = 0.5, interval = 0.1 }) end,
    "unleash.wait: not reachable at " .. dead .. " after 0.5s")
end)
if not ok then
  local log = fs.exists(dir .. "/unleash.log") and fs.read(dir .. "/unleash.log") or ""
  print("unleash-server log (last 3000 bytes):\n" .. log:sub(-3000))
end
stop()
os.execute("rm -rf " .. sh_quote(dir))
if not ok then error(err, 0) end
