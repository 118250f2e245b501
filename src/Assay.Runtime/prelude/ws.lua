-- ws: WebSocket connections (client and http.serve's ws routes) over Builtins/WsModule.cs.
local N = ...
local type, error, setmetatable, getmetatable, pcall = type, error, setmetatable, getmetatable, pcall
local n_send, n_recv, n_close, n_free = N.send, N.recv, N.close, N.free

-- (errors here always come from the natives: re-raise them at the caller's line)
local function fail(e, level)
  if type(e) == "string" then error((e:gsub("^%[assay %a+%]:%d+: ", "", 1)), level + 1) end
  error(e, 0)
end

-- calls a native and re-raises its error at the caller of the public function
local function call(fn, ...)
  local r = table.pack(pcall(fn, ...))
  if not r[1] then fail(r[2], 3) end
  return table.unpack(r, 2, r.n)
end

local Conn = {}
Conn.__name = "ws.connection"
Conn.__index = Conn
Conn.__gc = function(c) if c._owned then pcall(n_free, c._id) end end

-- conn:send(data, kind?) — kind "text" or "binary"; default: text when data is valid UTF-8
function Conn:send(data, kind) return (call(n_send, self._id, data, kind)) end
-- conn:recv(timeout?) → data, "text"|"binary"; nil, "closed" once the peer has closed
function Conn:recv(timeout)
  local msg, kind = call(n_recv, self._id, timeout)
  return msg, kind
end
function Conn:close(code, reason) return (call(n_close, self._id, code, reason)) end

ws = {}

function ws.connect(url, opts)
  if type(url) ~= "string" then error("ws.connect: first argument must be a URL string", 2) end
  local id, protocol = call(N.connect, url, opts)
  return setmetatable({ _id = id, _owned = true, protocol = protocol ~= "" and protocol or nil }, Conn)
end

local function check(fname, conn)
  if getmetatable(conn) ~= Conn then error(fname .. ": first argument must be a ws connection", 3) end
end

function ws.send(conn, msg, kind) check("ws.send", conn); return (call(n_send, conn._id, msg, kind)) end
function ws.close(conn, code, reason) check("ws.close", conn); return (call(n_close, conn._id, code, reason)) end
-- ws.recv(conn) raises once the connection is closed (the original's behaviour); conn:recv returns nil
function ws.recv(conn, timeout)
  check("ws.recv", conn)
  local msg, kind = call(n_recv, conn._id, timeout)
  if msg == nil then error("ws.recv: connection closed", 2) end
  return msg, kind
end

return {
  run_server = function(fn, id)
    local conn = setmetatable({ _id = id }, Conn)
    return fn(conn)
  end,
}
