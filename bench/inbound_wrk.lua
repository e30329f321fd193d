-- wrk script for bench/inbound.py: posts pre-signed inbound texts, each thread its own slice of them, and
-- stops a thread when its slice is used up (so no text is posted twice by accident).
-- Environment: INBOUND_REQUESTS (a file of "signature<TAB>urlencoded form" lines), INBOUND_PATH,
-- INBOUND_HOST (the Host header), INBOUND_THREADS.
local requests = {}
for line in io.lines(os.getenv("INBOUND_REQUESTS")) do
  local signature, body = line:match("([^\t]*)\t(.*)")
  requests[#requests + 1] = { signature, body }
end
local path = os.getenv("INBOUND_PATH")
local host = os.getenv("INBOUND_HOST")
local threads = tonumber(os.getenv("INBOUND_THREADS"))
local started = 0

function setup(thread)
  thread:set("index", started)
  started = started + 1
end

function init(args)
  local size = math.floor(#requests / threads)
  first = index * size + 1
  last = first + size - 1
  next_one = first
end

function request()
  local r = requests[next_one]
  if next_one < last then next_one = next_one + 1 else wrk.thread:stop() end
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["X-Twilio-Signature"] = r[1],
    ["User-Agent"] = "TwilioProxy/1.1",
    ["Host"] = host,
  }, r[2])
end
