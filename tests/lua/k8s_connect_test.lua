-- How assay.k8s finds and authenticates to the API server: kubeconfig (token, client
-- certificate, CA — inline data and file paths, contexts, $KUBECONFIG), in-cluster (service
-- account token, CA and namespace; IPv6 host), explicit URL. TLS runs against real
-- `openssl s_server` processes with certificates generated here (mutual TLS on one of them).
local dir = debug.getinfo(1, "S").source:sub(2):match("^(.*)/[^/]*$") or "."
local free_port = dofile(dir .. "/fixtures/free_port.lua")
local kube = dofile(dir .. "/fixtures/kube_api.lua")
local k8s = require("assay.k8s")

local tmp = fs.tempdir("k8s-connect-")
local function sh(cmd)
  local r = shell.exec(cmd, { cwd = tmp, timeout = 60 })
  if r.status ~= 0 then error("command failed: " .. cmd .. "\n" .. r.stderr) end
  return r.stdout
end

-- a CA, a server certificate for 127.0.0.1 and a client certificate (RSA key in PKCS#1, as
-- kubeadm writes them)
fs.write(tmp .. "/server.ext", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
fs.write(tmp .. "/client.ext", "extendedKeyUsage=clientAuth\n")
sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=test-ca 2>/dev/null")
sh("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr -subj /CN=kube-apiserver 2>/dev/null")
sh("openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile server.ext 2>/dev/null")
sh("openssl genrsa -traditional -out client.key 2048 2>/dev/null")
sh("openssl req -new -key client.key -out client.csr -subj '/O=system:masters/CN=kubernetes-admin' 2>/dev/null")
sh("openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt -days 2 -extfile client.ext 2>/dev/null")
-- a second CA the server does not use
sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout other.key -out other.crt -days 2 -subj /CN=other-ca 2>/dev/null")
assert.contains(fs.read(tmp .. "/client.key"), "BEGIN RSA PRIVATE KEY")

-- `openssl s_server -WWW` serves files below its working directory: the API objects
local pod = { apiVersion = "v1", kind = "Pod", metadata = { name = "web-1", namespace = "default" }, status = { phase = "Running" } }
fs.write(tmp .. "/www/api/v1/namespaces/default/pods/web-1", json.encode(pod))

local servers = {}
local function start_tls_server(mutual)
  local port = free_port()
  local verify = mutual and " -Verify 1" or ""
  local pid = sh("cd www && openssl s_server -accept 127.0.0.1:" .. port .. " -cert ../server.crt -key ../server.key -CAfile ../ca.crt"
    .. verify .. " -WWW -quiet >/dev/null 2>&1 & echo $!"):match("%d+")
  servers[#servers + 1] = tonumber(pid)
  for _ = 1, 200 do
    if shell.exec("bash -c 'echo > /dev/tcp/127.0.0.1/" .. port .. "' 2>/dev/null").status == 0 then return port end
    sleep(0.05)
  end
  error("openssl s_server did not start on " .. port)
end
local function stop_servers() for _, pid in ipairs(servers) do process.kill(pid) end end

local ok, err = pcall(function()
  local mtls_port = start_tls_server(true)
  local tls_port = start_tls_server(false)
  local mtls_url = "https://127.0.0.1:" .. mtls_port
  local b64 = function(file) return base64.encode(fs.read(tmp .. "/" .. file)) end
  local POD = "/api/v1/namespaces/default/pods/web-1"

  env.set("KUBERNETES_SERVICE_HOST", nil)
  env.set("KUBERNETES_SERVICE_PORT", nil)

  -- 1. kubeconfig with inline CA and client certificate data (what kind/kubeadm write)
  local inline = tmp .. "/inline.kubeconfig"
  fs.write(inline, yaml.encode({
    apiVersion = "v1", kind = "Config", ["current-context"] = "kind-test",
    clusters = { { name = "kind-test", cluster = { server = mtls_url, ["certificate-authority-data"] = b64("ca.crt") } } },
    users = { { name = "kind-test-admin", user = { ["client-certificate-data"] = b64("client.crt"), ["client-key-data"] = b64("client.key") } } },
    contexts = { { name = "kind-test", context = { cluster = "kind-test", user = "kind-test-admin", namespace = "apps" } } },
  }))
  env.set("KUBECONFIG", inline)
  local got = k8s.get(POD)
  assert.eq(got.metadata.name, "web-1")
  assert.is_true(k8s.resources:is_ready("default", "pod", "web-1"))
  local conn = k8s.connect()
  assert.eq(conn.source, "kubeconfig")
  assert.eq(conn.context, "kind-test")
  assert.eq(conn.namespace, "apps")
  assert.eq(conn.auth, "client-certificate")
  assert.eq(conn.tls, { ca = true, client_cert = true, insecure = false })
  local e

  -- the http builtin's client certificates directly, and their errors
  local hc = http.client({ ca_cert_file = tmp .. "/ca.crt", client_cert_file = tmp .. "/client.crt", client_key_file = tmp .. "/client.key" })
  local resp = hc:get(mtls_url .. POD)
  assert.eq(resp.status, 200)
  assert.eq(json.parse(resp.body).metadata.name, "web-1")
  e = assert.error(function() http.client({ client_cert = fs.read(tmp .. "/client.crt") }) end)
  assert.contains(e, "http.client: client_cert and client_key must be given together")
  e = assert.error(function() http.client({ client_cert = "garbage", client_key = "garbage" }) end)
  assert.contains(e, "http.client: invalid client certificate or key PEM")
  e = assert.error(function() http.client({ client_cert = fs.read(tmp .. "/client.crt"), client_key = fs.read(tmp .. "/other.key") }) end)
  assert.contains(e, "http.client: invalid client certificate or key PEM")
  e = assert.error(function() http.client({ client_cert_file = tmp .. "/nope.crt", client_key_file = tmp .. "/client.key" }) end)
  assert.contains(e, "http.client: failed to read client cert file")
  e = assert.error(function() http.client({ client_cert = 42, client_key = "x" }) end)
  assert.contains(e, "http.client: 'client_cert' must be a string")

  -- 2. file paths (relative to the kubeconfig), several files in $KUBECONFIG, a chosen context
  fs.write(tmp .. "/a.kubeconfig", yaml.encode({
    apiVersion = "v1", kind = "Config", ["current-context"] = "no-cert",
    clusters = { { name = "c", cluster = { server = mtls_url, ["certificate-authority"] = "ca.crt" } } },
    contexts = { { name = "no-cert", context = { cluster = "c", user = "nobody" } } },
    users = { { name = "nobody", user = json.object() } },
  }))
  fs.write(tmp .. "/b.kubeconfig", yaml.encode({
    apiVersion = "v1", kind = "Config", ["current-context"] = "ignored-second-current",
    users = { { name = "admin", user = { ["client-certificate"] = tmp .. "/client.crt", ["client-key"] = "client.key" } } },
    contexts = { { name = "with-cert", context = { cluster = "c", user = "admin" } } },
  }))
  env.set("KUBECONFIG", tmp .. "/a.kubeconfig:" .. tmp .. "/b.kubeconfig")
  conn = k8s.connect()
  assert.eq(conn.context, "no-cert") -- the first file's current-context wins
  -- no client certificate: the server refuses the handshake; the error names the module and URL
  e = assert.error(function() k8s.get(POD, { retries = 0 }) end)
  assert.contains(e, "k8s: GET " .. mtls_url .. POD .. ": ")
  assert.eq(e:match("sending the request%.?$"), nil, "the cause is shown, not only .NET's generic message: " .. e)
  got = k8s.get(POD, { context = "with-cert" })
  assert.eq(got.kind, "Pod")

  -- 3. a CA that did not sign the server's certificate is refused; so is no CA at all
  fs.write(tmp .. "/wrong-ca.kubeconfig", yaml.encode({
    apiVersion = "v1", kind = "Config", ["current-context"] = "x",
    clusters = { { name = "c", cluster = { server = mtls_url, ["certificate-authority-data"] = b64("other.crt") } } },
    users = { { name = "u", user = { ["client-certificate-data"] = b64("client.crt"), ["client-key-data"] = b64("client.key") } } },
    contexts = { { name = "x", context = { cluster = "c", user = "u" } } },
  }))
  e = assert.error(function() k8s.get(POD, { kubeconfig = tmp .. "/wrong-ca.kubeconfig", retries = 0 }) end)
  assert.contains(e, "k8s: GET " .. mtls_url .. POD)
  assert.contains(e:lower(), "remote certificate")
  -- insecure-skip-tls-verify accepts it
  fs.write(tmp .. "/insecure.kubeconfig", yaml.encode({
    apiVersion = "v1", kind = "Config", ["current-context"] = "x",
    clusters = { { name = "c", cluster = { server = mtls_url, ["insecure-skip-tls-verify"] = true } } },
    users = { { name = "u", user = { ["client-certificate-data"] = b64("client.crt"), ["client-key-data"] = b64("client.key") } } },
    contexts = { { name = "x", context = { cluster = "c", user = "u" } } },
  }))
  assert.eq(k8s.get(POD, { kubeconfig = tmp .. "/insecure.kubeconfig" }).metadata.name, "web-1")

  -- 4. a token user, against the mock API server (which checks the bearer token)
  local api = kube.start({ token = "kc-token" })
  api:add(pod)
  fs.write(tmp .. "/token.kubeconfig", yaml.encode({
    apiVersion = "v1", kind = "Config", ["current-context"] = "dev",
    clusters = { { name = "dev", cluster = { server = api.url .. "/" } } },
    users = { { name = "dev", user = { token = "kc-token" } } },
    contexts = { { name = "dev", context = { cluster = "dev", user = "dev" } } },
  }))
  assert.eq(k8s.resources:get("default", "pod", "web-1", { kubeconfig = tmp .. "/token.kubeconfig" }).metadata.name, "web-1")
  assert.eq(api.requests[#api.requests].headers["authorization"], "Bearer kc-token")
  -- tokenFile is read per request
  fs.write(tmp .. "/tok", "kc-token\n")
  fs.write(tmp .. "/tokenfile.kubeconfig", yaml.encode({
    apiVersion = "v1", kind = "Config", ["current-context"] = "dev",
    clusters = { { name = "dev", cluster = { server = api.url } } },
    users = { { name = "dev", user = { tokenFile = "tok" } } },
    contexts = { { name = "dev", context = { cluster = "dev", user = "dev" } } },
  }))
  assert.is_true(k8s.resources:exists("default", "pod", "web-1", { kubeconfig = tmp .. "/tokenfile.kubeconfig" }))
  -- ~/.kube/config when nothing else is set
  env.set("KUBECONFIG", nil)
  local home = env.get("HOME")
  env.set("HOME", tmp .. "/home")
  fs.write(tmp .. "/home/.kube/config", fs.read(tmp .. "/token.kubeconfig"))
  assert.eq(k8s.connect().source, "kubeconfig")
  assert.eq(k8s.get(POD).metadata.name, "web-1")
  env.set("HOME", home)
  -- exec plugins and broken files are clear errors
  fs.write(tmp .. "/exec.kubeconfig", yaml.encode({
    apiVersion = "v1", kind = "Config", ["current-context"] = "eks",
    clusters = { { name = "eks", cluster = { server = "https://example.invalid" } } },
    users = { { name = "eks", user = { exec = { command = "aws", args = { "eks", "get-token" } } } } },
    contexts = { { name = "eks", context = { cluster = "eks", user = "eks" } } },
  }))
  e = assert.error(function() k8s.connect({ kubeconfig = tmp .. "/exec.kubeconfig" }) end)
  assert.contains(e, "exec/auth-provider plugin, which is not supported")
  e = assert.error(function() k8s.connect({ kubeconfig = tmp .. "/token.kubeconfig", context = "nope" }) end)
  assert.contains(e, "k8s: kubeconfig has no context 'nope'")

  -- 5. in-cluster: service host/port from the environment, the service account's CA, token and namespace
  local sa = tmp .. "/sa"
  fs.write(sa .. "/token", "sa-token\n")
  fs.write(sa .. "/namespace", "payments")
  fs.copy(tmp .. "/ca.crt", sa .. "/ca.crt")
  env.set("KUBERNETES_SERVICE_HOST", "127.0.0.1")
  env.set("KUBERNETES_SERVICE_PORT", tostring(tls_port))
  conn = k8s.connect({ service_account_dir = sa })
  assert.eq(conn.source, "in-cluster")
  assert.eq(conn.base_url, "https://127.0.0.1:" .. tls_port)
  assert.eq(conn.namespace, "payments")
  assert.eq(conn.auth, "bearer")
  assert.is_true(conn.tls.ca)
  assert.eq(k8s.get(POD, { service_account_dir = sa }).metadata.name, "web-1")
  -- without the service account's CA the cluster's certificate is not trusted
  e = assert.error(function() k8s.get(POD, { service_account_dir = tmp .. "/no-such-sa", retries = 0 }) end)
  assert.contains(e, "k8s: GET https://127.0.0.1:" .. tls_port .. POD)
  -- an IPv6 service host is bracketed
  env.set("KUBERNETES_SERVICE_HOST", "fd00::1")
  assert.eq(k8s.connect({ service_account_dir = sa }).base_url, "https://[fd00::1]:" .. tls_port)
  env.set("KUBERNETES_SERVICE_PORT", nil)
  assert.eq(k8s.connect({ service_account_dir = sa }).base_url, "https://[fd00::1]:443")
  -- a kubeconfig named by $KUBECONFIG wins over the pod's environment
  env.set("KUBECONFIG", tmp .. "/token.kubeconfig")
  assert.eq(k8s.connect({ service_account_dir = sa }).source, "kubeconfig")
  env.set("KUBECONFIG", nil)
  env.set("KUBERNETES_SERVICE_HOST", nil)

  -- 6. explicit URL without a token: the service-account token, re-read on every request (rotation)
  local api2 = kube.start({ token = "sa-token" })
  api2:add(pod)
  assert.is_true(k8s.resources:exists("default", "pod", "web-1", { base_url = api2.url, service_account_dir = sa }))
  fs.write(sa .. "/token", "rotated-token")
  api2.token = "rotated-token"
  assert.is_true(k8s.resources:exists("default", "pod", "web-1", { base_url = api2.url, service_account_dir = sa }))
  assert.eq(api2.requests[#api2.requests].headers["authorization"], "Bearer rotated-token")
  -- an explicit token wins
  e = assert.error(function() k8s.get(POD, { base_url = api2.url, token = "other", service_account_dir = sa }) end)
  assert.contains(e, "HTTP 401")
end)
stop_servers()
http.stop()
fs.remove(tmp, { recursive = true })
if not ok then error(err, 0) end
print("k8s connect ok")
