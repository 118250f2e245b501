--- @module assay.traefik
--- @description Traefik reverse proxy API client: overview, version, entrypoints, HTTP routers, services and middlewares, TCP routers and services, router TLS and health checks.
--- @keywords traefik, reverse proxy, proxy, ingress, edge, router, routers, services, middlewares, entrypoints, load balancer, tls, certresolver, tcp, dashboard api
--- @quickref c = traefik.client(url, {username, password | token}) -> client
--- @quickref c.info:overview() ; c.info:version() ; c.info:rawdata() ; c.entrypoints:list() ; c.entrypoints:get(name)
--- @quickref c.routers:list() ; c.routers:get("app@docker") ; c.routers:is_enabled(name) ; c.routers:has_tls(name) ; c.routers:healthy() -> enabled, errored
--- @quickref c.services:list() ; c.services:get(name) ; c.services:server_count(name) ; c.middlewares:list/get ; c.tcp:routers() ; c.tcp:services()
--- @example local t = require("assay.traefik").client("http://traefik:8080"); assert(t.routers:is_enabled("web@docker"))
--
-- Built on assay.rest. Lists follow Traefik's X-Next-Page header, so every item comes back.
-- See docs/modules/traefik.md.
local rest = require("assay.rest")

local M = {}

local type, ipairs, tonumber, error = type, ipairs, tonumber, error

function M.client(url, opts)
  opts = rest.need_table("traefik.client", "opts", opts) or {}
  local api = rest.client_from_opts("traefik", url, opts,
                                    { auth = rest.bearer_or_basic(opts.token, opts.username, opts.password) })

  local function get(path) return (api:get(path)) end

  -- every page of a list (Traefik pages with ?page=N&per_page=M and names the next page in
  -- X-Next-Page; the last page has none)
  local function list(path)
    local all, page = {}, 1
    for _ = 1, 10000 do
      local items, resp = api:get(path, { query = { { "page", page }, { "per_page", 100 } } })
      for _, item in ipairs(type(items) == "table" and items or {}) do all[#all + 1] = item end
      local nxt = tonumber(resp.headers and resp.headers["x-next-page"] or "")
      if nxt == nil or nxt <= page then break end
      page = nxt
    end
    return all
  end

  local function named(fn, base, name)
    rest.need_string(fn, "name", name)
    return get(base .. "/" .. rest.segment(name))
  end

  local c = { info = {}, entrypoints = {}, routers = {}, services = {}, middlewares = {}, tcp = {} }

  function c.info:overview() return get("/api/overview") end
  function c.info:version() return get("/api/version") end
  function c.info:rawdata() return get("/api/rawdata") end

  function c.entrypoints:list() return list("/api/entrypoints") end
  function c.entrypoints:get(name) return named("traefik.entrypoints:get", "/api/entrypoints", name) end

  function c.routers:list() return list("/api/http/routers") end
  function c.routers:get(name) return named("traefik.routers:get", "/api/http/routers", name) end
  function c.routers:is_enabled(name) return named("traefik.routers:is_enabled", "/api/http/routers", name).status == "enabled" end
  function c.routers:has_tls(name) return named("traefik.routers:has_tls", "/api/http/routers", name).tls ~= nil end
  --- Two counts: routers with status "enabled", and all the others (disabled, warning, …).
  function c.routers:healthy()
    local enabled, other = 0, 0
    for _, r in ipairs(c.routers:list()) do
      if r.status == "enabled" then enabled = enabled + 1 else other = other + 1 end
    end
    return enabled, other
  end

  function c.services:list() return list("/api/http/services") end
  function c.services:get(name) return named("traefik.services:get", "/api/http/services", name) end
  function c.services:server_count(name)
    local s = named("traefik.services:server_count", "/api/http/services", name)
    local lb = type(s) == "table" and s.loadBalancer
    return type(lb) == "table" and type(lb.servers) == "table" and #lb.servers or 0
  end

  function c.middlewares:list() return list("/api/http/middlewares") end
  function c.middlewares:get(name) return named("traefik.middlewares:get", "/api/http/middlewares", name) end

  function c.tcp:routers() return list("/api/tcp/routers") end
  function c.tcp:services() return list("/api/tcp/services") end
  function c.tcp:middlewares() return list("/api/tcp/middlewares") end

  return c
end

return M
