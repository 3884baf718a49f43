-- Reserve: all lines or none.
-- KEYS[1..8] as in the prelude, KEYS[9] reservation hash, then one SKU hash per line and one holds hash per line
-- (both in line order). ARGV: id, now ms, expire ms, reference, canonical lines JSON.
local res_key = KEYS[9]
local id, now, expire_ms, reference, lines_json = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5]

if state_lost(READY) then return { 'needs_rebuild' } end
local existing = redis.call('HGET', res_key, 'lines')
if existing then
  if existing ~= lines_json then return { 'conflict' } end
  return reply('ok', res_key)
end

local lines = cjson.decode(lines_json)
local n = #lines
local levels = {}
for i = 1, n do
  local qty = lines[i][2]
  local on_hand, reserved, version, seller_version = read_level(KEYS[9 + i])
  if on_hand - reserved < qty then
    return { 'exhausted', lines[i][1], int(math.max(0, on_hand - reserved)), int(qty) }
  end
  levels[i] = { on_hand, reserved, version, seller_version }
end

for i = 1, n do
  local sku, qty, l = lines[i][1], lines[i][2], levels[i]
  write_level(OUTBOX, KEYS[9 + i], sku, l[1], l[2] + qty, l[3] + 1, l[4], REASON_RESERVED, now)
  redis.call('HSET', KEYS[9 + n + i], id, int(qty))
end

redis.call('HSET', res_key, 'id', id, 'state', HELD, 'lines', lines_json, 'expire_ms', int(expire_ms),
  'create_ms', int(now), 'reference', reference, 'version', 1)
redis.call('ZADD', EXPIRY, expire_ms, id)
redis.call('ZADD', index_key(HELD), 0, index_member(now, id))
emit_reservation(res_key, now)
return reply('ok', res_key)
