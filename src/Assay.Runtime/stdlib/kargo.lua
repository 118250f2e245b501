--- @module assay.kargo
--- @description Kargo continuous promotion on Kubernetes: stages and their health, freight, warehouses, projects, promotions — promote freight to a stage, wait for a stage to be healthy or a promotion to finish, pipeline overview.
--- @keywords kargo, akuity, promotion, promote, continuous promotion, continuous delivery, gitops, stage, stages, freight, warehouse, project, pipeline, environment, rollout, release, kubernetes, crd, healthy
--- @example local kargo = require("assay.kargo"); local c = kargo.client(); local p = c.promotions:create("shop", "prod", "freight-abc123"); c.promotions:wait("shop", p.metadata.name, 600)
--- @quickref c = kargo.client(url?, token?, opts?) -> client (Kubernetes API; url/token nil: kubeconfig or in-cluster)
--- @quickref c.stages:list(ns) -> [stage] / :get(ns, name) (nil on 404) / :status(ns, name) -> {phase, current_freight_id, health, conditions} / :is_healthy(ns, name) / :wait_healthy(ns, name, timeout_secs?) / :pipeline_status(ns) -> [{name, phase, freight, healthy}]
--- @quickref c.freight:list(ns, {stage, warehouse}?) / :get(ns, name) / :status(ns, name); c.warehouses:list(ns) / :get(ns, name); c.projects:list() / :get(name)
--- @quickref c.promotions:list(ns, {stage}?) / :get(ns, name) / :status(ns, name) -> {phase, message, freight_id} / :create(ns, stage, freight) / :wait(ns, name, timeout_secs?)
--
-- Kargo objects (kargo.akuity.io/v1alpha1) on the Kubernetes access layer of assay.k8s. Lists
-- return arrays of items; gets answer nil on 404. See docs/modules/kargo.md.
local k8s = require("assay.k8s")
local rest = require("assay.rest")

local M = {}

local check = k8s.check_string
local GROUP, VERSION = "kargo.akuity.io", "v1alpha1"

local function status_of(obj) return type(obj) == "table" and type(obj.status) == "table" and obj.status or {} end

-- Healthy: phase "Steady" (older Kargo), else status.health.status "Healthy" (Kargo 1.x), else the
-- last "Healthy" condition (Kargo appends; the newest entry decides).
local function healthy(stage)
  local st = status_of(stage)
  if st.phase == "Steady" then return true end
  if type(st.health) == "table" and st.health.status == "Healthy" then return true end
  local conds = type(st.conditions) == "table" and st.conditions or {}
  for i = #conds, 1, -1 do
    if type(conds[i]) == "table" and conds[i].type == "Healthy" then return conds[i].status == "True" end
  end
  return false
end

-- The stage's current freight: currentFreight.name, currentFreightId, or (Kargo 1.x) the first
-- item of the newest freightHistory entry.
local function current_freight(st)
  if type(st.currentFreight) == "table" and st.currentFreight.name then return st.currentFreight.name end
  if st.currentFreightId then return st.currentFreightId end
  local hist = type(st.freightHistory) == "table" and st.freightHistory[1]
  if type(hist) == "table" and type(hist.items) == "table" then
    local origins = {}
    for origin in pairs(hist.items) do origins[#origins + 1] = origin end
    table.sort(origins)
    local first = hist.items[origins[1]]
    if type(first) == "table" then return first.name end
  end
  return nil
end

--- Creates a client. url: the Kubernetes API (nil: kubeconfig or in-cluster); token: bearer token
--- (nil: the service account's); opts: k8s.connect options.
function M.client(url, token, opts)
  local conn = k8s.operator_connection("kargo", url, token, opts)
  local function resource(label, plural, namespaced)
    return conn:resource({ group = GROUP, version = VERSION, plural = plural, namespaced = namespaced, name = "kargo." .. label })
  end
  local stages, freight = resource("stages", "stages", true), resource("freight", "freight", true)
  local promotions, warehouses = resource("promotions", "promotions", true), resource("warehouses", "warehouses", true)
  local projects = resource("projects", "projects", false)

  -- namespaced list → array of items
  local function items(res, fn, ns, opts2)
    check(fn, "namespace", ns)
    return res:list(ns, opts2).items or {}
  end

  local c = { connection = conn }
  c.stages = {
    list = function(_, ns) return items(stages, "kargo.stages:list", ns) end,
    get = function(_, ns, name) return stages:get(ns, name) end,
  }
  c.freight = { get = function(_, ns, name) return freight:get(ns, name) end }
  c.promotions = { get = function(_, ns, name) return promotions:get(ns, name) end }
  c.warehouses = {
    list = function(_, ns) return items(warehouses, "kargo.warehouses:list", ns) end,
    get = function(_, ns, name) return warehouses:get(ns, name) end,
  }
  c.projects = {
    list = function() return projects:list().items or {} end,
    get = function(_, name) return projects:get(name) end,
  }

  c.stages.status = function(_, ns, name)
    local st = status_of(stages:must_get("kargo.stages:status", "stage", ns, name))
    return { phase = st.phase, current_freight_id = current_freight(st), health = st.health, conditions = st.conditions or {} }
  end

  c.stages.is_healthy = function(_, ns, name)
    check("kargo.stages:is_healthy", "namespace", ns)
    check("kargo.stages:is_healthy", "name", name)
    return healthy(stages:get(ns, name))
  end

  --- Polls is_healthy every wopts.interval (5) seconds; errors while polling count as not healthy.
  c.stages.wait_healthy = function(_, ns, name, timeout_secs, wopts)
    check("kargo.stages:wait_healthy", "namespace", ns)
    check("kargo.stages:wait_healthy", "name", name)
    timeout_secs = rest.need_timeout("kargo.stages:wait_healthy", timeout_secs, 60)
    return rest.wait_until(function() return healthy(stages:get(ns, name)) end, {
      timeout = timeout_secs, interval = wopts and wopts.interval or 5, swallow_errors = true,
      message = "kargo: stage " .. ns .. "/" .. name .. " not healthy after " .. timeout_secs .. "s",
    })
  end

  c.stages.pipeline_status = function(_, ns)
    local out = {}
    for _, s in ipairs(items(stages, "kargo.stages:pipeline_status", ns)) do
      local st = status_of(s)
      out[#out + 1] = { name = s.metadata and s.metadata.name, phase = st.phase, freight = current_freight(st), healthy = healthy(s) }
    end
    return out
  end

  -- "k=v" terms of a label selector, one selector for all of them (the original sent two
  -- labelSelector parameters, of which the API server uses one)
  local function selector(fn, opts2, keys)
    if opts2 ~= nil and type(opts2) ~= "table" then error(fn .. ": opts must be a table, got " .. type(opts2), 3) end
    local terms = {}
    for _, k in ipairs(keys) do
      local v = opts2 and opts2[k]
      if v ~= nil then
        if type(v) ~= "string" then error(fn .. ": opts." .. k .. " must be a string, got " .. type(v), 3) end
        terms[#terms + 1] = "kargo.akuity.io/" .. k .. "=" .. v
      end
    end
    return #terms > 0 and table.concat(terms, ",") or nil
  end

  c.freight.list = function(_, ns, opts2)
    local sel = selector("kargo.freight:list", opts2, { "stage", "warehouse" })
    return items(freight, "kargo.freight:list", ns, { label_selector = sel })
  end

  c.freight.status = function(_, ns, name)
    return status_of(freight:must_get("kargo.freight:status", "freight", ns, name))
  end

  c.promotions.list = function(_, ns, opts2)
    local sel = selector("kargo.promotions:list", opts2, { "stage" })
    return items(promotions, "kargo.promotions:list", ns, { label_selector = sel })
  end

  c.promotions.status = function(_, ns, name)
    local st = status_of(promotions:must_get("kargo.promotions:status", "promotion", ns, name))
    return { phase = st.phase, message = st.message, freight_id = type(st.freight) == "table" and st.freight.name or st.freightId }
  end

  --- Creates a Promotion of `freight` to `stage` (generateName "<stage>-"); the created object.
  c.promotions.create = function(_, ns, stage, freight_name)
    check("kargo.promotions:create", "namespace", ns)
    check("kargo.promotions:create", "stage", stage)
    check("kargo.promotions:create", "freight", freight_name)
    return (conn:post(promotions:path(ns), {
      apiVersion = GROUP .. "/" .. VERSION, kind = "Promotion",
      metadata = { namespace = ns, generateName = stage .. "-" },
      spec = { stage = stage, freight = freight_name },
    }))
  end

  --- Waits until the promotion's phase is Succeeded (→ the status table) — Failed, Errored or
  --- Aborted raise "kargo: promotion <ns>/<name> <phase>: <message>".
  c.promotions.wait = function(_, ns, name, timeout_secs, wopts)
    check("kargo.promotions:wait", "namespace", ns)
    check("kargo.promotions:wait", "name", name)
    timeout_secs = rest.need_timeout("kargo.promotions:wait", timeout_secs, 300)
    local final
    rest.wait_until(function()
      local st = c.promotions:status(ns, name)
      if st.phase == "Succeeded" then final = st return true end
      if st.phase == "Failed" or st.phase == "Errored" or st.phase == "Aborted" then
        error("kargo: promotion " .. ns .. "/" .. name .. " " .. st.phase .. ": " .. tostring(st.message or ""), 0)
      end
      return false
    end, {
      timeout = timeout_secs, interval = wopts and wopts.interval or 5,
      message = "kargo: promotion " .. ns .. "/" .. name .. " not finished after " .. timeout_secs .. "s",
    })
    return final
  end

  return c
end

return M
