-- assay.github against a mock following GitHub's REST v3 shapes: auth (token, GITHUB_TOKEN,
-- anonymous), User-Agent, every function of the reference's test plan, Link pagination, query
-- encoding, {} merge bodies, 404 → nil, GraphQL errors, bad input.
local github = require("assay.github")
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local mock_api = dofile(here .. "/fixtures/mock_api.lua")
local raises = mock_api.raises
local mock = mock_api.start()

assert.eq(type(github.client), "function")
local saved = env.get("GITHUB_TOKEN")
local gh = github.client({ token = "ghp_test123", base_url = mock.url .. "/" })

-- pulls
mock:on("GET", "/repos/octo/hello/pulls/42", function(req)
  if req.headers["authorization"] ~= "Bearer ghp_test123" then return { status = 401, json = { message = "Bad credentials" } } end
  return { json = { number = 42, title = "Add feature", state = "open", user = { login = "octocat" }, mergeable = true } }
end)
local pr = gh.pulls:get("octo/hello", 42)
assert.eq(pr.number, 42)
assert.eq(pr.title, "Add feature")
assert.eq(pr.state, "open")
assert.eq(pr.user.login, "octocat")
assert.eq(pr.mergeable, true)
local req = mock:last()
assert(req.headers["user-agent"]:find("^assay/"), "no User-Agent")
assert.eq(req.headers["accept"], "application/vnd.github+json")
assert.eq(req.headers["x-github-api-version"], "2022-11-28")
assert.eq(gh.pulls:get("octo/hello", 999), nil) -- 404 → nil

mock:on("GET", "/repos/octo/hello/pulls", { json = { { number = 1, title = "First" }, { number = 2, title = "Second" } } })
env.set("GITHUB_TOKEN", nil)
local anon = github.client({ base_url = mock.url })
local prs = anon.pulls:list("octo/hello", { state = "open", per_page = 2 })
assert.eq(#prs, 2)
assert.eq(prs[2].title, "Second")
assert.eq(mock:last().query, "state=open&per_page=2")
assert.eq(mock:last().headers["authorization"], nil) -- anonymous

mock:on("GET", "/repos/octo/hello/pulls/42/reviews", { json = { { state = "APPROVED", user = { login = "a" } },
                                                              { state = "CHANGES_REQUESTED", user = { login = "reviewer2" } } } })
local reviews = gh.pulls:reviews("octo/hello", 42)
assert.eq(#reviews, 2)
assert.eq(reviews[1].state, "APPROVED")
assert.eq(reviews[2].user.login, "reviewer2")

mock:on("PUT", "/repos/octo/hello/pulls/42/merge", function(r) return { json = { merged = true, sha = "abc123", message = "merged", got = r:json() } } end)
local merged = gh.pulls:merge("octo/hello", 42, { merge_method = "squash" })
assert.eq(merged.merged, true)
assert.eq(merged.sha, "abc123")
assert.eq(merged.got, { merge_method = "squash" })
gh.pulls:merge("octo/hello", 42)
assert.eq(mock:last().body, "{}") -- an object, not []
assert.eq(mock:last().headers["content-type"], "application/json")
mock:on("PUT", "/repos/octo/hello/pulls/7/merge", { status = 204 })
assert.eq(gh.pulls:merge("octo/hello", 7), true)
mock:on("PUT", "/repos/octo/hello/pulls/8/merge", { status = 405, json = { message = "Pull Request is not mergeable" } })
raises(function() gh.pulls:merge("octo/hello", 8) end, 'github: PUT /repos/octo/hello/pulls/8/merge HTTP 405: {"message":"Pull Request is not mergeable"}')

-- issues
mock:on("GET", "/repos/octo/hello/issues", { json = { { number = 1, labels = { { name = "bug" } } }, { number = 2, labels = {} } } })
local issues = gh.issues:list("octo/hello", { state = "all", labels = { "bug", "help wanted" } })
assert.eq(#issues, 2)
assert.eq(issues[1].labels[1].name, "bug")
assert.eq(mock:last().params.labels, "bug,help wanted")
assert.eq(mock:last().query, "state=all&labels=bug%2Chelp%20wanted")
mock:on("GET", "/repos/octo/hello/issues/1", { json = { number = 1, user = { login = "reporter" } } })
assert.eq(gh.issues:get("octo/hello", 1).user.login, "reporter")
assert.eq(gh.issues:get("octo/hello", "1").user.login, "reporter")
mock:on("POST", "/repos/octo/hello/issues", function(r)
  local b = r:json()
  return { status = 201, json = { number = 42, state = "open", title = b.title, labels = b.labels } }
end)
local issue = gh.issues:create("octo/hello", "Bug found", "Steps…", { labels = { "bug" } })
assert.eq(issue.number, 42)
assert.eq(issue.state, "open")
assert.eq(issue.labels, { "bug" })
mock:on("POST", "/repos/octo/hello/issues/42/comments", function(r) return { status = 201, json = { id = 500, body = r:json().body } } end)
local note = gh.issues:create_note("octo/hello", 42, "Thanks!")
assert.eq(note.id, 500)
assert.eq(note.body, "Thanks!")

-- repos, runs, graphql
mock:on("GET", "/repos/octo/hello", { json = { full_name = "octo/hello", stargazers_count = 80, language = "Lua", default_branch = "main" } })
local repo = gh.repos:get("octo/hello")
assert.eq(repo.full_name, "octo/hello")
assert.eq(repo.stargazers_count, 80)
assert.eq(repo.language, "Lua")
assert.eq(repo.default_branch, "main")
assert.eq(gh.repos:get("octo/missing"), nil)
mock:on("GET", "/repos/octo/hello/actions/runs", { json = { total_count = 2, workflow_runs = {
  { id = 1, status = "completed", conclusion = "success" }, { id = 2, status = "in_progress" } } } })
local runs = gh.runs:list("octo/hello", { branch = "feature/x y", status = "completed" })
assert.eq(runs.total_count, 2)
assert.eq(runs.workflow_runs[1].conclusion, "success")
assert.eq(mock:last().query, "status=completed&branch=feature%2Fx%20y")
assert.eq(mock:last().params.branch, "feature/x y")
mock:on("GET", "/repos/octo/hello/actions/runs/1", { json = { id = 1, status = "completed", conclusion = "success" } })
local run = gh.runs:get("octo/hello", 1)
assert.eq(run.status, "completed")
assert.eq(run.conclusion, "success")
mock:on("POST", "/graphql", function(r)
  local b = r:json()
  if b.query:find("broken") then return { json = { errors = { { message = "Field 'x' doesn't exist" } } } } end
  return { json = { data = { repository = { name = "hello", stargazerCount = b.variables.n } } } }
end)
local g = gh:graphql("query($n: Int) { repository { name stargazerCount } }", { n = 80 })
assert.eq(g.data.repository.name, "hello")
assert.eq(g.data.repository.stargazerCount, 80)
raises(function() gh:graphql("broken") end, "github: graphql: Field 'x' doesn't exist")
assert.eq(gh:graphql("broken", nil, { allow_errors = true }).errors[1].message, "Field 'x' doesn't exist")

-- pagination through Link rel="next" (opt-in all = true; per_page 100 unless given)
local function paged(items_of)
  return function(r)
    local p = tonumber(r.params.page or "1")
    local link = p < 3 and ('<' .. mock.url .. r.path .. '?page=' .. (p + 1) .. '&per_page=' .. (r.params.per_page or 30) .. '>; rel="next"') or nil
    return { json = items_of(p), headers = { Link = link } }
  end
end
mock:on("GET", "/repos/octo/big/pulls", paged(function(p) return { { number = p * 10 + 1 }, { number = p * 10 + 2 } } end))
local all = gh.pulls:list("octo/big", { state = "open", all = true })
assert.eq(#all, 6)
assert.eq(all[6].number, 32)
assert.eq(#mock:requests_to("/repos/octo/big/pulls"), 3)
assert.eq(mock:requests_to("/repos/octo/big/pulls")[1].query, "state=open&per_page=100")
assert.eq(mock:requests_to("/repos/octo/big/pulls")[3].headers["authorization"], "Bearer ghp_test123")
assert.eq(#gh.pulls:list("octo/big"), 2) -- without all: the first page
mock:on("GET", "/repos/octo/big/actions/runs", paged(function(p) return { total_count = 6, workflow_runs = { { id = p } } } end))
local all_runs = gh.runs:list("octo/big", { all = true, per_page = 1 })
assert.eq(all_runs.total_count, 6)
assert.eq(#all_runs.workflow_runs, 3)
assert.eq(all_runs.workflow_runs[3].id, 3)
mock:on("GET", "/repos/octo/big/issues", paged(function(p) return { { number = p } } end))
assert.eq(#gh.issues:list("octo/big", { all = true }), 3)

-- GITHUB_TOKEN is the default token (read when the client is made)
env.set("GITHUB_TOKEN", "ghp_from_env")
local from_env = github.client({ base_url = mock.url })
env.set("GITHUB_TOKEN", saved)
assert.eq(from_env.pulls:get("octo/hello", 999), nil)
assert.eq(mock:last().headers["authorization"], "Bearer ghp_from_env")

-- errors and bad input
mock:on("GET", "/repos/octo/hello/pulls", { status = 403, json = { message = "rate limited" } })
raises(function() gh.pulls:list("octo/hello") end, 'github: GET /repos/octo/hello/pulls HTTP 403: {"message":"rate limited"}')
raises(function() gh.pulls:list("octo/nothere") end, "github: GET /repos/octo/nothere/pulls HTTP 404") -- lists raise on 404
raises(function() gh.pulls:get("nohash", 1) end, "github: invalid repo format, expected 'owner/repo': nohash")
raises(function() gh.repos:get(nil) end, "github: invalid repo format, expected 'owner/repo': nil")
raises(function() gh.pulls:get("octo/hello", nil) end, "github.pulls:get: number must be a number, got nil")
raises(function() gh.issues:create("octo/hello", nil) end, "github.issues:create: title must be a non-empty string, got nil")
raises(function() gh.pulls:list("octo/hello", "open") end, "github.pulls:list: opts must be a table, got string")
raises(function() gh:graphql(nil) end, "github:graphql: query must be a non-empty string, got nil")
raises(function() github.client({ base_url = "api.github.com" }) end, "github: base URL must start with http")
http.stop()
