-- wrk script for bench/private-announce.sh: HTTP announces spread over every (user, torrent) pair
-- of targets.txt (`passkey hex-info-hash` per line); each pair is one peer (fixed peer id and port)
-- whose counters grow, so the tracker computes real deltas. The passkey goes in `auth_key`
-- (a public tracker ignores it, so public and private runs send the same requests).
local targets = {}
local counter = 0

local function pct(hex)
  return (hex:gsub("..", function(b) return "%" .. b end))
end

function init(args)
  for line in io.lines(os.getenv("TARGETS")) do
    local pk, ih = line:match("(%x+) (%x+)")
    targets[#targets + 1] = { pk, pct(ih) }
  end
  math.randomseed(os.time() + tonumber(tostring(targets):match("0x(%x+)") or "1", 16) % 100000)
end

function request()
  counter = counter + 1
  local i = math.random(#targets)
  local t = targets[i]
  local peer = string.format("-WR0001-%012d", i)
  local path = string.format(
    "/announce?info_hash=%s&peer_id=%s&port=%d&uploaded=%d&downloaded=%d&left=%d&compact=1&numwant=30&auth_key=%s",
    t[2], peer, 10000 + i % 50000, counter * 16384, counter * 8192, (i % 3 == 0) and 0 or 1048576, t[1])
  return wrk.format("GET", path)
end
