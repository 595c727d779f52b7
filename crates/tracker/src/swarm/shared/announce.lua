-- One announce, atomically: trim a few expired peers, upsert the announcer keyed by its
-- address, move it between the seeder and leecher sets, count a completion, and sample the
-- reply. Every key shares the swarm's hash tag (one Redis Cluster slot).
--
-- KEYS: 1 seeders (zset addr -> last seen), 2 leechers (zset), 3 records (hash addr ->
--       peer id .. flags .. traffic_at,uploaded,downloaded), 4 completed (counter)
-- ARGV: 1 addr, 2 peer id (20 bytes), 3 event (n/c/s/x: none, completed, started, stopped),
--       4 seeder (1/0), 5 uploaded, 6 downloaded, 7 numwant, 8 named (1/0), 9 peer timeout,
--       10 min credit interval, 11 completed-count TTL, 12 expired peers trimmed per list,
--       13 a random number (the reply's sampling offset)
-- Returns one string: "seeders,leechers,has previous,prev uploaded,prev downloaded,elapsed,
--           early,address taken:" then each peer's address after a byte holding its length
local s, l, p, c = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local addr, pid, event = ARGV[1], ARGV[2], ARGV[3]
local seeder = ARGV[4] == '1'
local numwant = tonumber(ARGV[7])
local timeout = tonumber(ARGV[9])
-- Redis's clock, not the instance's: every instance ages peers alike.
local now = tonumber(redis.call('TIME')[1])
local cutoff = now - timeout
local live = '(' .. cutoff

-- Each redis.call costs a few microseconds of its own, so announces take turns: this one
-- trims the expired of one list only.
local seed = tonumber(ARGV[13])
local k = (seed % 2 == 0) and s or l
local old = redis.call('ZRANGE', k, '-inf', cutoff, 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[12]))
if #old > 0 then
  redis.call('ZREM', k, unpack(old))
  redis.call('HDEL', p, unpack(old))
end

local rec = redis.call('HGET', p, addr)
local found, rpid, was_seeder, was_completed, at, rup, rdown = false, nil, false, false, 0, '0', '0'
if rec then
  found = true
  rpid = string.sub(rec, 1, 20)
  local flags = string.byte(rec, 21) - 48
  was_completed = flags % 2 == 1
  was_seeder = flags >= 2
  local a
  a, rup, rdown = string.match(rec, '^(%d+),(%d+),(%d+)$', 22)
  at = tonumber(a)
end

local function counts()
  return redis.call('ZCOUNT', s, live, '+inf'), redis.call('ZCOUNT', l, live, '+inf')
end

if found and ARGV[8] == '1' and rpid ~= pid then
  -- A named address may not touch another peer's record.
  local cs, cl = counts()
  return cs .. ',' .. cl .. ',0,0,0,0,0,1:'
end

if event == 'x' then
  local same = found and rpid == pid
  if found then
    redis.call('ZREM', was_seeder and s or l, addr)
    redis.call('HDEL', p, addr)
  end
  local cs, cl = counts()
  if same then
    return cs .. ',' .. cl .. ',1,' .. rup .. ',' .. rdown .. ',' .. (now - at) .. ',0,0:'
  end
  return cs .. ',' .. cl .. ',0,0,0,0,0,0:'
end

local same = found and rpid == pid
local elapsed = same and (now - at) or 0
-- Regular announces only refresh the accounting baseline at the pace the tracker asked for.
local early = same and event == 'n' and elapsed < tonumber(ARGV[10])
local completes
if found then
  -- A restarted client (new peer id) keeps the flag: same address, same download.
  completes = event == 'c' and not was_seeder and not was_completed
  if seeder ~= was_seeder then
    redis.call('ZREM', was_seeder and s or l, addr)
  end
else
  completes = event == 'c'
end
local new_at, new_up, new_down = now, ARGV[5], ARGV[6]
if early then
  new_at, new_up, new_down = at, rup, rdown
end
local flags = ((was_completed or completes) and 1 or 0) + (seeder and 2 or 0)
redis.call('HSET', p, addr, pid .. flags .. new_at .. ',' .. new_up .. ',' .. new_down)
redis.call('ZADD', seeder and s or l, now, addr)
if completes then
  redis.call('INCR', c)
end
-- A swarm nobody announces to for a whole timeout is gone by Redis's own expiry. The
-- completed count lives longer; refreshing it now and then is enough.
for _, key in ipairs({s, l, p}) do
  redis.call('EXPIRE', key, timeout + 60)
end
if completes or seed % 32 == 0 then
  redis.call('EXPIRE', c, tonumber(ARGV[11]))
end

local cs, cl = counts()
local head = table.concat({cs, cl, same and 1 or 0, same and rup or '0', same and rdown or '0', elapsed,
  early and 1 or 0, 0}, ',') .. ':'
-- Peers as one string, each address after its length (6: IPv4, 18: IPv6): one bulk reply
-- instead of one per peer, which the tracker parses without an allocation each.
local peers, picked = {}, 0

-- Appends up to n live members of k other than the announcer: a window of consecutive ranks
-- at a random offset among the live ones (a zset's ranks follow last-seen times, so the
-- expired are the lowest), wrapping once. O(log size + n), whatever the swarm.
local function pick(k, n, live_n)
  if n <= 0 or live_n == 0 then
    return
  end
  local first = redis.call('ZCARD', k) - live_n
  local want = math.min(n + 1, live_n)
  local off = 0
  if live_n > want then
    off = seed % live_n
  end
  local got = redis.call('ZRANGE', k, first + off, first + math.min(off + want, live_n) - 1)
  if #got < want then
    local more = redis.call('ZRANGE', k, first, first + want - #got - 1)
    for i = 1, #more do
      got[#got + 1] = more[i]
    end
  end
  local added = 0
  for i = 1, #got do
    if added == n then
      return
    end
    if got[i] ~= addr then
      picked = picked + 1
      peers[picked] = string.char(#got[i]) .. got[i]
      added = added + 1
    end
  end
end

if numwant > 0 then
  if seeder then
    -- Seeders need no seeders.
    pick(l, numwant, cl)
  else
    local others = cl - 1
    local from_seeders = math.min(cs, numwant)
    if cs + others > numwant then
      -- Seeders and leechers in proportion, leechers filling what seeders can't.
      from_seeders = math.min(cs, math.max(numwant - others, math.floor(numwant * cs / (cs + others) + 0.5)))
    end
    pick(s, from_seeders, cs)
    pick(l, numwant - picked, cl)
  end
end
return head .. table.concat(peers)
