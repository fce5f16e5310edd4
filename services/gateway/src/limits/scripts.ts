/**
 * Lua scripts for limits shared by every gateway replica. Each runs atomically in Redis and takes
 * the clock from Redis (TIME), so replicas with skewed clocks still agree.
 */

/**
 * Token bucket. KEYS[1] bucket hash; ARGV[1] capacity (= requests per minute), ARGV[2] cost.
 * Refills capacity/60 000 tokens per ms. Returns {allowed 0|1, remaining, retry_ms, reset_ms}
 * where reset_ms is the time until the bucket is full again.
 */
export const TOKEN_BUCKET = `
local cap = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = cap / 60000
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1])
local ts = tonumber(b[2])
if tokens == nil or ts == nil then
  tokens = cap
  ts = now
end
if now > ts then
  tokens = math.min(cap, tokens + (now - ts) * rate)
  ts = now
end
local allowed = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts))
redis.call('PEXPIRE', KEYS[1], 61000)
local retry = 0
if allowed == 0 then retry = math.ceil((cost - tokens) / rate) end
local reset = math.ceil((cap - tokens) / rate)
return {allowed, math.floor(tokens), retry, reset}
`;

/**
 * Concurrent-job slots. KEYS[1] sorted set of a caller's active members (job ids, or "r:..."
 * reservations taken while a submission is under way), scored by when they were added.
 * ARGV[1] limit, ARGV[2] slots wanted, ARGV[3] reservation token, ARGV[4] BullMQ job key prefix
 * ("bull:<queue>:"), ARGV[5] reservation lifetime in ms.
 *
 * First prunes members whose job has ended (BullMQ sets finishedOn only once a job completed or
 * finally failed; a job waiting for a retry still counts) or no longer exists, and stale
 * reservations of a crashed replica. Then reserves the slots if they fit.
 * Returns {ok 0|1, active count (after reserving when ok)}.
 */
export const ACQUIRE_SLOTS = `
local limit = tonumber(ARGV[1])
local want = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[5])
local members = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #members, 2 do
  local m = members[i]
  local score = tonumber(members[i + 1])
  if string.sub(m, 1, 2) == 'r:' then
    if now - score > ttl then redis.call('ZREM', KEYS[1], m) end
  else
    local jk = ARGV[4] .. m
    if redis.call('EXISTS', jk) == 0 or redis.call('HEXISTS', jk, 'finishedOn') == 1 then
      redis.call('ZREM', KEYS[1], m)
    end
  end
end
local count = redis.call('ZCARD', KEYS[1])
if count + want > limit then return {0, count} end
for i = 1, want do
  redis.call('ZADD', KEYS[1], now, 'r:' .. ARGV[3] .. ':' .. i)
end
redis.call('PEXPIRE', KEYS[1], 7 * 24 * 3600 * 1000)
return {1, count + want}
`;
