-- wrk script for Scripts/bench-ingest: POST /v1/events with SIZE events a request (1: single events, else batches).
-- Events go to LEADS distinct leads (by email); one in ten comes from an anonymous visitor; every message id is unique
-- across runs: it starts with RUN, which the caller makes unique (wrk's Lua random numbers are not seeded, so a prefix
-- drawn from them repeated the same ids in every run, and measured runs mostly sent duplicates).
-- Arguments (after --): KEY SIZE RUN [LEADS [generated]]; with "generated", leads are named as `calor-bench generate`
-- names them (lead<i>@company<i mod 5000>.example), so that events go to the leads of a generated history.
local types = {
    "page_viewed", "email_opened", "email_clicked", "ebook_downloaded", "cart_added", "ad_clicked", "quote_requested",
}
local counter = 0

local threads = 0

function setup(thread)
    threads = threads + 1
    thread:set("thread", threads)
end

function init(args)
    key = args[1]
    size = tonumber(args[2])
    prefix = args[3] .. "-" .. thread
    leads = tonumber(args[4] or "5000")
    generated = args[5] == "generated"
    local seed = 0
    for i = 1, #prefix do seed = (seed * 31 + prefix:byte(i)) % 2147483647 end
    math.randomseed(seed)
end

local function event()
    counter = counter + 1
    local id = prefix .. "-" .. counter
    local kind = types[(counter % #types) + 1]
    if counter % 10 == 0 then
        return string.format('{"message_id":"%s","type":"%s","anonymous_id":"visitor-%d"}',
            id, kind, math.random(1, 20000))
    end
    local lead = math.random(0, leads - 1)
    local email = generated and string.format("lead%d@company%d.example", lead, lead % 5000)
        or string.format("lead%d@bench.example", lead)
    return string.format('{"message_id":"%s","type":"%s","lead":{"email":"%s"},'
        .. '"properties":{"path":"/pricing/plans"}}', id, kind, email)
end

function request()
    local body
    if size == 1 then
        body = event()
    else
        local parts = {}
        for i = 1, size do parts[i] = event() end
        body = '{"batch":[' .. table.concat(parts, ",") .. ']}'
    end
    return wrk.format("POST", "/v1/events",
        { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }, body)
end
