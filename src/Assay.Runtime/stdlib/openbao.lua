--- @module assay.openbao
--- @description OpenBao, the open-source API-compatible fork of Vault: the same client as assay.vault, under its own name.
--- @keywords openbao, bao, open source vault, vault fork, linux foundation
--- @quickref openbao = require("assay.openbao") -- the very table require("assay.vault") returns; every function is vault's
--- @example local bao = require("assay.openbao"); local c = bao.client("http://openbao:8200", env.get("BAO_TOKEN")); print(c.kv:get("secret", "app/db").data.password)
--
-- OpenBao speaks Vault's HTTP API (/v1/..., X-Vault-Token), so this module is assay.vault itself
-- (identity, not a copy). See docs/modules/openbao.md and docs/modules/vault.md.
return require("assay.vault")
