using System.Runtime.InteropServices;
using Assay.Lua;
using Assay.Lua.Loop;
using Assay.Runtime;

namespace Assay.Cli.Interactive;

/// <summary>
/// `assay` on a terminal (and `assay repl`): an interactive session on the same runtime and event
/// loop as scripts. The loop runs on this thread for the whole session, so tasks and servers
/// started at the prompt keep running between lines; a reader thread edits lines and hands each
/// chunk to the loop, which runs it as a task and prints its values.
/// </summary>
public sealed class Repl
{
    const string RunnerKey = "assay.repl.run";

    readonly AssayRuntime _runtime;
    readonly LuaVm _vm;
    readonly LineEditor _editor;
    readonly History _history;
    readonly CancellationTokenSource _stop = new();
    /// <summary>Completed by the loop thread when the chunk handed over has been dealt with.</summary>
    TaskCompletionSource<Outcome>? _pending;
    LuaTask? _running;

    enum Outcome { Done, Incomplete }

    Repl(GlobalSettings settings, string? historyPath)
    {
        _runtime = new AssayRuntime(settings.CreateRuntimeOptions());
        _vm = _runtime.Vm;
        _history = new History(historyPath);
        _editor = new LineEditor(_history);
    }

    public static int Run(GlobalSettings settings)
    {
        var historyPath = Environment.GetEnvironmentVariable("ASSAY_HISTORY_FILE") ?? History.DefaultPath();
        var repl = new Repl(settings, historyPath.Length == 0 ? null : historyPath);
        try { return repl.Loop(); }
        finally { repl._runtime.Dispose(); }
    }

    int Loop()
    {
        _vm.Execute(RunnerSource, "=[assay repl]", nresults: 1);
        _vm.Main.RawSetField(LuaState.RegistryIndex, RunnerKey);
        if (!Console.IsInputRedirected)
            Console.Out.WriteLine($"{CliDefinition.VersionLine()} — Lua 5.4. Ctrl-C cancels a line, Ctrl-D leaves.");

        using var keepAlive = _vm.Loop.KeepAlive();
        using var onInterrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, e =>
        {
            e.Cancel = true;
            if (Volatile.Read(ref _running) != null) _vm.Interrupt("interrupted");
        });
        var reader = new Thread(ReadChunks) { IsBackground = true, Name = "repl reader" };
        reader.Start();
        while (!_stop.IsCancellationRequested)
        {
            _vm.Loop.Run(null, _stop.Token);
            if (_vm.IsInterrupted) OnInterrupted();
        }
        _vm.FlushOutput();
        return ScriptRunner.ExitOk;
    }

    // ------------------------------------------------------------------ the reader thread

    void ReadChunks()
    {
        var chunk = new StringBuilder();
        while (true)
        {
            var (status, text) = _editor.ReadLine(chunk.Length == 0 ? "> " : ">> ");
            if (status == LineStatus.EndOfInput)
            {
                _vm.Loop.Post(_stop.Cancel);
                return;
            }
            if (status == LineStatus.Cancelled)
            {
                chunk.Clear();
                continue;
            }
            if (chunk.Length > 0) chunk.Append('\n');
            chunk.Append(text);
            var source = chunk.ToString();
            if (source.Trim().Length == 0) { chunk.Clear(); continue; }
            var pending = new TaskCompletionSource<Outcome>(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _pending, pending);
            _vm.Loop.Post(() => Evaluate(source));
            if (pending.Task.GetAwaiter().GetResult() == Outcome.Incomplete) continue;
            _history.Add(source);
            chunk.Clear();
        }
    }

    // ------------------------------------------------------------------ the loop thread

    /// <summary>Compiles the chunk (as an expression first, like lua.c) and runs it as a task.</summary>
    void Evaluate(string source)
    {
        var L = _vm.Main;
        L.RawGetField(LuaState.RegistryIndex, RunnerKey);
        try
        {
            try { _vm.Load(L, Encoding.UTF8.GetBytes("return " + source), "=stdin"); }
            catch (LuaException) { _vm.Load(L, Encoding.UTF8.GetBytes(source), "=stdin"); }
        }
        catch (LuaException e)
        {
            L.Pop(1);
            if (e.Message.EndsWith("<eof>", StringComparison.Ordinal)) { Finish(Outcome.Incomplete); return; }
            Console.Error.WriteLine("error: " + e.Message);
            Finish(Outcome.Done);
            return;
        }
        var task = _vm.Loop.Spawn(L, 1, "repl", detached: true);
        task.OnFinished = (t, _) =>
        {
            // a wait cut short by Ctrl-C fails with "operation cancelled": say what happened instead
            if (!t.Succeeded) ReportError(_vm.IsInterrupted ? "interrupted" : t.ErrorReport);
            Finish(Outcome.Done);
        };
        Volatile.Write(ref _running, task);
    }

    void OnInterrupted()
    {
        _vm.ClearInterrupt();
        // a line stopped inside Lua code has already failed with "interrupted" (OnFinished ran);
        // one that was waiting (sleep, http) is cancelled here
        if (Volatile.Read(ref _running) is { IsFinished: false } task)
        {
            _vm.Loop.Cancel(task.Id);
            ReportError("interrupted");
            Finish(Outcome.Done);
        }
    }

    void ReportError(string? report)
    {
        _vm.FlushOutput();
        Console.Error.WriteLine("error: " + LuaErrors.CleanTraceback(report ?? "unknown error"));
    }

    void Finish(Outcome outcome)
    {
        Volatile.Write(ref _running, null);
        _vm.FlushOutput();
        Interlocked.Exchange(ref _pending, null)?.TrySetResult(outcome);
    }

    /// <summary>Runs a compiled line and prints its values: tables pretty-printed, json.null by name.</summary>
    const string RunnerSource = """
        local type, tostring, pairs, sort, concat, fmt, getmetatable, select, print, pack =
          type, tostring, pairs, table.sort, table.concat, string.format, getmetatable, select, print, table.pack
        local null = json.null

        local function key_text(k)
          if type(k) == "string" and k:match("^[%a_][%w_]*$") then return k end
          return "[" .. (type(k) == "string" and fmt("%q", k) or tostring(k)) .. "]"
        end

        local show
        local function show_table(t, indent, seen, depth)
          if seen[t] then return "<cycle>" end
          local mt = getmetatable(t)
          if mt and mt.__tostring then return tostring(t) end
          if depth > 6 then return "{…}" end
          seen[t] = true
          local n, items, keys = #t, {}, {}
          for i = 1, n do items[#items + 1] = show(t[i], indent .. "  ", seen, depth + 1) end
          for k in pairs(t) do
            if not (type(k) == "number" and k >= 1 and k <= n and k % 1 == 0) then keys[#keys + 1] = k end
          end
          sort(keys, function(a, b)
            if type(a) == type(b) and (type(a) == "string" or type(a) == "number") then return a < b end
            return type(a) < type(b)
          end)
          for _, k in ipairs(keys) do items[#items + 1] = key_text(k) .. " = " .. show(t[k], indent .. "  ", seen, depth + 1) end
          seen[t] = nil
          if #items == 0 then return "{}" end
          local flat = "{ " .. concat(items, ", ") .. " }"
          if #flat <= 72 and not flat:find("\n", 1, true) then return flat end
          return "{\n" .. indent .. "  " .. concat(items, ",\n" .. indent .. "  ") .. "\n" .. indent .. "}"
        end

        show = function(v, indent, seen, depth)
          if v == null then return "json.null" end
          local t = type(v)
          if t == "string" then return fmt("%q", v) end
          if t == "table" then return show_table(v, indent, seen, depth) end
          return tostring(v)
        end

        return function(chunk)
          local r = pack(chunk())
          if r.n == 0 then return end
          local out = {}
          for i = 1, r.n do
            local v = r[i]
            out[i] = type(v) == "string" and v or show(v, "", {}, 1)
          end
          print(concat(out, "\t"))
        end
        """;
}
