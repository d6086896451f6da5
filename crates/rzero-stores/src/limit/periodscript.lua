-- go-zero's core/limit/periodscript.lua, returning the key's TTL beside the code so the
-- caller can answer `Retry-After`. Same key, same counter: Go and Rust replicas share it.
-- to be compatible with aliyun redis, we cannot use `local key = KEYS[1]` to reuse the key
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local current = redis.call("INCRBY", KEYS[1], 1)
if current == 1 then
    redis.call("expire", KEYS[1], window)
end
local ttl = redis.call("ttl", KEYS[1])
if current < limit then
    return {1, ttl}
elseif current == limit then
    return {2, ttl}
else
    return {0, ttl}
end
