-- Claims the oldest outbox entries for one relay at a time: a lease (KEYS[1]) held by `token` keeps events of the
-- same SKU or reservation from being published by two replicas out of order.
-- KEYS[1] lease, KEYS[2] outbox stream. ARGV: token, lease ms, count.
-- Returns nil when another relay holds the lease, else up to `count` entries (possibly none).
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[1] then return false end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', ARGV[3])
