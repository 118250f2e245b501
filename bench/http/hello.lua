-- The benchmark's Lua handler: hello-JSON (a table encoded per request).
-- Usage: assay hello.lua PORT [WORKERS]
local port = math.tointeger(tonumber(arg[1] or "8080"))
local workers = math.tointeger(tonumber(arg[2] or "1"))
http.serve(port, {
  GET = {
    ["/"] = function(req)
      return { json = { message = "Hello, World!" } }
    end,
  },
}, { host = "127.0.0.1", workers = workers })
