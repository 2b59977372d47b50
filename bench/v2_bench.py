#!/usr/bin/env python3
"""Protocol v2 token requests next to 2012 ones, same server, same run.

Also v2 logins per second with the default argon2id parameters.

A v2 request is signed over a fresh nonce, and the nonce is recorded in the store (the
replay cache every host shares), so each one costs a durable write that a 2012 /gettoken
does not. The requests are signed ahead of time (each nonce once) and replayed by wrk.

The two protocols run in alternating rounds (v2, 2012, v2, 2012, ...; --rounds, 3), and the
median round of each is printed with what the server spent per request meanwhile: CPU
(/proc), context switches (/proc) and syscalls (perf stat on the syscall tracepoints: all,
futex, pwrite64, fdatasync), the costs issue 21 is about.

Run by `make bench`; numbers are printed, not asserted.
"""
import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import shutil
import sys
import tempfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run_bench import (Server, config_head, costs_text, free_port, write_master_key,  # noqa: E402
                       wrk, wrk_with_costs)
from chart import bar_chart  # noqa: E402

LUA = """
local lines = {}
for line in io.lines("%s") do lines[#lines + 1] = line end
local i = 0
local threads = 0
function setup(thread)
  thread:set("offset", threads)
  threads = threads + 1
end
function init(args) i = offset end
function request()
  i = i + %d
  local auth = lines[(i %% #lines) + 1]
  return wrk.format("POST", "/v2/apps/bench/token",
                    {["Authorization"] = auth, ["Content-Type"] = "application/json"}, "{}")
end
"""


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vendo", default="./build/vendo")
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    vendo = os.path.abspath(args.vendo)
    workdir = tempfile.mkdtemp(prefix="vendo-v2bench-")
    try:
        key = write_master_key(workdir)
        port = free_port()
        cfg = os.path.join(workdir, "vendo.toml")
        with open(cfg, "w") as f:
            f.write('default_app = "bench"\n' + config_head(workdir, port, key) + f"""[apps.bench]
mode = "anonymous"
allow_insecure_legacy = true
policy = '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${{uid}}/*"}}]}}'
[apps.bench.limits]
tokens_per_device_per_minute = 0  # one device, on purpose
[apps.people]
mode = "identity"
allow_insecure_legacy = true
public_endpoint = "http://127.0.0.1:{port}/apps/people"
policy = '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${{username}}/*"}}]}}'
""")
        srv = Server([vendo, "serve", "--config", cfg], os.path.join(workdir, "vendo.log"))
        srv.wait_port(port)
        req = urllib.request.Request(f"http://127.0.0.1:{port}/v2/apps/bench/devices", data=b"{}",
                                     method="POST", headers={"Content-Type": "application/json"})
        reg = json.loads(urllib.request.urlopen(req).read())
        device = reg["device_id"]
        secret = base64.urlsafe_b64decode(reg["device_secret"] + "=")
        body_hash = hashlib.sha256(b"{}").hexdigest()

        def signed_requests(name):
            """A wrk script replaying fresh signed requests, each nonce once."""
            n = 50000 * args.seconds  # more than a run can use: no nonce is sent twice
            ts = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            lines = []
            for _ in range(n):
                nonce = b64url(os.urandom(16))
                canonical = "\n".join(["VENDO-HMAC-SHA256", "POST", "/v2/apps/bench/token",
                                       body_hash, ts, nonce, device])
                sig = hmac.new(secret, canonical.encode(), hashlib.sha256).hexdigest()
                lines.append(f"VENDO-HMAC-SHA256 Device={device},Timestamp={ts},Nonce={nonce},"
                             f"Signature={sig}")
            data = os.path.join(workdir, name + ".txt")
            with open(data, "w") as f:
                f.write("\n".join(lines) + "\n")
            script = os.path.join(workdir, name + ".lua")
            with open(script, "w") as f:
                f.write(LUA % (data, 2))
            return script

        # The 2012 path, on the same server: register a 2012 device and sign its /gettoken.
        from run_bench import KEY, UID, signed_gettoken_url
        urllib.request.urlopen(f"http://127.0.0.1:{port}/registerdevice?uid={UID}&key={KEY}")
        print(f"v2 token requests vs 2012 /gettoken, {args.connections} connections, "
              f"{args.seconds}s each, {args.rounds} alternating rounds (median shown)",
              flush=True)
        v2_runs, legacy_runs = [], []
        pid = srv.proc.pid
        for r in range(args.rounds):
            script = signed_requests(f"v2-{r}")  # signed now: within the timestamp window
            srv.start_run()
            v2_runs.append(wrk_with_costs(pid, f"http://127.0.0.1:{port}/", 2, args.connections,
                                          args.seconds, script))
            srv.start_run()
            legacy_runs.append(wrk_with_costs(pid, signed_gettoken_url(port), 2,
                                              args.connections, args.seconds))
        v2 = sorted(v2_runs, key=lambda run: run["rps"])[len(v2_runs) // 2]
        legacy = sorted(legacy_runs, key=lambda run: run["rps"])[len(legacy_runs) // 2]
        # Logins: argon2id with the default parameters (19 MiB, 2 passes), one user, many
        # devices. Each login also binds a new device (a durable write).
        signup = urllib.request.Request(
            f"http://127.0.0.1:{port}/v2/apps/people/users", method="POST",
            headers={"Content-Type": "application/json"}, data=json.dumps({"username": "bench_user", "password": "bench password"}).encode())
        urllib.request.urlopen(signup).read()
        login_lua = os.path.join(workdir, "login.lua")
        with open(login_lua, "w") as f:
            f.write('wrk.method = "POST"\n'
                    'wrk.body = \'{"username":"bench_user","password":"bench password"}\'\n'
                    'wrk.headers["Content-Type"] = "application/json"\n')
        logins = wrk(f"http://127.0.0.1:{port}/v2/apps/people/login", 2, 4, args.seconds,
                     login_lua)
        srv.stop()
        print(f"  2012 /gettoken   {legacy['rps']:>9.0f} req/s   p99 {legacy['p99_ms']:6.2f} ms   "
              f"non-2xx {legacy['non2xx']}")
        print(f"                   {costs_text(legacy)}")
        print(f"  v2 POST token    {v2['rps']:>9.0f} req/s   p99 {v2['p99_ms']:6.2f} ms   "
              f"non-2xx {v2['non2xx']}   (each nonce written to the store)")
        print(f"                   {costs_text(v2)}")
        print(f"  ratio v2/2012: {v2['rps'] / legacy['rps']:.2f} (target >= 0.80)   rounds: v2 "
              + " ".join(f"{run['rps']:.0f}" for run in v2_runs) + ", 2012 "
              + " ".join(f"{run['rps']:.0f}" for run in legacy_runs))
        print(f"  v2 logins (argon2id m=19456 KiB, t=2, p=1): {logins['rps']:.0f}/s   "
              f"p99 {logins['p99_ms']:.1f} ms   non-2xx {logins['non2xx']}   "
              f"(each costs one argon2id verification)")
        bar_chart("v2", "v2 token requests and logins next to 2012 /gettoken (per second)",
                  [("2012 /gettoken", legacy["rps"]), ("v2 POST token", v2["rps"]),
                   ("v2 login (argon2id)", logins["rps"])], "/s")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
