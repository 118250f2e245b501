using System.Diagnostics;

namespace Assay.Runtime.Tests;

/// <summary>
/// A database of its own on the test PostgreSQL server ($ASSAY_TEST_POSTGRES_URL, started by
/// scripts/postgres-up.sh); dropped afterwards. Without the variable the tests fail, unless
/// ASSAY_SKIP_POSTGRES=1.
/// </summary>
public sealed class PostgresDbFixture : IDisposable
{
    public string? Url { get; }
    readonly string? _admin;
    readonly string _name = "assay_dbmod_" + Guid.NewGuid().ToString("N")[..10];

    public PostgresDbFixture()
    {
        _admin = Environment.GetEnvironmentVariable("ASSAY_TEST_POSTGRES_URL");
        if (string.IsNullOrEmpty(_admin)) return;
        Admin($"create database {_name}");
        var b = new UriBuilder(_admin) { Path = "/" + _name };
        Url = b.Uri.ToString();
    }

    void Admin(string sql)
    {
        using var h = new LuaHarness();
        var task = h.Run($"local c = db.connect('{_admin}'); c:execute([[{sql}]]); c:close()");
        if (!task.Succeeded) throw new InvalidOperationException(task.ErrorReport);
    }

    public void Dispose()
    {
        if (Url == null) return;
        try { Admin($"drop database if exists {_name} with (force)"); } catch (InvalidOperationException) { }
    }
}

public class PostgresDbTests(PostgresDbFixture pg) : IClassFixture<PostgresDbFixture>
{
    string Url()
    {
        if (pg.Url != null) return pg.Url;
        if (Environment.GetEnvironmentVariable("ASSAY_SKIP_POSTGRES") == "1") return "";
        Assert.Fail("ASSAY_TEST_POSTGRES_URL is not set: start a server with scripts/postgres-up.sh and export its URL " +
                    "(or set ASSAY_SKIP_POSTGRES=1 to skip the PostgreSQL tests)");
        return "";
    }

    void Ok(LuaHarness h, string code) => h.Ok(code.Replace("$URL", Url()));

    [Fact]
    public void TypedResultsAndParameters()
    {
        if (Url() == "") return;
        using var h = new LuaHarness();
        Ok(h, """
            local c = db.connect("$URL")
            driver = c.driver
            c:execute([[create table typed (id serial primary key, i int, b bigint, f double precision,
              n numeric(10,2), ok boolean, t text, by bytea, ts timestamp, tz timestamptz, d date,
              u uuid, j jsonb, arr int[])]])
            local r = c:execute([[insert into typed (i, b, f, n, ok, t, by, ts, tz, d, u, j, arr) values
              ($1, $2, $3, $4, $5, $6, $7, '2024-05-06 07:08:09.5', '2024-05-06 07:08:09+02', '2024-05-06',
               'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', $8, '{1,2,3}')]],
              {42, 9007199254740993, 2.5, 12.34, true, "héllo", "\0\1\255", {name = "x", list = {1, 2}}})
            affected = r.rows_affected
            local row = c:query_one("select * from typed")
            kinds = table.concat({math.type(row.i), math.type(row.b), math.type(row.f), math.type(row.n),
              type(row.ok), type(row.j), type(row.arr)}, ",")
            b, f, n, ok, t = row.b, row.f, row.n, row.ok, row.t
            by = row.by == "\0\1\255"
            ts, tz, d, u = row.ts, row.tz, row.d, row.u
            jname, jlist2, arr3 = row.j.name, row.j.list[2], row.arr[3]
            local nul = c:query_one("select null::text as a, 1 as b")
            null_absent = nul.a == nil and nul.b == 1
            ret = c:query_one("insert into typed (i) values ($1) returning id", {7}).id
            many = #c:query("select * from typed where i in ($1, $2)", {42, 7})
            """);
        Assert.Equal("postgres", h.Eval("driver"));
        Assert.Equal("1", h.Eval("affected"));
        Assert.Equal("integer,integer,float,float,boolean,table,table", h.Eval("kinds"));
        Assert.Equal("9007199254740993", h.Eval("b"));
        Assert.Equal("2.5", h.Eval("f"));
        Assert.Equal("12.34", h.Eval("n"));
        Assert.Equal("true", h.Eval("ok"));
        Assert.Equal("héllo", h.Eval("t"));
        Assert.Equal("true", h.Eval("by"));
        Assert.Equal("2024-05-06T07:08:09.5", h.Eval("ts"));
        Assert.Equal("2024-05-06T05:08:09Z", h.Eval("tz"));
        Assert.Equal("2024-05-06", h.Eval("d"));
        Assert.Equal("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", h.Eval("u"));
        Assert.Equal("x", h.Eval("jname"));
        Assert.Equal("2", h.Eval("jlist2"));
        Assert.Equal("3", h.Eval("arr3"));
        Assert.Equal("true", h.Eval("null_absent"));
        Assert.Equal("2", h.Eval("ret"));
        Assert.Equal("2", h.Eval("many"));
    }

    [Fact]
    public void TransactionsArePinnedToOneConnection()
    {
        if (Url() == "") return;
        using var h = new LuaHarness();
        Ok(h, """
            local c = db.connect("$URL")
            c:execute("create table acct (id int primary key, bal int)")
            c:execute("insert into acct values (1, 100), (2, 0)")
            -- session state proves one connection: a temp table is visible only on its connection
            db.transaction(c, function()
              c:execute("create temp table scratch (v int) on commit drop")
              for i = 1, 5 do c:execute("insert into scratch values ($1)", {i}) end
              scratch_sum = c:query_one("select sum(v)::int as s from scratch").s
              c:execute("update acct set bal = bal - 30 where id = 1")
              -- another task does not see the uncommitted change (it runs on another connection)
              local h2 = async.spawn(function() return c:query_one("select bal from acct where id = 1").bal end)
              other_saw = h2:await()[1]
              c:execute("update acct set bal = bal + 30 where id = 2")
            end)
            local ok, err = pcall(db.transaction, c, function()
              c:execute("update acct set bal = 0")
              c:execute("insert into acct values (1, 1)") -- duplicate key
            end)
            dup_err = err
            local rows = c:query("select bal from acct order by id")
            bals = rows[1].bal .. "," .. rows[2].bal
            -- a nested failure rolls back to its savepoint only
            db.transaction(c, function()
              c:execute("update acct set bal = bal + 1 where id = 2")
              pcall(db.transaction, c, function() c:execute("update acct set bal = 999"); error("no") end)
            end)
            after_nested = c:query_one("select bal from acct where id = 2").bal
            """);
        Assert.Equal("15", h.Eval("scratch_sum"));
        Assert.Equal("100", h.Eval("other_saw"));
        Assert.Contains("db.execute: duplicate key value violates unique constraint", h.Eval("dup_err"));
        Assert.Equal("70,30", h.Eval("bals"));
        Assert.Equal("31", h.Eval("after_nested"));
    }

    [Fact]
    public void SlowQueryDoesNotBlockOtherCoroutinesAndTimesOut()
    {
        if (Url() == "") return;
        using var h = new LuaHarness();
        var sw = Stopwatch.StartNew();
        Ok(h, """
            local c = db.connect("$URL")
            ticks = 0
            local stop = false
            local ticker = async.spawn(function() while not stop do sleep(0.1); ticks = ticks + 1 end end)
            c:query("select pg_sleep(2)")
            stop = true
            ticker:await()
            local t0 = time()
            local ok, err = pcall(db.query, c, "select pg_sleep(10)", nil, {timeout = 0.5})
            timeout_err, timeout_secs = err, time() - t0
            still = c:query_one("select 1 as one").one
            local ok2, err2 = pcall(db.query, c, "select * from no_such_table")
            missing = err2
            """);
        Assert.InRange(int.Parse(h.Eval("ticks")!), 5, 25);
        Assert.Contains("db.query: query timed out after 0.5 s", h.Eval("timeout_err"));
        Assert.InRange(double.Parse(h.Eval("timeout_secs")!, System.Globalization.CultureInfo.InvariantCulture), 0.4, 2.0);
        Assert.Equal("1", h.Eval("still"));
        Assert.Contains("db.query: relation \"no_such_table\" does not exist (SQLSTATE 42P01)", h.Eval("missing"));
    }
}
