-- Rebuild: makes a SKU's reserved count equal the sum of its open holds. They differ only when Redis lost events
-- that had not reached JetStream yet; a correction is published like any other change.
-- KEYS[1] SKU hash, KEYS[2] holds hash of the SKU, KEYS[3] outbox. ARGV: sku, now ms.
-- Returns { changed, reserved before, reserved after }.
local held = 0
for _, qty in ipairs(redis.call('HVALS', KEYS[2])) do held = held + tonumber(qty) end
local on_hand, reserved, version, seller_version = read_level(KEYS[1])
if held == reserved then return { 0, int(reserved), int(held) } end
write_level(KEYS[3], KEYS[1], ARGV[1], on_hand, held, version + 1, seller_version, 6, tonumber(ARGV[2]))
return { 1, int(reserved), int(held) }
