-- json.object / json.array: shape markers for json.encode (and every other Lua → data
-- conversion). They set a shared metatable whose __jsontype field the converters read.
local native = ...
local OBJECT, ARRAY = native.object_mt, native.array_mt
local getmetatable, setmetatable, type, error = getmetatable, setmetatable, type, error

local function marker(mt, name)
  return function(t)
    if t == nil then return setmetatable({}, mt) end
    if type(t) ~= "table" then
      error("json." .. name .. ": expected a table or nothing, got " .. type(t), 2)
    end
    local current = getmetatable(t)
    if current ~= nil and current ~= OBJECT and current ~= ARRAY then
      -- Replacing a class metatable would silently break the object: refuse.
      error("json." .. name .. ": the table already has a metatable", 2)
    end
    return setmetatable(t, mt)
  end
end

json.null = native.null
json.object = marker(OBJECT, "object")
json.array = marker(ARRAY, "array")
