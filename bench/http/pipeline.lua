-- wrk script for bench/net_compare.sh: every write carries DEPTH pipelined "GET /" requests
-- (DEPTH = the first script argument, default 16), and wrk counts each response as a request.
-- Latency is recorded once per batch (wrk records it when the batch's last response is in).
-- Usage: wrk -t2 -c64 -d5s --latency -s bench/http/pipeline.lua http://127.0.0.1:PORT/ -- 16
init = function(args)
    local depth = tonumber(args[1]) or 16
    local reqs = {}
    for i = 1, depth do
        reqs[i] = wrk.format(nil, "/")
    end
    batch = table.concat(reqs)
end

request = function()
    return batch
end
