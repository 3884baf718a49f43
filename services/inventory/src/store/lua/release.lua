-- Release: a held reservation gives its units back. Released or expired already → same answer; committed → refused.
-- KEYS[1..8] as in the prelude, KEYS[9] reservation hash. ARGV: key root, now ms, retention ms, reason.
local res_key, root, now, retention_ms = KEYS[9], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
if state_lost(READY) then return { 'needs_rebuild' } end
if redis.call('EXISTS', res_key) == 0 then return { 'not_found' } end
local state = expire_if_due(root, res_key, now, retention_ms)
if state == RELEASED or state == EXPIRED then return reply('ok', res_key) end
if state == COMMITTED then return reply('precondition', res_key) end
finish(root, res_key, RELEASED, now, retention_ms, ARGV[4])
return reply('ok', res_key)
