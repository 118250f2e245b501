-- Order once no run from before the patch is left: always audit, keep the marker's runs valid.
local wf = require("assay.workflow")
wf.connect(os.getenv("ENGINE_URL"))
wf.activity("charge", function(_, i) return { charged = i.amount } end)
wf.activity("audit", function(_, i) return { audited = i.amount } end)
wf.define("Order", function(ctx, input)
  ctx:deprecate_patch("add-audit")
  local audited = ctx:execute_activity("audit", input).audited == input.amount -- DEPRECATED-BRANCH
  local c = ctx:execute_activity("charge", input)
  if input.wait then ctx:wait_for_signal("ship") end
  return { charged = c.charged, audited = audited }
end)
wf.listen({ queue = os.getenv("WF_QUEUE") })
