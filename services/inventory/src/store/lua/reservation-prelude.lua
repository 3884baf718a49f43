-- Shared by the scripts that change reservations. Every one of them gets the same first eight keys:
--   KEYS[1] expiry zset (id -> expire ms)   KEYS[2] purge zset (id -> when a finished reservation may go)
--   KEYS[3] outbox stream                   KEYS[4..7] state indexes HELD, COMMITTED, RELEASED, EXPIRED
--   KEYS[8] the ready marker
-- SKU keys derived from ROOT below carry the same hash tag as the declared keys, so on Redis Cluster they live in
-- the declared slot (see store/inventory-keys.ts for the rule).
-- States and stock change reasons are the contract's enum numbers.
local EXPIRY, PURGE, OUTBOX, READY = KEYS[1], KEYS[2], KEYS[3], KEYS[8]
local HELD, COMMITTED, RELEASED, EXPIRED = 1, 2, 3, 4
local REASON_RESERVED, REASON_COMMITTED, REASON_RELEASED, REASON_EXPIRED = 2, 3, 4, 5

local function index_key(state)
  return KEYS[3 + state]
end

-- Index members sort by creation time, then id, so pages are stable under ZRANGE BYLEX.
local function index_member(create_ms, id)
  return string.format('%015d', create_ms) .. ':' .. id
end

-- The reservation's fields, then the ledger mark as two more pairs (see ledger_mark).
local function reply(status, res_key)
  local out = redis.call('HGETALL', res_key)
  local tail, epoch = ledger_mark(OUTBOX, READY)
  out[#out + 1] = 'ledger_tail'
  out[#out + 1] = tail
  out[#out + 1] = 'ledger_epoch'
  out[#out + 1] = epoch
  return { status, unpack(out) }
end

local function emit_reservation(res_key, now)
  local r = redis.call('HMGET', res_key, 'id', 'state', 'lines', 'expire_ms', 'create_ms', 'reference', 'version')
  redis.call('XADD', OUTBOX, '*', 'kind', 'reservation', 'id', r[1], 'state', r[2], 'lines', r[3], 'expire_ms', r[4],
    'create_ms', r[5], 'reference', r[6], 'version', r[7], 'at', int(now))
end

-- Ends a held reservation: its units are sold (COMMITTED) or returned (RELEASED, EXPIRED), it moves to its final
-- state, leaves the expiry set and is scheduled for purge after the retention period.
local function finish(root, res_key, new_state, now, retention_ms, reason_text)
  local r = redis.call('HMGET', res_key, 'id', 'lines', 'create_ms', 'version')
  local id, create_ms, version = r[1], tonumber(r[3]), tonumber(r[4])
  local stock_reason = REASON_EXPIRED
  if new_state == COMMITTED then stock_reason = REASON_COMMITTED end
  if new_state == RELEASED then stock_reason = REASON_RELEASED end
  for _, line in ipairs(cjson.decode(r[2])) do
    local sku, qty = line[1], line[2]
    local key = root .. 'sku:' .. sku
    local on_hand, reserved, v, sv = read_level(key)
    -- A seller may have counted fewer units than were held; a sale then empties the shelf instead of going negative.
    if new_state == COMMITTED then on_hand = math.max(0, on_hand - qty) end
    write_level(OUTBOX, key, sku, on_hand, math.max(0, reserved - qty), v + 1, sv, stock_reason, now)
    redis.call('HDEL', root .. 'holds:' .. sku, id)
  end
  local member = index_member(create_ms, id)
  redis.call('ZREM', index_key(HELD), member)
  redis.call('ZADD', index_key(new_state), 0, member)
  redis.call('ZREM', EXPIRY, id)
  redis.call('ZADD', PURGE, now + retention_ms, id)
  redis.call('HSET', res_key, 'state', new_state, 'version', int(version + 1), 'finish_ms', int(now),
    'reason', reason_text)
  emit_reservation(res_key, now)
end

-- A held reservation whose time is up is expired on the spot by whichever script meets it first (sweeper or call).
local function expire_if_due(root, res_key, now, retention_ms)
  local r = redis.call('HMGET', res_key, 'state', 'expire_ms')
  if tonumber(r[1]) == HELD and tonumber(r[2]) <= now then
    finish(root, res_key, EXPIRED, now, retention_ms, 'expired')
  end
  return tonumber(redis.call('HGET', res_key, 'state'))
end
