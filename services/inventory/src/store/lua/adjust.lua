-- Adjust: an operator sets or shifts on_hand; the result may not go below what is reserved.
-- KEYS[1] SKU hash, KEYS[2] outbox, KEYS[3] request-id key (remembers the answer of an idempotent request),
-- KEYS[4] ready marker.
-- ARGV: sku, mode ('set' or 'delta'), value, now ms, request id ('' for none), request-id memory ms.
-- Returns the level and the ledger mark (see ledger_mark) the answer waits for.
local sku, mode, value, now, request_id = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
if state_lost(KEYS[4]) then return { 'needs_rebuild' } end
if request_id ~= '' then
  local previous = redis.call('GET', KEYS[3])
  if previous then
    local p = cjson.decode(previous)
    local out = level_reply('ok', p[1], p[2], p[3], p[4])
    out[6], out[7] = ledger_mark(KEYS[2], KEYS[4])
    return out
  end
end

local on_hand, reserved, version, seller_version = read_level(KEYS[1])
local target = value
if mode == 'delta' then target = on_hand + value end
if target < reserved then return { 'below_reserved', int(target), int(reserved) } end
if target ~= on_hand then
  version = version + 1
  write_level(KEYS[2], KEYS[1], sku, target, reserved, version, seller_version, 6, now)
end
if request_id ~= '' then
  redis.call('SET', KEYS[3], cjson.encode({ target, reserved, version, seller_version }), 'PX', ARGV[6])
end
local out = level_reply('ok', target, reserved, version, seller_version)
out[6], out[7] = ledger_mark(KEYS[2], KEYS[4])
return out
