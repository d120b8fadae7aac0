-- wrk script: POST a different pre-generated body per request, read from a file.
--
--   wrk -s post_bodies.lua URL -- BODIES CONTENT_TYPE EXPECT THREADS REUSE [RECORD]
--
-- BODIES holds one body per line. Thread t of THREADS sends lines t, t+THREADS, ...
-- With REUSE=0 the bodies are single-use (tokens, solved challenges): a thread that runs
-- out counts "wrapped" and, when recording, stops; otherwise it wraps around.
-- EXPECT is a substring of a correct answer; answers without it (or not 200) count "bad".
-- With RECORD (a path prefix), each thread writes the correct answers' bodies to
-- RECORD<t>, one per line: this is how http_bench.py pre-generates challenges and tokens.
-- done() prints one line "BENCH {json}" for http_bench.py to read.

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  bodies, nbodies = {}, 0
  for line in io.lines(args[1]) do
    nbodies = nbodies + 1
    bodies[nbodies] = line
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = args[2]
  expect = args[3]
  stride = tonumber(args[4])
  reuse = args[5] == "1"
  record = nil
  if args[6] and args[6] ~= "" then
    record = io.open(args[6] .. tid, "w")
    record:setvbuf("line")
  end
  sent, ok, bad, wrapped = 0, 0, 0, 0
end

function request()
  local i = tid + sent * stride
  sent = sent + 1
  if i >= nbodies then
    if not reuse then
      wrapped = wrapped + 1
      if record then
        wrk.thread:stop()
      end
    end
    i = i % nbodies
  end
  return wrk.format(nil, nil, nil, bodies[i + 1])
end

function response(status, headers, body)
  if status == 200 and string.find(body, expect, 1, true) then
    ok = ok + 1
    if record then
      record:write(body, "\n")
    end
  else
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local o, b, w = 0, 0, 0
  local sent_by_thread = {}
  for _, t in ipairs(threads) do
    o = o + t:get("ok")
    b = b + t:get("bad")
    w = w + t:get("wrapped")
    table.insert(sent_by_thread, tostring(t:get("sent")))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"ok":%d,"bad":%d,"wrapped":%d,'
      .. '"sent":[%s],"socket_errors":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, o, b, w, table.concat(sent_by_thread, ","),
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
