#!/usr/bin/env python3
"""vendo benchmarks, each next to a baseline measured in the same run on the same machine.

1. GET /gettoken (2012 anonymous, the full path: store lookup, HMAC, dev issuer, AES, access
   log) under wrk with keep-alive, next to nginx serving a static body of the same size with
   the same number of workers. Prints requests/s, p99 and the ratio, twice: vendo with
   `pin_threads = true` against nginx with `worker_cpu_affinity auto` (each server's own CPU
   affinity setting: the target ratio), and both with their defaults. Every server's log
   files are emptied before each run (docs/decisions.md 23), and the bytes of log written
   per request are printed.
2. Durable registrations/s (group commit) next to the same server with one commit (one
   fsync) per registration.
3. vendo's peak RSS.

Run by `make bench`, never by `make test`: numbers are printed, not asserted.
"""
import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chart import bar_chart  # noqa: E402

UID = "bench0123456789abcdef0123456789a"  # 32 characters, as stock clients send
KEY = "000102030405060708090a0b0c0d0e0f"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_master_key(workdir):
    """A fresh master key in workdir/master.key (mode 0600); returns its path."""
    path = os.path.join(workdir, "master.key")
    with open(path, "w") as f:
        f.write(os.urandom(32).hex() + "\n")
    os.chmod(path, 0o600)
    return path


def config_head(workdir, port, key):
    """The top of a benchmark's vendo.toml: loopback listener, warn-level logs, an admin
    listener, SQLite and an audit file in `workdir`. The [apps.*] tables follow."""
    return f"""[admin]
listen = "127.0.0.1:0"
[server]
listen = "127.0.0.1:{port}"
log_level = "warn"
[store]
path = "{workdir}/v.db"
master_key_file = "{key}"
[audit]
file = "{workdir}/audit.log"
"""


def write_config(workdir, port, threads, max_batch, pin=False):
    path = os.path.join(workdir, f"vendo-{max_batch}-{'pinned' if pin else 'free'}.toml")
    with open(path, "w") as f:
        f.write(f"""default_app = "bench"
[admin]
listen = "127.0.0.1:0"
[server]
listen = "127.0.0.1:{port}"
threads = {threads}
pin_threads = {"true" if pin else "false"}
[store]
path = "{workdir}/vendo-{max_batch}-{'pinned' if pin else 'free'}.db"
master_key_file = "{workdir}/master.key"
group_commit_max_batch = {max_batch}
[apps.bench]
allow_insecure_legacy = true
mode = "anonymous"
duration_seconds = 3600
policy = '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bench/${{uid}}/*"}}]}}'
[apps.bench.limits]
tokens_per_device_per_minute = 0  # the benchmark asks for one device's token on purpose
""")
    return path


class Server:
    def __init__(self, args, log_path, log_files=()):
        # Appending, so that truncating the file (see start_run) makes the next line start it.
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self.log)
        self.log_files = [log_path, *log_files]  # every file the server appends its logs to

    def start_run(self):
        """Empties the server's log files before a measured run; returns the bytes they held.

        A long benchmark writes gigabytes of log lines (vendo: an access line and an audit line
        per /gettoken). On this VM, once one log file has grown past 1.3-1.5 GB, the server's
        sys time per request goes up by more than half for good (measured: /gettoken 138k ->
        116k req/s, with copy_folio_from_iter_atomic and memset, the filling of new page-cache
        pages, at the top of the kernel profile; most likely first-touch faults of the VM's
        memory, as pre-touching memory moved the threshold and sync did not). Which run
        paid that depended on the order of the runs, not on the server. Emptying the logs
        between runs (as log rotation would) gives each run the same start; the writes
        themselves are still paid in every run.
        """
        held = 0
        for path in self.log_files:
            if os.path.exists(path):
                held += os.path.getsize(path)
                os.truncate(path, 0)
        return held

    def wait_port(self, port, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    sys.exit(f"server exited with {self.proc.returncode}")
                time.sleep(0.05)
        sys.exit("server did not start")

    def peak_rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            m = re.search(r"VmHWM:\s+(\d+) kB", f.read())
        return int(m.group(1))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def wrk(url, threads, connections, seconds, script=None):
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": rps, "p99_ms": float(p99.group(1)) * scale, "requests": requests,
            "non2xx": int(errors.group(1)) if errors else 0, "raw": out}


def process_counters(pid):
    """CPU seconds (user + system) and context switches (every thread's) of a process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    switches = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        switches += int(line.split()[1])
        except FileNotFoundError:
            pass  # a thread that ended meanwhile
    return cpu, switches


SYSCALLS = ("raw_syscalls:sys_enter", "syscalls:sys_enter_futex", "syscalls:sys_enter_pwrite64",
            "syscalls:sys_enter_fdatasync")


def wrk_with_costs(pid, url, threads, connections, seconds, script=None):
    """wrk, plus what the server at `pid` spent per request meanwhile: CPU ms and context
    switches from /proc, syscalls (all, futex, pwrite64, fdatasync) from `perf stat` on its
    tracepoints. Without perf (or its tracepoints) the syscall counts are None."""
    cpu0, sw0 = process_counters(pid)
    perf = None
    if shutil.which("perf"):
        perf = subprocess.Popen(["perf", "stat", "-x", ",", "-e", ",".join(SYSCALLS),
                                 "-p", str(pid)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
    run = wrk(url, threads, connections, seconds, script)
    counts = {}
    if perf:
        perf.send_signal(signal.SIGINT)
        _, err = perf.communicate(timeout=20)
        for line in err.splitlines():
            parts = line.split(",")
            if len(parts) > 2 and parts[2] in SYSCALLS and parts[0].isdigit():
                counts[parts[2]] = int(parts[0])
    cpu1, sw1 = process_counters(pid)
    n = max(run["requests"], 1)
    run["cpu_ms"] = (cpu1 - cpu0) * 1000 / n
    run["switches"] = (sw1 - sw0) / n
    run["syscalls"] = {name.rsplit("_", 1)[-1] if name != SYSCALLS[0] else "all":
                       counts[name] / n for name in SYSCALLS if name in counts} or None
    return run


def costs_text(run):
    """A run's costs per request, as wrk_with_costs measured them."""
    text = f"cpu {run['cpu_ms']:.3f} ms/req   switches {run['switches']:.2f}/req"
    if run["syscalls"] is None:
        return text + "   syscalls n/a (no perf)"
    return text + "   syscalls/req " + " ".join(f"{k} {v:.2f}" for k, v in run["syscalls"].items())


def signed_gettoken_url(port):
    t = datetime.datetime.now(datetime.timezone.utc)
    ts = t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
    sig = base64.b64encode(hmac.new(KEY.encode(), ts.encode(), hashlib.sha256).digest()).decode()
    q = urllib.parse.urlencode({"uid": UID, "timestamp": ts, "signature": sig})
    return f"http://127.0.0.1:{port}/gettoken?{q}"


def access_log_path(workdir, affinity):
    return os.path.join(workdir, f"{'nginx-affinity' if affinity else 'nginx'}-access.log")


def nginx_conf(workdir, port, workers, body_file, affinity=False):
    name = "nginx-affinity" if affinity else "nginx"
    conf = os.path.join(workdir, f"{name}.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes {workers};
{"worker_cpu_affinity auto;" if affinity else ""}
pid {workdir}/{name}.pid;
error_log {workdir}/nginx-error.log;
events {{ worker_connections 4096; }}
http {{
  access_log {access_log_path(workdir, affinity)} combined buffer=64k flush=1s;
  client_body_temp_path {workdir}/tmp; proxy_temp_path {workdir}/tmp;
  fastcgi_temp_path {workdir}/tmp; uwsgi_temp_path {workdir}/tmp; scgi_temp_path {workdir}/tmp;
  keepalive_requests 1000000;
  server {{
    listen 127.0.0.1:{port};
    location = /gettoken {{ default_type "text/plain; charset=UTF-8"; alias {body_file}; }}
  }}
}}
""")
    os.makedirs(os.path.join(workdir, "tmp"), exist_ok=True)
    return conf


REGISTER_LUA = """
local counter = 0
local threads_started = 0
function setup(thread)
  threads_started = threads_started + 1
  thread:set("prefix", string.format("%s%02d", os.time(), threads_started))
end
function request()
  counter = counter + 1
  local uid = string.format("reg%s%020d", prefix, counter)
  return wrk.format("GET", "/registerdevice?uid=" .. uid .. "&key=000102030405060708090a0b0c0d0e0f")
end
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vendo", default="./build/vendo")
    ap.add_argument("--seconds", type=int, default=10, help="duration of each wrk run")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3, help="alternating vendo/nginx rounds")
    ap.add_argument("--workers", type=int, default=os.cpu_count(),
                    help="vendo threads and nginx workers (the same number)")
    args = ap.parse_args()
    vendo = os.path.abspath(args.vendo)
    workdir = tempfile.mkdtemp(prefix="vendo-bench-")
    os.chmod(workdir, 0o755)
    results = {}
    try:
        write_master_key(workdir)

        # --- 1. /gettoken vs nginx ---------------------------------------------------------
        # Rounds alternate vendo and nginx and the medians are compared, because a single run
        # of either swings by 10-15% on a shared 2-core machine.
        print(f"[1/3] /gettoken: vendo vs nginx, {args.workers} workers, "
              f"{args.connections} keep-alive connections, {args.rounds} alternating rounds of "
              f"{args.seconds}s", flush=True)
        # Two pairs: each server with its CPU affinity setting on (vendo pin_threads, nginx
        # worker_cpu_affinity auto; the target), and each with its defaults.
        servers, urls = {}, {}
        for pin in (True, False):
            port = free_port()
            name = "vendo" if pin else "vendo_default"
            servers[name] = Server(
                [vendo, "serve", "--config", write_config(workdir, port, args.workers, 256, pin)],
                os.path.join(workdir, f"{name}.log"))
            servers[name].wait_port(port)
            reg = urllib.request.urlopen(
                f"http://127.0.0.1:{port}/registerdevice?uid={UID}&key={KEY}")
            assert reg.status == 200
            urls[name] = signed_gettoken_url(port)
            if pin:
                urls["vendo_healthz"] = f"http://127.0.0.1:{port}/healthz"
        body = urllib.request.urlopen(urls["vendo"]).read()
        body_file = os.path.join(workdir, "gettoken.txt")
        with open(body_file, "wb") as f:
            f.write(body)
        os.chmod(body_file, 0o644)
        for affinity in (True, False):
            nport = free_port()
            name = "nginx" if affinity else "nginx_default"
            conf = nginx_conf(workdir, nport, args.workers, body_file, affinity)
            servers[name] = Server(
                ["nginx", "-p", workdir, "-c", conf, "-g", "daemon off;"],
                os.path.join(workdir, f"{name}.out"), [access_log_path(workdir, affinity)])
            servers[name].wait_port(nport)
            urls[name] = f"http://127.0.0.1:{nport}/gettoken"
            assert len(urllib.request.urlopen(urls[name]).read()) == len(body)
        order = ("vendo", "nginx", "vendo_default", "nginx_default", "vendo_healthz")
        server_of = {"vendo_healthz": "vendo"}
        for name in order:
            servers[server_of.get(name, name)].start_run()
            wrk(urls[name], 2, args.connections, 2)  # warm-up
        runs = {name: [] for name in order}
        for r in range(args.rounds):
            for name in order:
                srv = servers[server_of.get(name, name)]
                srv.start_run()
                run = wrk(urls[name], 2, args.connections, args.seconds)
                # Log lines still in a buffer (up to a second's worth) are not counted.
                run["log_bytes_per_request"] = srv.start_run() / max(1, run["requests"])
                runs[name].append(run)
            print(f"  round {r + 1}: " + ", ".join(
                f"{name} {runs[name][-1]['rps']:.0f}" for name in order) + " req/s", flush=True)
        rss_gettoken = servers["vendo"].peak_rss_kib()
        for srv in servers.values():
            srv.stop()

        def median(name):
            ordered = sorted(runs[name], key=lambda x: x["rps"])
            return ordered[len(ordered) // 2]

        v, n, h = median("vendo"), median("nginx"), median("vendo_healthz")
        vd, nd = median("vendo_default"), median("nginx_default")
        results["gettoken"] = {"vendo": v, "nginx": n, "vendo_healthz": h, "vendo_default": vd,
                               "nginx_default": nd, "body_bytes": len(body)}
        print(f"  vendo /gettoken  {v['rps']:>10.0f} req/s   p99 {v['p99_ms']:7.2f} ms   "
              f"non-2xx {v['non2xx']}   (median; pin_threads = true)")
        print(f"  nginx static     {n['rps']:>10.0f} req/s   p99 {n['p99_ms']:7.2f} ms   "
              f"(same {len(body)}-byte body; worker_cpu_affinity auto)")
        print(f"  vendo /healthz   {h['rps']:>10.0f} req/s   p99 {h['p99_ms']:7.2f} ms   "
              f"(HTTP layer only: no store, no crypto)")
        print(f"  ratio vendo/nginx: {v['rps'] / n['rps']:.2f} (target >= 0.90); "
              f"/healthz/nginx: {h['rps'] / n['rps']:.2f}")
        print(f"  log written per request: vendo /gettoken {v['log_bytes_per_request']:.0f} bytes "
              f"(access and audit lines), nginx {n['log_bytes_per_request']:.0f} bytes "
              f"(combined access log); logs emptied before each run (see Server.start_run)")
        print(f"  defaults (vendo unpinned, nginx without affinity): vendo {vd['rps']:.0f} req/s "
              f"p99 {vd['p99_ms']:.2f} ms, nginx {nd['rps']:.0f} req/s p99 {nd['p99_ms']:.2f} ms, "
              f"ratio {vd['rps'] / nd['rps']:.2f}", flush=True)

        # --- 2. durable registrations: group commit vs one fsync each ----------------------
        print(f"[2/3] durable /registerdevice: group commit vs one commit per registration",
              flush=True)
        script = os.path.join(workdir, "register.lua")
        with open(script, "w") as f:
            f.write(REGISTER_LUA)
        reg_results = {}
        peak = {}
        for label, batch in (("group commit", 256), ("one fsync each", 1)):
            port = free_port()
            srv = Server([vendo, "serve", "--config", write_config(workdir, port, args.workers, batch)],
                         os.path.join(workdir, f"vendo-register-{batch}.log"))
            srv.wait_port(port)
            r = wrk(f"http://127.0.0.1:{port}/registerdevice", 2, args.connections, args.seconds,
                    script)
            peak[label] = srv.peak_rss_kib()
            srv.stop()
            reg_results[label] = r
            print(f"  {label:<16} {r['rps']:>10.0f} registrations/s   p99 {r['p99_ms']:7.2f} ms   "
                  f"non-2xx {r['non2xx']}", flush=True)
        ratio = reg_results["group commit"]["rps"] / reg_results["one fsync each"]["rps"]
        print(f"  ratio group/naive: {ratio:.2f} (target >= 3)")
        results["register"] = reg_results

        # --- 3. memory ---------------------------------------------------------------------
        print("[3/3] vendo peak RSS")
        print(f"  /gettoken run: {rss_gettoken / 1024:.1f} MiB; registration runs: "
              + ", ".join(f"{k} {v / 1024:.1f} MiB" for k, v in peak.items()))

        os.makedirs("bench/results", exist_ok=True)
        with open("bench/results/latest.json", "w") as f:
            for part in results.values():
                for r in part.values() if isinstance(part, dict) else []:
                    if isinstance(r, dict):
                        r.pop("raw", None)
            json.dump({"results": results, "rss_kib": {"gettoken": rss_gettoken, **peak}}, f,
                      indent=2)
        print("results written to bench/results/latest.json")
        bar_chart("gettoken", "/gettoken: vendo vs nginx serving a static body (req/s)",
                  [("nginx static", n["rps"]), ("vendo /gettoken", v["rps"]),
                   ("vendo /healthz", h["rps"]), ("nginx, defaults", nd["rps"]),
                   ("vendo, defaults", vd["rps"])], "req/s")
        bar_chart("register", "Durable /registerdevice (registrations/s)",
                  [(label, r["rps"]) for label, r in reg_results.items()], "/s")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
