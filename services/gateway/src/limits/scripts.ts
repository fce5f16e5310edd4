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
 * Concurrent-job slots. Every key it touches is declared: KEYS[1] the sorted set of a caller's
 * active members (job ids, or "r:..." reservations taken while a submission is under way), scored
 * by when they were added; KEYS[2..n] the BullMQ job hashes ("bull:<queue>:<id>") of the job ids
 * the caller read from that set just before (JobQuota.acquire), whose ids are ARGV[5..] in the
 * same order. ARGV[1] limit, ARGV[2] slots wanted, ARGV[3] reservation token, ARGV[4] reservation
 * lifetime in ms.
 *
 * First prunes the given members whose job has ended (BullMQ sets finishedOn only once a job
 * completed or finally failed; a job waiting for a retry still counts) or no longer exists, and
 * stale reservations of a crashed replica. A job id added by another replica between the read and
 * this script is not pruned this time, only counted (it has just been queued). Then reserves the
 * slots if they fit. Returns {ok 0|1, active count (after reserving when ok)}.
 *
 * Kept as a script (not a library) because the check and the reservation must be one atomic step
 * across gateway replicas, and the pruning reads BullMQ's job hashes.
 */
export const ACQUIRE_SLOTS = `
local limit = tonumber(ARGV[1])
local want = tonumber(ARGV[2])
local ttl = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 or redis.call('HEXISTS', KEYS[i], 'finishedOn') == 1 then
    redis.call('ZREM', KEYS[1], ARGV[i + 3])
  end
end
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - ttl)
for _, m in ipairs(old) do
  if string.sub(m, 1, 2) == 'r:' then redis.call('ZREM', KEYS[1], m) end
end
local count = redis.call('ZCARD', KEYS[1])
if count + want > limit then return {0, count} end
for i = 1, want do
  redis.call('ZADD', KEYS[1], now, 'r:' .. ARGV[3] .. ':' .. i)
end
redis.call('PEXPIRE', KEYS[1], 7 * 24 * 3600 * 1000)
return {1, count + want}
`;
