--- @module assay.gitlab
--- @description GitLab REST API v4 client: projects, files, commits, branches, tags, merge request, ci pipeline and jobs, releases, issues, groups, container registry, webhooks, users, environments, deploy tokens; pagination.
--- @keywords gitlab, git, merge request, merge requests, mr, ci, ci pipeline, pipeline, pipelines, jobs, job log, runner, commits, branches, tags, releases, issues, groups, container registry, webhooks, hooks, deploy tokens, environments, code hosting, private-token
--- @quickref c = gitlab.client(url, {token | oauth_token}) -> client (paths under /api/v4; a project is an id or "group/name")
--- @quickref c.projects:get(p) ; c.files:get/raw(p, path, {ref}) ; c.files:create/update/delete(p, path, {branch, content, commit_message})
--- @quickref c.merge_requests:list/get/create/update/merge/approve/changes/notes/create_note ; c.pipelines:list/get/create/cancel/retry/delete/jobs ; c.jobs:list/get/retry/cancel/log
--- @quickref lists take query opts ({state = "opened", scope = {"failed", "success"}}) and all = true to follow every page
--- @example local gl = require("assay.gitlab").client("https://gitlab.example.com", {token = env.get("GITLAB_TOKEN")}); local p = gl.pipelines:create("group/app", {ref = "main"}); print(p.id, p.status)
--
-- Built on assay.rest: ids, paths, branch and tag names are percent-encoded as path segments,
-- query values encoded (arrays as key[]=v), DELETE bodies sent, empty POST bodies sent as {}.
-- See docs/modules/gitlab.md.
local rest = require("assay.rest")

local M = {}

local type, tostring, pairs, error, pcall = type, tostring, pairs, error, pcall

-- a project/group id: a number as is, a "group/sub/name" path encoded as one segment
local function id_segment(fn, what, v)
  if type(v) == "number" then return tostring(math.tointeger(v) or v) end
  if type(v) == "string" and v ~= "" then return rest.segment(v) end
  error(fn .. ": " .. what .. " must be a number or a path string, got " .. type(v), 3)
end

-- opts → query map: nil skipped, booleans true/false, a list value sent as key[]=v1&key[]=v2;
-- `all` (pagination) is ours, not GitLab's
local function query_of(fn, o)
  if o == nil then return nil end
  if type(o) ~= "table" then error(fn .. ": opts must be a table, got " .. type(o), 3) end
  local q = {}
  for k, v in pairs(o) do
    if k ~= "all" then
      if type(v) == "table" then q[k .. "[]"] = v else q[k] = v end
    end
  end
  return q
end

function M.client(url, opts)
  opts = rest.need_table("gitlab.client", "opts", opts) or {}
  local auth
  if opts.token then auth = { header = "PRIVATE-TOKEN", value = opts.token }
  elseif opts.oauth_token then auth = { bearer = opts.oauth_token } end
  local base = rest.normalize_url(url)
  if base == nil then error("gitlab: base URL must be a non-empty string", 2) end
  local api = rest.client_from_opts("gitlab", base .. "/api/v4", opts, { auth = auth })

  -- ---------------------------------------------------------------- verbs (status policy)

  local function get(path, q) return (api:get(path, { query = q, not_found = "nil" })) end

  -- a list: GitLab's first page, or with all = true every page (Link rel="next", per_page 100)
  local function list(fn, path, o)
    local q = query_of(fn, o)
    if o and o.all then
      if q.per_page == nil then q.per_page = 100 end
      return api:paginate(path, { query = q, not_found = "nil" })
    end
    return get(path, q)
  end

  local function body_of(fn, o)
    if o ~= nil and type(o) ~= "table" then error(fn .. ": body must be a table, got " .. type(o), 3) end
    return rest.object(o)
  end
  local function post(fn, path, o) return (api:post(path, body_of(fn, o), { ok = { 200, 201 } })) end
  local function put(fn, path, o) return (api:put(path, body_of(fn, o), { ok = { 200 } })) end

  -- DELETE (with an optional JSON body): the parsed body when there is one, else nil
  local function delete(fn, path, o, ok)
    local body = o ~= nil and body_of(fn, o) or nil
    local raw = api:delete(path, { body = body, ok = ok or { 200, 202, 204 }, raw = true })
    if raw == "" then return nil end
    local parsed, v = pcall(json.parse, raw)
    return parsed and v or nil
  end

  local function raw_get(path, q) return (api:get(path, { query = q, raw = true, not_found = "nil" })) end

  local function P(fn, p) return "/projects/" .. id_segment(fn, "project", p) end
  local function seg(fn, what, v)
    if type(v) == "number" then return tostring(math.tointeger(v) or v) end
    return rest.segment(rest.need_string(fn, what, v))
  end
  local function need_body(fn, o)
    if type(o) ~= "table" then error(fn .. ": opts must be a table, got " .. type(o), 3) end
    return o
  end

  local c = {}
  local function group(name) c[name] = {} return c[name] end

  -- ---------------------------------------------------------------- projects, files, repository
  local projects = group("projects")
  function projects:list(o) return list("gitlab.projects:list", "/projects", o) end
  function projects:get(p) return get(P("gitlab.projects:get", p)) end

  local files = group("files")
  local function file_path(fn, p, path) return P(fn, p) .. "/repository/files/" .. seg(fn, "path", path) end
  function files:get(p, path, o)
    local fn = "gitlab.files:get"
    return get(file_path(fn, p, path), { ref = (o or {}).ref or "main" })
  end
  function files:raw(p, path, o)
    local fn = "gitlab.files:raw"
    return raw_get(file_path(fn, p, path) .. "/raw", { ref = (o or {}).ref or "main" })
  end
  function files:create(p, path, o)
    local fn = "gitlab.files:create"
    return post(fn, file_path(fn, p, path), need_body(fn, o))
  end
  function files:update(p, path, o)
    local fn = "gitlab.files:update"
    return put(fn, file_path(fn, p, path), need_body(fn, o))
  end
  --- The body (branch, commit_message, …) is sent; GitLab answers 204.
  function files:delete(p, path, o)
    local fn = "gitlab.files:delete"
    delete(fn, file_path(fn, p, path), need_body(fn, o), { 204 })
    return nil
  end

  local repository = group("repository")
  function repository:tree(p, o) return list("gitlab.repository:tree", P("gitlab.repository:tree", p) .. "/repository/tree", o) end
  function repository:compare(p, from, to)
    local fn = "gitlab.repository:compare"
    rest.need_string(fn, "from", from)
    rest.need_string(fn, "to", to)
    return get(P(fn, p) .. "/repository/compare", { { "from", from }, { "to", to } })
  end

  -- ---------------------------------------------------------------- commits, branches, tags
  local commits = group("commits")
  function commits:list(p, o) return list("gitlab.commits:list", P("gitlab.commits:list", p) .. "/repository/commits", o) end
  function commits:get(p, sha)
    local fn = "gitlab.commits:get"
    return get(P(fn, p) .. "/repository/commits/" .. seg(fn, "sha", sha))
  end
  function commits:create(p, o)
    local fn = "gitlab.commits:create"
    return post(fn, P(fn, p) .. "/repository/commits", need_body(fn, o))
  end
  function commits:cherry_pick(p, sha, o)
    local fn = "gitlab.commits:cherry_pick"
    return post(fn, P(fn, p) .. "/repository/commits/" .. seg(fn, "sha", sha) .. "/cherry_pick", need_body(fn, o))
  end

  -- list/get/create/delete on P/repository/<kind>[/<name>] (branches, tags)
  local function named(name, kind)
    local t = group(name)
    function t:list(p, o) local fn = "gitlab." .. name .. ":list" return list(fn, P(fn, p) .. "/repository/" .. kind, o) end
    function t:get(p, n) local fn = "gitlab." .. name .. ":get" return get(P(fn, p) .. "/repository/" .. kind .. "/" .. seg(fn, "name", n)) end
    function t:create(p, o) local fn = "gitlab." .. name .. ":create" return post(fn, P(fn, p) .. "/repository/" .. kind, need_body(fn, o)) end
    function t:delete(p, n)
      local fn = "gitlab." .. name .. ":delete"
      return delete(fn, P(fn, p) .. "/repository/" .. kind .. "/" .. seg(fn, "name", n))
    end
  end
  named("branches", "branches")
  named("tags", "tags")

  -- ---------------------------------------------------------------- merge requests
  local mrs = group("merge_requests")
  local function mr(fn, p, iid) return P(fn, p) .. "/merge_requests/" .. seg(fn, "iid", iid) end
  function mrs:list(p, o) return list("gitlab.merge_requests:list", P("gitlab.merge_requests:list", p) .. "/merge_requests", o) end
  function mrs:get(p, iid) return get(mr("gitlab.merge_requests:get", p, iid)) end
  function mrs:create(p, o)
    local fn = "gitlab.merge_requests:create"
    return post(fn, P(fn, p) .. "/merge_requests", need_body(fn, o))
  end
  function mrs:update(p, iid, o)
    local fn = "gitlab.merge_requests:update"
    return put(fn, mr(fn, p, iid), need_body(fn, o))
  end
  function mrs:merge(p, iid, o) local fn = "gitlab.merge_requests:merge" return put(fn, mr(fn, p, iid) .. "/merge", o) end
  function mrs:approve(p, iid) local fn = "gitlab.merge_requests:approve" return post(fn, mr(fn, p, iid) .. "/approve") end
  function mrs:changes(p, iid) return get(mr("gitlab.merge_requests:changes", p, iid) .. "/changes") end
  function mrs:notes(p, iid, o) local fn = "gitlab.merge_requests:notes" return list(fn, mr(fn, p, iid) .. "/notes", o) end
  function mrs:create_note(p, iid, body)
    local fn = "gitlab.merge_requests:create_note"
    return post(fn, mr(fn, p, iid) .. "/notes", { body = rest.need_string(fn, "body", body) })
  end

  -- ---------------------------------------------------------------- pipelines and jobs
  local pipelines = group("pipelines")
  local function pl(fn, p, id) return P(fn, p) .. "/pipelines/" .. seg(fn, "pipeline id", id) end
  function pipelines:list(p, o) return list("gitlab.pipelines:list", P("gitlab.pipelines:list", p) .. "/pipelines", o) end
  function pipelines:get(p, id) return get(pl("gitlab.pipelines:get", p, id)) end
  function pipelines:create(p, o)
    local fn = "gitlab.pipelines:create"
    return post(fn, P(fn, p) .. "/pipeline", need_body(fn, o))
  end
  function pipelines:cancel(p, id) local fn = "gitlab.pipelines:cancel" return post(fn, pl(fn, p, id) .. "/cancel") end
  function pipelines:retry(p, id) local fn = "gitlab.pipelines:retry" return post(fn, pl(fn, p, id) .. "/retry") end
  function pipelines:delete(p, id) local fn = "gitlab.pipelines:delete" return delete(fn, pl(fn, p, id)) end
  function pipelines:jobs(p, id, o) local fn = "gitlab.pipelines:jobs" return list(fn, pl(fn, p, id) .. "/jobs", o) end

  local jobs = group("jobs")
  local function job(fn, p, id) return P(fn, p) .. "/jobs/" .. seg(fn, "job id", id) end
  function jobs:list(p, o) return list("gitlab.jobs:list", P("gitlab.jobs:list", p) .. "/jobs", o) end
  function jobs:get(p, id) return get(job("gitlab.jobs:get", p, id)) end
  function jobs:retry(p, id) local fn = "gitlab.jobs:retry" return post(fn, job(fn, p, id) .. "/retry") end
  function jobs:cancel(p, id) local fn = "gitlab.jobs:cancel" return post(fn, job(fn, p, id) .. "/cancel") end
  function jobs:log(p, id) return raw_get(job("gitlab.jobs:log", p, id) .. "/trace") end

  -- ---------------------------------------------------------------- releases, issues, groups
  local releases = group("releases")
  local function rel(fn, p, tag) return P(fn, p) .. "/releases/" .. seg(fn, "tag", tag) end
  function releases:list(p, o) return list("gitlab.releases:list", P("gitlab.releases:list", p) .. "/releases", o) end
  function releases:get(p, tag) return get(rel("gitlab.releases:get", p, tag)) end
  function releases:create(p, o)
    local fn = "gitlab.releases:create"
    return post(fn, P(fn, p) .. "/releases", need_body(fn, o))
  end
  function releases:update(p, tag, o)
    local fn = "gitlab.releases:update"
    return put(fn, rel(fn, p, tag), need_body(fn, o))
  end
  function releases:delete(p, tag) local fn = "gitlab.releases:delete" return delete(fn, rel(fn, p, tag)) end

  local issues = group("issues")
  local function issue(fn, p, iid) return P(fn, p) .. "/issues/" .. seg(fn, "iid", iid) end
  --- A project's issues, or with p = nil every issue visible to the user.
  function issues:list(p, o)
    local fn = "gitlab.issues:list"
    if p == nil then return list(fn, "/issues", o) end
    return list(fn, P(fn, p) .. "/issues", o)
  end
  function issues:get(p, iid) return get(issue("gitlab.issues:get", p, iid)) end
  function issues:create(p, o)
    local fn = "gitlab.issues:create"
    return post(fn, P(fn, p) .. "/issues", need_body(fn, o))
  end
  function issues:update(p, iid, o)
    local fn = "gitlab.issues:update"
    return put(fn, issue(fn, p, iid), need_body(fn, o))
  end
  function issues:notes(p, iid, o) local fn = "gitlab.issues:notes" return list(fn, issue(fn, p, iid) .. "/notes", o) end
  function issues:create_note(p, iid, body)
    local fn = "gitlab.issues:create_note"
    return post(fn, issue(fn, p, iid) .. "/notes", { body = rest.need_string(fn, "body", body) })
  end

  local groups = group("groups")
  local function G(fn, id) return "/groups/" .. id_segment(fn, "group", id) end
  function groups:list(o) return list("gitlab.groups:list", "/groups", o) end
  function groups:get(id) return get(G("gitlab.groups:get", id)) end
  function groups:projects(id, o) local fn = "gitlab.groups:projects" return list(fn, G(fn, id) .. "/projects", o) end

  -- ---------------------------------------------------------------- registry, hooks, users, …
  local registry = group("registry")
  local function repo_tags(fn, p, repo_id) return P(fn, p) .. "/registry/repositories/" .. seg(fn, "repo_id", repo_id) .. "/tags" end
  function registry:repositories(p, o) local fn = "gitlab.registry:repositories" return list(fn, P(fn, p) .. "/registry/repositories", o) end
  function registry:tags(p, repo_id, o) local fn = "gitlab.registry:tags" return list(fn, repo_tags(fn, p, repo_id), o) end
  function registry:tag(p, repo_id, tag)
    local fn = "gitlab.registry:tag"
    return get(repo_tags(fn, p, repo_id) .. "/" .. seg(fn, "tag", tag))
  end
  function registry:delete_tag(p, repo_id, tag)
    local fn = "gitlab.registry:delete_tag"
    return delete(fn, repo_tags(fn, p, repo_id) .. "/" .. seg(fn, "tag", tag))
  end

  local hooks = group("hooks")
  local function hook(fn, p, id) return P(fn, p) .. "/hooks/" .. seg(fn, "hook id", id) end
  function hooks:list(p, o) local fn = "gitlab.hooks:list" return list(fn, P(fn, p) .. "/hooks", o) end
  function hooks:get(p, id) return get(hook("gitlab.hooks:get", p, id)) end
  function hooks:create(p, o) local fn = "gitlab.hooks:create" return post(fn, P(fn, p) .. "/hooks", need_body(fn, o)) end
  function hooks:update(p, id, o) local fn = "gitlab.hooks:update" return put(fn, hook(fn, p, id), need_body(fn, o)) end
  function hooks:delete(p, id) local fn = "gitlab.hooks:delete" return delete(fn, hook(fn, p, id)) end

  local users = group("users")
  function users:current() return get("/user") end
  function users:list(o) return list("gitlab.users:list", "/users", o) end

  local environments = group("environments")
  function environments:list(p, o) local fn = "gitlab.environments:list" return list(fn, P(fn, p) .. "/environments", o) end
  function environments:get(p, id)
    local fn = "gitlab.environments:get"
    return get(P(fn, p) .. "/environments/" .. seg(fn, "environment id", id))
  end

  local deploy_tokens = group("deploy_tokens")
  function deploy_tokens:list(p, o) local fn = "gitlab.deploy_tokens:list" return list(fn, P(fn, p) .. "/deploy_tokens", o) end
  function deploy_tokens:create(p, o)
    local fn = "gitlab.deploy_tokens:create"
    return post(fn, P(fn, p) .. "/deploy_tokens", need_body(fn, o))
  end
  function deploy_tokens:delete(p, id)
    local fn = "gitlab.deploy_tokens:delete"
    return delete(fn, P(fn, p) .. "/deploy_tokens/" .. seg(fn, "token id", id))
  end

  return c
end

return M
