-- wrk script of the server load bench (benches/load/serve_load.py, issue 14):
-- every request is a V2 notification (SCHEMES.md S2) signed afresh, with a
-- nonce of its own and the current timestamp, so that a server with a replay
-- store and a ±60 s window accepts each one exactly once.
--
-- The signing is done here, with OpenSSL's HMAC() through LuaJIT's FFI (wrk's
-- Lua has no HMAC): the inner HMAC over the fixed body once per thread, the
-- outer one per request (about 1 µs).
--
-- Environment: LOAD_KEY (access key), LOAD_BODY (the JSON body), LOAD_RUN
-- (a nonce prefix unique to this wrk run, 16 hex digits).
-- Every answer is checked: HTTP 200 and resultCode 000000, else it counts as
-- a bad answer (the first one is kept to be printed). done() prints one line:
--   LOAD {"requests":…,"rps":…,"p50_us":…,…}

local ffi = require("ffi")
ffi.cdef [[
typedef struct evp_md_st EVP_MD;
const EVP_MD *EVP_sha256(void);
unsigned char *HMAC(const EVP_MD *evp_md, const void *key, int key_len,
                    const unsigned char *d, size_t n, unsigned char *md, unsigned int *md_len);
typedef struct { long tv_sec; long tv_nsec; } koo_timespec;
int clock_gettime(int clk_id, koo_timespec *tp);
]]

local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

local crypto, md, out, outlen, ts_buf
local key, body, run, inner, path
local HEX = {}
for i = 0, 255 do HEX[i] = string.format("%02x", i) end

local function hmac_hex(msg)
  crypto.HMAC(md, key, #key, msg, #msg, out, outlen)
  local t = {}
  for i = 0, 31 do t[i + 1] = HEX[out[i]] end
  return table.concat(t)
end

function init(args)
  crypto = ffi.load("libcrypto.so.3")
  md = crypto.EVP_sha256()
  out = ffi.new("unsigned char[64]")
  outlen = ffi.new("unsigned int[1]")
  ts_buf = ffi.new("koo_timespec[1]")
  key = assert(os.getenv("LOAD_KEY"), "LOAD_KEY")
  body = assert(os.getenv("LOAD_BODY"), "LOAD_BODY")
  run = assert(os.getenv("LOAD_RUN"), "LOAD_RUN")
  inner = hmac_hex(body)
  path = wrk.path
  wrk.headers["Content-Type"] = "application/json"
  bad = 0
  first_bad = ""
end

local function now_ms()
  ffi.C.clock_gettime(0, ts_buf) -- CLOCK_REALTIME
  return string.format("%d", tonumber(ts_buf[0].tv_sec) * 1000 + math.floor(tonumber(ts_buf[0].tv_nsec) / 1e6))
end

function request()
  counter = counter + 1
  -- 64 characters, like the marketplace's nonces: run prefix, thread, counter.
  local nonce = run .. string.format("%04d%044d", tid, counter)
  local ts = now_ms()
  local sig = string.upper(hmac_hex(key .. nonce .. ts .. inner))
  return wrk.format("POST", path .. "?signature=" .. sig .. "&timestamp=" .. ts .. "&nonce=" .. nonce, nil, body)
end

function response(status, headers, resp)
  if status ~= 200 or not resp or not resp:find('"resultCode"%s*:%s*"000000"') then
    bad = bad + 1
    if first_bad == "" then first_bad = status .. " " .. string.sub(resp or "", 1, 200) end
  end
end

function done(summary, latency, requests)
  local nbad, sample = 0, ""
  for _, t in ipairs(threads) do
    nbad = nbad + (t:get("bad") or 0)
    local s = t:get("first_bad")
    if sample == "" and s and s ~= "" then sample = s end
  end
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    'LOAD {"requests":%d,"seconds":%.3f,"rps":%.1f,"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,' ..
    '"max_us":%d,"mean_us":%.1f,"bad_answers":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
    '"timeouts":%d,"non_2xx":%d,"first_bad":"%s"}\n',
    summary.requests, secs, summary.requests / secs, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean, nbad, e.connect, e.read,
    e.write, e.timeout, e.status, (sample:gsub('[%c"\\]', "?"))))
end
