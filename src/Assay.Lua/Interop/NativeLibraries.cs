using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Assay.Lua.Interop;

/// <summary>
/// JIT runs (tests, <c>dotnet run</c>) load Lua dynamically: "lua54" is mapped to Debian's
/// liblua5.4, the library our C helper links too, so there is only ever one Lua in the process,
/// and "assay_native" to the helper built beside the assembly. NativeAOT links Lua statically
/// (DirectPInvoke) and never consults this resolver, so the NativeAOT build skips registering it:
/// the reflection behind SetDllImportResolver cost ~1 ms of every cold start. The build tells us
/// through an ILC feature switch (see Assay.Cli.csproj), because a project with PublishAot reports
/// no dynamic code support even when it runs on the JIT.
/// </summary>
public static class NativeLibraries
{
    const string SystemLua = "liblua5.4.so.0";
    const string StaticallyLinkedSwitch = "Assay.NativeLibrariesLinkedStatically";
    static int _installed;

    [FeatureSwitchDefinition(StaticallyLinkedSwitch)]
    static bool LinkedStatically => AppContext.TryGetSwitch(StaticallyLinkedSwitch, out var on) && on;

    /// <summary>Runs before any other code of this assembly, so no P/Invoke resolves without us.</summary>
#pragma warning disable CA2255 // deliberate: the resolver must exist before the first P/Invoke
    [System.Runtime.CompilerServices.ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialize() => EnsureResolver();

    public static void EnsureResolver()
    {
        if (LinkedStatically || Interlocked.Exchange(ref _installed, 1) == 1) return;
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(NativeLibraries).Assembly, Resolve);
        }
        catch (InvalidOperationException)
        {
            // A resolver is already set for this assembly (e.g. by a host); keep theirs.
        }
    }

    static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name == "lua54") return NativeLibrary.Load(SystemLua);
        if (name == "assay_native")
        {
            var local = Path.Combine(AppContext.BaseDirectory, "libassay_native.so");
            if (File.Exists(local)) return NativeLibrary.Load(local);
        }
        return IntPtr.Zero;
    }
}
