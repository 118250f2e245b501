-- Globals of the lazily installed modules (AssayRuntime.LazyModules): each starts as an empty
-- table whose first use installs the module, so `http.get`, `pairs(yaml)` and `local re = regex`
-- behave as if the module had been there from the start.
local N = ...
local install, names = N.install, N.names
local rawget, next, type, setmetatable, getmetatable = rawget, next, type, setmetatable, getmetatable

local function materialize(name, proxy)
  install(name) -- idempotent
  setmetatable(proxy, nil)
  -- a prelude may have replaced the global with its own table: the placeholder a script may
  -- already hold gets its contents
  local fresh = rawget(_G, name)
  if fresh ~= proxy and type(fresh) == "table" then
    for k, v in next, fresh do
      if rawget(proxy, k) == nil then proxy[k] = v end
    end
    setmetatable(proxy, getmetatable(fresh))
  end
end

for _, name in ipairs(names) do
  local proxy = {}
  setmetatable(proxy, {
    __index = function(t, k)
      materialize(name, t)
      return t[k]
    end,
    __pairs = function(t)
      materialize(name, t)
      return next, t, nil
    end,
  })
  _G[name] = proxy
end
