-- Reads several SKUs at one instant. KEYS[1] ready marker, then SKU hashes. Returns on_hand, reserved, version per
-- SKU, flat; or { 'needs_rebuild' } when Redis lost the state (zeros would claim everything sold out).
if redis.call('EXISTS', KEYS[1]) == 0 then return { 'needs_rebuild' } end
local out = {}
for i = 2, #KEYS do
  local v = redis.call('HMGET', KEYS[i], 'on_hand', 'reserved', 'version')
  out[#out + 1] = v[1] or '0'
  out[#out + 1] = v[2] or '0'
  out[#out + 1] = v[3] or '0'
end
return out
