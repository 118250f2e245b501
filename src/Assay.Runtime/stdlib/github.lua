--- @module assay.github
--- @description GitHub REST and GraphQL client: pull request get/list/reviews/merge, issues and comments, repositories, Actions workflow runs; follows Link pagination.
--- @keywords github, git, pull request, pull requests, pr, merge, review, reviews, issue, issues, comment, repository, repo, actions, workflow runs, ci, graphql, code hosting, GITHUB_TOKEN
--- @env GITHUB_TOKEN
--- @quickref c = github.client({token?, base_url?}) -> client (token defaults to $GITHUB_TOKEN)
--- @quickref c.pulls:get(repo, n) ; c.pulls:list(repo, {state, sort, direction, per_page, all}) ; c.pulls:reviews(repo, n) ; c.pulls:merge(repo, n, {merge_method})
--- @quickref c.issues:list(repo, opts) ; c.issues:get(repo, n) ; c.issues:create(repo, title, body, {labels, assignees}) ; c.issues:create_note(repo, n, body)
--- @quickref c.repos:get(repo) ; c.runs:list(repo, {status, branch, all}) -> {total_count, workflow_runs} ; c.runs:get(repo, id) ; c:graphql(query, variables) -> {data}
--- @example local gh = require("assay.github").client(); for _, pr in ipairs(gh.pulls:list("owner/repo", {state = "open", all = true})) do print(pr.number, pr.title) end
--
-- Built on assay.rest: every request carries User-Agent (GitHub refuses requests without one),
-- query values are encoded, and `all = true` follows Link rel="next" pages.
-- See docs/modules/github.md.
local rest = require("assay.rest")

local M = {}

local type, tostring, ipairs, error = type, tostring, ipairs, error

-- "owner/name" → the encoded "/repos/owner/name" prefix (name may contain further "/")
local function repo_path(repo)
  local owner, name
  if type(repo) == "string" then owner, name = repo:match("^([^/]+)/(.+)$") end
  if not owner then error("github: invalid repo format, expected 'owner/repo': " .. tostring(repo), 3) end
  return rest.path("repos", owner) .. "/" .. name:gsub("[^/]+", rest.segment)
end

local function need_number(fn, what, v)
  if type(v) ~= "number" and not (type(v) == "string" and v:match("^%d+$")) then
    error(fn .. ": " .. what .. " must be a number, got " .. type(v), 3)
  end
  return tostring(math.tointeger(tonumber(v)) or v)
end

function M.client(opts)
  rest.need_table("github.client", "opts", opts)
  opts = opts or {}
  local token = opts.token or env.get("GITHUB_TOKEN")
  if token == "" then token = nil end
  local api = rest.client({
    module = "github", base_url = opts.base_url or "https://api.github.com",
    auth = token and { bearer = token } or nil, accept = "application/vnd.github+json",
    headers = { ["X-GitHub-Api-Version"] = "2022-11-28" }, timeout = opts.timeout, retries = opts.retries,
  })

  -- one object; nil when GitHub answers 404
  local function get_one(path) return (api:get(path, { not_found = "nil" })) end

  -- a list: the first page, or with opts.all every page (Link rel="next"; per_page 100 unless set)
  local function list(path, query, o, items)
    if o.all then
      if o.per_page == nil then query[#query + 1] = { "per_page", 100 } end
      return api:paginate(path, { query = query, items = items })
    end
    local page = api:get(path, { query = query })
    return page
  end

  local c = { pulls = {}, issues = {}, repos = {}, runs = {} }

  function c.pulls:get(repo, number)
    return get_one(repo_path(repo) .. "/pulls/" .. need_number("github.pulls:get", "number", number))
  end

  function c.pulls:list(repo, o)
    o = rest.need_table("github.pulls:list", "opts", o) or {}
    return list(repo_path(repo) .. "/pulls", { { "state", o.state }, { "head", o.head }, { "base", o.base },
      { "sort", o.sort }, { "direction", o.direction }, { "per_page", o.per_page } }, o)
  end

  function c.pulls:reviews(repo, number)
    return api:get(repo_path(repo) .. "/pulls/" .. need_number("github.pulls:reviews", "number", number) .. "/reviews")
  end

  --- PUT .../merge; returns {merged, sha, message} (or true on an empty 204).
  function c.pulls:merge(repo, number, o)
    o = rest.need_table("github.pulls:merge", "opts", o) or {}
    local body = rest.object({ merge_method = o.merge_method, commit_title = o.commit_title,
                               commit_message = o.commit_message, sha = o.sha })
    return (api:put(repo_path(repo) .. "/pulls/" .. need_number("github.pulls:merge", "number", number) .. "/merge", body))
  end

  function c.issues:list(repo, o)
    o = rest.need_table("github.issues:list", "opts", o) or {}
    local labels = o.labels
    if type(labels) == "table" then labels = table.concat(labels, ",") end
    return list(repo_path(repo) .. "/issues", { { "state", o.state }, { "labels", labels }, { "assignee", o.assignee },
      { "since", o.since }, { "sort", o.sort }, { "direction", o.direction }, { "per_page", o.per_page } }, o)
  end

  function c.issues:get(repo, number)
    return get_one(repo_path(repo) .. "/issues/" .. need_number("github.issues:get", "number", number))
  end

  function c.issues:create(repo, title, body, o)
    local fn = "github.issues:create"
    local path = repo_path(repo)
    rest.need_string(fn, "title", title)
    o = rest.need_table(fn, "opts", o) or {}
    return (api:post(path .. "/issues", { title = title, body = body, labels = o.labels, assignees = o.assignees,
                                          milestone = o.milestone }))
  end

  function c.issues:create_note(repo, number, body)
    local fn = "github.issues:create_note"
    local path = repo_path(repo) .. "/issues/" .. need_number(fn, "number", number) .. "/comments"
    rest.need_string(fn, "body", body)
    return (api:post(path, { body = body }))
  end

  function c.repos:get(repo) return get_one(repo_path(repo)) end

  --- {total_count, workflow_runs}; with all = true, workflow_runs holds every page's runs.
  function c.runs:list(repo, o)
    o = rest.need_table("github.runs:list", "opts", o) or {}
    local total
    local result = list(repo_path(repo) .. "/actions/runs", { { "status", o.status }, { "branch", o.branch },
      { "event", o.event }, { "per_page", o.per_page } }, o,
      function(page) total = page.total_count return page.workflow_runs end)
    if o.all then return { total_count = total, workflow_runs = result } end
    return result
  end

  function c.runs:get(repo, run_id)
    return get_one(repo_path(repo) .. "/actions/runs/" .. need_number("github.runs:get", "run_id", run_id))
  end

  --- POST /graphql. GraphQL errors (HTTP 200 with `errors`) raise, unless opts.allow_errors,
  --- which returns the whole {data, errors} response.
  function c:graphql(query, variables, o)
    local fn = "github:graphql"
    rest.need_string(fn, "query", query)
    rest.need_table(fn, "variables", variables)
    o = rest.need_table(fn, "opts", o) or {}
    local result = api:post("/graphql", { query = query, variables = variables }, { idempotent = false })
    if type(result) == "table" and type(result.errors) == "table" and #result.errors > 0 and not o.allow_errors then
      local msgs = {}
      for _, e in ipairs(result.errors) do msgs[#msgs + 1] = type(e) == "table" and tostring(e.message) or tostring(e) end
      error("github: graphql: " .. table.concat(msgs, "; "), 2)
    end
    return result
  end

  return c
end

return M
