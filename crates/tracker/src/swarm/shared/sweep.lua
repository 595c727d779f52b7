-- Drops up to ARGV[2] expired peers from each list of one swarm; returns {dropped, seeders,
-- leechers} (live counts after the sweep).
-- KEYS: 1 seeders, 2 leechers, 3 records. ARGV: 1 peer timeout, 2 most dropped per list.
local cutoff = tonumber(redis.call('TIME')[1]) - tonumber(ARGV[1])
local dropped = 0
for _, k in ipairs({KEYS[1], KEYS[2]}) do
  local old = redis.call('ZRANGE', k, '-inf', cutoff, 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[2]))
  if #old > 0 then
    redis.call('ZREM', k, unpack(old))
    redis.call('HDEL', KEYS[3], unpack(old))
    dropped = dropped + #old
  end
end
return {dropped, redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[2])}
