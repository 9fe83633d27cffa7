-- wrk script: PUTs of one body size to a ring of paths, each body made
-- unique by its first 16 bytes, so every request is a real write (no
-- "identical bytes" shortcut) while the disk footprint stays bounded.
--   BODY_BYTES  body size (default 1048576)
--   PUT_PREFIX  path prefix, e.g. /bench/put/ (liveorigin) or /dav/ (nginx)
--   PUT_RING    number of distinct paths per thread (default 64)
--   PUT_HEADER  optional "Name: value" header (liveorigin's X-Live-Pipeline)
local size = tonumber(os.getenv("BODY_BYTES") or "1048576")
local prefix = os.getenv("PUT_PREFIX") or "/put/"
local ring = tonumber(os.getenv("PUT_RING") or "64")
local extra = os.getenv("PUT_HEADER")
local rest = string.rep("x", size - 16)
local threads = {}
local counter = 0
local id = 0

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  wrk.headers["Content-Type"] = "application/octet-stream"
  if extra and extra ~= "" then
    local name, value = extra:match("^([^:]+):%s*(.*)$")
    wrk.headers[name] = value
  end
end

function request()
  counter = counter + 1
  local path = prefix .. id .. "-" .. (counter % ring) .. ".bin"
  local stamp = string.format("%08d%08d", id, counter)
  return wrk.format("PUT", path, nil, stamp .. rest)
end
