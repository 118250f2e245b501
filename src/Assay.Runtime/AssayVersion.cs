using System.Reflection;

namespace Assay.Runtime;

/// <summary>
/// Assay's own version, read once from the assembly when first asked for (never at start-up):
/// `assay --version`, `os.assay_version()` and the HTTP client's User-Agent.
/// </summary>
public static class AssayVersion
{
    /// <summary>"0.1.0+&lt;commit&gt;" as the build stamped it.</summary>
    public static readonly string Informational =
        typeof(AssayVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    /// <summary>"0.1.0".</summary>
    public static readonly string Number = Informational.Split('+')[0];

    /// <summary>Sent unless a script sets its own: servers such as GitHub's API refuse requests without one.</summary>
    public static readonly string UserAgent = "assay/" + Number;
}
