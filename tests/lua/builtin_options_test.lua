-- Options tables refuse keys they do not know (fs, json, http, ws, http.serve): the error names the
-- function and the key, at the caller's line, and nothing is done. Known options keep working.
-- Real files and real HTTP on 127.0.0.1.
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local local_server = dofile(here .. "/fixtures/local_server.lua")

local function fails(fn, text)
  local ok, err = pcall(fn)
  assert.eq(ok, false, "expected an error containing: " .. text)
  assert.contains(err, text)
  return err
end

-- fs
local dir = fs.tempdir()
fs.write(dir .. "/sub/a.txt", "a")
fails(function() fs.readdir(dir, { dpeth = 1 }) end, "fs.readdir: unknown option 'dpeth' (known: depth, recursive)")
assert.eq(#fs.readdir(dir, { depth = 1 }), 1)
assert.eq(#fs.readdir(dir, { recursive = false }), 1)
assert.eq(#fs.readdir(dir), 2)
fails(function() fs.copy(dir .. "/sub/a.txt", dir .. "/b.txt", { allow_specail = true }) end,
  "fs.copy: unknown option 'allow_specail' (known: allow_special)")
assert.eq(fs.exists(dir .. "/b.txt"), false)
-- a typo in remove's options used to be ignored: the call then failed for the wrong reason
-- ("directory not empty") or, with {forse = true} on a missing path, raised instead of passing
local err = fails(function() fs.remove(dir, { recursve = true }) end,
  "fs.remove: unknown option 'recursve' (known: recursive, force)")
assert.contains(err, "builtin_options_test.lua:")
fails(function() fs.remove(dir .. "/none", { forse = true }) end, "fs.remove: unknown option 'forse'")
assert.eq(fs.is_dir(dir), true)
fails(function() fs.readdir(dir, "deep") end, "bad argument #2 to 'fs.readdir' (options table expected, got string)")
fails(function() fs.readdir(dir, { depth = 0 }) end, "fs.readdir: option 'depth' must be an integer >= 1, got 0")
-- one path check for every builtin taking a path
fails(function() fs.read(42) end, "bad argument #1 to 'fs.read' (path expected, got number)")
fails(function() fs.read("") end, "fs.read: path must not be empty")
fails(function() disk.usage("") end, "disk.usage: path must not be empty")
fs.remove(dir .. "/none", { force = true })
fs.remove(dir, { recursive = true })
assert.eq(fs.exists(dir), false)

-- json
fails(function() json.encode({ a = 1 }, { indnet = 2 }) end, "json.encode: unknown option 'indnet' (known: pretty, indent)")
fails(function() json.parse("null", { nul = false }) end, "json.parse: unknown option 'nul' (known: null)")
fails(function() json.encode(1, { indent = 99 }) end, "json.encode: option 'indent' must be an integer from 0 to 16, got 99")
fails(function() json.encode(1, { [1] = true }) end, "json.encode: unknown option '[1]'")
assert.eq(json.encode({ a = 1 }, { indent = 1 }), '{\n "a": 1\n}')
assert.eq(json.encode({ a = 1 }, { pretty = false }), '{"a":1}')
assert.eq(json.parse("[null]", { null = false })[1], false)

-- http client: checked before anything is sent
local hits = 0
local base = local_server.start({ GET = { ["/t"] = function() hits = hits + 1 return { body = "ok" } end } })
fails(function() http.get(base .. "/t", { timeot = 5 }) end,
  "http.get: unknown option 'timeot' (known: headers, query, body, json, form, timeout, connect_timeout, follow_redirects, on_event)")
fails(function() http.post(base .. "/t", "x", { hedaers = {} }) end, "http.post: unknown option 'hedaers'")
fails(function() http.request({ method = "GET", url = base .. "/t", tiemout = 1 }) end, "http.request: unknown option 'tiemout'")
fails(function() http.client({ base_ulr = base }) end, "http.client: unknown option 'base_ulr'")
local c = http.client({ base_url = base, timeout = 5 })
err = fails(function() c:get("/t", { quer = {} }) end, "http.get: unknown option 'quer'")
assert.contains(err, "builtin_options_test.lua:")
assert.eq(hits, 0)
assert.eq(c:get("/t", { query = { x = 1 }, timeout = 5 }).body, "ok")
assert.eq(http.get(base .. "/t", { timeout = 5, headers = { A = "b" }, follow_redirects = true }).body, "ok")
assert.eq(http.request({ method = "GET", url = base .. "/t", timeout = 5 }).body, "ok")
assert.eq(hits, 3)
fails(function() http.static(here, { dotfile = true }) end, "http.static: unknown option 'dotfile' (known: dotfiles)")
-- http.serve's options: refused before anything listens, at the caller's line
err = fails(function() http.serve(0, { GET = {} }, { hots = "127.0.0.1" }) end, "http.serve: unknown option 'hots'")
assert.contains(err, "builtin_options_test.lua:")
fails(function() http.serve(0, { GET = {} }, { read_timeout = 0 }) end,
  "http.serve: option 'read_timeout' must be a positive number of seconds, got 0")

-- ws
fails(function() ws.connect("ws://127.0.0.1:1/", { timout = 1 }) end,
  "ws.connect: unknown option 'timout' (known: headers, timeout, protocols, max_message)")

http.stop()
