-- Extends the relay lease while this relay publishes a batch, if it still holds it. KEYS[1] lease. ARGV: token, lease ms.
-- Returns 1 when renewed, 0 when the lease is gone (it lapsed and another relay may have claimed it).
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
