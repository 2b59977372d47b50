#!/usr/bin/env python3
"""POST federate requests per second with warm keys and a warm credential cache, beside the
limit signature verification alone sets on this machine, measured in the same run.

An OpenID provider of the benchmark's own (tests/integration/oidc_provider.py) serves its keys
over HTTPS on loopback; vendo fetches them once. One ID token per key type (RS256, ES256) is
replayed by wrk, so every request checks the token's signature and claims, finds the identity
and is served from the credential cache: what a fleet of devices federating costs, without
STS. The limit is `openssl speed` verify operations per second for the same key type, times
the network threads vendo runs (one per core); wrk shares the cores, so the ratio is a floor.

vendo's own HTTP ceiling is measured in the same run (GET /healthz with the same wrk), and
so is the rate that ceiling and the verifications leave together, 1 / (1/ceiling + 1/limit):
each federate request costs an HTTP exchange and a verification on the same cores, so where
the ceiling is below the verify limit (RS256 verifies fast), no server reaches 0.7 of it.

Run by `make bench`; numbers are printed, not asserted.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "../tests/integration"))
from run_bench import Server, config_head, free_port, write_master_key, wrk  # noqa: E402
from oidc_provider import Provider  # noqa: E402

LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '%s'
"""


def verify_rate(algorithm, cores):
    """openssl speed: signature verifications per second on one core, and on `cores`."""
    out = subprocess.run(["openssl", "speed", "-seconds", "2", "-multi", str(cores), algorithm],
                         capture_output=True, text=True, check=True).stdout
    # The last line of the table: "... sign/s verify/s" (multi: the sum over processes).
    line = [l for l in out.splitlines() if l.strip()][-1].split()
    return float(line[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vendo", default="./build/vendo")
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=32)
    args = ap.parse_args()
    vendo = os.path.abspath(args.vendo)
    cores = os.cpu_count() or 1
    workdir = tempfile.mkdtemp(prefix="vendo-fedbench-")
    idp = Provider(workdir, max_age=3600)
    srv = None
    try:
        key = write_master_key(workdir)
        port = free_port()
        cfg = os.path.join(workdir, "vendo.toml")
        with open(cfg, "w") as f:
            f.write(config_head(workdir, port, key) + f"""[apps.social]
mode = "federated"
allow_insecure_legacy = true
policy = '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${{claim:sub}}/*"}}]}}'
[apps.social.limits]
tokens_per_device_per_minute = 0  # one identity, on purpose
[[apps.social.identity_providers]]
name = "bench"
issuer_url = "{idp.issuer}"
audiences = ["photos-client"]
ca_file = "{idp.cert}"
""")
        srv = Server([vendo, "serve", "--config", cfg], os.path.join(workdir, "vendo.log"))
        srv.wait_port(port)
        url = f"http://127.0.0.1:{port}/v2/apps/social/federate"
        results = {}
        for alg, kid, speed in (("RS256", "rsa-1", "rsa2048"), ("ES256", "ec-1", "ecdsap256")):
            body = json.dumps({"id_token": idp.token(kid=kid, sub="bench-" + kid,
                                                     lifetime=3600)})
            warm = urllib.request.Request(url, data=body.encode(), method="POST",
                                          headers={"Content-Type": "application/json"})
            urllib.request.urlopen(warm).read()  # keys fetched, identity made, credentials cached
            script = os.path.join(workdir, alg + ".lua")
            with open(script, "w") as f:
                f.write(LUA % body)
            srv.start_run()  # the logs emptied before each measured run (decisions.md 23)
            run = wrk(url, 2, args.connections, args.seconds, script)
            limit = verify_rate(speed, cores)
            results[alg] = (run, limit)
        srv.start_run()
        ceiling = wrk(f"http://127.0.0.1:{port}/healthz", 2, args.connections, args.seconds)
        print(f"federate with warm keys and credential cache, {args.connections} connections, "
              f"{args.seconds}s each; limit = openssl speed verify/s x {cores} cores", flush=True)
        print(f"  vendo's HTTP ceiling (GET /healthz)   {ceiling['rps']:>9.0f} req/s")
        for alg, (run, limit) in results.items():
            both = 1 / (1 / ceiling["rps"] + 1 / limit)
            print(f"  federate {alg}   {run['rps']:>9.0f} req/s   p99 {run['p99_ms']:6.2f} ms   "
                  f"non-2xx {run['non2xx']}   verify limit {limit:>9.0f}/s   "
                  f"ratio {run['rps'] / limit:.2f} (target >= 0.70)   "
                  f"ceiling and verify together {both:>7.0f}/s: ratio {run['rps'] / both:.2f}")
    finally:
        if srv:
            srv.stop()
        idp.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
