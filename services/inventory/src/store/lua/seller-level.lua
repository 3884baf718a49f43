-- Applies a seller's StockLevelSet: on_hand becomes the seller's count, unless the event is not newer than the last
-- one applied (duplicate or stale delivery), which changes nothing. The applied version is stored with the level.
-- KEYS[1] SKU hash, KEYS[2] outbox, KEYS[3] ready marker. ARGV: sku, quantity, event aggregate version, now ms.
if state_lost(KEYS[3]) then return { 'needs_rebuild' } end
local on_hand, reserved, version, seller_version = read_level(KEYS[1])
local event_version = tonumber(ARGV[3])
if event_version <= seller_version then
  return level_reply('stale', on_hand, reserved, version, seller_version)
end
local quantity = tonumber(ARGV[2])
write_level(KEYS[2], KEYS[1], ARGV[1], quantity, reserved, version + 1, event_version, 1, tonumber(ARGV[4]))
return level_reply('ok', quantity, reserved, version + 1, event_version)
