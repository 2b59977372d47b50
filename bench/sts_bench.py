#!/usr/bin/env python3
"""vendo with a real STS issuer (aws-federation) against a local STS stand-in
(tests/integration/fake_sts.py), each number next to a baseline from the same run.

1. /gettoken with a cold credential cache (cache off: every request is an STS call), next to
   the stand-in's own throughput (wrk POSTing GetFederationToken to it directly) and to vendo
   with a warm cache on the same devices.
2. STS calls per 10,000 /gettoken requests from 100 devices, cache on (target: 100, one per
   device).

Run by `make bench`; numbers are printed, not asserted.
"""
import argparse
import base64
import concurrent.futures
import datetime
import hashlib
import hmac
import http.client
import os
import shutil
import sys
import tempfile
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../tests/integration"))
from fake_sts import FakeSts  # noqa: E402
from run_bench import Server, free_port, write_master_key, wrk  # noqa: E402
from chart import bar_chart  # noqa: E402

PATHS_LUA = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
local i = 0
function setup(thread) end
function request()
  i = i + 1
  return wrk.format(%s, paths[(i %% #paths) + 1]%s)
end
"""


def config(workdir, port, sts_url, cache):
    path = os.path.join(workdir, f"vendo-sts-{cache}.toml")
    with open(os.path.join(workdir, "secret"), "w") as f:
        f.write("bench-secret\n")
    with open(path, "w") as f:
        f.write(f"""[admin]
listen = "127.0.0.1:0"
[server]
listen = "127.0.0.1:{port}"
log_level = "warn"
[store]
path = "{workdir}/vendo-sts-{cache}.db"
master_key_file = "{workdir}/master.key"
[credential_cache]
enabled = {"true" if cache else "false"}
[apps.bench]
allow_insecure_legacy = true
mode = "anonymous"
issuer = "aws-federation"
duration_seconds = 3600
policy = '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bench/${{uid}}/*"}}]}}'
[apps.bench.limits]
tokens_per_device_per_minute = 0  # the benchmark asks for one device's token on purpose
[apps.bench.aws]
endpoint = "{sts_url}"
access_key_id = "AKIDBENCH"
secret_access_key_file = "secret"
""")
    return path


def devices(n, tag):
    return [(f"{tag}{i:08d}{os.urandom(8).hex()}", os.urandom(16).hex()) for i in range(n)]


def signed_path(uid, key):
    t = datetime.datetime.now(datetime.timezone.utc)
    ts = t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
    sig = base64.b64encode(hmac.new(key.encode(), ts.encode(), hashlib.sha256).digest()).decode()
    return "/apps/bench/gettoken?" + urllib.parse.urlencode(
        {"uid": uid, "timestamp": ts, "signature": sig})


def register(port, devs):
    for uid, key in devs:
        r = urllib.request.urlopen(
            f"http://127.0.0.1:{port}/apps/bench/registerdevice?uid={uid}&key={key}")
        assert r.status == 200


def get(port, paths):
    """GETs each path on one keep-alive connection; returns how many answered 200."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    ok = 0
    for path in paths:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        ok += resp.status == 200
    conn.close()
    return ok


def lua_for(workdir, name, lines, method='"GET"', extra=""):
    data = os.path.join(workdir, name + ".txt")
    with open(data, "w") as f:
        f.write("\n".join(lines) + "\n")
    script = os.path.join(workdir, name + ".lua")
    with open(script, "w") as f:
        f.write(PATHS_LUA % (data, method, extra))
    return script


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vendo", default="./build/vendo")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=16)
    args = ap.parse_args()
    vendo = os.path.abspath(args.vendo)
    workdir = tempfile.mkdtemp(prefix="vendo-stsbench-")
    fake = FakeSts()
    try:
        write_master_key(workdir)

        print(f"[1/2] /gettoken through aws-federation, {args.connections} connections, "
              f"{args.seconds}s each", flush=True)
        body = "Action=GetFederationToken&Version=2011-06-15&Name=bench&DurationSeconds=3600"
        direct = wrk(fake.url + "/", 2, args.connections, args.seconds,
                     lua_for(workdir, "direct", ["/"], '"POST"',
                             f', {{["Content-Type"]="application/x-www-form-urlencoded"}}, '
                             f'"{body}"'))
        fake.set()
        results = {}
        devs = devices(1000, "cold")
        for label, cache in (("cold cache (cache off)", False), ("warm cache", True)):
            port = free_port()
            srv = Server([vendo, "serve", "--config", config(workdir, port, fake.url, cache)],
                         os.path.join(workdir, f"vendo-{cache}.log"))
            srv.wait_port(port)
            register(port, devs)
            script = lua_for(workdir, f"paths-{cache}", [signed_path(u, k) for u, k in devs])
            if cache:  # one request per device first: the measured run finds them all cached
                with concurrent.futures.ThreadPoolExecutor(max_workers=args.connections) as pool:
                    warmed = sum(pool.map(lambda d: get(port, [signed_path(*d)]), devs))
                assert warmed == len(devs), warmed
            fake.set()
            r = wrk(f"http://127.0.0.1:{port}/", 2, args.connections, args.seconds, script)
            r["sts_calls"] = fake.calls
            results[label] = r
            srv.stop()
        print(f"  STS stand-in direct   {direct['rps']:>9.0f} req/s   p99 {direct['p99_ms']:7.2f} ms"
              "   (the ceiling for a cold cache)")
        for label, r in results.items():
            print(f"  vendo {label:<22}{r['rps']:>9.0f} req/s   p99 {r['p99_ms']:7.2f} ms   "
                  f"non-2xx {r['non2xx']}   STS calls {r['sts_calls']}")
        cold = results["cold cache (cache off)"]["rps"]
        print(f"  ratio cold/stand-in: {cold / direct['rps']:.2f}; "
              f"warm/cold: {results['warm cache']['rps'] / cold:.1f}", flush=True)

        print("[2/2] STS calls per 10,000 /gettoken from 100 devices (cache on)", flush=True)
        port = free_port()
        srv = Server([vendo, "serve", "--config", config(workdir, port, fake.url, True)],
                     os.path.join(workdir, "vendo-count.log"))
        srv.wait_port(port)
        devs = devices(100, "count")
        register(port, devs)
        fake.set()

        with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
            ok = sum(pool.map(lambda d: get(port, [signed_path(*d)] * 100), devs))
        srv.stop()
        print(f"  {ok} of 10000 answered 200; STS calls: {fake.calls} (target: 100)")
        bar_chart("sts", "/gettoken through an STS issuer (req/s)",
                  [("STS stand-in direct", direct["rps"])]
                  + [(f"vendo, {label}", r["rps"]) for label, r in results.items()], "req/s")
    finally:
        fake.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
