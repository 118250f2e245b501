-- assay.s3: the SigV4 signer pinned with AWS's published signing test vectors (clock injected);
-- the client against an in-process S3 that verifies every signature itself (fixtures/s3_api.lua:
-- odd keys, query strings, virtual-host addressing, copy-source, HEAD, binary bodies, errors);
-- then against a real S3 emulator, npm s3rver (tests/tools, installed by test.sh), which does
-- not check signatures but stores, lists (with continuation) and copies for real.
local s3 = require("assay.s3")
local here = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local raises = dofile(here .. "/fixtures/mock_api.lua").raises
local s3_api = dofile(here .. "/fixtures/s3_api.lua")

local EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
local ALL_BYTES = {}
for i = 0, 255 do ALL_BYTES[#ALL_BYTES + 1] = string.char(i) end
ALL_BYTES = table.concat(ALL_BYTES)

-- ---------------------------------------------------------------- AWS's SigV4 test suite
-- (aws-sig-v4-test-suite: service "service", us-east-1, 20150830T123600Z). Each case: the request
-- as the suite gives it, and the published canonical request, string to sign and signature.
local SUITE = { access_key = "AKIDEXAMPLE", secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                region = "us-east-1", service = "service" }
local function suite_sign(case)
  local req = { method = case.method or "GET", path = case.path or "/", query = case.query, body = case.body,
                headers = { Host = "example.amazonaws.com", ["X-Amz-Date"] = "20150830T123600Z" },
                session_token = case.session_token }
  for k, v in pairs(SUITE) do req[k] = v end
  for k, v in pairs(case.headers or {}) do req.headers[k] = v end
  return s3.sign(req)
end
local function creq(lines) return table.concat(lines, "\n") end
local function sts(hash) return "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n" .. hash end
local function authz(signed, sig)
  return "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=" .. signed .. ", Signature=" .. sig
end
local H, D = "host:example.amazonaws.com", "x-amz-date:20150830T123600Z"

local cases = {
  { name = "get-vanilla", creq = creq({ "GET", "/", "", H, D, "", "host;x-amz-date", EMPTY }),
    sts = "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
    sig = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31" },
  { name = "get-vanilla-query-order-key-case", query = "Param2=value2&Param1=value1",
    creq = creq({ "GET", "/", "Param1=value1&Param2=value2", H, D, "", "host;x-amz-date", EMPTY }),
    sts = "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
    sig = "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500" },
  -- same name twice: sorted by value (the original sorted whole "k=v" strings; this case agrees,
  -- the next one shows that sorting by name comes first)
  { name = "get-vanilla-query-order-key", query = "Param1=value2&Param1=Value1",
    creq = creq({ "GET", "/", "Param1=Value1&Param1=value2", H, D, "", "host;x-amz-date", EMPTY }),
    sts = "704b4cef673542d84cdff252633f065e8daeba5f168b77116f8b1bcaf3d38f89",
    sig = "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1" },
  { name = "get-vanilla-query-unreserved",
    query = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    creq = creq({ "GET", "/", "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                  H, D, "", "host;x-amz-date", EMPTY }),
    sts = "c30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6aab979177",
    sig = "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197" },
  { name = "get-vanilla-utf8-query", query = "ሴ=bar",
    creq = creq({ "GET", "/", "%E1%88%B4=bar", H, D, "", "host;x-amz-date", EMPTY }),
    sts = "eb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073",
    sig = "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04" },
  { name = "get-unreserved", path = "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    creq = creq({ "GET", "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", "", H, D, "", "host;x-amz-date", EMPTY }),
    sts = "6a968768eefaa713e2a6b16b589a8ea192661f098f37349f4e2c0082757446f9",
    sig = "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f" },
  { name = "get-utf8", path = "/ሴ",
    creq = creq({ "GET", "/%E1%88%B4", "", H, D, "", "host;x-amz-date", EMPTY }),
    sts = "2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102",
    sig = "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85" },
  { name = "get-space", path = "/example space/",
    creq = creq({ "GET", "/example%20space/", "", H, D, "", "host;x-amz-date", EMPTY }),
    sts = "63ee75631ed7234ae61b5f736dfc7754cdccfedbff4b5128a915706ee9390d86",
    sig = "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741" },
  -- path normalisation (every service but S3)
  { name = "get-slashes", path = "//example//",
    creq = creq({ "GET", "/example/", "", H, D, "", "host;x-amz-date", EMPTY }),
    sts = "cb96b4ac96d501f7c5c15bc6d67b3035061cfced4af6585ad927f7e6c985c015",
    sig = "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84" },
  { name = "get-relative-relative", path = "/example1/example2/../..",
    creq = creq({ "GET", "/", "", H, D, "", "host;x-amz-date", EMPTY }),
    sts = "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
    sig = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31" },
  { name = "get-slash-pointless-dot", path = "/./example",
    creq = creq({ "GET", "/example", "", H, D, "", "host;x-amz-date", EMPTY }),
    sts = "214d50c111a8edc4819da6a636336472c916b5240f51e9a51b5c3305180cf702",
    sig = "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5" },
  { name = "get-header-value-trim", headers = { ["My-Header1"] = " value1", ["My-Header2"] = ' "a   b   c"' },
    creq = creq({ "GET", "/", "", H, "my-header1:value1", 'my-header2:"a b c"', D, "", "host;my-header1;my-header2;x-amz-date", EMPTY }),
    sts = "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
    sig = "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736" },
  { name = "get-header-key-duplicate", headers = { ["My-Header1"] = { "value2", "value2", "value1" } },
    creq = creq({ "GET", "/", "", H, "my-header1:value2,value2,value1", D, "", "host;my-header1;x-amz-date", EMPTY }),
    sts = "dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c",
    sig = "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea" },
  { name = "post-header-value-case", method = "POST", headers = { ["My-Header1"] = "VALUE1" },
    creq = creq({ "POST", "/", "", H, "my-header1:VALUE1", D, "", "host;my-header1;x-amz-date", EMPTY }),
    sts = "d51ced243e649e3de6ef63afbbdcbca03131a21a7103a1583706a64618606a93",
    sig = "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d" },
  { name = "post-x-www-form-urlencoded", method = "POST", body = "Param1=value1",
    headers = { ["Content-Type"] = "application/x-www-form-urlencoded" },
    creq = creq({ "POST", "/", "", "content-type:application/x-www-form-urlencoded", H, D, "", "content-type;host;x-amz-date",
                  "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e" }),
    sts = "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281",
    sig = "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a" },
  { name = "post-sts-header-before", method = "POST",
    session_token = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==",
    sts = "c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6",
    sig = "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead", signed = "host;x-amz-date;x-amz-security-token" },
}
for _, case in ipairs(cases) do
  local r = suite_sign(case)
  if case.creq then assert.eq(r.canonical_request, case.creq, case.name .. ": canonical request") end
  assert.eq(r.string_to_sign, sts(case.sts), case.name .. ": string to sign")
  assert.eq(r.headers.Authorization, authz(case.signed or case.creq:match("\n([^\n]+)\n[^\n]+$"), case.sig), case.name .. ": Authorization")
end
-- S3 itself encodes once and never normalises: "//" and "." stay (the suite's normalisation is for other services)
assert.eq(s3.sign({ method = "GET", path = "/b//a/./x", headers = { host = "h" }, region = "r", access_key = "a", secret_key = "s", time = 0 })
  .canonical_request:match("^GET\n([^\n]*)"), "/b//a/./x")

-- AWS's S3 examples (examplebucket, us-east-1, 20130524T000000Z)
local EX = { region = "us-east-1", access_key = "AKIAIOSFODNN7EXAMPLE", secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", time = 1369353600 }
local function ex(req) for k, v in pairs(EX) do req[k] = v end return s3.sign(req) end
assert.eq(ex({ method = "GET", path = "/", query = "max-keys=2&prefix=J",
  headers = { host = "examplebucket.s3.amazonaws.com", ["x-amz-content-sha256"] = EMPTY } }).signature,
  "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
local ranged = ex({ method = "GET", path = "/test.txt", headers = { host = "examplebucket.s3.amazonaws.com", range = "bytes=0-9",
  ["x-amz-content-sha256"] = EMPTY } })
assert.eq(ranged.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
assert.eq(ranged.amz_date, "20130524T000000Z")
assert.eq(ranged.headers["x-amz-date"], "20130524T000000Z") -- added from the injected clock
assert.eq(ranged.credential_scope, "20130524/us-east-1/s3/aws4_request")

-- The module's own requests (reference vectors: endpoint 127.0.0.1:9000, clock at 20260101T000000Z),
-- signed the way the client assembles them: host, x-amz-content-sha256, x-amz-date + extras.
local MOD = { region = "us-east-1", access_key = "AKIAIOSFODNN7EXAMPLE", secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", time = 1767225600 }
local function mod(method, path, query, extra, body, host, region)
  local headers = { host = host or "127.0.0.1:9000", ["x-amz-content-sha256"] = body and crypto.hash(body) or EMPTY }
  for k, v in pairs(extra or {}) do headers[k] = v end
  local req = { method = method, path = path, query = query, headers = headers, body = body }
  for k, v in pairs(MOD) do req[k] = v end
  if region then req.region = region end
  return s3.sign(req)
end
local list = mod("GET", "/")
assert.eq(crypto.hash(list.canonical_request), "a3284f53cdd4e47ce4d992564798755b2fc0a35b2eede8b6561efccf4745419b")
assert.eq(list.signature, "14c894630a35cb94b5eccd36baab0c12300f6f640ad8868225308fd318b28c1c")
assert.eq(mod("PUT", "/my-bucket/hello.txt", nil, { ["content-type"] = "text/plain" }, "Hello World!").signature,
  "67f53446975cc9c96b7a5aac4118f1ec6399bfac19fa4634e125ade6e0cdb8d9")
assert.eq(mod("GET", "/my-bucket", "list-type=2&prefix=logs%2F&max-keys=10").signature,
  "3065ffe369e72f63ec289a222976a63c5bf039a2f1ff0cc1b37b880a4e4ad5d9")
assert.eq(mod("GET", "/my-bucket", { { "list-type", 2 }, { "prefix", "logs/" }, { "max-keys", 10 } }).signature,
  "3065ffe369e72f63ec289a222976a63c5bf039a2f1ff0cc1b37b880a4e4ad5d9") -- a query table is encoded the same way
assert.eq(mod("GET", "/my-bucket", "list-type=2&max-keys=0").signature, "35d9bc5fe61c60c3ec32f3ab7d3456209918ac205e8135a42e6c8ea9256c9f1b")
assert.eq(mod("PUT", "/dst/b.txt", nil, { ["x-amz-copy-source"] = "/src/a.txt" }).signature,
  "d78406ab2229ef91dc6ffc9f40a7cb2461044e92a5a5b2cee80002e8b6145ca2")
assert.eq(mod("GET", "/my-bucket/dir/my file.txt").signature, "6c3cb57d888e3a03a546e4c247af16f217c7be5a9eda00f17215b69054da6067")
local create_body = '<?xml version="1.0" encoding="UTF-8"?><CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>eu-central-2</LocationConstraint></CreateBucketConfiguration>'
assert.eq(crypto.hash(create_body), "ece803c1c22d67711fa27c640105cbd19eeb3663e5ab8666de2d3d0be1c7c6e7")
assert.eq(mod("PUT", "/test-bucket", nil, { ["content-type"] = "application/xml" }, create_body, nil, "eu-central-2").signature,
  "0e9c3ef53fb002a8574167711be18306c6c6a46beb205af293eff2dbde17962f")
assert.eq(mod("GET", "/hello.txt", nil, nil, nil, "my-bucket.s3.example.com").signature,
  "2e7af1f8d5328122726ebddea5ae83df649e4e1fa0cbd832af6b36427f5ee89f")
-- the query is canonicalised by name, then value, and a bare name becomes "name=" (the original
-- sorted whole "k=v" strings and left "uploads" bare)
assert.eq(mod("POST", "/b/k", "uploads&a-b=1&a=2").canonical_request:match("^POST\n[^\n]*\n([^\n]*)"), "a=2&a-b=1&uploads=")

-- signer input errors
raises(function() s3.sign(nil) end, "s3.sign: expected a request table, got nil")
raises(function() s3.sign({ method = "GET", region = "r", access_key = "a", secret_key = "s", headers = {} }) end, "s3.sign: headers must include host")
raises(function() s3.sign({ method = "GET", region = "r", access_key = "a", headers = { host = "h" } }) end, "s3.sign: secret_key must be a non-empty string, got nil")
raises(function() s3.sign({ method = "GET", region = "r", access_key = "a", secret_key = "s", headers = { host = "h" }, time = "now" }) end,
  "s3.sign: time must be a number of Unix seconds, got string")
raises(function() s3.sign({ method = "GET", region = "r", access_key = "a", secret_key = "s", headers = { host = "h", Host = "i" } }) end,
  "s3.sign: header 'host' is given twice")

-- ---------------------------------------------------------------- a signature-verifying S3 (in process)
local AK, SK = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
local api = s3_api.start({ access_key = AK, secret_key = SK, region = "us-east-1" })
local NOW = 1767225600
local c = s3.client({ endpoint = api.url .. "/", region = "us-east-1", access_key = AK, secret_key = SK, clock = function() return NOW end })

-- the verifier is strict: the original's bug (raw "+" in the URL, "%2B" in the signature) is refused
do
  local signed = s3.sign({ method = "GET", canonical_uri = "/bkt/a%2Bb.txt", headers = { host = api.url:match("//(.*)$"),
    ["x-amz-content-sha256"] = EMPTY }, region = "us-east-1", access_key = AK, secret_key = SK })
  signed.headers.host = nil
  local r = http.request({ method = "GET", url = api.url .. "/bkt/a+b.txt", headers = signed.headers })
  assert.eq(r.status, 403)
  assert.contains(r.body, "<Code>SignatureDoesNotMatch</Code>")
  assert.contains(r.body, "GET\n/bkt/a+b.txt\n") -- what the server saw
end

assert.eq(c.buckets:create("bkt"), true)
local req = api:last()
assert.eq(req.method, "PUT")
assert.eq(req.raw_path, "/bkt")
assert.eq(req.signed_headers, "content-type;host;x-amz-content-sha256;x-amz-date")
assert.eq(req.headers["x-amz-date"], "20260101T000000Z") -- the injected clock
assert.eq(req.headers["content-type"], "application/xml")
assert.eq(req.body, "") -- us-east-1: no CreateBucketConfiguration
assert.matches(req.headers.authorization, "^AWS4%-HMAC%-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us%-east%-1/s3/aws4_request, SignedHeaders=[%w;-]+, Signature=%x+$")
assert.eq(req.headers["x-amz-content-sha256"], EMPTY)
assert.eq(c.buckets:exists("bkt"), true)
assert.eq(api:last().query, "list-type=2&max-keys=0")
assert.eq(c.buckets:exists("missing"), false)
local buckets = c.buckets:list()
assert.eq(#buckets, 1)
assert.eq(buckets[1].name, "bkt")
assert.matches(buckets[1].creation_date, "^%d%d%d%d%-%d%d%-%d%dT")
raises(function() c.buckets:create("bkt") end, "s3: PUT /bkt HTTP 409: BucketAlreadyOwnedByYou: Your previous request")

-- odd keys: each signed over the exact path that goes on the wire, round trip byte-exact
local odd = {
  ["my file.txt"] = "/bkt/my%20file.txt",
  ["a+b.txt"] = "/bkt/a%2Bb.txt",
  ["hash#tag"] = "/bkt/hash%23tag",
  ["what?yes=1&x"] = "/bkt/what%3Fyes%3D1%26x",
  ["dir//double/slash"] = "/bkt/dir//double/slash",
  ["/leading"] = "/bkt//leading",
  ["trailing/"] = "/bkt/trailing/",
  ["ünï/ሴ.txt"] = "/bkt/%C3%BCn%C3%AF/%E1%88%B4.txt",
  ["100%.txt"] = "/bkt/100%25.txt",
  ["semi;colon:at@dollar$comma,(p)*s!'~"] = "/bkt/semi%3Bcolon%3Aat%40dollar%24comma%2C%28p%29%2As%21%27~",
  ["a&amp;b<c>"] = "/bkt/a%26amp%3Bb%3Cc%3E",
}
for key, wire in pairs(odd) do
  local body = key .. "\0" .. ALL_BYTES
  assert.eq(c.objects:put("bkt", key, body, { content_type = "application/octet-stream" }), true)
  assert.eq(api:last().raw_path, wire, key)
  assert.eq(api:last().key, key)
  assert.eq(api:last().signed_headers, "content-type;host;x-amz-content-sha256;x-amz-date")
  assert.eq(c.objects:get("bkt", key), body, key)
  assert.eq(api:last().raw_path, wire)
  assert.eq(api:last().signed_headers, "host;x-amz-content-sha256;x-amz-date")
end
-- the listing decodes XML entities (the original returned "a&amp;amp;b&lt;c&gt;")
local seen = {}
for _, o in ipairs(c.objects:list_all("bkt")) do seen[o.key] = o.size end
for key in pairs(odd) do assert.eq(seen[key], #key + 257, key) end

-- binary: every byte value, byte-exact both ways, hashed exactly as sent
assert.eq(c.objects:put("bkt", "bin/all-bytes", ALL_BYTES), true)
assert.eq(api:last().body, ALL_BYTES)
assert.eq(api:last().headers["x-amz-content-sha256"], crypto.hash(ALL_BYTES))
assert.eq(api:last().headers["content-type"], nil) -- signed only when asked for
assert.eq(api:last().signed_headers, "host;x-amz-content-sha256;x-amz-date")
assert.eq(c.objects:get("bkt", "bin/all-bytes"), ALL_BYTES)
assert.eq(c.objects:put("bkt", "empty"), true)
assert.eq(c.objects:get("bkt", "empty"), "")

-- head is a HEAD (the original downloaded the object with GET)
local head = c.objects:head("bkt", "bin/all-bytes")
assert.eq(api:last().method, "HEAD")
assert.eq(head.status, 200)
assert.eq(head.headers["content-length"], "256")
assert.eq(head.headers["etag"], '"' .. crypto.hash(ALL_BYTES, "md5") .. '"')
assert.eq(c.objects:head("bkt", "nope"), nil)
assert.eq(api:last().method, "HEAD")
assert.eq(c.objects:get("bkt", "nope"), nil)
raises(function() c.objects:get("missing-bucket", "k") end, "s3: GET /missing-bucket/k HTTP 404")

-- copy: the source is URL-encoded in x-amz-copy-source (and signed); the server decodes it back
for _, key in ipairs({ "a+b.txt", "ünï/ሴ.txt", "what?yes=1&x", "my file.txt" }) do
  assert.eq(c.objects:copy("bkt", key, "bkt", "copies/" .. key), true)
  local r = api:last()
  assert.eq(r.headers["x-amz-copy-source"], "/bkt/" .. odd[key]:sub(6))
  assert.eq(r.copy_source, { bucket = "bkt", key = key })
  assert.eq(r.signed_headers, "host;x-amz-content-sha256;x-amz-copy-source;x-amz-date")
  assert.eq(c.objects:get("bkt", "copies/" .. key), key .. "\0" .. ALL_BYTES)
end
raises(function() c.objects:copy("bkt", "nope", "bkt", "x") end, "s3: COPY /bkt/nope -> /bkt/x HTTP 404: NoSuchKey: The specified key does not exist.")
-- S3 reports a copy that fails late as 200 with an <Error> document
api.copy_fails_late = true
raises(function() c.objects:copy("bkt", "a+b.txt", "bkt", "late") end,
  "s3: COPY /bkt/a+b.txt -> /bkt/late HTTP 200: InternalError: We encountered an internal error.")

-- list: query encoded with the strict encoder, one page at a time with continuation tokens
for i = 1, 12 do c.objects:put("bkt", string.format("logs/2026 01/%02d+x.log", i), "line " .. i) end
local page = c.objects:list("bkt", { prefix = "logs/2026 01/", max_keys = 5 })
assert.eq(api:last().query, "list-type=2&prefix=logs%2F2026%2001%2F&max-keys=5")
assert.eq(page.key_count, 5)
assert.eq(page.is_truncated, true)
assert.eq(page.objects[1].key, "logs/2026 01/01+x.log")
assert.eq(page.objects[1].size, 6)
assert.matches(page.objects[1].last_modified, "^%d%d%d%d%-")
local keys, pages = {}, 0
local token
repeat
  local p = c.objects:list("bkt", { prefix = "logs/", max_keys = 5, continuation_token = token })
  pages = pages + 1
  for _, o in ipairs(p.objects) do keys[#keys + 1] = o.key end
  token = p.next_continuation_token
until not p.is_truncated
assert.eq(pages, 3)
assert.eq(#keys, 12)
assert.eq(keys[12], "logs/2026 01/12+x.log")
assert.eq(#c.objects:list_all("bkt", { prefix = "logs/", max_keys = 4 }), 12)
local tree = c.objects:list("bkt", { delimiter = "/" })
assert.contains(tree.common_prefixes, "logs/")
assert.contains(tree.common_prefixes, "copies/")

-- delete
assert.eq(c.objects:delete("bkt", "a+b.txt"), true)
assert.eq(api:last().method, "DELETE")
assert.eq(api:last().raw_path, "/bkt/a%2Bb.txt")
assert.eq(c.objects:get("bkt", "a+b.txt"), nil)
raises(function() c.buckets:delete("bkt") end, "s3: DELETE /bkt HTTP 409: BucketNotEmpty")

-- virtual-host addressing: bucket in the Host (bkt.s3.localhost:<port>), path is just the key
local v = s3.client({ endpoint = api.vhost_url, region = "us-east-1", access_key = AK, secret_key = SK, path_style = false })
assert.eq(#v.buckets:list(), 1)
assert.eq(api:last().headers.host, "s3.localhost:" .. api.url:match(":(%d+)$"))
assert.eq(v.objects:put("bkt", "v host/ü+.txt", ALL_BYTES), true)
req = api:last()
assert.eq(req.vhost, true)
assert.eq(req.headers.host, "bkt.s3.localhost:" .. api.url:match(":(%d+)$"))
assert.eq(req.raw_path, "/v%20host/%C3%BC%2B.txt")
assert.eq(v.objects:get("bkt", "v host/ü+.txt"), ALL_BYTES)
assert.eq(c.objects:get("bkt", "v host/ü+.txt"), ALL_BYTES) -- the same object through path-style
assert.eq(v.objects:head("bkt", "v host/ü+.txt").headers["content-length"], "256")
assert.eq(v.buckets:exists("bkt"), true)
assert.eq(api:last().raw_path, "/")
assert.eq(v.objects:copy("bkt", "ünï/ሴ.txt", "bkt", "vcopy"), true)
assert.eq(v.objects:list("bkt", { prefix = "v host/" }).objects[1].key, "v host/ü+.txt")
assert.eq(v.objects:delete("bkt", "vcopy"), true)

-- a region other than us-east-1: CreateBucketConfiguration with the region, signed
local eu_api = s3_api.start({ access_key = AK, secret_key = SK, region = "eu-central-2" })
local eu = s3.client({ endpoint = eu_api.url, region = "eu-central-2", access_key = AK, secret_key = SK })
assert.eq(eu.buckets:create("test-bucket"), true)
assert.eq(eu_api:last().body, create_body)
assert.eq(eu_api:last().headers["x-amz-content-sha256"], "ece803c1c22d67711fa27c640105cbd19eeb3663e5ab8666de2d3d0be1c7c6e7")
-- a client signing for the wrong region gets S3's error, Code and Message in the text
raises(function() s3.client({ endpoint = eu_api.url, region = "us-east-1", access_key = AK, secret_key = SK }).buckets:list() end,
  "s3: GET / HTTP 400: AuthorizationHeaderMalformed: the region 'us-east-1' is wrong; expecting 'eu-central-2'")
-- a wrong secret: the verifier's SignatureDoesNotMatch, parsed
raises(function() s3.client({ endpoint = api.url, region = "us-east-1", access_key = AK, secret_key = "wrong" }).objects:get("bkt", "empty") end,
  "s3: GET /bkt/empty HTTP 403: SignatureDoesNotMatch: The request signature we calculated does not match")
raises(function() s3.client({ endpoint = api.url, region = "us-east-1", access_key = "OTHER", secret_key = SK }).objects:head("bkt", "empty") end,
  "s3: HEAD /bkt/empty HTTP 403")
-- a session token is sent as x-amz-security-token and signed
local st = s3.client({ endpoint = api.url, region = "us-east-1", access_key = AK, secret_key = SK, session_token = "tok+en/=" })
assert.eq(st.objects:get("bkt", "empty"), "")
assert.eq(api:last().headers["x-amz-security-token"], "tok+en/=")
assert.eq(api:last().signed_headers, "host;x-amz-content-sha256;x-amz-date;x-amz-security-token")
-- extra headers on put are sent and signed
assert.eq(c.objects:put("bkt", "meta", "m", { headers = { ["x-amz-meta-owner"] = "ops team", ["Cache-Control"] = "no-cache" } }), true)
assert.eq(api:last().signed_headers, "cache-control;host;x-amz-content-sha256;x-amz-date;x-amz-meta-owner")
assert.eq(api:last().headers["x-amz-meta-owner"], "ops team")
-- the signed host is the one the HTTP client writes: scheme and host lower-cased
local upper = s3.client({ endpoint = "HTTP://LOCALHOST:" .. api.url:match(":(%d+)$"), region = "us-east-1", access_key = AK, secret_key = SK })
assert.eq(upper.objects:get("bkt", "empty"), "")
assert.eq(api:last().headers.host, "localhost:" .. api.url:match(":(%d+)$"))

-- ---------------------------------------------------------------- bad input: errors name the function
raises(function() s3.client() end, "s3.client: expected an options table, got nil")
raises(function() s3.client({ region = "r", access_key = "a", secret_key = "s" }) end, "s3.client: endpoint is required")
raises(function() s3.client({ endpoint = api.url, access_key = "a", secret_key = "s" }) end, "s3.client: region is required")
raises(function() s3.client({ endpoint = api.url, region = "r", secret_key = "s" }) end, "s3.client: access_key is required")
raises(function() s3.client({ endpoint = api.url, region = "r", access_key = "a" }) end, "s3.client: secret_key is required")
raises(function() s3.client({ endpoint = "minio:9000", region = "r", access_key = "a", secret_key = "s" }) end,
  "s3.client: endpoint must be http(s)://host[:port] without a path (got 'minio:9000')")
raises(function() s3.client({ endpoint = "http://h/sub", region = "r", access_key = "a", secret_key = "s" }) end,
  "s3.client: endpoint must be http(s)://host[:port] without a path")
raises(function() s3.client({ endpoint = api.url, region = "r", access_key = "a", secret_key = "s", path_style = "no" }) end,
  "s3.client: path_style must be a boolean, got string")
raises(function() s3.client({ endpoint = api.url, region = 5, access_key = "a", secret_key = "s" }) end, "s3.client: region must be a string, got number")
raises(function() c.buckets:create(nil) end, "s3.buckets:create: bucket must be a non-empty string, got nil")
raises(function() c.buckets:create("a/b") end, "s3.buckets:create: bucket must not contain '/'")
raises(function() v.buckets:create("Not A Host") end, "s3.buckets:create: bucket 'Not A Host' cannot be a host name")
raises(function() c.objects:get("bkt", "") end, "s3.objects:get: key must be a non-empty string, got an empty string")
raises(function() c.objects:get("bkt", 42) end, "s3.objects:get: key must be a non-empty string, got number")
raises(function() c.objects:head("bkt") end, "s3.objects:head: key must be a non-empty string, got nil")
raises(function() c.objects:delete("bkt", "a/../b") end, "s3.objects:delete: key 'a/../b' has a '..' segment, which a URL cannot carry")
raises(function() c.objects:put("bkt", "./x", "") end, "s3.objects:put: key './x' has a '.' segment")
raises(function() c.objects:put("bkt", "k", { a = 1 }) end, "s3.objects:put: body must be a string (bytes), got table")
raises(function() c.objects:put("bkt", "k", "b", "text/plain") end, "s3.objects:put: opts must be a table, got string")
raises(function() c.objects:put("bkt", "k", "b", { content_type = 1 }) end, "s3.objects:put: opts.content_type must be a string, got number")
raises(function() c.objects:list("bkt", { max_keys = "5" }) end, "s3.objects:list: opts.max_keys must be an integer >= 0, got 5")
raises(function() c.objects:list("bkt", { prefix = 5 }) end, "s3.objects:list: opts.prefix must be a string, got number")
raises(function() c.objects:copy("bkt", nil, "bkt", "x") end, "s3.objects:copy: key must be a non-empty string, got nil")
-- the error points at the caller's line, not into the module
local err = raises(function() c.objects:get("bkt", nil) end, "s3.objects:get")
assert.contains(err, "s3_test.lua:")
-- transport failures name the module and the URL
local dead = s3.client({ endpoint = "http://127.0.0.1:1", region = "us-east-1", access_key = AK, secret_key = SK, retries = 0 })
raises(function() dead.buckets:list() end, "s3: GET http://127.0.0.1:1/")

-- ---------------------------------------------------------------- a real S3 emulator: s3rver
local tools = here .. "/../tools"
local bin = tools .. "/node_modules/s3rver/bin/s3rver.js"
if not fs.exists(bin) then
  error("s3rver is not installed: run `npm ci --prefix tests/tools` (needs nodejs and npm; test.sh installs all three)", 0)
end
local dir = fs.tempdir("s3rver-")
local port = dofile(here .. "/fixtures/free_port.lua")()
local pidfile = dir .. "/pid"
-- s3rver's continuation tokens use DES, which Node 17+ has only in OpenSSL's legacy provider
-- (older Node refuses the flag and needs none); --service-endpoint localhost makes
-- <bucket>.s3.localhost a virtual host. The shell records its pid, then becomes node.
async.spawn(function()
  return process.run({ "sh", "-c", 'legacy=; node --openssl-legacy-provider -e "" 2>/dev/null && legacy=--openssl-legacy-provider; '
    .. 'echo $$ >"$1"; exec node $legacy "$2" -d "$3" -p "$4" -a 127.0.0.1 --service-endpoint localhost >"$5" 2>&1',
    "s3rver", pidfile, bin, dir .. "/data", tostring(port), dir .. "/s3rver.log" }, { timeout = 120 })
end)
local function stop()
  local f = io.open(pidfile)
  local pid = f and tonumber(f:read("a"))
  if f then f:close() end
  if pid then pcall(process.kill, pid, "TERM") end
end

local ok, failure = pcall(function()
  local r = s3.client({ endpoint = "http://127.0.0.1:" .. port, region = "us-east-1", access_key = "S3RVER", secret_key = "S3RVER", retries = 0 })
  local up = false
  for _ = 1, 200 do
    if pcall(r.buckets.list, r.buckets) then up = true break end
    sleep(0.05)
  end
  if not up then
    local log = io.open(dir .. "/s3rver.log")
    error("s3rver did not start: " .. (log and log:read("a") or "no log"))
  end

  assert.eq(r.buckets:create("real"), true)
  assert.eq(r.buckets:exists("real"), true)
  assert.eq(r.buckets:exists("absent"), false)
  local names = {}
  for _, b in ipairs(r.buckets:list()) do names[#names + 1] = b.name end
  assert.eq(names, { "real" })
  raises(function() r.buckets:create("real") end, "s3: PUT /real HTTP 409: BucketAlreadyExists")

  -- round trips, the 256-byte all-values object byte-exact, and odd keys s3rver can store
  -- (it has no route for "//" in a key or a leading "/", and stores a trailing "/" as a directory)
  assert.eq(r.objects:put("real", "hello.txt", "Hello World!", { content_type = "text/plain" }), true)
  assert.eq(r.objects:get("real", "hello.txt"), "Hello World!")
  assert.eq(r.objects:head("real", "hello.txt").headers["content-type"], "text/plain")
  assert.eq(r.objects:put("real", "bin/all-bytes", ALL_BYTES), true)
  assert.eq(r.objects:get("real", "bin/all-bytes"), ALL_BYTES)
  local h = r.objects:head("real", "bin/all-bytes")
  assert.eq(h.status, 200)
  assert.eq(h.headers["content-length"], "256")
  assert.eq(h.headers["etag"], '"' .. crypto.hash(ALL_BYTES, "md5") .. '"')
  for _, key in ipairs({ "my file.txt", "a+b.txt", "hash#tag", "what?yes=1&x", "ünï/ሴ.txt", "100%.txt", "semi;colon:at@$,(p)*!'~", "a&b<c>" }) do
    assert.eq(r.objects:put("real", key, key .. ALL_BYTES), true)
    assert.eq(r.objects:get("real", key), key .. ALL_BYTES, key)
    assert.eq(r.objects:head("real", key).headers["content-length"], tostring(#key + 256), key)
  end
  assert.eq(r.objects:get("real", "nope"), nil)
  assert.eq(r.objects:head("real", "nope"), nil)

  -- copy (s3rver decodes x-amz-copy-source with decodeURI, which leaves %2B alone: "+" keys are
  -- covered by the verifying server above)
  assert.eq(r.objects:copy("real", "my file.txt", "real", "copy of ünï.txt"), true)
  assert.eq(r.objects:get("real", "copy of ünï.txt"), "my file.txt" .. ALL_BYTES)
  assert.eq(r.objects:copy("real", "ünï/ሴ.txt", "real", "copies/utf8"), true)
  assert.eq(r.objects:get("real", "copies/utf8"), "ünï/ሴ.txt" .. ALL_BYTES)
  raises(function() r.objects:copy("real", "nope", "real", "x") end, "s3: COPY /real/nope -> /real/x HTTP 404: NoSuchKey")

  -- list with continuation: 23 objects, pages of 5
  for i = 1, 23 do r.objects:put("real", string.format("many/%02d.txt", i), tostring(i)) end
  local got, pages, token = {}, 0, nil
  repeat
    local p = r.objects:list("real", { prefix = "many/", max_keys = 5, continuation_token = token })
    pages = pages + 1
    assert.eq(p.key_count, #p.objects)
    for _, o in ipairs(p.objects) do got[#got + 1] = o.key end
    token = p.next_continuation_token
    if p.is_truncated then assert.not_nil(token) end
  until not p.is_truncated
  assert.eq(pages, 5)
  assert.eq(#got, 23)
  assert.eq(got[1], "many/01.txt")
  assert.eq(got[23], "many/23.txt")
  assert.eq(#r.objects:list_all("real", { prefix = "many/", max_keys = 7 }), 23)
  local first = r.objects:list("real", { prefix = "many/", max_keys = 1 })
  assert.eq(first.objects[1].size, 1)
  assert.eq(first.is_truncated, true)

  -- virtual-host style against the same server
  local vr = s3.client({ endpoint = "http://s3.localhost:" .. port, region = "us-east-1", access_key = "S3RVER", secret_key = "S3RVER", path_style = false })
  assert.eq(vr.objects:put("real", "vhost/a b+c.bin", ALL_BYTES), true)
  assert.eq(r.objects:get("real", "vhost/a b+c.bin"), ALL_BYTES)
  assert.eq(vr.objects:get("real", "bin/all-bytes"), ALL_BYTES)
  assert.eq(vr.objects:list("real", { prefix = "vhost/" }).objects[1].key, "vhost/a b+c.bin")

  -- delete objects, then the bucket
  raises(function() r.buckets:delete("real") end, "s3: DELETE /real HTTP 409: BucketNotEmpty")
  for _, o in ipairs(r.objects:list_all("real")) do assert.eq(r.objects:delete("real", o.key), true) end
  assert.eq(r.objects:get("real", "hello.txt"), nil)
  assert.eq(#r.objects:list("real").objects, 0)
  assert.eq(r.buckets:delete("real"), true)
  assert.eq(r.buckets:exists("real"), false)
end)
stop()
if not ok then error(failure, 0) end
http.stop()
