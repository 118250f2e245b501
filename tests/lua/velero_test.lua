-- assay.velero against the in-memory Kubernetes API (fixtures/kube_api.lua): the original's test
-- plan, the fixed bugs (status.progress item counts, paused schedules), 404 policies, waits, bad input.
local dir = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local kube = dofile(dir .. "/fixtures/kube_api.lua")
local api = kube.start({ token = "fake-token" })
local velero = require("assay.velero")

local V = "velero.io/v1"
local B = "/apis/velero.io/v1/namespaces/velero"
local function backup(name, phase, schedule, created, extra)
  local b = { apiVersion = V, kind = "Backup",
    metadata = { name = name, namespace = "velero", creationTimestamp = created or "2026-02-10T02:00:00Z",
                 labels = schedule and { ["velero.io/schedule-name"] = schedule, ["velero.io/storage-location"] = "default" } or nil },
    spec = { storageLocation = "default", includedNamespaces = { "*" }, ttl = "720h0m0s", snapshotVolumes = true },
    status = { phase = phase, startTimestamp = "2026-02-10T02:00:00Z", completionTimestamp = "2026-02-10T02:05:00Z",
               expiration = "2026-03-12T02:00:00Z", formatVersion = "1.1.0", version = 1 } }
  for k, v in pairs(extra or {}) do b.status[k] = v end
  return b
end
api:add_all({
  backup("daily-20260208", "Completed", "daily", "2026-02-08T02:00:00Z"),
  backup("daily-20260210", "Completed", "daily", "2026-02-10T02:00:00Z",
    { warnings = 2, progress = { totalItems = 150, itemsBackedUp = 142 } }),
  backup("daily-20260209", "Completed", "daily", "2026-02-09T02:00:00Z"),
  backup("weekly-20260211", "Completed", "weekly", "2026-02-11T02:00:00Z"),
  backup("failed-backup", "Failed", nil, nil, { errors = 3, failureReason = "timeout" }),
  backup("partial-backup", "PartiallyFailed", nil, nil, { errors = 1 }),
  backup("running-backup", "InProgress"),
  -- an older Velero/fixture shape with top-level counts still reads
  backup("legacy-counts", "Completed", nil, nil, { itemsBackedUp = 10, totalItems = 12 }),
})
local function restore(name, phase, warnings)
  return { apiVersion = V, kind = "Restore", metadata = { name = name, namespace = "velero" },
    spec = { backupName = "daily-20260210", includedNamespaces = { "*" } },
    status = { phase = phase, startTimestamp = "2026-02-10T03:00:00Z", completionTimestamp = "2026-02-10T03:02:00Z",
               warnings = warnings, errors = 0, progress = { totalItems = 10, itemsRestored = 10 } } }
end
api:add_all({ restore("restore-1", "Completed", 3), restore("restore-2", "InProgress") })
local function schedule(name, phase, paused)
  return { apiVersion = V, kind = "Schedule", metadata = { name = name, namespace = "velero" },
    spec = { schedule = "0 2 * * *", paused = paused, template = { ttl = "720h0m0s", includedNamespaces = { "*" } } },
    status = { phase = phase, lastBackup = "2026-02-10T02:00:00Z",
               validationErrors = phase == "FailedValidation" and { "invalid schedule" } or nil } }
end
api:add_all({ schedule("daily", "Enabled"), schedule("weekly", "Enabled"), schedule("broken-schedule", "FailedValidation") })
local function bsl(name, phase)
  return { apiVersion = V, kind = "BackupStorageLocation", metadata = { name = name, namespace = "velero" },
    spec = { provider = "aws", objectStorage = { bucket = "velero-" .. name }, config = { region = "eu-west-1" }, default = name == "default" },
    status = { phase = phase, lastValidationTime = "2026-02-10T02:00:00Z" } }
end
api:add_all({ bsl("default", "Available"), bsl("secondary", "Unavailable") })
api:add({ apiVersion = V, kind = "VolumeSnapshotLocation", metadata = { name = "aws-default", namespace = "velero" },
  spec = { provider = "aws", config = { region = "eu-west-1" } } })
api:add({ apiVersion = V, kind = "BackupRepository", metadata = { name = "default-default-kopia", namespace = "velero" },
  spec = { repositoryType = "kopia", volumeNamespace = "default", backupStorageLocation = "default" }, status = { phase = "Ready" } })
api:add({ apiVersion = V, kind = "Backup", metadata = { name = "custom-backup", namespace = "custom-ns" }, status = { phase = "Completed" } })

-- 1. require
assert.eq(type(velero.client), "function")
local c = velero.client(api.url .. "//", "fake-token")
local function last() return api.requests[#api.requests] end

-- 2/3/4. backups
local bl = c.backups:list()
assert.eq(#bl, 8)
assert.eq(bl[1].metadata.name, "daily-20260208")
assert.eq(last().path, B .. "/backups")
assert.eq(last().headers["authorization"], "Bearer fake-token")
local b = c.backups:get("daily-20260210")
assert.eq(b.spec.storageLocation, "default")
assert.eq(b.status.phase, "Completed")
assert.eq(c.backups:status("daily-20260210"), {
  phase = "Completed", started = "2026-02-10T02:00:00Z", completed = "2026-02-10T02:05:00Z", expiration = "2026-03-12T02:00:00Z",
  errors = 0, warnings = 2, items_backed_up = 142, items_total = 150 })
local legacy = c.backups:status("legacy-counts")
assert.eq(legacy.items_backed_up, 10)
assert.eq(legacy.items_total, 12)

-- 5/6/7/8. completed / failed
assert.is_true(c.backups:is_completed("daily-20260210"))
assert.is_false(c.backups:is_completed("failed-backup"))
assert.is_true(c.backups:is_failed("failed-backup"))
assert.is_true(c.backups:is_failed("partial-backup"))
assert.is_false(c.backups:is_failed("daily-20260210"))

-- 9/10. latest by schedule
assert.eq(c.backups:latest("daily").metadata.name, "daily-20260210")
assert.eq(c.backups:latest("weekly").metadata.name, "weekly-20260211")
assert.eq(c.backups:latest("monthly"), nil)

-- 11/12/13/14. restores
assert.eq(#c.restores:list(), 2)
assert.eq(last().path, B .. "/restores")
assert.eq(c.restores:status("restore-1"), { phase = "Completed", started = "2026-02-10T03:00:00Z",
  completed = "2026-02-10T03:02:00Z", errors = 0, warnings = 3 })
assert.is_true(c.restores:is_completed("restore-1"))
assert.is_false(c.restores:is_completed("restore-2"))
assert.eq(c.restores:get("restore-1").spec.backupName, "daily-20260210")

-- 15/16/17/18. schedules
assert.eq(#c.schedules:list(), 3)
local sst = c.schedules:status("daily")
assert.eq(sst.last_backup, "2026-02-10T02:00:00Z")
assert.eq(#sst.validation_errors, 0)
assert.is_false(sst.paused)
assert.is_true(c.schedules:is_enabled("daily"))
assert.is_false(c.schedules:is_enabled("broken-schedule"))
assert.eq(c.schedules:status("broken-schedule").validation_errors, { "invalid schedule" })

-- 19/20/21. storage locations
local locs = c.storage_locations:list()
assert.eq(locs[1].spec.provider, "aws")
assert.eq(last().path, B .. "/backupstoragelocations")
assert.is_true(c.storage_locations:is_available("default"))
assert.is_false(c.storage_locations:is_available("secondary"))

-- 22/23. aggregates
assert.eq(c.schedules:all_enabled(), { enabled = 2, disabled = 1, total = 3, disabled_names = { "broken-schedule" } })
assert.eq(c.storage_locations:all_available(), { available = 1, unavailable = 1, total = 2, unavailable_names = { "secondary" } })

-- a paused schedule keeps phase Enabled but is not enabled (the original said it was)
api:add(schedule("paused-one", "Enabled", true))
assert.is_false(c.schedules:is_enabled("paused-one"))
assert.is_true(c.schedules:status("paused-one").paused)
assert.eq(c.schedules:all_enabled().disabled_names, { "broken-schedule", "paused-one" })

-- snapshot locations and repositories
assert.eq(c.volume_snapshots:list()[1].spec.provider, "aws")
assert.eq(last().path, B .. "/volumesnapshotlocations")
assert.eq(c.volume_snapshots:get("aws-default").metadata.name, "aws-default")
assert.eq(c.repositories:list()[1].spec.repositoryType, "kopia")
assert.eq(last().path, B .. "/backuprepositories")
assert.eq(c.repositories:get("default-default-kopia").status.phase, "Ready")

-- 24. a custom namespace (also as an options table)
local cc = velero.client(api.url, "fake-token", "custom-ns")
assert.eq(#cc.backups:list(), 1)
assert.eq(last().path, "/apis/velero.io/v1/namespaces/custom-ns/backups")
assert.eq(velero.client(api.url, "fake-token", { namespace = "custom-ns", timeout = 5 }).backups:get("custom-backup").status.phase, "Completed")

-- 404: get nil, checks false, lists {} , status raises "not found"
assert.eq(c.backups:get("ghost"), nil)
assert.is_false(c.backups:is_completed("ghost"))
assert.is_false(c.schedules:is_enabled("ghost"))
local e = assert.error(function() c.backups:status("ghost") end)
assert.contains(e, "velero: backup ghost not found")
e = assert.error(function() c.restores:status("ghost") end)
assert.contains(e, "velero: restore ghost not found")
e = assert.error(function() c.schedules:status("ghost") end)
assert.contains(e, "velero: schedule ghost not found")
local fresh = kube.start({ token = "fake-token" })
assert.eq(velero.client(fresh.url, "fake-token").backups:list(), {})
api:fail("GET", B .. "/backups/daily-20260210", { status = 500, body = "boom" })
e = assert.error(function() c.backups:get("daily-20260210") end)
assert.contains(e, "velero: GET " .. B .. "/backups/daily-20260210 HTTP 500: boom")

-- wait: Completed → status; failure phases raise; timeout
assert.eq(c.backups:wait("daily-20260210", 5).phase, "Completed")
async.spawn(function() sleep(0.2); api:add(backup("running-backup", "Completed")) end)
assert.eq(c.backups:wait("running-backup", 5, { interval = 0.1 }).phase, "Completed")
e = assert.error(function() c.backups:wait("partial-backup", 5, { interval = 0.1 }) end)
assert.contains(e, "velero: backup partial-backup PartiallyFailed (1 errors, 0 warnings)")
local t0 = os.monotonic()
e = assert.error(function() c.restores:wait("restore-2", 0.3, { interval = 0.1 }) end)
assert.contains(e, "velero: restore restore-2 not completed after 0.3s")
assert.lt(os.monotonic() - t0, 3)

-- bad input names the function
e = assert.error(function() c.backups:get(nil) end)
assert.contains(e, "velero.backups:get: name must be a non-empty string, got nil")
e = assert.error(function() c.backups:status(12) end)
assert.contains(e, "velero.backups:status: name must be a non-empty string, got number")
e = assert.error(function() c.backups:latest(nil) end)
assert.contains(e, "velero.backups:latest: schedule_name must be a non-empty string, got nil")
e = assert.error(function() c.storage_locations:is_available({}) end)
assert.contains(e, "velero.storage_locations:is_available: name must be a non-empty string, got table")
e = assert.error(function() c.backups:wait("x", "soon") end)
assert.contains(e, "velero.backups:wait: timeout_secs must be a number, got string")
e = assert.error(function() velero.client(api.url, "t", 5) end)
assert.contains(e, "velero.client: namespace must be a non-empty string, got number")

print("velero ok")
http.stop()
