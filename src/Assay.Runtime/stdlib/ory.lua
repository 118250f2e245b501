--- @module assay.ory
--- @description The Ory stack in one require: the kratos, hydra, keto and rbac modules, plus connect() building their clients from one table of URLs.
--- @keywords ory, ory stack, kratos, hydra, keto, rbac, connect
--- @quickref ory.kratos, ory.hydra, ory.keto, ory.rbac -> the assay.ory.* modules
--- @quickref ory.connect({kratos_public, kratos_admin, hydra_public, hydra_admin, keto_read, keto_write}) -> {kratos?, hydra?, keto?}
--- @example local o = require("assay.ory").connect({kratos_public = "http://kratos:4433", keto_read = "http://keto:4466"}); local s = o.kratos.sessions:whoami(cookie); print(o.keto.permissions:check("App", "cc", "view", "user:" .. s.identity.id))
--
-- See docs/modules/ory.md.
local rest = require("assay.rest")

local M = {
  kratos = require("assay.ory.kratos"),
  hydra = require("assay.ory.hydra"),
  keto = require("assay.ory.keto"),
  rbac = require("assay.ory.rbac"),
}

--- Clients for the services whose URLs are given (no I/O): kratos when kratos_public or
--- kratos_admin is set, hydra likewise, keto when keto_read is set. Services without URLs are absent.
function M.connect(opts)
  opts = rest.need_table("ory.connect", "opts", opts) or {}
  local out = {}
  if opts.kratos_public or opts.kratos_admin then
    out.kratos = M.kratos.client({ public_url = opts.kratos_public, admin_url = opts.kratos_admin })
  end
  if opts.hydra_public or opts.hydra_admin then
    out.hydra = M.hydra.client({ public_url = opts.hydra_public, admin_url = opts.hydra_admin })
  end
  if opts.keto_read then
    out.keto = M.keto.client(opts.keto_read, { write_url = opts.keto_write })
  elseif opts.keto_write then
    -- as in the original: no keto client without the read API (it serves checks and listings)
    log.warn("ory.connect: keto_write without keto_read: no keto client built")
  end
  return out
end

return M
