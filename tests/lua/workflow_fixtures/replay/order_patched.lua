-- Order changed safely: new runs audit first, runs recorded before the change keep the old path.
local wf = require("assay.workflow")
wf.connect(os.getenv("ENGINE_URL"))
wf.activity("charge", function(_, i) return { charged = i.amount } end)
wf.activity("audit", function(_, i) return { audited = i.amount } end)
wf.define("Order", function(ctx, input)
  local audited = false
  if ctx:patched("add-audit") then
    audited = ctx:execute_activity("audit", input).audited == input.amount
  end
  local c = ctx:execute_activity("charge", input)
  if input.wait then ctx:wait_for_signal("ship") end
  return { charged = c.charged, audited = audited }
end)
wf.listen({ queue = os.getenv("WF_QUEUE") })
