-- Sweep: expires held reservations whose time is up and purges finished ones past retention, at most `limit` each.
-- KEYS[1..8] as in the prelude. ARGV: key root, now ms, retention ms, limit.
-- Returns { expired, purged, more } where more = 1 when a limit was hit and another sweep should follow at once.
local root, now, retention_ms, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])

if state_lost(READY) then return { 'needs_rebuild' } end

local due = redis.call('ZRANGEBYSCORE', EXPIRY, '-inf', now, 'LIMIT', 0, limit)
local expired = 0
for _, id in ipairs(due) do
  local res_key = root .. 'res:' .. id
  if tonumber(redis.call('HGET', res_key, 'state')) == HELD then
    finish(root, res_key, EXPIRED, now, retention_ms, 'expired')
    expired = expired + 1
  else
    redis.call('ZREM', EXPIRY, id)
  end
end

local old = redis.call('ZRANGEBYSCORE', PURGE, '-inf', now, 'LIMIT', 0, limit)
local purged = 0
for _, id in ipairs(old) do
  local res_key = root .. 'res:' .. id
  local r = redis.call('HMGET', res_key, 'state', 'create_ms')
  local state = tonumber(r[1])
  if state and state ~= HELD then
    redis.call('ZREM', index_key(state), index_member(tonumber(r[2]), id))
    redis.call('DEL', res_key)
    purged = purged + 1
  end
  redis.call('ZREM', PURGE, id)
end

local more = 0
if #due == limit or #old == limit then more = 1 end
return { expired, purged, more }
