-- Order changed WITHOUT versioning: an audit step inserted before the charge breaks running histories.
local wf = require("assay.workflow")
wf.connect(os.getenv("ENGINE_URL"))
wf.activity("charge", function(_, i) return { charged = i.amount } end)
wf.activity("audit", function(_, i) return { audited = i.amount } end)
wf.define("Order", function(ctx, input)
  ctx:execute_activity("audit", input) -- UNVERSIONED
  local c = ctx:execute_activity("charge", input)
  if input.wait then ctx:wait_for_signal("ship") end
  return { charged = c.charged }
end)
wf.listen({ queue = os.getenv("WF_QUEUE") })
