-- Rebuild: restores a SKU from its last StockChanged unless Redis already has that version or a newer one.
-- KEYS[1] SKU hash. ARGV: on_hand, reserved, version, seller_version. Returns 1 when restored.
local current = tonumber(redis.call('HGET', KEYS[1], 'version'))
if current and current >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], 'on_hand', ARGV[1], 'reserved', ARGV[2], 'version', ARGV[3], 'seller_version', ARGV[4])
return 1
