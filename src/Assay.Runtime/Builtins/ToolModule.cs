namespace Assay.Runtime.Builtins;

/// <summary>
/// <c>tool.approve</c> gates and <c>tool.is_tool_mode</c> (prelude/tool.lua); see `assay run --mode tool`.
/// A gate nobody has answered yet halts the run when the host can ask a person
/// (<see cref="AssayRuntime.ApprovalGatesHalt"/>): the request is stored on the runtime and the VM
/// is interrupted — the path --timeout uses, which re-raises at every instruction, so a pcall
/// around the gate cannot catch it and the script cannot go on past it.
/// </summary>
public static class ToolModule
{
    /// <summary>The interrupt reason of a halted gate (the host reads <see cref="AssayRuntime.PendingApproval"/>).</summary>
    public const string HaltReason = "halted at an approval gate";

    public static void Register(AssayRuntime rt) => rt.RunPrelude("tool", L =>
    {
        L.NewTable();
        // halt(prompt, context_json) -> true when the run is halting, false when this host cannot ask
        rt.Vm.SetFunction(L, -1, "tool.approve", "halt", call =>
        {
            var prompt = call.CheckString(1);
            var context = call.CheckString(2);
            if (!rt.ApprovalGatesHalt)
            {
                call.L.PushBoolean(false);
                return 1;
            }
            rt.PendingApproval ??= new ApprovalRequest(prompt, context);
            call.Vm.Interrupt(HaltReason);
            call.L.PushBoolean(true);
            return 1;
        });
        return 1;
    });
}
