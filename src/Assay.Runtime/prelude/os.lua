-- os.date(format, time, utc_offset_hours): the original Assay's third argument renders the time at
-- a fixed offset from UTC (hours, fractions allowed: 5.5 is +05:30). Without it, Lua's own os.date.
local date, time, type, floor, error = os.date, os.time, type, math.floor, error

os.date = function(format, t, utc_offset_hours)
  if utc_offset_hours == nil then return date(format, t) end
  if type(utc_offset_hours) ~= "number" or utc_offset_hours ~= utc_offset_hours
     or utc_offset_hours < -24 or utc_offset_hours > 24 then
    error("bad argument #3 to 'date' (UTC offset in hours from -24 to 24 expected, got " .. tostring(utc_offset_hours) .. ")", 2)
  end
  format = format or "%c"
  if format:sub(1, 1) == "!" then format = format:sub(2) end
  return date("!" .. format, (t or time()) + floor(utc_offset_hours * 3600 + 0.5))
end
