namespace Assay.Lua.Interop;

/// <summary>What stat(2) says a path is, symlinks followed (.NET reports devices, FIFOs and sockets as files).</summary>
public enum FileKind { Missing = 0, Regular = 1, Directory = 2, Special = 3 }

/// <summary>File questions only the C helper can answer; the one public door to it for other assemblies.</summary>
public static class NativeFiles
{
    public static FileKind KindOf(string path) => (FileKind)LuaNative.assay_file_kind(path);
}
