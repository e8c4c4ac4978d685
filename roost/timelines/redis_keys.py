"""How timelines (home and list) are laid out in Redis: members, ranges and scripts.

Members are post ids zero-padded to 20 digits, all with score 0, so a sorted
set orders them by id exactly (a float score would round 64-bit ids) and pages
are lexicographic ranges. The member COMPLETE ("~") sorts after every id and
marks a timeline as complete; ranges stop short of it.
"""

from __future__ import annotations

from typing import Any

from roost.timelines.store import Bounds

COMPLETE = "~"
_WIDTH = 20

# Add ARGV[2..] to each timeline in KEYS (pairs: timeline, lease) that exists or
# is being rebuilt, then trim it to ARGV[1] entries plus the COMPLETE marker.
ADD = """
local keep = tonumber(ARGV[1]) + 1
local added = 0
for i = 1, #KEYS, 2 do
  if redis.call('EXISTS', KEYS[i]) == 1 or redis.call('EXISTS', KEYS[i + 1]) == 1 then
    for j = 2, #ARGV do
      redis.call('ZADD', KEYS[i], 0, ARGV[j])
    end
    redis.call('ZREMRANGEBYRANK', KEYS[i], 0, -(keep + 1))
    added = added + 1
  end
end
return added
"""

REMOVE = """
for i = 1, #KEYS do
  redis.call('ZREM', KEYS[i], unpack(ARGV))
end
return #KEYS
"""

# A rebuild's write: ARGV[4..] into KEYS[1], trimmed to ARGV[2] entries plus the
# COMPLETE marker, with a TTL of ARGV[3] seconds; only while the lease KEYS[2]
# is still ARGV[1]. A lease that was taken away (a list's members changed while
# it was being rebuilt, see RedisTimelineStore.invalidate) or that ran out
# means this rebuild's contents may be stale: nothing is written.
REBUILD = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return 0
end
local args = {}
for j = 4, #ARGV do
  args[#args + 1] = 0
  args[#args + 1] = ARGV[j]
  if #args >= 1000 then
    redis.call('ZADD', KEYS[1], unpack(args))
    args = {}
  end
end
if #args > 0 then
  redis.call('ZADD', KEYS[1], unpack(args))
end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[2]) + 2))
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
"""

# A read's first look, in one call: whether KEYS[1] is complete, its size, its
# oldest member, the window ZRANGE BYLEX ARGV[1] ARGV[2] (REV when ARGV[3] is
# "1") LIMIT 0 ARGV[4], the merge sources cached in KEYS[2]; and the timeline's
# TTL renewed to ARGV[5] seconds (reading is what keeps a timeline active).
STATE = """
local key = KEYS[1]
local complete = 0
if redis.call('ZSCORE', key, '~') then
  complete = 1
end
local size = redis.call('ZCARD', key)
local first = redis.call('ZRANGE', key, 0, 0)
local window
if ARGV[3] == '1' then
  window = redis.call('ZRANGE', key, ARGV[1], ARGV[2], 'BYLEX', 'REV', 'LIMIT', 0, ARGV[4])
else
  window = redis.call('ZRANGE', key, ARGV[1], ARGV[2], 'BYLEX', 'LIMIT', 0, ARGV[4])
end
redis.call('EXPIRE', key, ARGV[5])
return {complete, size, first[1] or '', window, redis.call('GET', KEYS[2]) or ''}
"""

# Release a lease only if it is still ours (it may have expired and been taken).
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def member(status_id: int) -> str:
    return f"{status_id:0{_WIDTH}d}"


def below(status_id: int | None) -> str:
    return "(~" if status_id is None else "(" + member(status_id)


def above(status_id: int | None) -> str:
    return "-" if status_id is None else "(" + member(status_id)


def lex_range(bounds: Bounds) -> tuple[str, str]:
    """ZRANGE's start and stop for ``bounds`` (stop first when walking down)."""
    if bounds.ascending:
        return above(bounds.lower), below(bounds.upper)
    return below(bounds.upper), above(bounds.lower)


def ids_of(raw: Any) -> list[int]:
    return [int(m) for m in raw if isinstance(m, bytes) and m != COMPLETE.encode()]
