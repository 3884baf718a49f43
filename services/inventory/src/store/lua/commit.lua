-- Commit: a held reservation becomes a sale. Repeating it answers the same; expired or released → 'precondition'.
-- KEYS[1..8] as in the prelude, KEYS[9] reservation hash. ARGV: key root, now ms, retention ms.
local res_key, root, now, retention_ms = KEYS[9], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
if state_lost(READY) then return { 'needs_rebuild' } end
if redis.call('EXISTS', res_key) == 0 then return { 'not_found' } end
local state = expire_if_due(root, res_key, now, retention_ms)
if state == COMMITTED then return reply('ok', res_key) end
if state ~= HELD then return reply('precondition', res_key) end
finish(root, res_key, COMMITTED, now, retention_ms, 'committed')
return reply('ok', res_key)
