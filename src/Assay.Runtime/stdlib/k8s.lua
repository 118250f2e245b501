--- @module assay.k8s
--- @description Kubernetes API client: deploy to kubernetes, get/list/create/patch/delete any resource or CRD, readiness waits, rollouts, pod logs, secrets, nodes, events; connects in-cluster, from a kubeconfig or with a URL and token.
--- @keywords k8s, kubernetes, kube, kubectl, cluster, deploy, deployment, rollout, pod, pods, namespace, service, secret, configmap, crd, custom resource, node, events, logs, kubeconfig, in-cluster, service account, readiness, manifest
--- @env KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT, KUBECONFIG, HOME
--- @example local k8s = require("assay.k8s"); local st = k8s.deployments:rollout_status("default", "web"); print(st.ready, "/", st.desired)
--- @quickref conn = k8s.connect(opts) -> connection: conn:get/post/put/patch/delete(path, ...), conn:list_all(path, opts)
--- @quickref conn:resource{group, version, plural, namespaced} -> accessor with :get(ns, name) (nil on 404), :list(ns, opts), :path(ns, name)
--
-- Two layers: the connection (k8s.connect: where the API server is, how to authenticate, which CA
-- to trust) and the original module's API (module-level functions taking a trailing opts table
-- with base_url/token, or resolving the connection from the environment). See docs/modules/k8s.md.
local rest = require("assay.rest")

local M = {}

local type, tostring, pairs, ipairs, error, pcall, setmetatable = type, tostring, pairs, ipairs, error, pcall, setmetatable
local SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"

-- ------------------------------------------------------------------ small helpers

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- Raise "<fn>: <what> must be a non-empty string (a table), got <type>" for bad names, namespaces, kinds, options.
local need_string, need_table = rest.need_string, rest.need_table

local function bracket_host(host)
  if host:find(":", 1, true) and host:sub(1, 1) ~= "[" then return "[" .. host .. "]" end
  return host
end

-- ------------------------------------------------------------------ conditions and counting

--- The first entry of obj.status.conditions whose type is `cond_type`, or nil.
function M.find_condition(obj, cond_type)
  local conds = type(obj) == "table" and type(obj.status) == "table" and obj.status.conditions
  if type(conds) ~= "table" then return nil end
  for _, c in ipairs(conds) do
    if type(c) == "table" and c.type == cond_type then return c end
  end
  return nil
end

--- True when obj has a condition `cond_type` (default "Ready") with status "True".
function M.condition_true(obj, cond_type)
  local c = M.find_condition(obj, cond_type or "Ready")
  return c ~= nil and c.status == "True"
end

--- Counts `items` by `pred(item)`: {<ok>, <bad>, total, <bad>_names} where names is
--- {ok, bad, bad_names} (default {"ready", "not_ready", "not_ready_names"}). Names of bad items
--- (metadata.name, or "unknown") are in list order. Behind every all_ready/all_synced/all_healthy.
function M.tally(items, pred, names)
  names = names or { "ready", "not_ready", "not_ready_names" }
  local ok, bad, bad_names = 0, 0, {}
  for _, item in ipairs(items or {}) do
    if pred(item) then ok = ok + 1 else
      bad = bad + 1
      bad_names[#bad_names + 1] = type(item) == "table" and type(item.metadata) == "table" and item.metadata.name or "unknown"
    end
  end
  return { [names[1]] = ok, [names[2]] = bad, total = ok + bad, [names[3]] = bad_names }
end

-- ------------------------------------------------------------------ connection resolution

-- The files a kubeconfig search would read: opts.kubeconfig, $KUBECONFIG (":"-separated), ~/.kube/config.
local function kubeconfig_paths(opts)
  if opts.kubeconfig then
    return type(opts.kubeconfig) == "table" and opts.kubeconfig or { opts.kubeconfig }, true
  end
  local env_paths = os.getenv("KUBECONFIG")
  if env_paths and env_paths ~= "" then
    local list = {}
    for p in env_paths:gmatch("[^:]+") do list[#list + 1] = p end
    return list, true
  end
  local home = os.getenv("HOME")
  return home and { home .. "/.kube/config" } or {}, false
end

local function dir_of(path) return path:match("^(.*)/[^/]*$") or "." end

local function resolve_file(path, base_dir)
  if path:sub(1, 1) == "/" then return path end
  return base_dir .. "/" .. path
end

-- Merges the named entries of every kubeconfig file (the first file defining a name wins, as
-- kubectl does) and remembers which file each came from (relative paths are relative to it).
local function load_kubeconfig(paths, module)
  local merged = { clusters = {}, users = {}, contexts = {}, found = false }
  for _, path in ipairs(paths) do
    local text = read_file(path)
    if text then
      merged.found = true
      local ok, doc = pcall(yaml.parse, text)
      if not ok or type(doc) ~= "table" then
        error(module .. ": cannot parse kubeconfig " .. path .. ": " .. tostring(doc), 0)
      end
      if merged.current == nil and type(doc["current-context"]) == "string" and doc["current-context"] ~= "" then
        merged.current = doc["current-context"]
      end
      for _, section in ipairs({ { "clusters", "cluster" }, { "users", "user" }, { "contexts", "context" } }) do
        for _, entry in ipairs(doc[section[1]] or {}) do
          if type(entry) == "table" and entry.name and merged[section[1]][entry.name] == nil then
            merged[section[1]][entry.name] = { value = entry[section[2]] or {}, dir = dir_of(path) }
          end
        end
      end
    end
  end
  return merged
end

local function decode_data(module, what, data)
  local ok, v = pcall(base64.decode, data)
  if not ok then error(module .. ": kubeconfig " .. what .. " is not valid base64", 0) end
  return v
end

-- A connection description from the kubeconfig's current (or the chosen) context.
local function from_kubeconfig(opts, paths, module)
  local cfg = load_kubeconfig(paths, module)
  if not cfg.found then return nil end
  local ctx_name = opts.context or cfg.current
  if not ctx_name then error(module .. ": kubeconfig has no current-context (pass opts.context)", 0) end
  local ctx = cfg.contexts[ctx_name]
  if not ctx then error(module .. ": kubeconfig has no context '" .. ctx_name .. "'", 0) end
  local cluster = cfg.clusters[ctx.value.cluster or ""]
  if not cluster then error(module .. ": kubeconfig context '" .. ctx_name .. "' names an unknown cluster '" .. tostring(ctx.value.cluster) .. "'", 0) end
  local user = cfg.users[ctx.value.user or ""] or { value = {}, dir = "." }
  local c, u = cluster.value, user.value
  if type(c.server) ~= "string" then error(module .. ": kubeconfig cluster '" .. ctx.value.cluster .. "' has no server", 0) end
  local d = { base_url = c.server, namespace = ctx.value.namespace or "default", source = "kubeconfig", context = ctx_name }
  if c["certificate-authority-data"] then d.ca_cert = decode_data(module, "certificate-authority-data", c["certificate-authority-data"])
  elseif c["certificate-authority"] then d.ca_cert_file = resolve_file(c["certificate-authority"], cluster.dir) end
  d.insecure = c["insecure-skip-tls-verify"] == true
  if u.exec or u["auth-provider"] then
    error(module .. ": kubeconfig user '" .. tostring(ctx.value.user) .. "' uses an exec/auth-provider plugin, "
      .. "which is not supported; use a token or a client certificate", 0)
  end
  if u.token then d.token = u.token
  elseif u.tokenFile then
    local file = resolve_file(u.tokenFile, user.dir)
    d.token_fn = function() return (read_file(file) or ""):gsub("%s+$", "") end
  end
  if u["client-certificate-data"] then d.client_cert = decode_data(module, "client-certificate-data", u["client-certificate-data"])
  elseif u["client-certificate"] then d.client_cert_file = resolve_file(u["client-certificate"], user.dir) end
  if u["client-key-data"] then d.client_key = decode_data(module, "client-key-data", u["client-key-data"])
  elseif u["client-key"] then d.client_key_file = resolve_file(u["client-key"], user.dir) end
  if u.username then d.basic = { u.username, u.password or "" } end
  return d
end

-- In a pod: the service host/port from the environment, the service account's token and CA.
local function from_cluster_env()
  local host = os.getenv("KUBERNETES_SERVICE_HOST")
  if not host or host == "" then return nil end
  local port = os.getenv("KUBERNETES_SERVICE_PORT")
  if not port or port == "" then port = "443" end
  return { base_url = "https://" .. bracket_host(host) .. ":" .. port, source = "in-cluster" }
end

-- The service-account token is re-read on every request: bound tokens are rotated on disk.
local function sa_token_fn(sa_dir)
  local file = sa_dir .. "/token"
  if not read_file(file) then return nil end
  return function() return ((read_file(file) or ""):gsub("%s+$", "")) end
end

--- Resolves where the API server is and how to talk to it. opts: base_url (or url), token,
--- ca_cert, ca_cert_file, client_cert, client_key, insecure, kubeconfig (path or list), context,
--- service_account_dir, namespace, module (error prefix, default "k8s"), timeout, retries.
--- Order: explicit base_url; else a kubeconfig named by opts/$KUBECONFIG; else in-cluster
--- (KUBERNETES_SERVICE_HOST); else ~/.kube/config.
function M.connect(opts)
  need_table("k8s.connect", "opts", opts)
  opts = opts or {}
  local module = opts.module or "k8s"
  local sa_dir = opts.service_account_dir or SA_DIR
  local d
  local explicit_url = opts.base_url or opts.url
  if explicit_url ~= nil then
    if type(explicit_url) ~= "string" or explicit_url == "" then error(module .. ": base_url must be a non-empty string", 2) end
    d = { base_url = explicit_url, source = "explicit" }
  else
    local paths, named = kubeconfig_paths(opts)
    if named then d = from_kubeconfig(opts, paths, module) end
    d = d or from_cluster_env()
    if not d and not named then d = from_kubeconfig(opts, paths, module) end
    if not d then
      error(module .. ": not running in a Kubernetes pod (KUBERNETES_SERVICE_HOST not set) and no kubeconfig found "
        .. "(KUBECONFIG, ~/.kube/config); pass base_url", 2)
    end
  end
  -- explicit settings win over discovered ones; the service account fills what is still missing
  if d.source ~= "kubeconfig" then
    if opts.token == nil and not d.token_fn then d.token_fn = sa_token_fn(sa_dir) end
    if not (opts.ca_cert or opts.ca_cert_file or opts.insecure) and d.base_url:find("^https://") and read_file(sa_dir .. "/ca.crt") then
      d.ca_cert_file = sa_dir .. "/ca.crt"
    end
    d.namespace = (read_file(sa_dir .. "/namespace") or "default"):gsub("%s+$", "")
  end
  for _, k in ipairs({ "token", "ca_cert", "ca_cert_file", "client_cert", "client_key", "client_cert_file", "client_key_file", "insecure", "namespace" }) do
    if opts[k] ~= nil then d[k] = opts[k] end
  end
  if opts.token ~= nil then d.token_fn = nil end
  local auth
  if d.token then auth = { bearer = d.token }
  elseif d.token_fn then auth = { bearer = d.token_fn }
  elseif d.basic then auth = { basic = d.basic } end
  local client = rest.client({
    module = module, base_url = d.base_url, auth = auth, timeout = opts.timeout, retries = opts.retries,
    ca_cert = d.ca_cert, ca_cert_file = d.ca_cert_file, insecure = d.insecure,
    client_cert = d.client_cert, client_key = d.client_key,
    client_cert_file = d.client_cert_file, client_key_file = d.client_key_file,
  })
  return setmetatable({
    module = module, base_url = client.base_url, namespace = d.namespace, source = d.source,
    context = d.context, client = client,
    auth = auth and (auth.basic and "basic" or "bearer") or ((d.client_cert or d.client_cert_file) and "client-certificate" or "none"),
    tls = { ca = (d.ca_cert or d.ca_cert_file) and true or false, client_cert = (d.client_cert or d.client_cert_file) and true or false, insecure = d.insecure or false },
  }, M.Connection)
end

-- ------------------------------------------------------------------ connection object

local Connection = {}
Connection.__index = Connection
Connection.__name = "k8s.connection"
M.Connection = Connection

--- conn:request(method, path, opts) — assay.rest request (errors "<module>: VERB path HTTP n: body").
Connection.request = function(self, method, path, opts) return self.client:request(method, path, opts) end
Connection.get = function(self, path, opts) return self.client:request("GET", path, opts) end
Connection.delete = function(self, path, opts) return self.client:request("DELETE", path, opts) end
Connection.post = function(self, path, body, opts) return self.client:post(path, body, opts) end
Connection.put = function(self, path, body, opts) return self.client:put(path, body, opts) end
Connection.patch = function(self, path, body, opts) return self.client:patch(path, body, opts) end
Connection.list_all = function(self, path, opts) return self.client:list_all(path, opts) end

-- Selector and paging options of a list call as ordered query pairs.
local function list_query(opts)
  return {
    { "labelSelector", opts.label_selector }, { "fieldSelector", opts.field_selector },
    { "limit", opts.limit }, { "continue", opts["continue"] },
  }
end

local Resource = {}
Resource.__index = Resource
Resource.__name = "k8s.resource"

--- conn:resource{group, version, plural, namespaced = true, not_found = "nil", list_not_found = "error"}
--- A typed accessor: :path(ns, name), :get(ns, name) (cluster-scoped: :get(name)), :list(ns, opts)
--- (cluster-scoped: :list(opts)); list opts: label_selector, field_selector, limit, all (follow
--- continue tokens). get → nil on 404 (not_found = "error" raises); list on 404 raises, or gives
--- {items = {}} with list_not_found = "empty".
Connection.resource = function(self, spec)
  if type(spec) ~= "table" then error("k8s.resource: expected {group, version, plural, namespaced}", 2) end
  need_string("k8s.resource", "version", spec.version)
  need_string("k8s.resource", "plural", spec.plural)
  local prefix = (spec.group == nil or spec.group == "") and ("/api/" .. spec.version)
    or ("/apis/" .. spec.group .. "/" .. spec.version)
  return setmetatable({
    conn = self, prefix = prefix, plural = spec.plural, namespaced = spec.namespaced ~= false,
    not_found = spec.not_found or "nil", list_not_found = spec.list_not_found or "error",
    label = spec.name or spec.plural,
  }, Resource)
end

--- The API path of a collection (name nil) or one object. Namespaced: (ns, name); a nil ns lists
--- across all namespaces. Cluster-scoped: (name).
local function resource_path(self, ns, name)
  local p = self.prefix
  if ns ~= nil then p = p .. "/namespaces/" .. rest.segment(ns) end
  p = p .. "/" .. self.plural
  if name ~= nil then p = p .. "/" .. rest.segment(name) end
  return p
end

Resource.path = function(self, a, b)
  if self.namespaced then return resource_path(self, a, b) end
  return resource_path(self, nil, a)
end

Resource.get = function(self, a, b)
  local ns, name = a, b
  if not self.namespaced then ns, name = nil, a end
  if self.namespaced then need_string(self.label .. ":get", "namespace", ns) end
  need_string(self.label .. ":get", "name", name)
  return (self.conn:get(resource_path(self, ns, name), { not_found = self.not_found }))
end

--- A namespaced object that must exist: checks ns and name (errors name `fn`), and raises
--- "<module>: <what> <ns>/<name> not found" at the caller's caller when there is none.
Resource.must_get = function(self, fn, what, ns, name)
  need_string(fn, "namespace", ns)
  need_string(fn, "name", name)
  local obj = self:get(ns, name)
  if obj == nil then error(self.conn.module .. ": " .. what .. " " .. ns .. "/" .. name .. " not found", 3) end
  return obj
end

Resource.list = function(self, a, b)
  local ns, opts = a, b
  if not self.namespaced then ns, opts = nil, a end
  if ns ~= nil and type(ns) ~= "string" then error(self.label .. ":list: namespace must be a string or nil, got " .. type(ns), 2) end
  need_table(self.label .. ":list", "opts", opts)
  opts = opts or {}
  local ro = { query = list_query(opts), verb = "LIST", not_found = self.list_not_found == "empty" and "nil" or "error",
               page_size = opts.limit }
  local list
  if opts.all then
    ro.query = { { "labelSelector", opts.label_selector }, { "fieldSelector", opts.field_selector } }
    list = self.conn:list_all(resource_path(self, ns), ro)
  else
    list = self.conn:get(resource_path(self, ns), ro)
  end
  if list == nil then return { items = {} } end
  return list
end

-- ------------------------------------------------------------------ operator modules

--- For the modules built on this layer (certmanager, flux, …): raises "<fn>: <what> must be a
--- non-empty string, got <type>" at the caller's caller.
M.check_string = need_string

--- The connection behind an operator module's `client(url, token, opts)`: url nil → discovered
--- (kubeconfig, in-cluster), a string → that API server, a table → k8s.connect options; token
--- nil → the service account's (when mounted); opts adds connection options (timeout, ca_cert, …).
function M.operator_connection(module, url, token, opts)
  local fn = module .. ".client"
  local o = {}
  if type(url) == "table" then
    for k, v in pairs(url) do o[k] = v end
  elseif url ~= nil then
    if type(url) ~= "string" or url == "" then
      error(fn .. ": url must be a non-empty string, a table of connection options or nil, got "
        .. (url == "" and "an empty string" or type(url)), 3)
    end
    o.base_url = url
  end
  if token ~= nil then
    if type(token) ~= "string" then error(fn .. ": token must be a string or nil, got " .. type(token), 3) end
    o.token = token
  end
  if opts ~= nil and type(opts) ~= "table" then error(fn .. ": opts must be a table, got " .. type(opts), 3) end
  for k, v in pairs(opts or {}) do if o[k] == nil then o[k] = v end end
  o.module = module
  return M.connect(o)
end

-- ------------------------------------------------------------------ the original module API

-- Connections for the module-level functions, one per distinct set of connection options (the
-- original cached a single client for the whole VM, whatever the options).
local conn_cache = {}
local CONN_KEYS = { "base_url", "url", "token", "kubeconfig", "context", "service_account_dir", "ca_cert", "ca_cert_file",
                    "client_cert", "client_key", "insecure", "timeout", "retries" }

local function conn_for(opts)
  if opts and opts.connection then return opts.connection end
  local parts = { os.getenv("KUBERNETES_SERVICE_HOST") or "", os.getenv("KUBERNETES_SERVICE_PORT") or "", os.getenv("KUBECONFIG") or "", os.getenv("HOME") or "" }
  for _, k in ipairs(CONN_KEYS) do
    local v = opts and opts[k]
    parts[#parts + 1] = type(v) == "table" and table.concat(v, ",") or tostring(v)
  end
  local key = table.concat(parts, "\0")
  local c = conn_cache[key]
  if not c then
    local co = {}
    for _, k in ipairs(CONN_KEYS) do co[k] = opts and opts[k] end
    c = M.connect(co)
    conn_cache[key] = c
  end
  return c
end

-- Built-in kinds: lower-case kind → {api prefix, plural, cluster-scoped}. Never modified.
local BUILTIN = {}
local function kinds(prefix, list)
  for _, k in ipairs(list) do BUILTIN[k[1]] = { prefix, k[2], k[3] or false } end
end
kinds("/api/v1", {
  { "pod", "pods" }, { "service", "services" }, { "secret", "secrets" }, { "configmap", "configmaps" },
  { "endpoints", "endpoints" }, { "serviceaccount", "serviceaccounts" },
  { "persistentvolumeclaim", "persistentvolumeclaims" }, { "pvc", "persistentvolumeclaims" },
  { "limitrange", "limitranges" }, { "resourcequota", "resourcequotas" }, { "event", "events" },
  { "namespace", "namespaces", true }, { "node", "nodes", true },
  { "persistentvolume", "persistentvolumes", true }, { "pv", "persistentvolumes", true },
})
kinds("/apis/apps/v1", { { "deployment", "deployments" }, { "statefulset", "statefulsets" }, { "daemonset", "daemonsets" }, { "replicaset", "replicasets" } })
kinds("/apis/batch/v1", { { "job", "jobs" }, { "cronjob", "cronjobs" } })
kinds("/apis/networking.k8s.io/v1", { { "ingress", "ingresses" }, { "ingressclass", "ingressclasses", true }, { "networkpolicy", "networkpolicies" } })
kinds("/apis/storage.k8s.io/v1", { { "storageclass", "storageclasses", true } })
kinds("/apis/rbac.authorization.k8s.io/v1", { { "role", "roles" }, { "rolebinding", "rolebindings" },
  { "clusterrole", "clusterroles", true }, { "clusterrolebinding", "clusterrolebindings", true } })
kinds("/apis/autoscaling/v2", { { "hpa", "horizontalpodautoscalers" }, { "horizontalpodautoscaler", "horizontalpodautoscalers" } })
kinds("/apis/policy/v1", { { "poddisruptionbudget", "poddisruptionbudgets" }, { "pdb", "poddisruptionbudgets" } })

-- Kinds added with register_crd (shared by every script in this process's Lua state).
local custom = {}

--- Registers a custom resource kind for the kind-based functions. A built-in kind cannot be
--- redefined (the original silently replaced it for every caller).
function M.register_crd(kind, group, version, plural, cluster_scoped)
  need_string("k8s.register_crd", "kind", kind)
  need_string("k8s.register_crd", "group", group)
  need_string("k8s.register_crd", "version", version)
  need_string("k8s.register_crd", "plural", plural)
  local k = kind:lower()
  if BUILTIN[k] then error("k8s.register_crd: '" .. kind .. "' is a built-in kind and cannot be redefined", 2) end
  custom[k] = { "/apis/" .. group .. "/" .. version, plural, cluster_scoped and true or false }
end

local function lookup(fn, kind)
  need_string(fn, "kind", kind)
  local e = BUILTIN[kind:lower()] or custom[kind:lower()]
  if not e then
    error("k8s: unknown resource kind '" .. kind .. "'. Use k8s.register_crd() for custom resources or k8s.get() with a raw path.", 3)
  end
  return e
end

local function build_path(fn, ns, kind, name)
  local e = lookup(fn, kind)
  local p = e[1]
  if not e[3] then
    need_string(fn, "namespace", ns)
    p = p .. "/namespaces/" .. rest.segment(ns)
  end
  p = p .. "/" .. e[2]
  if name ~= nil then p = p .. "/" .. rest.segment(name) end
  return p
end

function M._resource_path(ns, kind, name)
  need_string("k8s._resource_path", "name", name)
  return build_path("k8s._resource_path", ns, kind, name)
end
function M._list_path(ns, kind) return build_path("k8s._list_path", ns, kind, nil) end

-- A JSON or YAML string body gets its content type (the original sent none: HTTP 415).
local function body_opts(fn, body, opts, default_type)
  local o = { query = opts and opts.query }
  if type(body) == "string" then
    o.content_type = opts and opts.content_type or default_type
      or (body:match("^%s*[{%[]") and "application/json" or "application/yaml")
  elseif type(body) == "table" then
    o.content_type = opts and opts.content_type or default_type
  elseif body ~= nil then
    error(fn .. ": body must be a table or a string, got " .. type(body), 3)
  end
  return o
end

local function checked_path(fn, path)
  if type(path) ~= "string" or path:sub(1, 1) ~= "/" then
    error(fn .. ": path must be a string starting with '/', got " .. (type(path) == "string" and ("'" .. path .. "'") or type(path)), 3)
  end
end

--- GET a raw API path; 2xx → decoded object, else raises "k8s: GET <path> HTTP <status>: <body>".
function M.get(path, opts)
  checked_path("k8s.get", path)
  need_table("k8s.get", "opts", opts)
  return (conn_for(opts):get(path, { query = opts and opts.query }))
end

--- POST a table (JSON) or a JSON/YAML string.
function M.post(path, body, opts)
  checked_path("k8s.post", path)
  need_table("k8s.post", "opts", opts)
  return (conn_for(opts):post(path, body, body_opts("k8s.post", body, opts)))
end

function M.put(path, body, opts)
  checked_path("k8s.put", path)
  need_table("k8s.put", "opts", opts)
  return (conn_for(opts):put(path, body, body_opts("k8s.put", body, opts)))
end

--- PATCH with opts.content_type (default application/merge-patch+json).
function M.patch(path, body, opts)
  checked_path("k8s.patch", path)
  need_table("k8s.patch", "opts", opts)
  return (conn_for(opts):patch(path, body, body_opts("k8s.patch", body, opts, "application/merge-patch+json")))
end

function M.delete(path, opts)
  checked_path("k8s.delete", path)
  need_table("k8s.delete", "opts", opts)
  conn_for(opts):delete(path, { query = opts and opts.query })
end

-- ------------------------------------------------------------------ resources

M.resources = {}

function M.resources:get(ns, kind, name, opts)
  need_string("k8s.resources:get", "name", name)
  return M.get(build_path("k8s.resources:get", ns, kind, name), opts)
end

--- List with opts.label_selector, field_selector, limit (encoded); opts.all follows continue tokens.
function M.resources:list(ns, kind, opts)
  need_table("k8s.resources:list", "opts", opts)
  local path = build_path("k8s.resources:list", ns, kind, nil)
  opts = opts or {}
  local conn = conn_for(opts)
  if opts.all then
    return conn:list_all(path, { query = { { "labelSelector", opts.label_selector }, { "fieldSelector", opts.field_selector } },
                                 page_size = opts.limit })
  end
  return (conn:get(path, { query = list_query(opts) }))
end

function M.resources:create(ns, kind, body, opts)
  if type(body) ~= "table" and type(body) ~= "string" then
    error("k8s.resources:create: body must be a table or a string, got " .. type(body), 2)
  end
  return M.post(build_path("k8s.resources:create", ns, kind, nil), body, opts)
end

function M.resources:update(ns, kind, name, body, opts)
  need_string("k8s.resources:update", "name", name)
  if body == nil then error("k8s.resources:update: body is nil", 2) end
  return M.put(build_path("k8s.resources:update", ns, kind, name), body, opts)
end

function M.resources:patch(ns, kind, name, body, opts)
  need_string("k8s.resources:patch", "name", name)
  if body == nil then error("k8s.resources:patch: body is nil", 2) end
  return M.patch(build_path("k8s.resources:patch", ns, kind, name), body, opts)
end

function M.resources:delete(ns, kind, name, opts)
  need_string("k8s.resources:delete", "name", name)
  return M.delete(build_path("k8s.resources:delete", ns, kind, name), opts)
end

--- true on 200, false on 404; any other status raises (the original called 401/403/500 "absent").
function M.resources:exists(ns, kind, name, opts)
  need_string("k8s.resources:exists", "name", name)
  need_table("k8s.resources:exists", "opts", opts)
  local obj = conn_for(opts):get(build_path("k8s.resources:exists", ns, kind, name), { not_found = "nil" })
  return obj ~= nil
end

local READY_PHASES = { Active = true, Running = true, Bound = true, Ready = true }

--- Readiness of an object already fetched, by kind (see docs/modules/k8s.md).
function M.object_ready(kind, obj)
  local status = type(obj) == "table" and obj.status or {}
  if type(status) ~= "table" then status = {} end
  local k = tostring(kind):lower()
  if k == "deployment" or k == "statefulset" then
    local desired, ready = status.replicas or 0, status.readyReplicas or 0
    return desired > 0 and ready >= desired
  elseif k == "daemonset" then
    local desired, ready = status.desiredNumberScheduled or 0, status.numberReady or 0
    return desired > 0 and ready >= desired
  elseif k == "job" then
    return (status.succeeded or 0) >= 1
  end
  local c = M.find_condition(obj, "Ready")
  if c then return c.status == "True" end
  return READY_PHASES[status.phase] == true
end

function M.resources:is_ready(ns, kind, name, opts)
  return M.object_ready(kind, M.resources:get(ns, kind, name, opts))
end

--- Polls is_ready (errors count as not ready) every opts.interval (2) seconds for timeout_secs (60).
function M.resources:wait_ready(ns, kind, name, timeout_secs, opts)
  need_string("k8s.resources:wait_ready", "name", name)
  lookup("k8s.resources:wait_ready", kind)
  timeout_secs = rest.need_timeout("k8s.resources:wait_ready", timeout_secs, 60)
  return rest.wait_until(function() return M.resources:is_ready(ns, kind, name, opts) end, {
    timeout = timeout_secs, interval = opts and opts.interval or 2, swallow_errors = true,
    message = "k8s.wait_ready: " .. kind .. "/" .. name .. " not ready after " .. timeout_secs .. "s",
  })
end

-- ------------------------------------------------------------------ typed helpers

M.secrets = {}

--- The secret's data, base64-decoded (binary-safe); {} when it has none.
function M.secrets:get(ns, name, opts)
  need_string("k8s.secrets:get", "name", name)
  local s = M.resources:get(ns, "secret", name, opts)
  local out = {}
  for k, v in pairs(type(s.data) == "table" and s.data or {}) do out[k] = base64.decode(v) end
  return out
end

M.configmaps = {}

function M.configmaps:get(ns, name, opts)
  need_string("k8s.configmaps:get", "name", name)
  local cm = M.resources:get(ns, "configmap", name, opts)
  return type(cm.data) == "table" and cm.data or {}
end

M.pods = {}

function M.pods:list(ns, opts) return M.resources:list(ns, "pod", opts) end

--- Counts of pods by phase: {running, pending, succeeded, failed, unknown, total}.
function M.pods:status(ns, opts)
  local counts = { running = 0, pending = 0, succeeded = 0, failed = 0, unknown = 0, total = 0 }
  for _, pod in ipairs(M.pods:list(ns, opts).items or {}) do
    local phase = type(pod.status) == "table" and type(pod.status.phase) == "string" and pod.status.phase:lower() or "unknown"
    if counts[phase] == nil or phase == "total" then phase = "unknown" end
    counts[phase] = counts[phase] + 1
    counts.total = counts.total + 1
  end
  return counts
end

--- Log text; opts: tail, container, previous, since (seconds).
function M.pods:logs(ns, pod, opts)
  need_string("k8s.pods:logs", "namespace", ns)
  need_string("k8s.pods:logs", "pod", pod)
  need_table("k8s.pods:logs", "opts", opts)
  opts = opts or {}
  local path = "/api/v1/namespaces/" .. rest.segment(ns) .. "/pods/" .. rest.segment(pod) .. "/log"
  return (conn_for(opts):get(path, {
    raw = true, query = { { "tailLines", opts.tail }, { "container", opts.container },
                          { "previous", opts.previous and true or nil }, { "sinceSeconds", opts.since } },
  }))
end

M.services = {}

--- Ready endpoint IPs of a service, in order ({} when none).
function M.services:endpoints(ns, name, opts)
  need_string("k8s.services:endpoints", "name", name)
  local ep = M.resources:get(ns, "endpoints", name, opts)
  local ips = {}
  for _, subset in ipairs(type(ep.subsets) == "table" and ep.subsets or {}) do
    for _, addr in ipairs(subset.addresses or {}) do ips[#ips + 1] = addr.ip end
  end
  return ips
end

M.deployments = {}

function M.deployments:rollout_status(ns, name, opts)
  need_string("k8s.deployments:rollout_status", "name", name)
  local d = M.resources:get(ns, "deployment", name, opts)
  local spec, st = type(d.spec) == "table" and d.spec or {}, type(d.status) == "table" and d.status or {}
  local desired = spec.replicas or 0
  local r = {
    desired = desired, updated = st.updatedReplicas or 0, ready = st.readyReplicas or 0,
    available = st.availableReplicas or 0, unavailable = st.unavailableReplicas or 0,
  }
  r.complete = r.updated == desired and r.ready == desired
  return r
end

M.nodes = {}

--- [{name, ready, roles, capacity, allocatable}] for every node.
function M.nodes:status(opts)
  local list = M.get("/api/v1/nodes", opts)
  local out = {}
  for _, node in ipairs(list.items or {}) do
    local roles = {}
    for label in pairs(type(node.metadata) == "table" and node.metadata.labels or {}) do
      local role = label:match("^node%-role%.kubernetes%.io/(.+)$")
      if role then roles[#roles + 1] = role end
    end
    table.sort(roles)
    local st = type(node.status) == "table" and node.status or {}
    out[#out + 1] = {
      name = node.metadata and node.metadata.name, ready = M.condition_true(node, "Ready"), roles = roles,
      capacity = st.capacity or {}, allocatable = st.allocatable or {},
    }
  end
  return out
end

M.namespaces = {}

function M.namespaces:exists(name, opts) return M.resources:exists(nil, "namespace", name, opts) end

M.events = {}

function M.events:list(ns, opts) return M.resources:list(ns, "event", opts) end

--- Events about one object (fieldSelector involvedObject.kind/name, encoded).
function M.events:for_resource(ns, kind, name, opts)
  need_string("k8s.events:for_resource", "kind", kind)
  need_string("k8s.events:for_resource", "name", name)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  o.label_selector, o.limit, o.all = nil, nil, nil
  o.field_selector = "involvedObject.kind=" .. kind .. ",involvedObject.name=" .. name
  return M.resources:list(ns, "event", o)
end

-- ------------------------------------------------------------------ legacy flat names

-- Older releases and the original's docs used flat functions; they stay as thin aliases so
-- those scripts run unchanged (kept out of the discovery listing: assignments, not `function`).
local function alias(target, method)
  return function(...) return target[method](target, ...) end
end
M.get_resource, M.list, M.create = alias(M.resources, "get"), alias(M.resources, "list"), alias(M.resources, "create")
M.update, M.patch_resource, M.delete_resource = alias(M.resources, "update"), alias(M.resources, "patch"), alias(M.resources, "delete")
M.exists, M.is_ready, M.wait_ready = alias(M.resources, "exists"), alias(M.resources, "is_ready"), alias(M.resources, "wait_ready")
M.get_secret, M.get_configmap = alias(M.secrets, "get"), alias(M.configmaps, "get")
M.list_pods, M.pod_status, M.logs = alias(M.pods, "list"), alias(M.pods, "status"), alias(M.pods, "logs")
M.list_events, M.events_for = alias(M.events, "list"), alias(M.events, "for_resource")
M.service_endpoints, M.rollout_status = alias(M.services, "endpoints"), alias(M.deployments, "rollout_status")
M.node_status, M.namespace_exists = alias(M.nodes, "status"), alias(M.namespaces, "exists")

return M
