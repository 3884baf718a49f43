-- Rebuild: restores a reservation from its last ReservationChanged unless Redis already has that version or newer.
-- KEYS[1..8] as in the prelude, KEYS[9] reservation hash.
-- ARGV: key root, id, state, lines JSON, expire ms, create ms, reference, version, finish ms, retention ms.
local res_key, root, id, state = KEYS[9], ARGV[1], ARGV[2], tonumber(ARGV[3])
local version = tonumber(ARGV[8])
local current = redis.call('HMGET', res_key, 'version', 'state', 'create_ms', 'lines')
if current[1] and tonumber(current[1]) >= version then return 0 end
if current[2] then
  -- An older copy (restored earlier or written before the loss): take it out of its index and holds first.
  redis.call('ZREM', index_key(tonumber(current[2])), index_member(tonumber(current[3]), id))
  for _, line in ipairs(cjson.decode(current[4])) do redis.call('HDEL', root .. 'holds:' .. line[1], id) end
end

redis.call('HSET', res_key, 'id', id, 'state', state, 'lines', ARGV[4], 'expire_ms', ARGV[5], 'create_ms', ARGV[6],
  'reference', ARGV[7], 'version', ARGV[8])
redis.call('ZADD', index_key(state), 0, index_member(tonumber(ARGV[6]), id))
if state == HELD then
  redis.call('ZADD', EXPIRY, ARGV[5], id)
  redis.call('ZREM', PURGE, id)
  for _, line in ipairs(cjson.decode(ARGV[4])) do redis.call('HSET', root .. 'holds:' .. line[1], id, int(line[2])) end
else
  redis.call('HSET', res_key, 'finish_ms', ARGV[9])
  redis.call('ZREM', EXPIRY, id)
  redis.call('ZADD', PURGE, tonumber(ARGV[9]) + tonumber(ARGV[10]), id)
end
return 1
