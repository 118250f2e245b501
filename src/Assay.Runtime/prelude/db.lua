-- db: connection objects and db.transaction over the natives (DbModule.cs).
local native = ...
local begin, commit, rollback = native.begin, native.commit, native.rollback
local pcall, error, type, select, table_pack, table_unpack = pcall, error, type, select, table.pack, table.unpack

-- Connection methods: conn:query(sql, params) is db.query(conn, sql, params).
local Connection = {
  query = db.query,
  query_one = db.query_one,
  execute = db.execute,
  close = db.close,
}
local mt = {
  __index = Connection,
  __name = "db.connection",
  __tostring = function(c) return "db.connection(" .. c.url .. ")" end,
  -- A connection that is garbage collected or leaves a <close> scope is closed.
  __gc = function(c) pcall(db.close, c) end,
  __close = function(c) pcall(db.close, c) end,
}
native.set_metatable(mt)

-- Runs fn(conn) inside a transaction on one pinned connection: commits when fn returns (its
-- results are returned), rolls back and re-raises when it raises. Nested calls use savepoints.
-- Statements of the calling task go to the transaction; other tasks' statements do not.
function db.transaction(conn, fn)
  if type(conn) ~= "table" then
    error("bad argument #1 to 'db.transaction' (connection expected, got " .. type(conn) .. ")", 2)
  end
  if type(fn) ~= "function" then
    error("bad argument #2 to 'db.transaction' (function expected, got " .. type(fn) .. ")", 2)
  end
  local ok, err = pcall(begin, conn)
  if not ok then error(err, 2) end
  local r = table_pack(pcall(fn, conn))
  if r[1] then
    ok, err = pcall(commit, conn)
    if not ok then
      pcall(rollback, conn)
      error(err, 2)
    end
    return table_unpack(r, 2, r.n)
  end
  pcall(rollback, conn)
  error(r[2], 0)
end
Connection.transaction = db.transaction
