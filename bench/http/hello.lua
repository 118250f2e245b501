-- The benchmark's Lua handler: hello-JSON (a table encoded per request).
-- Usage: assay hello.lua PORT
local port = math.tointeger(tonumber(arg[1] or "8080"))
http.serve(port, {
  GET = {
    ["/"] = function(req)
      return { json = { message = "Hello, World!" } }
    end,
  },
}, { host = "127.0.0.1" })
