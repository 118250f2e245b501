using System.Text.Unicode;
using Assay.Runtime.Builtins.Db;

namespace Assay.Runtime.Builtins;

/// <summary>
/// <c>db.connect(url, opts?)</c> → connection; <c>db.query</c>, <c>db.query_one</c>,
/// <c>db.execute</c>, <c>db.close</c> (natives, also methods of the connection), and
/// <c>db.transaction(conn, fn)</c> (prelude/db.lua over begin/commit/rollback natives pinned to
/// one connection). Every statement runs off the loop thread. Reference page: docs/modules/db.md.
/// </summary>
public static class DbModule
{
    const string MetatableKey = "assay.db.connection";

    sealed class State
    {
        public readonly Dictionary<long, DbHandle> Handles = [];
        public long NextId;
    }

    public static void Register(AssayRuntime rt)
    {
        var state = new State();
        var vm = rt.Vm;
        vm.RegisterModule("db",
            ("connect", call => Connect(call, state)),
            ("query", call => Query(call, state, QueryMode.Rows)),
            ("query_one", call => Query(call, state, QueryMode.One)),
            ("execute", call => Query(call, state, QueryMode.Execute)),
            ("close", call => Close(call, state)));
        rt.RunPrelude("db", L =>
        {
            L.NewTable();
            vm.SetFunction(L, -1, "db.transaction", "begin", call => Begin(call, state));
            vm.SetFunction(L, -1, "db.transaction", "commit", call => End(call, state, commit: true));
            vm.SetFunction(L, -1, "db.transaction", "rollback", call => End(call, state, commit: false));
            vm.SetFunction(L, -1, "db", "set_metatable", static call =>
            {
                call.L.PushValue(1);
                call.L.RawSetField(LuaState.RegistryIndex, MetatableKey);
                return 0;
            });
            return 1;
        });
    }

    static int Connect(LuaCall call, State state)
    {
        var url = call.CheckStrictString(1, "URL string");
        var options = call.Options(2, ["timeout", "pool_size"]);
        double? timeout = options.Seconds("timeout");
        int poolSize = (int)(options.Integer("pool_size", min: 1, max: 1000) ?? 10);
        DbUrl parsed;
        try { parsed = DbUrl.Parse(url, poolSize); }
        catch (ArgumentException e) { return call.Fail(e.Message); }
        var handle = new DbHandle(parsed, timeout);
        var task = Task.Run(async () =>
        {
            try { await handle.OpenAsync(call.Vm.Cancellation).ConfigureAwait(false); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                handle.Close();
                throw new BuiltinError($"cannot connect to {parsed.Display}: {e.Message}");
            }
            return handle;
        });
        return call.Await(task, (L, h) =>
        {
            long id = ++state.NextId;
            state.Handles[id] = h;
            L.CheckStack(4);
            L.NewTable(0, 3);
            L.PushInteger(id); L.RawSetField(-2, "_id");
            L.PushString(h.Kind switch { DbKind.Sqlite => "sqlite", DbKind.Postgres => "postgres", _ => "mysql" });
            L.RawSetField(-2, "driver");
            L.PushString(h.Url.Display); L.RawSetField(-2, "url");
            if (L.RawGetField(LuaState.RegistryIndex, MetatableKey) == LuaType.Table) L.SetMetatable(-2);
            else L.Pop(1);
            return 1;
        });
    }

    static DbHandle Handle(LuaCall call, State state)
    {
        long id = ConnectionId(call);
        if (!state.Handles.TryGetValue(id, out var h) || h.Closed) throw new BuiltinError("connection is closed");
        return h;
    }

    static int Query(LuaCall call, State state, QueryMode mode)
    {
        var h = Handle(call, state);
        var sql = call.CheckStrictString(2, "SQL string");
        var args = ReadParams(call, 3);
        double? timeout = call.Options(4, ["timeout"]).Seconds("timeout");
        object? owner = call.Vm.Loop.Current;
        var ct = call.Vm.Cancellation;
        var task = Task.Run(() => h.RunAsync(owner, sql, args, mode, timeout, ct));
        return call.Await(task, mode switch
        {
            QueryMode.Execute => static (L, r) =>
            {
                L.CheckStack(3);
                L.NewTable(0, 2);
                L.PushInteger(r.RowsAffected); L.RawSetField(-2, "rows_affected");
                if (r.LastInsertId is { } id) { L.PushInteger(id); L.RawSetField(-2, "last_insert_id"); }
                return 1;
            },
            QueryMode.One => static (L, r) =>
            {
                if (r.Rows.Count == 0) L.PushNil(); else PushRow(L, r.Columns, r.Rows[0]);
                return 1;
            },
            _ => static (L, r) =>
            {
                L.CheckStack(3);
                L.NewTable(r.Rows.Count, 0);
                for (int i = 0; i < r.Rows.Count; i++)
                {
                    PushRow(L, r.Columns, r.Rows[i]);
                    L.RawSetIndex(-2, i + 1);
                }
                return 1;
            },
        });
    }

    /// <summary>One row as {column = value}; NULL columns are absent (nil).</summary>
    static void PushRow(LuaState L, string[] columns, object?[] row)
    {
        L.CheckStack(6);
        L.NewTable(0, columns.Length);
        for (int i = 0; i < columns.Length; i++)
        {
            if (row[i] == null) continue;
            if (row[i] is JsonText json)
            {
                try { JsonDecoder.Push(L, System.Text.Encoding.UTF8.GetBytes(json.Text)); }
                catch (LuaException) { L.PushString(json.Text); }
            }
            else LuaValues.Push(L, row[i]);
            L.RawSetField(-2, columns[i]);
        }
    }

    /// <summary>Positional parameters: an array (its <c>n</c> field, when present, gives the count so trailing nils count).</summary>
    static object?[] ReadParams(LuaCall call, int arg)
    {
        var L = call.L;
        if (!call.OptTable(arg, "parameter array")) return [];
        L.CheckStack(4);
        long count = 0;
        bool hasN = false;
        if (L.RawGetField(arg, "n") == LuaType.Number && L.TryGetInteger(-1, out long n) && n >= 0)
        {
            count = n;
            hasN = true;
        }
        L.Pop(1);
        L.PushNil();
        while (L.Next(arg))
        {
            if (L.TypeOf(-2) == LuaType.Number && L.TryGetInteger(-2, out long k) && k >= 1) count = Math.Max(count, hasN ? count : k);
            else if (!(hasN && L.TypeOf(-2) == LuaType.String && L.ToStringValue(-2) == "n"))
            {
                var key = L.ToStringValue(-2) ?? call.TypeName(-2);
                L.Pop(2);
                throw new BuiltinError($"parameters must be an array (positional), found key '{key}'");
            }
            L.Pop(1);
        }
        if (count > 65535) throw new BuiltinError($"too many parameters ({count})");
        var values = new object?[count];
        for (long i = 1; i <= count; i++)
        {
            var t = L.RawGetIndex(arg, i);
            values[i - 1] = t switch
            {
                LuaType.Nil => null,
                LuaType.Boolean => L.ToBoolean(-1),
                LuaType.Number => L.IsInteger(-1) ? (object)L.ToInteger(-1) : L.ToNumber(-1),
                LuaType.String => Utf8.IsValid(L.ToBytes(-1)) ? L.ToStringValue(-1) : L.ToBytes(-1).ToArray(),
                LuaType.LightUserData when LuaNull.Is(L, -1) => null,
                LuaType.Table => JsonParam(call, i),
                _ => throw new BuiltinError($"parameter {i}: unsupported type {call.TypeName(-1)} (use nil, boolean, number, string or a table for JSON)"),
            };
            L.Pop(1);
        }
        return values;
    }

    static JsonText JsonParam(LuaCall call, long index)
    {
        try
        {
            return new JsonText(System.Text.Encoding.UTF8.GetString(JsonEncoder.Encode(call.L, -1)));
        }
        catch (LuaValueException e)
        {
            e.Prefix = $"parameter {index}: ";
            throw new BuiltinError(e.Message);
        }
    }

    static int Close(LuaCall call, State state)
    {
        if (state.Handles.Remove(ConnectionId(call), out var h)) h.Close();
        return 0;
    }

    /// <summary>The id of the connection object at argument 1.</summary>
    static long ConnectionId(LuaCall call)
    {
        var L = call.L;
        call.CheckTable(1, "connection");
        L.CheckStack(2);
        L.RawGetField(1, "_id");
        bool ok = L.TryGetInteger(-1, out long id) && L.TypeOf(-1) == LuaType.Number;
        L.Pop(1);
        if (!ok) throw call.ArgError(1, "connection expected, got a table that is not one");
        return id;
    }

    static int Begin(LuaCall call, State state)
    {
        var h = Handle(call, state);
        object? owner = call.Vm.Loop.Current;
        var ct = call.Vm.Cancellation;
        var task = Task.Run(() => h.BeginAsync(owner, ct));
        return call.Await(task, static (L, depth) => { L.PushInteger(depth); return 1; });
    }

    static int End(LuaCall call, State state, bool commit)
    {
        var h = Handle(call, state);
        object? owner = call.Vm.Loop.Current;
        var task = Task.Run(() => h.EndAsync(owner, commit));
        return call.Await(task);
    }
}
