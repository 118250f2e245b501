-- regex.compile(pattern): an object whose methods take the text only (patterns are cached
-- natively either way; this is for readability), and regex.replace with a function or table
-- as the replacement, built on regex.find so the callback runs as plain Lua (it may yield).
local find, replace, replace_first = regex.find, regex.replace, regex.replace_first
local type, error, tostring = type, error, tostring
local concat = table.concat

local function substitute(name, text, pattern, repl, all)
  local kind = type(repl)
  if kind == "string" or kind == "number" then
    if all then return replace(text, pattern, repl) end
    return replace_first(text, pattern, repl)
  end
  if kind ~= "function" and kind ~= "table" then
    error("bad argument #3 to '" .. name .. "' (string, function or table expected, got " .. kind .. ")", 3)
  end
  if type(text) ~= "string" then text = tostring(text) end
  local out, n, pos, count = {}, 0, 1, 0
  while pos <= #text + 1 do
    local m = find(text, pattern, pos)
    if not m then break end
    local value
    if kind == "function" then
      value = repl(m.match, m)
    else
      value = repl[m.groups[1] or m.match]
    end
    if value == nil or value == false then
      value = m.match
    elseif type(value) ~= "string" and type(value) ~= "number" then
      error(name .. ": replacement function returned a " .. type(value), 3)
    end
    n = n + 1; out[n] = text:sub(pos, m.start - 1)
    n = n + 1; out[n] = tostring(value)
    count = count + 1
    if m["end"] >= m.start then
      pos = m["end"] + 1
    else
      -- empty match: copy one (UTF-8) character and move on
      local ch = text:match("^[%z\1-\127\194-\244][\128-\191]*", m.start) or text:sub(m.start, m.start)
      if ch == "" then pos = #text + 1; break end
      n = n + 1; out[n] = ch
      pos = m.start + #ch
    end
    if not all then break end
  end
  n = n + 1; out[n] = text:sub(pos)
  return concat(out), count
end

regex.replace = function(text, pattern, repl) return substitute("regex.replace", text, pattern, repl, true) end
regex.replace_first = function(text, pattern, repl) return substitute("regex.replace_first", text, pattern, repl, false) end

local methods = {}
for _, name in ipairs({ "match", "find", "find_all", "replace", "replace_first", "split" }) do
  local fn = regex[name]
  methods[name] = function(self, text, ...) return fn(text, self.pattern, ...) end
end
local mt = { __index = methods, __name = "regex", __tostring = function(self) return "regex(" .. self.pattern .. ")" end }

function regex.compile(pattern)
  if type(pattern) ~= "string" then
    error("bad argument #1 to 'regex.compile' (string expected, got " .. type(pattern) .. ")", 2)
  end
  regex.match("", pattern) -- compiles (and caches) now, so a bad pattern fails here
  return setmetatable({ pattern = pattern }, mt)
end
