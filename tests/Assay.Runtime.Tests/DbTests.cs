using System.Diagnostics;

namespace Assay.Runtime.Tests;

/// <summary>db on SQLite (in memory and on disk): queries, types, parameters, transactions, errors.</summary>
public class DbTests
{
    [Fact]
    public void QueryExecuteAndTypedResults()
    {
        using var h = new LuaHarness();
        h.Ok("""
            local c = db.connect("sqlite::memory:")
            driver = c.driver
            db.execute(c, [[create table t (id integer primary key, name text, score real,
              active boolean, data blob, doc json, at text)]])
            local r1 = db.execute(c, "insert into t (name, score, active, data, doc, at) values (?, ?, ?, ?, ?, ?)",
              {"ann", 1.5, true, "\0\1\255", {tags = {"a", "b"}, n = 1}, "2024-01-02T03:04:05Z"})
            affected, last_id = r1.rows_affected, r1.last_insert_id
            local r2 = c:execute("insert into t (name, active) values ($1, $2)", {"bob", false})
            last_id2 = r2.last_insert_id
            local rows = db.query(c, "select * from t order by id")
            count = #rows
            local a, b = rows[1], rows[2]
            types = table.concat({math.type(a.id), math.type(a.score), type(a.active), type(a.doc)}, ",")
            name, score, active, bin = a.name, a.score, a.active, a.data == "\0\1\255"
            tag2, docn = a.doc.tags[2], a.doc.n
            b_active, b_score = b.active, b.score
            one = db.query_one(c, "select count(*) as n from t where name like ?", {"%"}).n
            none = db.query_one(c, "select * from t where id = ?", {999})
            upd = c:execute("update t set score = ? where score is null", {2}).rows_affected
            lit = db.query_one(c, "select '?' as q, ? as p -- ?\n", {"x"})
            lit_q, lit_p = lit.q, lit.p
            db.close(c)
            """);
        Assert.Equal("sqlite", h.Eval("driver"));
        Assert.Equal("1", h.Eval("affected"));
        Assert.Equal("1", h.Eval("last_id"));
        Assert.Equal("2", h.Eval("last_id2"));
        Assert.Equal("2", h.Eval("count"));
        Assert.Equal("integer,float,boolean,table", h.Eval("types"));
        Assert.Equal("ann", h.Eval("name"));
        Assert.Equal("1.5", h.Eval("score"));
        Assert.Equal("true", h.Eval("active"));
        Assert.Equal("true", h.Eval("bin"));
        Assert.Equal("b", h.Eval("tag2"));
        Assert.Equal("1", h.Eval("docn"));
        Assert.Equal("false", h.Eval("b_active"));
        Assert.Equal("nil", h.Eval("b_score")); // NULL → absent
        Assert.Equal("2", h.Eval("one"));
        Assert.Equal("nil", h.Eval("none"));
        Assert.Equal("1", h.Eval("upd"));
        Assert.Equal("?", h.Eval("lit_q"));
        Assert.Equal("x", h.Eval("lit_p"));
    }

    [Fact]
    public void TransactionsCommitRollbackNestAndIsolateOtherTasks()
    {
        using var h = new LuaHarness();
        var file = Path.Combine(Path.GetTempPath(), $"assay-db-{Guid.NewGuid():N}.db");
        try
        {
            h.Ok($$"""
                local c = db.connect("sqlite://{{file}}")
                c:execute("create table t (v integer)")
                got = db.transaction(c, function(tx)
                  tx:execute("insert into t values (1)")
                  return "result", 2
                end)
                local ok, err = pcall(db.transaction, c, function()
                  db.execute(c, "insert into t values (2)")
                  error("boom")
                end)
                rolled_back_err = err
                -- nested: the inner failure rolls back only the savepoint
                db.transaction(c, function()
                  c:execute("insert into t values (3)")
                  pcall(db.transaction, c, function() c:execute("insert into t values (4)"); error("inner") end)
                  c:execute("insert into t values (5)")
                end)
                local vals = {}
                for _, r in ipairs(c:query("select v from t order by v")) do vals[#vals + 1] = r.v end
                values = table.concat(vals, ",")
                -- another task's statement waits until the transaction ends (SQLite: one connection)
                order = {}
                db.transaction(c, function()
                  local other = async.spawn(function()
                    local n = c:query_one("select count(*) as n from t").n
                    order[#order + 1] = "other saw " .. n
                  end)
                  sleep(0.2)
                  c:execute("insert into t values (6)")
                  order[#order + 1] = "tx done"
                  _G.other = other
                end)
                other:await()
                sequence = table.concat(order, "; ")
                c:close()
                local c2 = db.connect("sqlite:{{file}}?mode=ro")
                persisted = c2:query_one("select count(*) as n from t").n
                local okw, errw = pcall(c2.execute, c2, "insert into t values (9)")
                readonly_err = errw
                """);
            Assert.Equal("result", h.Eval("got"));
            Assert.Contains("boom", h.Eval("rolled_back_err"));
            Assert.Equal("1,3,5", h.Eval("values"));
            Assert.Equal("tx done; other saw 4", h.Eval("sequence"));
            Assert.Equal("4", h.Eval("persisted"));
            Assert.Contains("readonly", h.Eval("readonly_err"));
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void QueryTimeoutInterruptsAndOtherTasksKeepTicking()
    {
        using var h = new LuaHarness();
        var sw = Stopwatch.StartNew();
        h.Ok("""
            local c = db.connect("sqlite::memory:")
            local slow = [[with recursive r(i) as (select 1 union all select i + 1 from r)
                           select count(*) as n from r]]
            local ok, err = pcall(db.query, c, slow, nil, {timeout = 0.3})
            timeout_err = err
            -- the connection is usable afterwards
            after = c:query_one("select 41 + 1 as v").v
            -- a connection-wide default timeout
            local c2 = db.connect("sqlite::memory:", {timeout = 0.2})
            local ok2, err2 = pcall(c2.query, c2, slow)
            default_err = err2
            -- a long query does not block other coroutines
            ticks = 0
            local stop = false
            local ticker = async.spawn(function() while not stop do sleep(0.1); ticks = ticks + 1 end end)
            pcall(db.query, c, slow, nil, {timeout = 2})
            stop = true
            ticker:await()
            """);
        Assert.Contains("db.query: query timed out after 0.3 s", h.Eval("timeout_err"));
        Assert.Equal("42", h.Eval("after"));
        Assert.Contains("db.query: query timed out after 0.2 s", h.Eval("default_err"));
        Assert.InRange(int.Parse(h.Eval("ticks")!), 5, 25);
        Assert.InRange(sw.Elapsed.TotalSeconds, 2.0, 8.0);
    }

    [Theory]
    [InlineData("db.connect(5)", "bad argument #1 to 'db.connect' (URL string expected, got number)")]
    [InlineData("db.connect('oracle://x')", "db.connect: unsupported URL scheme")]
    [InlineData("db.connect('sqlite::memory:', {bogus = 1})", "db.connect: unknown option 'bogus'")]
    [InlineData("db.connect('sqlite::memory:', {timeout = -1})", "db.connect: option 'timeout' must be")]
    [InlineData("db.connect('sqlite:x.db?mode=zz')", "db.connect: sqlite: unknown mode 'zz'")]
    [InlineData("db.connect('sqlite:/no/such/dir/x.db')", "db.connect: cannot connect to sqlite:/no/such/dir/x.db")]
    [InlineData("db.connect('postgres://')", "db.connect: malformed URL")]
    [InlineData("db.connect('mysql://u:p@127.0.0.1:1/db')", "db.connect: cannot connect to mysql://127.0.0.1:1/db")]
    [InlineData("db.connect('postgres://u@127.0.0.1:1/db')", "db.connect: cannot connect to postgres://127.0.0.1:1/db")]
    [InlineData("db.query('x', 'select 1')", "bad argument #1 to 'db.query' (connection expected, got string)")]
    [InlineData("db.query({}, 'select 1')", "bad argument #1 to 'db.query' (connection expected, got a table that is not one)")]
    [InlineData("local c = db.connect('sqlite::memory:'); db.query(c, 5)", "bad argument #2 to 'db.query' (SQL string expected, got number)")]
    [InlineData("local c = db.connect('sqlite::memory:'); db.query(c, 'select ?', {print})", "db.query: parameter 1: unsupported type function")]
    [InlineData("local c = db.connect('sqlite::memory:'); db.query(c, 'select ?', {x = 1})", "db.query: parameters must be an array (positional), found key 'x'")]
    [InlineData("local c = db.connect('sqlite::memory:'); db.query(c, 'select 1', nil, {timeout = 'x'})", "db.query: option 'timeout' must be")]
    [InlineData("local c = db.connect('sqlite::memory:'); db.query(c, 'selec 1')", "db.query: SQLite Error 1: 'near \"selec\": syntax error'")]
    [InlineData("local c = db.connect('sqlite::memory:'); db.execute(c, 'insert into nope values (1)')", "db.execute: SQLite Error 1: 'no such table: nope'")]
    [InlineData("local c = db.connect('sqlite::memory:'); c:close(); c:query('select 1')", "db.query: connection is closed")]
    [InlineData("local c = db.connect('sqlite::memory:'); db.transaction(c, 5)", "bad argument #2 to 'db.transaction' (function expected, got number)")]
    public void MalformedInputRaisesNamedErrors(string code, string expected) =>
        Assert.Contains(expected, LuaHarness.Fails(code));

    [Fact]
    public void ParametersCountTrailingNilsWithN()
    {
        using var h = new LuaHarness();
        h.Ok("""
            local c = db.connect("sqlite::memory:")
            local r = c:query_one("select ? as a, ? as b, ? is null as c", table.pack(1, "two", nil))
            a, b, cnull = r.a, r.b, r.c
            local r2 = c:query_one("select ?2 as x, ?1 as y", {"first", "second"})
            x, y = r2.x, r2.y
            local r3 = c:query_one("select ? as n", {json.null})
            n3 = r3.n
            """);
        Assert.Equal("1", h.Eval("a"));
        Assert.Equal("two", h.Eval("b"));
        Assert.Equal("1", h.Eval("cnull"));
        Assert.Equal("second", h.Eval("x"));
        Assert.Equal("first", h.Eval("y"));
        Assert.Equal("nil", h.Eval("n3"));
    }
}
