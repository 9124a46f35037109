// The store's side of the deliveries sidebar for a shared outbox, as Lua scripts run in Redis:
// each reads a bounded number of entries and records (never a whole queue), works on the bodies
// where they are (no body travels to Node-RED), and changes the queue atomically.
//
// Keys beside the queue's (see store-outbox.ts), under `<prefix>outbox:<node id>:`
//   gaveup       hash  id -> the gave-up record as JSON (body included, for resend)
//   gaveup-view  hash  id -> the same record as the sidebar lists it (small: listing reads no body)
//   gaveup-at    zset  id -> when it was given up (epoch ms), for age order and the bounds
import { StoreScript } from "../store/script";

/** An entry counts as in flight while an instance holds its lease and the lease has not run out. */
const HELD = `
local function held(lease, id, score, now)
  return score > now and redis.call('HEXISTS', lease, id) == 1
end
`;

/** ARGV from `from` on: "all", or "ids" then execution_ids. Nil means every one. */
const WANTED = `
local function wanted(from)
  if ARGV[from] == 'all' then return nil end
  local set = {}
  for i = from + 1, #ARGV do set[ARGV[i]] = true end
  return set
end
local function decoded(json)
  if not json then return nil end
  local ok, value = pcall(cjson.decode, json)
  if ok and type(value) == 'table' then return value end
  return nil
end
`;

/** Gave-up records: kept (record, view, age), forgotten, and pruned (older than minAt, then the oldest past max). */
const GAVE_UP = `
local function keep(keys, id, record, view, at)
  redis.call('HSET', keys[1], id, record)
  redis.call('HSET', keys[2], id, view)
  redis.call('ZADD', keys[3], at, id)
end
local function forget(keys, id)
  redis.call('HDEL', keys[1], id)
  redis.call('HDEL', keys[2], id)
  redis.call('ZREM', keys[3], id)
end
local function prune(keys, minAt, max)
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', keys[3], '-inf', '(' .. minAt)) do forget(keys, id) end
  local extra = redis.call('ZCARD', keys[3]) - tonumber(max)
  if extra > 0 then
    for _, id in ipairs(redis.call('ZRANGE', keys[3], 0, extra - 1)) do forget(keys, id) end
  end
end
`;

/** agent_loop_name and status of a body: parsed when small, else read from its start (they come first). */
const DESCRIBE = `
local function describe(body, v)
  if type(body) ~= 'string' then return end
  if #body <= 65536 then
    local b = decoded(body)
    if b and type(b.agent_loop_name) == 'string' then v.agentLoopName = b.agent_loop_name end
    if b and type(b.status) == 'string' then v.status = b.status end
    return
  end
  local head = string.sub(body, 1, 4096)
  v.agentLoopName = string.match(head, '"agent_loop_name":"([^"\\\\]*)"')
  v.status = string.match(head, '"status":"(%a+)"')
end
`;

// KEYS entries, due, lease; ARGV now, how many at most. {pending, held, views as JSON}, first due first.
export const LIST_WAITING = new StoreScript(`${HELD}${WANTED}${DESCRIBE}
local now = tonumber(ARGV[1])
local ids = redis.call('ZRANGE', KEYS[2], 0, tonumber(ARGV[2]) - 1, 'WITHSCORES')
local views = {}
for i = 1, #ids, 2 do
  local id, score = ids[i], tonumber(ids[i + 1])
  local e = decoded(redis.call('HGET', KEYS[1], id))
  if e then
    local inFlight = held(KEYS[3], id, score, now)
    local v = { id = id, executionId = e.executionId, attempts = e.attempts, inFlight = inFlight,
      nextAttempt = inFlight and e.dueAt or score, lastStatus = e.lastStatus, lastError = e.lastError }
    describe(e.body, v)
    views[#views + 1] = cjson.encode(v)
  end
end
return { redis.call('HLEN', KEYS[1]), redis.call('HLEN', KEYS[3]), views }
`);

// KEYS entries, due, lease, manual; ARGV now, how many to look at, selection. The execution_ids made due now.
// Each keeps the due time it had in manual (the first press's, if pressed again before it is taken).
export const RETRY_NOW = new StoreScript(`${HELD}${WANTED}
local now = tonumber(ARGV[1])
local want = wanted(3)
local ids = redis.call('ZRANGE', KEYS[2], 0, tonumber(ARGV[2]) - 1, 'WITHSCORES')
local done = {}
for i = 1, #ids, 2 do
  local id, score = ids[i], tonumber(ids[i + 1])
  if not held(KEYS[3], id, score, now) then
    local e = decoded(redis.call('HGET', KEYS[1], id))
    if e and (not want or want[e.executionId]) then
      redis.call('HSETNX', KEYS[4], id, tostring(score))
      redis.call('ZADD', KEYS[2], now, id)
      redis.call('HDEL', KEYS[3], id)
      done[#done + 1] = e.executionId
    end
  end
end
return done
`);

// KEYS entries, due, lease, gaveup, gaveup-view, gaveup-at; ARGV now, how many to look at, minAt, max,
// selection. Waiting entries move to gave up ("cancelled"), body and all. The records moved (JSON).
export const CANCEL = new StoreScript(`${HELD}${WANTED}${GAVE_UP}
local now = tonumber(ARGV[1])
local gaveUp = { KEYS[4], KEYS[5], KEYS[6] }
local want = wanted(5)
local ids = redis.call('ZRANGE', KEYS[2], 0, tonumber(ARGV[2]) - 1, 'WITHSCORES')
local done = {}
for i = 1, #ids, 2 do
  local id, score = ids[i], tonumber(ids[i + 1])
  if not held(KEYS[3], id, score, now) then
    local e = decoded(redis.call('HGET', KEYS[1], id))
    if e and want and want[e.executionId] then
      local view = { id = id, executionId = e.executionId, attempts = e.attempts, at = now, why = 'cancelled',
        statusCode = e.lastStatus }
      local record = { id = id, executionId = e.executionId, body = e.body, url = e.url, topic = e.topic,
        attempts = e.attempts, at = now, why = 'cancelled', statusCode = e.lastStatus, history = e.history }
      keep(gaveUp, id, cjson.encode(record), cjson.encode(view), now)
      redis.call('HDEL', KEYS[1], id)
      redis.call('ZREM', KEYS[2], id)
      redis.call('HDEL', KEYS[3], id)
      done[#done + 1] = cjson.encode(record)
    end
  end
end
prune(gaveUp, ARGV[3], ARGV[4])
return done
`);

// KEYS entries, due, lease, gaveup, gaveup-view, gaveup-at; ARGV id, holder token, record JSON, view
// JSON, at, minAt, max. A held entry given up: out of the queue and into gave up at once. 1 when
// this holder still had it.
export const GIVE_UP = new StoreScript(`${GAVE_UP}
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then return 0 end
local gaveUp = { KEYS[4], KEYS[5], KEYS[6] }
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
keep(gaveUp, ARGV[1], ARGV[3], ARGV[4], ARGV[5])
prune(gaveUp, ARGV[6], ARGV[7])
return 1
`);

// KEYS gaveup, gaveup-view, gaveup-at; ARGV minAt, max, an hour ago. {given up in the last hour,
// views as JSON}, newest first.
export const LIST_GAVE_UP = new StoreScript(`${GAVE_UP}
prune(KEYS, ARGV[1], ARGV[2])
local views = {}
for _, id in ipairs(redis.call('ZREVRANGE', KEYS[3], 0, tonumber(ARGV[2]) - 1)) do
  local view = redis.call('HGET', KEYS[2], id)
  if view then views[#views + 1] = view end
end
-- Given up in the last hour; a cancel is someone's choice, not counted with them.
local lastHour = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], ARGV[3], '+inf')) do
  local view = redis.call('HGET', KEYS[2], id)
  if view and not string.find(view, '"why":"cancelled"', 1, true) then lastHour = lastHour + 1 end
end
return { lastHour, views }
`);

// KEYS entries, due, gaveup, gaveup-view, gaveup-at; ARGV now, minAt, max, new id prefix, selection.
// Gave-up records queued again (same execution_id and body) and forgotten, at once. The execution_ids queued.
export const RESEND_GAVE_UP = new StoreScript(`${WANTED}${GAVE_UP}
local now = tonumber(ARGV[1])
local want = wanted(5)
local gaveUp = { KEYS[3], KEYS[4], KEYS[5] }
prune(gaveUp, ARGV[2], ARGV[3])
local done = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[5], 0, -1)) do
  local r = decoded(redis.call('HGET', KEYS[3], id))
  if r and (not want or want[r.executionId]) then
    local newId = ARGV[4] .. '-' .. (#done + 1)
    local entry = { id = newId, executionId = r.executionId, body = r.body, url = r.url, topic = r.topic,
      attempts = 0, dueAt = now, createdAt = now }
    redis.call('HSET', KEYS[1], newId, cjson.encode(entry))
    redis.call('ZADD', KEYS[2], now, newId)
    forget(gaveUp, id)
    done[#done + 1] = r.executionId
  end
end
return done
`);
