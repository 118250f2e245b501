-- assay.gitlab against a mock following GitLab's REST v4 shapes: auth headers, project path
-- encoding, the reference's test plan, DELETE bodies, array query values (key[]), {} bodies for
-- approve/cancel/retry, pagination, 404 → nil, errors and bad input.
local gitlab = require("assay.gitlab")
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local mock_api = dofile(here .. "/fixtures/mock_api.lua")
local raises = mock_api.raises
local mock = mock_api.start()
local A = "/api/v4/projects/42"

assert.eq(type(gitlab.client), "function")
local shape = gitlab.client("http://localhost")
for _, name in ipairs({ "projects", "files", "repository", "commits", "branches", "tags", "merge_requests", "pipelines",
                        "jobs", "releases", "issues", "groups", "registry", "hooks", "users", "environments", "deploy_tokens" }) do
  assert.eq(type(shape[name]), "table", name)
end

local gl = gitlab.client(mock.url .. "//", { token = "glpat-test" })
local function authed(resp)
  return function(req)
    if req.headers["private-token"] ~= "glpat-test" then return { status = 401, json = { message = "401 Unauthorized" } } end
    return type(resp) == "function" and resp(req) or resp
  end
end

-- projects
mock:on("GET", A, authed({ json = { id = 42, name = "app", path_with_namespace = "group/app" } }))
assert.eq(gl.projects:get(42).name, "app")
assert.eq(gl.projects:get(999), nil)
mock:on("GET", "/api/v4/projects/group%2Fsub%2Fapp", { json = { id = 43 } })
local p = gl.projects:get("group/sub/app")
assert.eq(p.id, 43)
assert.eq(mock:last().path, "/api/v4/projects/group%2Fsub%2Fapp") -- one segment

-- files: raw with ref, get, create/update, delete with its body
local F = A .. "/repository/files/src%2Fmain.lua"
mock:on("GET", F .. "/raw", { body = "print('hello')\n" }, { query = { ref = "dev" } })
assert.eq(gl.files:raw(42, "src/main.lua", { ref = "dev" }), "print('hello')\n")
assert.eq(mock:last().params.ref, "dev")
assert.eq(gl.files:raw(42, "missing.txt"), nil)
assert.eq(mock:last().query, "ref=main")
for _, path in ipairs({ F }) do
  mock:on("DELETE", path, function(req) return { status = 204 } end)
  mock:on("POST", path, function(req) return { status = 201, json = { file_path = "src/main.lua", branch = req:json().branch } } end)
end
assert.eq(gl.files:create(42, "src/main.lua", { branch = "main", content = "x", commit_message = "add" }).branch, "main")
assert.eq(gl.files:delete(42, "src/main.lua", { branch = "main", commit_message = "remove it" }), nil)
local del = mock:last()
assert.eq(del.method, "DELETE")
assert.eq(json.parse(del.body), { branch = "main", commit_message = "remove it" }) -- the body is really sent
assert.eq(del.headers["content-type"], "application/json")

-- commits, branches, tags
mock:on("POST", A .. "/repository/commits", authed(function(req)
  return { status = 201, json = { id = "abc", short_id = "abc1234", title = req:json().commit_message } }
end))
local commit = gl.commits:create(42, { branch = "main", commit_message = "Add file",
  actions = { { action = "create", file_path = "a.txt", content = "a" } } })
assert.eq(commit.short_id, "abc1234")
assert.eq(commit.title, "Add file")
mock:on("GET", A .. "/repository/commits/abc1234", { json = { id = "abc1234", message = "m" } })
assert.eq(gl.commits:get(42, "abc1234").message, "m")
mock:on("GET", A .. "/repository/branches", { json = { { name = "main", protected = true }, { name = "dev", protected = false } } })
local branches = gl.branches:list(42)
assert.eq(#branches, 2)
assert.eq(branches[1].protected, true)
mock:on("POST", A .. "/repository/branches", function(req) return { status = 201, json = { name = req:json().branch } } end)
assert.eq(gl.branches:create(42, { branch = "feat/new-feature", ref = "main" }).name, "feat/new-feature")
mock:on("DELETE", A .. "/repository/branches/feat%2Fnew-feature", { status = 204 })
assert.eq(gl.branches:delete(42, "feat/new-feature"), nil)
mock:on("GET", A .. "/repository/tags", { json = { { name = "v1.0.0" } } })
assert.eq(gl.tags:list(42)[1].name, "v1.0.0")

-- merge requests
mock:on("GET", A .. "/merge_requests", { json = { { iid = 1, author = { username = "alice" } }, { iid = 2, author = { username = "bob" } } } })
local mrs = gl.merge_requests:list(42, { state = "opened", labels = "bug" })
assert.eq(#mrs, 2)
assert.eq(mrs[2].author.username, "bob")
assert.eq(mock:last().query, "labels=bug&state=opened") -- sorted
mock:on("POST", A .. "/merge_requests", function(req) return { status = 201, json = { iid = 3, title = req:json().title } } end)
assert.eq(gl.merge_requests:create(42, { source_branch = "f", target_branch = "main", title = "Feature" }).iid, 3)
mock:on("PUT", A .. "/merge_requests/3/merge", function(req) return { json = { iid = 3, state = "merged", squash = req:json().squash } } end)
local m = gl.merge_requests:merge(42, 3, { squash = true })
assert.eq(m.state, "merged")
assert.eq(m.squash, true)
gl.merge_requests:merge(42, 3)
assert.eq(mock:last().body, "{}")
mock:on("POST", A .. "/merge_requests/3/approve", { status = 201, json = { approved = true } })
assert.eq(gl.merge_requests:approve(42, 3).approved, true)
assert.eq(mock:last().body, "{}") -- an object, not []

-- pipelines and jobs
mock:on("GET", A .. "/pipelines", { json = { { id = 100, status = "success" } } })
assert.eq(gl.pipelines:list(42, { ref = "main" })[1].status, "success")
mock:on("POST", A .. "/pipeline", function(req) return { status = 201, json = { id = 101, ref = req:json().ref, status = "pending" } } end)
local pl = gl.pipelines:create(42, { ref = "main", variables = { { key = "ENV", value = "prod" } } })
assert.eq(pl.id, 101)
assert.eq(pl.ref, "main")
mock:on("POST", A .. "/pipelines/101/cancel", { json = { id = 101, status = "canceled" } })
assert.eq(gl.pipelines:cancel(42, 101).status, "canceled")
assert.eq(mock:last().body, "{}")
mock:on("GET", A .. "/pipelines/100/jobs", { json = { { id = 1, name = "build" }, { id = 2, name = "test" } } })
local jobs = gl.pipelines:jobs(42, 100, { scope = { "failed", "success" } })
assert.eq(#jobs, 2)
assert.eq(mock:last().query, "scope%5B%5D=failed&scope%5B%5D=success") -- arrays as key[]
mock:on("GET", A .. "/jobs/1/trace", { body = "step 1\nstep 2\n" })
assert.eq(gl.jobs:log(42, 1), "step 1\nstep 2\n")
assert.eq(gl.jobs:log(42, 2), nil)
mock:on("DELETE", A .. "/pipelines/100", { status = 204 })
assert.eq(gl.pipelines:delete(42, 100), nil)
mock:on("DELETE", A .. "/hooks/5", { json = { id = 5, deleted = true } })
assert.eq(gl.hooks:delete(42, 5).deleted, true) -- a JSON answer to a DELETE is returned

-- issues, releases, groups, registry, users, compare, hooks
mock:on("GET", A .. "/issues", { json = { { iid = 1, labels = { "bug" } } } })
assert.eq(gl.issues:list(42)[1].labels[1], "bug")
mock:on("GET", "/api/v4/issues", { json = { { iid = 9 } } })
assert.eq(gl.issues:list(nil, { scope = "all" })[1].iid, 9)
mock:on("POST", A .. "/issues", { status = 201, json = { iid = 2, state = "opened" } })
assert.eq(gl.issues:create(42, { title = "Bug" }).state, "opened")
mock:on("GET", A .. "/releases", { json = { { tag_name = "v1.0.0" } } })
assert.eq(gl.releases:list(42)[1].tag_name, "v1.0.0")
mock:on("GET", "/api/v4/groups", { json = { { id = 1, path = "group" } } })
assert.eq(gl.groups:list()[1].path, "group")
mock:on("GET", A .. "/registry/repositories", { json = { { id = 7, path = "group/app" } } })
assert.eq(gl.registry:repositories(42)[1].id, 7)
mock:on("GET", "/api/v4/user", authed({ json = { username = "me" } }))
assert.eq(gl.users:current().username, "me")
local oauth = gitlab.client(mock.url, { oauth_token = "oauth-test-token" })
mock:on("GET", "/api/v4/user", function(req) return { json = { auth = req.headers["authorization"], pt = req.headers["private-token"] } } end)
local who = oauth.users:current()
assert.eq(who.auth, "Bearer oauth-test-token")
assert.eq(who.pt, nil)
mock:on("GET", A .. "/repository/compare", { json = { commits = { { id = "a" } }, diffs = {} } }, { query = { from = "main", to = "dev" } })
assert.eq(#gl.repository:compare(42, "main", "dev").commits, 1)
mock:on("GET", A .. "/hooks", { json = { { id = 1, url = "https://ci.example.com/hook" } } })
assert.eq(gl.hooks:list(42)[1].url, "https://ci.example.com/hook")

-- pagination: all = true follows Link rel="next" (per_page 100 unless given)
mock:on("GET", A .. "/jobs", function(req)
  local page = tonumber(req.params.page or "1")
  local link = page < 3 and ('<' .. mock.url .. A .. '/jobs?page=' .. (page + 1) .. '&per_page=' .. req.params.per_page .. '>; rel="next"') or nil
  return { json = { { id = page } }, headers = { Link = link, ["X-Next-Page"] = page < 3 and tostring(page + 1) or "" } }
end)
local all = gl.jobs:list(42, { all = true, scope = { "failed" } })
assert.eq(#all, 3)
assert.eq(all[3].id, 3)
assert.eq(mock:requests_to(A .. "/jobs")[1].query, "per_page=100&scope%5B%5D=failed")
assert.eq(#gl.jobs:list(42, { per_page = 1 }), 1)

-- errors and bad input
mock:on("GET", A, { status = 403, json = { message = "403 Forbidden" } })
raises(function() gl.projects:get(42) end, 'gitlab: GET /projects/42 HTTP 403: {"message":"403 Forbidden"}')
mock:on("DELETE", A .. "/repository/files/x", { status = 400, json = { error = "branch is missing" } })
raises(function() gl.files:delete(42, "x", { commit_message = "m" }) end, "gitlab: DELETE /projects/42/repository/files/x HTTP 400")
raises(function() gl.projects:get(nil) end, "gitlab.projects:get: project must be a number or a path string, got nil")
raises(function() gl.files:raw(42, nil) end, "gitlab.files:raw: path must be a non-empty string, got nil")
raises(function() gl.files:delete(42, "x") end, "gitlab.files:delete: opts must be a table, got nil")
raises(function() gl.merge_requests:list(42, "opened") end, "gitlab.merge_requests:list: opts must be a table, got string")
raises(function() gl.merge_requests:create_note(42, 1, nil) end, "gitlab.merge_requests:create_note: body must be a non-empty string")
raises(function() gitlab.client(nil) end, "gitlab: base URL must be a non-empty string")
http.stop()
