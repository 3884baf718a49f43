-- Claims the oldest outbox entries for one relay at a time: a lease (KEYS[1]) held by `token` keeps events of the
-- same SKU or reservation from being published by two replicas out of order.
-- KEYS[1] lease, KEYS[2] outbox stream, KEYS[3] ready marker. ARGV: token, lease ms, count, then the ids of entries
-- this relay published since its last claim, deleted here first (one round trip per batch instead of two).
-- Returns nil when another relay holds the lease, else up to `count` entries (possibly none) and the ready marker
-- read in the same step: the entries were written under that marker, so once published they answer its waiters.
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[1] then return false end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if #ARGV > 3 then redis.call('XDEL', KEYS[2], unpack(ARGV, 4)) end
return {redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', ARGV[3]), redis.call('GET', KEYS[3]) or ''}
