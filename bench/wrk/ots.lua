-- ots.lua: every bench/run workload, for wrk (LuaJIT).
--
-- wrk -s ots.lua URL -- mode=M [nthreads=N] [keys=FILE] [rec=PREFIX]
--     [pass=PASSPHRASE] [auth=BASIC_VALUE]
--
-- mode: create | reveal | metadata | mixed (50 % create, 45 % reveal,
--   5 % metadata, interleaved in a fixed order of 20).
-- keys: a file of "secret_key metadata_key" lines (the pool); thread i of
--   N takes lines i, i+N, ...  Each reveal uses a key once; a thread that
--   runs out sends a key that cannot exist, so exhaustion shows up as
--   errors (and in "exhausted") rather than as a silently wrong figure.
--   Without keys, reveal and metadata send random keys (for the baseline).
-- rec: every 200 answer that carries a metadata_key and a secret_key is
--   appended to PREFIX.<thread> as a pool line.
-- pass: passphrase sent with create and reveal; auth: Authorization value.
--
-- done() prints one line "BENCH {json}" that bench/run parses; "used" is
-- the number of pool keys each thread sent, in thread order, so that the
-- keys it never reached can be used by the next run.

local secret = string.rep("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", 2):sub(1, 100)

local threads = {}
local counter = 0

function setup(thread)
	thread:set("tid", counter)
	counter = counter + 1
	table.insert(threads, thread)
end

local opt = {}
local keys, nkeys, ki = {}, 0, 0
local mkeys, nmkeys, mi = {}, 0, 0
local rec = nil
local hdr_form = {}
local hdr_get = {}
local create_body
local seq = 0
exhausted = 0	-- globals, read by done() through thread:get()
recorded = 0
used = 0	-- pool keys this thread has sent (the rest go back)

local function randkey()
	local t = {}
	for i = 1, 31 do
		t[i] = string.char(string.byte("a") + math.random(0, 25))
	end
	return table.concat(t)
end

local function record(status, headers, body)
	if status ~= 200 then return end
	local m = body:match('"metadata_key":"(%w+)"')
	local s = body:match('"secret_key":"(%w+)"')
	if m and s then
		rec:write(s, " ", m, "\n")
		recorded = recorded + 1
	end
end

function init(args)
	for _, a in ipairs(args) do
		local k, v = a:match("^([%w_]+)=(.*)$")
		if k then opt[k] = v end
	end
	local me = tonumber(tid) or 0
	local n = tonumber(opt.nthreads or "1")
	math.randomseed(os.time() + me * 7919)
	if opt.keys then
		local i = 0
		for line in io.lines(opt.keys) do
			local s, m = line:match("^(%w+) (%w+)$")
			if s then
				if i % n == me then
					nkeys = nkeys + 1
					keys[nkeys] = s
					nmkeys = nmkeys + 1
					mkeys[nmkeys] = m
				end
				i = i + 1
			end
		end
	end
	if opt.rec then
		rec = io.open(opt.rec .. "." .. me, "w")
		rec:setvbuf("line")
		-- wrk parses bodies only when a global "response" exists
		-- after init() of the first thread: define it only here.
		response = record
	end
	hdr_form["Content-Type"] = "application/x-www-form-urlencoded"
	if opt.auth then
		hdr_form["Authorization"] = opt.auth
		hdr_get["Authorization"] = opt.auth
	end
	create_body = "secret=" .. secret .. "&ttl=86400"
	if opt.pass then
		create_body = create_body .. "&passphrase=" .. opt.pass
	end
end

local function create()
	return wrk.format("POST", "/api/v1/share", hdr_form, create_body)
end

local function reveal()
	local k
	if opt.keys then
		ki = ki + 1
		used = ki
		if ki > nkeys then
			exhausted = exhausted + 1
			k = "exhausted" .. string.rep("0", 22)
		else
			k = keys[ki]
		end
	else
		k = randkey()
	end
	local body = opt.pass and ("passphrase=" .. opt.pass) or ""
	return wrk.format("POST", "/api/v1/secret/" .. k, hdr_form, body)
end

local function metadata()
	local k
	if nmkeys > 0 then
		-- from the end of the pool: the keys reveal uses last
		mi = mi % nmkeys
		k = mkeys[nmkeys - mi]
		mi = mi + 1
	else
		k = randkey()
	end
	return wrk.format("GET", "/api/v1/private/" .. k, hdr_get, nil)
end

function request()
	local m = opt.mode
	if m == "create" then
		return create()
	elseif m == "reveal" then
		return reveal()
	elseif m == "metadata" then
		return metadata()
	elseif m == "mixed" then
		seq = seq % 20
		seq = seq + 1
		if seq % 2 == 1 then
			return create()		-- 10 of 20
		elseif seq == 20 then
			return metadata()	-- 1 of 20
		else
			return reveal()		-- 9 of 20
		end
	end
	error("unknown mode " .. tostring(m))
end

function done(summary, latency, requests)
	local ex, rc, used = 0, 0, {}
	for i, t in ipairs(threads) do
		ex = ex + (tonumber(t:get("exhausted")) or 0)
		rc = rc + (tonumber(t:get("recorded")) or 0)
		used[i] = tostring(tonumber(t:get("used")) or 0)
	end
	local e = summary.errors
	io.write(string.format(
	    'BENCH {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,' ..
	    '"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,' ..
	    '"p99_us":%d,"max_us":%d,"mean_us":%.1f,"exhausted":%d,' ..
	    '"recorded":%d,"used":[%s]}\n',
	    summary.requests, summary.duration, e.connect, e.read, e.write,
	    e.status, e.timeout, latency:percentile(50), latency:percentile(90),
	    latency:percentile(99), latency.max, latency.mean, ex, rc,
	    table.concat(used, ",")))
end
