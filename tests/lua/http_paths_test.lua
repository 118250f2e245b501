-- Files below a root (issue 12, items 3 and 4): http.static and template includes resolve every
-- symlink and refuse what lands outside the root; dotfiles are not served unless allowed; a file
-- symlink inside the root is served with the target's size.
local dir = fs.tempdir()
local function ln(target, link) assert.eq(process.run({ "ln", "-s", target, link }).status, 0) end

local root = dir .. "/public"
fs.mkdir(root .. "/sub")
fs.write(root .. "/hello.txt", "hello static\n")
fs.write(root .. "/sub/index.html", "<h1>index</h1>\n")
fs.write(root .. "/.env", "SECRET=1\n")
fs.mkdir(root .. "/.git")
fs.write(root .. "/.git/config", "[core]\n")
fs.write(dir .. "/outside.txt", "outside\n")
ln("/etc", root .. "/etc")                       -- a directory link out of the root
ln(dir .. "/outside.txt", root .. "/out.txt")   -- a file link out of the root
ln(dir, root .. "/up")                           -- the root's parent, reached through a link
ln("hello.txt", root .. "/link.txt")             -- a file link inside the root (item 4)
ln("sub", root .. "/alias")                      -- a directory link inside the root

_SERVER_PORT = nil
local server = async.spawn(function()
  return http.serve(0, { GET = {
    ["/static/*"] = http.static(root),
    ["/dot/*"] = http.static(root, { dotfiles = true }),
  } }, { host = "127.0.0.1" })
end)
while not _SERVER_PORT do sleep(0.005) end
local base = "http://127.0.0.1:" .. _SERVER_PORT

-- escapes through links: refused, never the file
for _, path in ipairs({ "/static/etc/hostname", "/static/etc/passwd", "/static/out.txt", "/static/up/outside.txt" }) do
  local r = http.get(base .. path)
  assert.eq(r.status, 403, path)
  assert.eq(r.body, "forbidden\n", path)
end

-- links that stay inside are followed; the target's bytes and size are sent (not the link's)
local r = http.get(base .. "/static/link.txt")
assert.eq(r.status, 200)
assert.eq(r.body, "hello static\n")
assert.eq(r.headers["content-length"], "13")
assert.eq(http.get(base .. "/static/alias/").body, "<h1>index</h1>\n")
assert.eq(http.get(base .. "/static/alias/index.html").body, "<h1>index</h1>\n")
assert.eq(http.get(base .. "/static/hello.txt").body, "hello static\n")
assert.eq(http.get(base .. "/static/up/public/hello.txt").body, "hello static\n") -- out and back in: inside
r = http.request({ method = "HEAD", url = base .. "/static/link.txt" })
assert.eq(r.status, 200)
assert.eq(r.headers["content-length"], "13")

-- dotfiles: 404 by default (existence not revealed), served with dotfiles = true
for _, path in ipairs({ "/static/.env", "/static/.git/config", "/static/sub/../.env", "/static/%2eenv" }) do
  assert.eq(http.get(base .. path).status, 404, path)
end
assert.eq(http.get(base .. "/dot/.env").body, "SECRET=1\n")
assert.eq(http.get(base .. "/dot/.git/config").body, "[core]\n")
assert.eq(http.get(base .. "/dot/etc/hostname").status, 403) -- dotfiles do not lift the root

local ok, err = pcall(http.static, root, { dotfiles = "yes" })
assert.eq(ok, false)
assert.contains(err, "option 'dotfiles' must be a boolean")
http.stop()
server.await()

-- templates: an include through a directory link out of the folder is not found
local tpl = dir .. "/tpl"
fs.mkdir(tpl .. "/parts")
fs.write(tpl .. "/parts/greet.txt", "hi {{ name }}")
ln("/etc", tpl .. "/etcdir")
ln("parts", tpl .. "/partlink")
fs.write(tpl .. "/escape.j2", "{% include 'etcdir/hostname' %}")
fs.write(tpl .. "/inside.j2", "{% include 'partlink/greet.txt' %}!")
ok, err = pcall(template.render, tpl .. "/escape.j2")
assert.eq(ok, false)
assert.contains(err, "outside the template folder")
assert.eq(template.render(tpl .. "/inside.j2", { name = "ada" }), "hi ada!")
fs.remove(dir, { recursive = true })
print("confined paths ok")
