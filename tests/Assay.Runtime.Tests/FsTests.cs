namespace Assay.Runtime.Tests;

/// <summary>fs: binary-safe I/O, metadata, directories, glob, remove semantics, chmod, and non-blocking waits.</summary>
public sealed class FsTests : LuaHarness
{
    readonly string _dir = Directory.CreateTempSubdirectory("assay-fs-test-").FullName;

    string Lua(string code) => $"local dir = [[{_dir}]]\n{code}";

    public override void Dispose()
    {
        base.Dispose();
        try { Directory.Delete(_dir, true); } catch { }
    }

    [Fact]
    public void ReadWriteBinarySafe() => Ok(Lua("""
        local all = {}
        for i = 0, 255 do all[#all + 1] = string.char(i) end
        local bytes = table.concat(all)
        fs.write(dir .. "/sub/deeper/bin", bytes)         -- parents are created
        assert.eq(fs.read(dir .. "/sub/deeper/bin"), bytes)
        assert.eq(fs.read_bytes(dir .. "/sub/deeper/bin"), bytes)
        fs.write_bytes(dir .. "/b2", "\0\1\2")
        assert.eq(#fs.read(dir .. "/b2"), 3)
        fs.write(dir .. "/b2", "new")                     -- truncates
        assert.eq(fs.read(dir .. "/b2"), "new")
        fs.append(dir .. "/log", "a\n")
        fs.append(dir .. "/log", "b\n")
        assert.eq(fs.read(dir .. "/log"), "a\nb\n")
        fs.write(dir .. "/empty", "")
        assert.eq(fs.read(dir .. "/empty"), "")
        """));

    [Fact]
    public void WriteAtomic() => Ok(Lua("""
        local p = dir .. "/config.json"
        fs.write(p, "old")
        fs.chmod(p, "640")
        fs.write_atomic(p, "new contents")
        assert.eq(fs.read(p), "new contents")
        assert.eq(fs.stat(p).permissions, "640")        -- mode kept
        fs.write_atomic(dir .. "/fresh/file", "x")
        assert.eq(fs.read(dir .. "/fresh/file"), "x")
        -- no temporary files left behind
        for _, e in ipairs(fs.list(dir)) do assert.eq(e.name:find("%.tmp%-"), nil) end
        """));

    [Fact]
    public void WriteAtomicWithMode() => Ok(Lua("""
        -- a secret: the new file gets the mode asked for, whatever the old one had or the umask says
        local p = dir .. "/token.json"
        fs.write(p, "old")
        fs.chmod(p, "644")
        fs.write_atomic(p, "secret", { mode = "600" })
        assert.eq(fs.read(p), "secret")
        assert.eq(fs.stat(p).permissions, "600")
        fs.write_atomic(dir .. "/fresh.json", "x", { mode = "0o640" })
        assert.eq(fs.stat(dir .. "/fresh.json").permissions, "640")
        fs.write_atomic(dir .. "/plain.json", "x", {})          -- no mode: as before
        assert.eq(fs.read(dir .. "/plain.json"), "x")
        assert.error(function() fs.write_atomic(p, "x", { mode = "999" }) end, 'fs.write_atomic: invalid mode "999"')
        assert.error(function() fs.write_atomic(p, "x", "600") end, "options table expected, got string")
        assert.error(function() fs.chmod(p, 755) end, "fs.chmod: ambiguous mode 755")
        assert.eq(fs.read(p), "secret")
        for _, e in ipairs(fs.list(dir)) do assert.eq(e.name:find("%.tmp%-"), nil) end
        """));

    [Fact]
    public void ExistsAndStat() => Ok(Lua("""
        fs.write(dir .. "/f.txt", "12345")
        fs.mkdir(dir .. "/d")
        assert.is_true(fs.exists(dir .. "/f.txt"))
        assert.is_true(fs.exists(dir .. "/d"))
        assert.is_false(fs.exists(dir .. "/nope"))
        assert.is_true(fs.is_file(dir .. "/f.txt"))
        assert.is_false(fs.is_file(dir .. "/d"))
        assert.is_true(fs.is_dir(dir .. "/d"))
        local s = fs.stat(dir .. "/f.txt")
        assert.eq(s.size, 5)
        assert.eq(s.type, "file")
        assert.is_true(s.is_file)
        assert.is_false(s.is_dir)
        assert.is_false(s.is_symlink)
        assert.eq(math.type(s.modified), "float")
        assert.is_true(math.abs(s.modified - os.time()) < 60)
        local d = fs.stat(dir .. "/d")
        assert.eq(d.type, "directory")
        assert.is_true(d.is_dir)
        os.execute("ln -s f.txt '" .. dir .. "/link' && ln -s missing '" .. dir .. "/broken'")
        local l = fs.stat(dir .. "/link")
        assert.is_true(l.is_symlink)
        assert.is_true(l.is_file)
        assert.eq(l.size, 5)
        assert.eq(l.target, "f.txt")
        assert.is_false(fs.exists(dir .. "/broken"))
        local _, e = pcall(fs.stat, dir .. "/nope")
        assert.contains(e, 'fs.stat: no such file or directory: "' .. dir .. '/nope"')
        local _, e2 = pcall(fs.read, dir .. "/nope")
        assert.contains(e2, 'fs.read: no such file or directory')
        local _, e3 = pcall(fs.read, dir .. "/d")
        assert.contains(e3, 'fs.read: is a directory')
        """));

    [Fact]
    public void ListAndReadDir() => Ok(Lua("""
        fs.write(dir .. "/b.txt", "b")
        fs.write(dir .. "/a/x.txt", "x")
        fs.write(dir .. "/a/deep/y.txt", "y")
        os.execute("ln -s a '" .. dir .. "/alink'")
        local names = {}
        for _, e in ipairs(fs.list(dir)) do names[#names + 1] = e.name .. ":" .. e.type end
        assert.eq(names, {"a:directory", "alink:symlink", "b.txt:file"})
        local all = {}
        for _, e in ipairs(fs.readdir(dir)) do all[#all + 1] = e.path end
        assert.eq(all, {"a", "a/deep", "a/deep/y.txt", "a/x.txt", "alink", "b.txt"})
        local top = {}
        for _, e in ipairs(fs.readdir(dir, {depth = 1})) do top[#top + 1] = e.path end
        assert.eq(top, {"a", "alink", "b.txt"})
        assert.eq(#fs.readdir(dir, {depth = 2}), 5)
        assert.eq(#fs.readdir(dir, {recursive = false}), 3)
        assert.eq(fs.readdir(dir)[3].name, "y.txt")
        local _, e = pcall(fs.list, dir .. "/b.txt")
        assert.contains(e, "fs.list: not a directory")
        local _, e2 = pcall(fs.readdir, dir, {depth = 0})
        assert.contains(e2, "fs.readdir: option 'depth' must be an integer >= 1")
        """));

    [Fact]
    public void Glob() => Ok(Lua("""
        for _, p in ipairs({"a.lua", "b.lua", "c.txt", "src/x.lua", "src/lib/y.lua", "src/lib/z.txt", ".hidden.lua", "src/.git/h.lua"}) do
          fs.write(dir .. "/" .. p, p)
        end
        local function rel(list)
          local out = {}
          for i, p in ipairs(list) do out[i] = p:sub(#dir + 2) end
          return out
        end
        assert.eq(rel(fs.glob(dir .. "/*.lua")), {"a.lua", "b.lua"})
        assert.eq(rel(fs.glob(dir .. "/**/*.lua")), {"a.lua", "b.lua", "src/lib/y.lua", "src/x.lua"})
        assert.eq(rel(fs.glob(dir .. "/src/**")), {"src/lib", "src/lib/y.lua", "src/lib/z.txt", "src/x.lua"})
        assert.eq(rel(fs.glob(dir .. "/?.txt")), {"c.txt"})
        assert.eq(rel(fs.glob(dir .. "/[ab].lua")), {"a.lua", "b.lua"})
        assert.eq(rel(fs.glob(dir .. "/[!a].lua")), {"b.lua"})
        assert.eq(rel(fs.glob(dir .. "/.*.lua")), {".hidden.lua"})
        assert.eq(rel(fs.glob(dir .. "/src/lib/y.lua")), {"src/lib/y.lua"})
        assert.eq(fs.glob(dir .. "/nothing/*"), {})
        local _, e = pcall(fs.glob, dir .. "/[ab.lua")
        assert.contains(e, "fs.glob: invalid pattern: unclosed '['")
        """));

    [Fact]
    public void MkdirCopyRenameRemove() => Ok(Lua("""
        fs.mkdir(dir .. "/p/q/r")
        fs.mkdir(dir .. "/p/q/r")                        -- idempotent
        assert.is_true(fs.is_dir(dir .. "/p/q/r"))
        fs.write(dir .. "/src.bin", "\0payload")
        assert.eq(fs.copy(dir .. "/src.bin", dir .. "/dst.bin"), 8)
        assert.eq(fs.read(dir .. "/dst.bin"), "\0payload")
        assert.eq(fs.copy(dir .. "/src.bin", dir .. "/p"), 8)   -- into a directory
        assert.is_true(fs.exists(dir .. "/p/src.bin"))
        fs.rename(dir .. "/dst.bin", dir .. "/moved.bin")
        assert.is_false(fs.exists(dir .. "/dst.bin"))
        assert.eq(fs.read(dir .. "/moved.bin"), "\0payload")
        fs.rename(dir .. "/p/q", dir .. "/q2")
        assert.is_true(fs.is_dir(dir .. "/q2/r"))

        -- remove: files, empty dirs; non-empty needs recursive
        fs.remove(dir .. "/moved.bin")
        assert.is_false(fs.exists(dir .. "/moved.bin"))
        local _, e = pcall(fs.remove, dir .. "/q2")
        assert.contains(e, "fs.remove: directory not empty (pass {recursive = true}")
        assert.is_true(fs.is_dir(dir .. "/q2/r"))
        fs.remove(dir .. "/q2/r")
        fs.remove(dir .. "/p", {recursive = true})
        assert.is_false(fs.exists(dir .. "/p"))
        local _, e2 = pcall(fs.remove, dir .. "/gone")
        assert.contains(e2, "fs.remove: no such file or directory")
        fs.remove(dir .. "/gone", {force = true})

        -- a symlink to a directory is unlinked, never followed
        fs.write(dir .. "/keep/file", "k")
        os.execute("ln -s keep '" .. dir .. "/keeplink'")
        fs.remove(dir .. "/keeplink", {recursive = true})
        assert.is_false(fs.exists(dir .. "/keeplink"))
        assert.eq(fs.read(dir .. "/keep/file"), "k")
        """));

    [Fact]
    public void TempdirAndChmod()
    {
        Ok(Lua("""
            local t1, t2 = fs.tempdir(), fs.tempdir()
            assert.ne(t1, t2)
            assert.is_true(fs.is_dir(t1))
            assert.eq(fs.stat(t1).permissions, "700")
            assert.matches(t1, "assay%-")
            fs.remove(t1); fs.remove(t2)
            assert.matches(fs.tempdir("job-"), "job%-")

            local f = dir .. "/script.sh"
            fs.write(f, "#!/bin/sh\n")
            fs.chmod(f, "755")
            assert.eq(fs.stat(f).permissions, "755")
            fs.chmod(f, "0o600")
            assert.eq(fs.stat(f).permissions, "600")
            fs.chmod(f, tonumber("644", 8))
            assert.eq(fs.stat(f).mode, 420)
            fs.chmod(f, 448)                                -- 0o700 as a plain integer
            assert.eq(fs.stat(f).permissions, "700")
            local _, e = pcall(fs.chmod, f, 755)
            assert.contains(e, 'fs.chmod: ambiguous mode 755: pass the string "755"')
            local _, e2 = pcall(fs.chmod, f, "abc")
            assert.contains(e2, 'fs.chmod: invalid mode "abc"')
            local _, e3 = pcall(fs.chmod, dir .. "/none", "644")
            assert.contains(e3, "fs.chmod: no such file or directory")
            """));
    }

    /// <summary>
    /// A read from a FIFO blocks until someone writes. If fs.read blocked the loop thread, the
    /// writer below could never run: the test proves the wait happens off the loop.
    /// </summary>
    [Fact]
    public void WaitingReadDoesNotBlockOtherCoroutines()
    {
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                Ok(Lua("""
                    local fifo = dir .. "/pipe"
                    assert(os.execute("mkfifo '" .. fifo .. "'"))
                    local reader = async.spawn(function() return fs.read(fifo) end)
                    local ticks = 0
                    for _ = 1, 5 do sleep(0.02); ticks = ticks + 1 end
                    fs.write(fifo, "hello through the pipe")
                    assert.eq(reader:await()[1], "hello through the pipe")
                    assert.eq(ticks, 5)
                    """));
            }
            catch (Exception e) { failure = e; }
        }) { IsBackground = true };
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(20)), "fs.read on a FIFO blocked the event loop");
        if (failure != null) throw failure;
    }
}
