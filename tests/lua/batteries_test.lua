-- yaml, toml, base64, hex, url, crypto, regex, markdown, fs through the real binary (NativeAOT:
-- proves the libraries survive trimming). The xunit suites in tests/Assay.Runtime.Tests go deeper.
local d = yaml.parse("a: [1, 2]\nb: &x {c: true}\nd: *x\n")
assert.eq(d.a, {1, 2})
assert.eq(d.d.c, true)
assert.eq(yaml.parse(yaml.encode(d)), d)
assert.eq(#yaml.parse_all("a: 1\n---\nb: 2\n"), 2)

local t = toml.parse('x = 1\n[s]\nwhen = 1979-05-27T07:32:00Z\n')
assert.eq(t.s.when, "1979-05-27T07:32:00Z")
assert.eq(toml.parse(toml.encode(t)), t)

assert.contains(markdown.to_html("| a |\n|---|\n| 1 |\n"), "<td>1</td>")
assert.eq(markdown.to_html("<b>x</b>", {safe = true}):find("<b>", 1, true), nil)

assert.eq(regex.replace("k: v-4", "(\\w+): (?<val>[a-z]+)-(\\d+)", "$3 $val"), "4 v")
assert.is_false(regex.match(string.rep("a", 3000) .. "!", "^(a+)+$"))

assert.eq(crypto.hash("abc", "sha3-256"), "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532")
assert.eq(crypto.hash("abc", "sha224"), "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7")
assert.eq(crypto.jwt_verify("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", "your-256-bit-secret").name, "John Doe")
local tok = crypto.jwt_sign({sub = "x"}, "k", "HS384", {expires_in = 60})
assert.eq(crypto.jwt_verify(tok, "k", {algorithms = {"HS384"}}).sub, "x")

assert.eq(base64.url_encode("\255\254"), "__4")
assert.eq(base64.decode(base64.encode("\0\1\2")), "\0\1\2")
assert.eq(hex.decode(hex.encode("\0hi")), "\0hi")
assert.eq(url.parse("https://x.io/p?q=a+b").params.q, "a b")

local dir = fs.tempdir()
assert.eq(fs.stat(dir).permissions, "700")
fs.write(dir .. "/a/b.txt", "\0x")
assert.eq(fs.read(dir .. "/a/b.txt"), "\0x")
assert.eq(#fs.glob(dir .. "/**/*.txt"), 1)
assert.error(function() fs.remove(dir) end, "directory not empty")  -- removal is never silently recursive
fs.remove(dir, {recursive = true})
assert.is_false(fs.exists(dir))
