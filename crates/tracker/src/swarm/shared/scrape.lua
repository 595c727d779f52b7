-- The counts of one swarm (BEP 48), live peers only (by Redis's clock).
-- KEYS: 1 seeders, 2 leechers, 3 completed. ARGV: 1 peer timeout.
local cutoff = tonumber(redis.call('TIME')[1]) - tonumber(ARGV[1])
local live = '(' .. cutoff
local done = redis.call('GET', KEYS[3]) or '0'
return {redis.call('ZCOUNT', KEYS[1], live, '+inf'), redis.call('ZCOUNT', KEYS[2], live, '+inf'),
  tonumber(done)}
