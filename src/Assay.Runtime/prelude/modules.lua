-- Searchers for assay.* modules, appended after Lua's own (preload, package.path, C).
local native = ...
local embedded, global_dir = native.embedded, native.global_dir
local io_open, load, error, concat = io.open, load, error, table.concat

local function base_of(name)
  if name:sub(1, 6) ~= "assay." then return nil end
  return (name:sub(7):gsub("%.", "/"))
end

local function read(path)
  local f = io_open(path, "rb")
  if not f then return nil end
  local src = f:read("a")
  f:close()
  return src
end

local function compile(name, src, chunkname, where)
  local fn, err = load(src, chunkname, "t")
  if not fn then
    error("error loading module '" .. name .. "' from " .. where .. ":\n\t" .. err, 0)
  end
  return fn, where
end

local function filesystem_searcher(name)
  local base = base_of(name)
  if not base then return "\n\tnot an assay.* module: " .. name end
  local tried = {}
  for _, dir in ipairs({ "./modules", global_dir }) do
    for _, path in ipairs({ dir .. "/" .. base .. ".lua", dir .. "/" .. base .. "/init.lua" }) do
      local src = read(path)
      if src then return compile(name, src, "@" .. path, path) end
      tried[#tried + 1] = "\n\tno file '" .. path .. "'"
    end
  end
  return concat(tried)
end

local function embedded_searcher(name)
  local base = base_of(name)
  if not base then return nil end -- the filesystem searcher already said so
  for _, rel in ipairs({ base .. ".lua", base .. "/init.lua" }) do
    local src = embedded(rel)
    if src then return compile(name, src, "@assay/" .. rel, "embedded stdlib " .. rel) end
  end
  return "\n\tno embedded stdlib file: " .. base .. ".lua"
end

local searchers = package.searchers
searchers[#searchers + 1] = filesystem_searcher
searchers[#searchers + 1] = embedded_searcher
