-- Shared by every inventory script that changes a SKU. A SKU hash holds on_hand, reserved, version (bumped on every
-- change) and seller_version (the last StockLevelSet applied). Numbers are written with %d so that large values never
-- turn into exponent notation.
local function int(n)
  return string.format('%d', n)
end

local function read_level(key)
  local v = redis.call('HMGET', key, 'on_hand', 'reserved', 'version', 'seller_version')
  return tonumber(v[1]) or 0, tonumber(v[2]) or 0, tonumber(v[3]) or 0, tonumber(v[4]) or 0
end

-- Writes a SKU's counters and appends its StockChanged to the outbox in the same script: state and event never part.
local function write_level(outbox, key, sku, on_hand, reserved, version, seller_version, reason, now)
  redis.call('HSET', key, 'on_hand', int(on_hand), 'reserved', int(reserved), 'version', int(version),
    'seller_version', int(seller_version))
  redis.call('XADD', outbox, '*', 'kind', 'stock', 'sku', sku, 'on_hand', int(on_hand), 'reserved', int(reserved),
    'version', int(version), 'seller_version', int(seller_version), 'reason', reason, 'at', int(now))
end

-- Every key of the inventory is gone when Redis lost its data; the ready marker is gone with them. Scripts refuse to
-- change anything until a rebuild from the ledger put the state back and set the marker again.
local function state_lost(ready_key)
  return redis.call('EXISTS', ready_key) == 0
end

-- Where an acknowledged change must wait for the ledger: the newest outbox entry ('0-0' when the outbox is empty),
-- and the ready marker's value, which a rebuild replaces, so an entry lost with Redis is never taken as relayed.
local function ledger_mark(outbox, ready_key)
  local last = redis.call('XREVRANGE', outbox, '+', '-', 'COUNT', 1)
  local tail = '0-0'
  if #last > 0 then tail = last[1][1] end
  return tail, redis.call('GET', ready_key) or ''
end

local function level_reply(status, on_hand, reserved, version, seller_version)
  return { status, int(on_hand), int(reserved), int(version), int(seller_version) }
end
