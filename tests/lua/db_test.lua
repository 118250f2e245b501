-- db on SQLite as a script author sees it (run by `assay test`; PostgreSQL is covered by xunit).
local c = db.connect("sqlite::memory:")
c:execute("create table users (id integer primary key, name text not null, admin boolean, meta json)")
local r = c:execute("insert into users (name, admin, meta) values (?, ?, ?)", { "ann", true, { team = "ops" } })
assert.eq(r.rows_affected, 1)
assert.eq(r.last_insert_id, 1)
db.execute(c, "insert into users (name, admin) values (?, ?)", { "bob", false })

local rows = db.query(c, "select * from users order by id")
assert.eq(#rows, 2)
assert.eq(rows[1].admin, true)
assert.eq(rows[1].meta.team, "ops")
assert.eq(rows[2].meta, nil)
assert.eq(db.query_one(c, "select name from users where id = ?", { 2 }).name, "bob")
assert.eq(db.query_one(c, "select * from users where id = ?", { 99 }), nil)

-- transactions: commit returns fn's results, errors roll back and propagate
assert.eq(db.transaction(c, function(tx)
  tx:execute("insert into users (name) values ('cy')")
  return "ok"
end), "ok")
local ok, err = pcall(db.transaction, c, function()
  c:execute("delete from users")
  error("changed my mind")
end)
assert.eq(ok, false)
assert.contains(err, "changed my mind")
assert.eq(c:query_one("select count(*) as n from users").n, 3)

-- query timeouts
local ok2, err2 = pcall(c.query, c, "with recursive r(i) as (select 1 union all select i + 1 from r) select count(*) from r",
  nil, { timeout = 0.2 })
assert.eq(ok2, false)
assert.contains(err2, "db.query: query timed out after 0.2 s")

assert.error(function() db.query(c, "select nonsense from nowhere") end, "db.query: SQLite Error")
assert.error(function() db.connect("ftp://x") end, "db.connect: unsupported URL scheme")
c:close()
assert.error(function() c:query("select 1") end, "db.query: connection is closed")
