// The store's side of the deliveries sidebar for a shared outbox, as Lua scripts run in Redis:
// each reads a bounded number of entries and records (never a whole queue), works on the bodies
// where they are (no body travels to Node-RED), and changes the queue atomically.
//
// Keys beside the queue's (see redis-outbox.ts), under `<prefix>outbox:<node id>:`
//   gaveup     hash  id -> the gave-up record as JSON (body included, for resend)
//   gaveup-at  zset  id -> when it was given up (epoch ms), for age order and the bounds
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

/** Drops gave-up records older than minAt, then the oldest past max. */
const PRUNE = `
local function prune(records, ages, minAt, max)
  local old = redis.call('ZRANGEBYSCORE', ages, '-inf', '(' .. minAt)
  for _, id in ipairs(old) do redis.call('HDEL', records, id) end
  if #old > 0 then redis.call('ZREMRANGEBYSCORE', ages, '-inf', '(' .. minAt) end
  local extra = redis.call('ZCARD', ages) - tonumber(max)
  if extra > 0 then
    for _, id in ipairs(redis.call('ZRANGE', ages, 0, extra - 1)) do redis.call('HDEL', records, id) end
    redis.call('ZREMRANGEBYRANK', ages, 0, extra - 1)
  end
end
`;

// KEYS entries, due, lease; ARGV now, how many at most. {pending, held, views as JSON}, first due first.
export const LIST_WAITING = new StoreScript(`${HELD}${WANTED}
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
    local body = decoded(e.body)
    if body and type(body.agent_loop_name) == 'string' then v.agentLoopName = body.agent_loop_name end
    if body and type(body.status) == 'string' then v.status = body.status end
    views[#views + 1] = cjson.encode(v)
  end
end
return { redis.call('HLEN', KEYS[1]), redis.call('HLEN', KEYS[3]), views }
`);

// KEYS entries, due, lease; ARGV now, how many to look at, selection. The execution_ids made due now.
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
      redis.call('ZADD', KEYS[2], now, id)
      redis.call('HDEL', KEYS[3], id)
      done[#done + 1] = e.executionId
    end
  end
end
return done
`);

// KEYS entries, due, lease, gaveup, gaveup-at; ARGV now, how many to look at, minAt, max, selection.
// Waiting entries move to gave up ("cancelled"), body and all. The execution_ids moved.
export const CANCEL = new StoreScript(`${HELD}${WANTED}${PRUNE}
local now = tonumber(ARGV[1])
local want = wanted(5)
local ids = redis.call('ZRANGE', KEYS[2], 0, tonumber(ARGV[2]) - 1, 'WITHSCORES')
local done = {}
for i = 1, #ids, 2 do
  local id, score = ids[i], tonumber(ids[i + 1])
  if not held(KEYS[3], id, score, now) then
    local e = decoded(redis.call('HGET', KEYS[1], id))
    if e and want and want[e.executionId] then
      local record = { id = id, executionId = e.executionId, body = e.body, url = e.url, topic = e.topic,
        attempts = e.attempts, at = now, why = 'cancelled', statusCode = e.lastStatus }
      redis.call('HSET', KEYS[4], id, cjson.encode(record))
      redis.call('ZADD', KEYS[5], now, id)
      redis.call('HDEL', KEYS[1], id)
      redis.call('ZREM', KEYS[2], id)
      redis.call('HDEL', KEYS[3], id)
      done[#done + 1] = e.executionId
    end
  end
end
prune(KEYS[4], KEYS[5], ARGV[3], ARGV[4])
return done
`);

// KEYS entries, due, lease, gaveup, gaveup-at; ARGV id, holder token, record JSON, at, minAt, max.
// A held entry given up: out of the queue and into gave up at once. 1 when this holder still had it.
export const GIVE_UP = new StoreScript(`${PRUNE}
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[4], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[5], ARGV[4], ARGV[1])
prune(KEYS[4], KEYS[5], ARGV[5], ARGV[6])
return 1
`);

// KEYS gaveup, gaveup-at; ARGV minAt, max, an hour ago. {given up in the last hour, views as JSON}, newest first.
export const LIST_GAVE_UP = new StoreScript(`${WANTED}${PRUNE}
prune(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
local views = {}
for _, id in ipairs(redis.call('ZREVRANGE', KEYS[2], 0, tonumber(ARGV[2]) - 1)) do
  local r = decoded(redis.call('HGET', KEYS[1], id))
  if r then
    views[#views + 1] = cjson.encode({ id = id, executionId = r.executionId, attempts = r.attempts, at = r.at,
      why = r.why, statusCode = r.statusCode })
  end
end
return { redis.call('ZCOUNT', KEYS[2], ARGV[3], '+inf'), views }
`);

// KEYS entries, due, gaveup, gaveup-at; ARGV now, minAt, max, new id prefix, selection.
// Gave-up records queued again (same execution_id and body) and forgotten, at once. The execution_ids queued.
export const RESEND_GAVE_UP = new StoreScript(`${WANTED}${PRUNE}
local now = tonumber(ARGV[1])
local want = wanted(5)
prune(KEYS[3], KEYS[4], ARGV[2], ARGV[3])
local done = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[4], 0, -1)) do
  local r = decoded(redis.call('HGET', KEYS[3], id))
  if r and (not want or want[r.executionId]) then
    local newId = ARGV[4] .. '-' .. (#done + 1)
    local entry = { id = newId, executionId = r.executionId, body = r.body, url = r.url, topic = r.topic,
      attempts = 0, dueAt = now, createdAt = now }
    redis.call('HSET', KEYS[1], newId, cjson.encode(entry))
    redis.call('ZADD', KEYS[2], now, newId)
    redis.call('HDEL', KEYS[3], id)
    redis.call('ZREM', KEYS[4], id)
    done[#done + 1] = r.executionId
  end
end
return done
`);
