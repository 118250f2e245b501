using System.Runtime.InteropServices;

namespace Assay.Runtime.Builtins.Exec;

/// <summary>
/// posix_spawn(3) with <c>POSIX_SPAWN_SETPGROUP</c>: every child of <c>shell.exec</c> and
/// <c>process.run</c> leads its own process group, so one <c>kill(-pgid)</c> reaches the child
/// and every descendant still in the group (background jobs whose parent already exited
/// included) — no scan of /proc. .NET's Process cannot set the group, hence libc directly
/// (LibraryImport: AOT-safe, no runtime marshalling code). argv goes to execve as given; no
/// shell is involved unless the caller runs one (shell.exec).
/// </summary>
static unsafe partial class PosixSpawn
{
    const short SetPgroup = 0x02, SetSigDef = 0x04, SetSigMask = 0x08; // glibc's POSIX_SPAWN_* flags
    const int OCloexec = 0x80000, WNoHang = 1, EIntr = 4;
    // glibc: posix_spawn_file_actions_t is 80 bytes, posix_spawnattr_t 336, sigset_t 128 — opaque
    // structures the init functions fill; a larger zeroed block is always enough.
    const int OpaqueSize = 1024;

    [LibraryImport("libc", EntryPoint = "posix_spawn")]
    private static partial int SysSpawn(out int pid, byte* path, void* actions, void* attr, byte** argv, byte** envp);
    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_init")]
    private static partial int ActionsInit(void* actions);
    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_destroy")]
    private static partial int ActionsDestroy(void* actions);
    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_adddup2")]
    private static partial int ActionsDup2(void* actions, int fd, int newFd);
    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_addchdir_np")]
    private static partial int ActionsChdir(void* actions, byte* path);
    [LibraryImport("libc", EntryPoint = "posix_spawnattr_init")]
    private static partial int AttrInit(void* attr);
    [LibraryImport("libc", EntryPoint = "posix_spawnattr_destroy")]
    private static partial int AttrDestroy(void* attr);
    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setflags")]
    private static partial int AttrFlags(void* attr, short flags);
    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setpgroup")]
    private static partial int AttrPgroup(void* attr, int pgroup);
    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigmask")]
    private static partial int AttrSigMask(void* attr, void* set);
    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigdefault")]
    private static partial int AttrSigDefault(void* attr, void* set);
    [LibraryImport("libc", EntryPoint = "sigemptyset")]
    private static partial int SigEmpty(void* set);
    [LibraryImport("libc", EntryPoint = "sigfillset")]
    private static partial int SigFill(void* set);
    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    private static partial int SysPipe2(int* fds, int flags);
    [LibraryImport("libc", EntryPoint = "close")]
    public static partial int Close(int fd);
    [LibraryImport("libc", EntryPoint = "waitpid", SetLastError = true)]
    private static partial int SysWaitPid(int pid, int* status, int options);

    /// <summary>A pipe whose both ends close on exec (the child gets its end through dup2).</summary>
    public static (int Read, int Write) Pipe()
    {
        int* fds = stackalloc int[2];
        if (SysPipe2(fds, OCloexec) != 0) throw new IOException($"pipe: {Native.ErrorText(Marshal.GetLastPInvokeError())}");
        return (fds[0], fds[1]);
    }

    /// <summary>
    /// Starts <paramref name="program"/> as the leader of a new process group with the given
    /// stdio descriptors, environment and working directory; signal dispositions and the mask are
    /// reset to the defaults (the runtime ignores SIGPIPE, a child must not inherit that).
    /// Returns the pid, or throws with the errno text (ENOENT: "No such file or directory").
    /// </summary>
    public static int Spawn(string program, IReadOnlyList<string> argv, IReadOnlyList<string> env, string? cwd, int stdin, int stdout, int stderr)
    {
        void* actions = NativeMemory.AllocZeroed(OpaqueSize), attr = NativeMemory.AllocZeroed(OpaqueSize);
        void* sigDefault = NativeMemory.AllocZeroed(OpaqueSize), sigMask = NativeMemory.AllocZeroed(OpaqueSize);
        var strings = new NativeStrings();
        try
        {
            ActionsInit(actions);
            AttrInit(attr);
            ActionsDup2(actions, stdin, 0);
            ActionsDup2(actions, stdout, 1);
            ActionsDup2(actions, stderr, 2);
            if (!string.IsNullOrEmpty(cwd)) ActionsChdir(actions, strings.Add(cwd));
            SigFill(sigDefault);
            SigEmpty(sigMask);
            AttrSigDefault(attr, sigDefault);
            AttrSigMask(attr, sigMask);
            AttrPgroup(attr, 0); // 0: the child's own pid becomes the group id
            AttrFlags(attr, SetPgroup | SetSigDef | SetSigMask);
            byte* path = strings.Add(program);
            byte** argvp = strings.Array(argv);
            byte** envp = strings.Array(env);
            int rc = SysSpawn(out int pid, path, actions, attr, argvp, envp);
            if (rc != 0) throw new IOException(Native.ErrorText(rc));
            return pid;
        }
        finally
        {
            ActionsDestroy(actions);
            AttrDestroy(attr);
            NativeMemory.Free(actions);
            NativeMemory.Free(attr);
            NativeMemory.Free(sigDefault);
            NativeMemory.Free(sigMask);
            strings.Dispose();
        }
    }

    /// <summary>waitpid(pid, WNOHANG): the shell-style exit status once the child has ended, else null.</summary>
    public static int? TryReap(int pid)
    {
        int status;
        int rc;
        do rc = SysWaitPid(pid, &status, WNoHang);
        while (rc < 0 && Marshal.GetLastPInvokeError() == EIntr);
        if (rc != pid) return null;
        // WIFEXITED: the exit code; killed by a signal: 128 + signal, as shells report it
        int sig = status & 0x7f;
        return sig == 0 ? (status >> 8) & 0xff : 128 + sig;
    }

    /// <summary>NUL-terminated UTF-8 strings and pointer arrays in native memory, freed together.</summary>
    sealed class NativeStrings : IDisposable
    {
        readonly List<nint> _blocks = [];

        public byte* Add(string s)
        {
            int n = Encoding.UTF8.GetByteCount(s);
            var p = (byte*)NativeMemory.Alloc((nuint)n + 1);
            _blocks.Add((nint)p);
            Encoding.UTF8.GetBytes(s, new Span<byte>(p, n));
            p[n] = 0;
            return p;
        }

        public byte** Array(IReadOnlyList<string> items)
        {
            var a = (byte**)NativeMemory.Alloc((nuint)(items.Count + 1), (nuint)sizeof(byte*));
            _blocks.Add((nint)a);
            for (int i = 0; i < items.Count; i++) a[i] = Add(items[i]);
            a[items.Count] = null;
            return a;
        }

        public void Dispose()
        {
            foreach (var p in _blocks) NativeMemory.Free((void*)p);
            _blocks.Clear();
        }
    }
}
