--- @module assay.velero
--- @description Velero backup and restore on Kubernetes: backups, restores, schedules, backup storage locations, volume snapshot locations and repositories; completion, failure and progress, the latest backup of a schedule, wait for a backup or restore to finish.
--- @keywords velero, backup, backups, restore, restores, disaster recovery, dr, schedule, snapshot, volume snapshot, backup storage location, bsl, repository, kopia, restic, object storage, s3, kubernetes, crd, retention
--- @example local velero = require("assay.velero"); local c = velero.client(); local b = c.backups:latest("daily"); print(b and c.backups:status(b.metadata.name).phase)
--- @quickref c = velero.client(url?, token?, namespace?) -> client (namespace "velero"; url/token nil: kubeconfig or in-cluster)
--- @quickref c.backups:list() -> [backup] / :get(name) (nil on 404) / :status(name) -> {phase, started, completed, expiration, errors, warnings, items_backed_up, items_total} / :is_completed(name) / :is_failed(name) / :latest(schedule) / :wait(name, timeout_secs?)
--- @quickref c.restores:list() / :get(name) / :status(name) -> {phase, started, completed, errors, warnings} / :is_completed(name) / :wait(name, timeout_secs?)
--- @quickref c.schedules:list() / :get(name) / :status(name) -> {phase, paused, last_backup, validation_errors} / :is_enabled(name) / :all_enabled() -> {enabled, disabled, total, disabled_names}
--- @quickref c.storage_locations:list() / :get(name) / :is_available(name) / :all_available() -> {available, unavailable, total, unavailable_names}; c.volume_snapshots:list() / :get(name); c.repositories:list() / :get(name)
--
-- Velero's CRDs (velero.io/v1, in Velero's namespace) on the Kubernetes access layer of
-- assay.k8s. Lists return arrays ({} on 404); gets answer nil on 404. See docs/modules/velero.md.
local k8s = require("assay.k8s")
local rest = require("assay.rest")

local M = {}

local check = k8s.check_string

local function status_of(obj) return type(obj) == "table" and type(obj.status) == "table" and obj.status or {} end
local function phase(obj) return status_of(obj).phase end
-- A schedule paused with spec.paused keeps phase "Enabled" but takes no backups.
local function enabled(s)
  return phase(s) == "Enabled" and not (type(s.spec) == "table" and s.spec.paused == true)
end

--- Creates a client. url: the Kubernetes API (nil: kubeconfig or in-cluster); token: bearer token
--- (nil: the service account's); namespace: Velero's namespace ("velero") — or a table of options
--- {namespace, timeout, ca_cert, …}.
function M.client(url, token, namespace)
  local opts = {}
  if type(namespace) == "table" then
    for k, v in pairs(namespace) do opts[k] = v end
    namespace = opts.namespace
    opts.namespace = nil
  end
  if namespace ~= nil and (type(namespace) ~= "string" or namespace == "") then
    error("velero.client: namespace must be a non-empty string, got " .. (namespace == "" and "an empty string" or type(namespace)), 2)
  end
  local ns = namespace or "velero"
  local conn = k8s.operator_connection("velero", url, token, opts)
  local c = { connection = conn, namespace = ns }
  local res = {}
  for key, plural in pairs({ backups = "backups", restores = "restores", schedules = "schedules",
                             storage_locations = "backupstoragelocations", volume_snapshots = "volumesnapshotlocations",
                             repositories = "backuprepositories" }) do
    local r = conn:resource({ group = "velero.io", version = "v1", plural = plural, list_not_found = "empty", name = "velero." .. key })
    res[key] = r
    c[key] = {
      list = function() return r:list(ns).items or {} end,
      get = function(_, name) return r:get(ns, name) end,
    }
  end

  -- sub:<method>(name) → pred(object), false when the object does not exist
  local function check_fn(key, method, pred)
    local fn = "velero." .. key .. ":" .. method
    c[key][method] = function(_, name)
      check(fn, "name", name)
      local obj = res[key]:get(ns, name)
      return obj ~= nil and pred(obj)
    end
  end
  -- the object, or an error "velero: <what> <name> not found"
  local function must_get(key, what, name)
    check("velero." .. key .. ":status", "name", name)
    local obj = res[key]:get(ns, name)
    if obj == nil then error("velero: " .. what .. " " .. name .. " not found", 3) end
    return status_of(obj), obj
  end

  c.backups.status = function(_, name)
    local st = must_get("backups", "backup", name)
    -- Velero reports item counts under status.progress (the original read top-level fields)
    local progress = type(st.progress) == "table" and st.progress or {}
    return {
      phase = st.phase, started = st.startTimestamp, completed = st.completionTimestamp, expiration = st.expiration,
      errors = st.errors or 0, warnings = st.warnings or 0,
      items_backed_up = progress.itemsBackedUp or st.itemsBackedUp or 0,
      items_total = progress.totalItems or st.totalItems or 0,
    }
  end
  check_fn("backups", "is_completed", function(b) return phase(b) == "Completed" end)
  check_fn("backups", "is_failed", function(b) return phase(b) == "Failed" or phase(b) == "PartiallyFailed" end)

  --- The newest backup (metadata.creationTimestamp) labelled velero.io/schedule-name=<schedule>, or nil.
  c.backups.latest = function(_, schedule)
    check("velero.backups:latest", "schedule_name", schedule)
    local list = res.backups:list(ns, { label_selector = "velero.io/schedule-name=" .. schedule }).items or {}
    local best
    for _, b in ipairs(list) do
      local labels = type(b.metadata) == "table" and b.metadata.labels or {}
      if labels["velero.io/schedule-name"] == schedule then
        -- RFC 3339 UTC timestamps of one format order as strings
        if best == nil or (b.metadata.creationTimestamp or "") > (best.metadata.creationTimestamp or "") then best = b end
      end
    end
    return best
  end

  c.restores.status = function(_, name)
    local st = must_get("restores", "restore", name)
    return { phase = st.phase, started = st.startTimestamp, completed = st.completionTimestamp,
             errors = st.errors or 0, warnings = st.warnings or 0 }
  end
  check_fn("restores", "is_completed", function(r) return phase(r) == "Completed" end)

  -- Waits for a backup/restore to leave its running phases: Completed → the status table;
  -- Failed, PartiallyFailed, FailedValidation raise "velero: <what> <name> <phase>".
  local FAILED = { Failed = true, PartiallyFailed = true, FailedValidation = true }
  local function waiter(key, what)
    local fn = "velero." .. key .. ":wait"
    return function(_, name, timeout_secs, wopts)
      check(fn, "name", name)
      timeout_secs = rest.need_timeout(fn, timeout_secs, 3600)
      local final
      rest.wait_until(function()
        local st = c[key]:status(name)
        if st.phase == "Completed" then final = st return true end
        if FAILED[st.phase] then
          error("velero: " .. what .. " " .. name .. " " .. st.phase .. " (" .. st.errors .. " errors, " .. st.warnings .. " warnings)", 0)
        end
        return false
      end, { timeout = timeout_secs, interval = wopts and wopts.interval or 5,
             message = "velero: " .. what .. " " .. name .. " not completed after " .. timeout_secs .. "s" })
      return final
    end
  end
  c.backups.wait = waiter("backups", "backup")
  c.restores.wait = waiter("restores", "restore")

  c.schedules.status = function(_, name)
    local st, s = must_get("schedules", "schedule", name)
    return { phase = st.phase, paused = type(s.spec) == "table" and s.spec.paused == true or false,
             last_backup = st.lastBackup, validation_errors = st.validationErrors or {} }
  end
  check_fn("schedules", "is_enabled", enabled)
  c.schedules.all_enabled = function()
    return k8s.tally(c.schedules:list(), enabled, { "enabled", "disabled", "disabled_names" })
  end

  local function available(l) return phase(l) == "Available" end
  check_fn("storage_locations", "is_available", available)
  c.storage_locations.all_available = function()
    return k8s.tally(c.storage_locations:list(), available, { "available", "unavailable", "unavailable_names" })
  end

  return c
end

return M
