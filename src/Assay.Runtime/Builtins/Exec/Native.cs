using System.Runtime.InteropServices;

namespace Assay.Runtime.Builtins.Exec;

/// <summary>The few libc calls .NET does not expose: kill(2) with any signal and statvfs(3).</summary>
static unsafe partial class Native
{
    public const int ESRCH = 3;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SysKill(int pid, int sig);

    /// <summary>Sends a signal; returns 0 or the errno.</summary>
    public static int Kill(int pid, int signal) => SysKill(pid, signal) == 0 ? 0 : Marshal.GetLastPInvokeError();

    /// <summary>glibc's struct statvfs on 64-bit Linux.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct StatVfs
    {
        public ulong BlockSize, FragmentSize, Blocks, BlocksFree, BlocksAvailable, Files, FilesFree, FilesAvailable, FsId, Flags, NameMax;
        public fixed int Spare[6];
    }

    [LibraryImport("libc", EntryPoint = "statvfs", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SysStatVfs(string path, StatVfs* buf);

    public static int StatFs(string path, out StatVfs result)
    {
        StatVfs s;
        int rc = SysStatVfs(path, &s);
        result = s;
        return rc == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    public static string ErrorText(int errno) => Marshal.GetPInvokeErrorMessage(errno);
}
