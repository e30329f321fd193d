-- wrk script for bench/inbound.py: posts pre-signed inbound texts, each thread its own slice of them (the
-- last thread the remainder too), and stops a thread when its slice is used up (so no text is posted twice
-- by accident). With INBOUND_ANNOUNCE set, a thread says on the output when it posts its first text and its
-- last, so that the caller can time exactly these requests (bench.inbound.wrk_post, until_done).
-- Environment: INBOUND_REQUESTS (a file of "signature<TAB>urlencoded form" lines), INBOUND_PATH,
-- INBOUND_HOST (the Host header), INBOUND_THREADS, INBOUND_ANNOUNCE.
local requests = {}
for line in io.lines(os.getenv("INBOUND_REQUESTS")) do
  local signature, body = line:match("([^\t]*)\t(.*)")
  requests[#requests + 1] = { signature, body }
end
local path = os.getenv("INBOUND_PATH")
local host = os.getenv("INBOUND_HOST")
local threads = tonumber(os.getenv("INBOUND_THREADS"))
local announce = (os.getenv("INBOUND_ANNOUNCE") or "") ~= ""
local started = 0

function setup(thread)
  thread:set("index", started)
  started = started + 1
end

function init(args)
  local size = math.floor(#requests / threads)
  first = index * size + 1
  last = first + size - 1
  if index == threads - 1 then last = #requests end
  next_one = first
end

function request()
  local r = requests[next_one]
  if announce and next_one == first then
    io.stdout:write("started thread " .. index .. "\n")
    io.stdout:flush()
  end
  if next_one < last then
    next_one = next_one + 1
  else
    if announce and not announced then
      announced = true
      io.stdout:write("posted all of thread " .. index .. "\n")
      io.stdout:flush()
    end
    wrk.thread:stop()
  end
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Twilio-Signature"] = r[1],
    ["User-Agent"] = "TwilioProxy/1.1",
    ["Host"] = host,
  }, r[2])
end
