"""Test peers that the integration tests start on 127.0.0.1 and stop after: moto_server
(STS and IAM with signature checking) and Ceph RGW. A peer that cannot start fails the test
loudly; nothing is skipped."""
import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url, proc, what, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer at {url} within {seconds} s")


class MotoServer:
    """moto_server with its request recorder on. `enforce_auth()` turns SigV4 and IAM checks on
    (after the test's own setup calls)."""

    def __init__(self, host="127.0.0.1"):
        self.dir = tempfile.mkdtemp(prefix="vendo-moto-")
        self.port = free_port()
        self.url = f"http://{host}:{self.port}"
        self.recording = os.path.join(self.dir, "recording.jsonl")
        env = dict(os.environ, MOTO_RECORDER_FILEPATH=self.recording)
        exe = shutil.which("moto_server")
        if exe is None:
            raise RuntimeError("moto_server is not installed (the machine image's Python has it)")
        self.log = open(os.path.join(self.dir, "moto.log"), "wb")
        self.proc = subprocess.Popen([exe, "-H", host, "-p", str(self.port)], env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_for_http(self.url + "/moto-api/data.json", self.proc, "moto_server")

    def client(self, service, key_id="AKIAIOSFODNN7EXAMPLE", secret="setup", token=None):
        import boto3  # from the machine image's Python
        return boto3.client(service, endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id=key_id, aws_secret_access_key=secret,
                            aws_session_token=token)

    def _post(self, path, data=b""):
        req = urllib.request.Request(self.url + path, data=data, method="POST",
                                     headers={"Content-Type": "text/plain"})
        return urllib.request.urlopen(req, timeout=10).read()

    def enforce_auth(self):
        self._post("/moto-api/reset-auth", b"0")

    def start_recording(self):
        self._post("/moto-api/recorder/reset-recording")
        self._post("/moto-api/recorder/start-recording")

    def recorded(self, action=None):
        """The recorded STS Query API calls: a list of (headers, {param: value})."""
        calls = []
        if not os.path.exists(self.recording):
            return calls
        with open(self.recording) as f:
            for line in f:
                entry = json.loads(line)
                body = entry.get("body") or ""
                if entry.get("body_encoded"):
                    body = base64.b64decode(body).decode()
                params = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
                if action is None or params.get("Action") == action:
                    calls.append((entry["headers"], params))
        return calls

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def make_tvm_user_and_role(self, role_name="devices"):
        """An IAM user for vendo (allowed STS calls) with a key, and a role it may assume with
        tags. Returns (access key id, secret, role arn)."""
        iam = self.client("iam")
        iam.create_user(UserName="vendo-tvm")
        iam.put_user_policy(UserName="vendo-tvm", PolicyName="vend", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow",
                           "Action": ["sts:GetFederationToken", "sts:AssumeRole",
                                      "sts:TagSession", "sts:SetSourceIdentity"],
                           "Resource": "*"}]}))
        key = iam.create_access_key(UserName="vendo-tvm")["AccessKey"]
        return key["AccessKeyId"], key["SecretAccessKey"], self.make_role(role_name)

    def make_role(self, name):
        """A role the vendo-tvm user may assume with tags; returns its ARN."""
        iam = self.client("iam")
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow",
                           "Principal": {"AWS": "arn:aws:iam::123456789012:user/vendo-tvm"},
                           "Action": ["sts:AssumeRole", "sts:TagSession",
                                      "sts:SetSourceIdentity"]}]}))["Role"]
        iam.put_role_policy(RoleName=name, PolicyName="who", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["sts:GetCallerIdentity", "s3:*"],
                           "Resource": "*"}]}))
        return role["Arn"]


REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../..")
PG_SCRIPT = os.path.join(REPO, "scripts/pg-test-server.sh")


class PostgresServer:
    """A throw-away PostgreSQL (scripts/pg-test-server.sh) with a password file."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="vendo-pg-")
        self.port = free_port()
        self.url = self._run("start", str(self.port)).strip().splitlines()[-1]
        self.password_file = os.path.join(self.dir, "password")

    def _run(self, cmd, *args):
        r = subprocess.run([PG_SCRIPT, cmd, self.dir, *args], capture_output=True, text=True,
                           timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"pg-test-server.sh {cmd} failed: {r.stderr}")
        return r.stdout

    def kill(self):
        self._run("kill")

    def restart(self):
        self._run("restart")

    def stop(self):
        try:
            self._run("stop")
        except RuntimeError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


class Haproxy:
    """haproxy on 127.0.0.1 balancing over `backends` (ports), health-checking /readyz."""

    def __init__(self, backends):
        exe = shutil.which("haproxy") or "/usr/sbin/haproxy"
        if not os.path.exists(exe):
            raise RuntimeError("haproxy is not installed (make deps installs it)")
        self.dir = tempfile.mkdtemp(prefix="vendo-haproxy-")
        self.port = free_port()
        servers = "\n".join(
            f"    server vendo{i} 127.0.0.1:{p} check inter 200ms fall 2 rise 1"
            for i, p in enumerate(backends))
        conf = os.path.join(self.dir, "haproxy.cfg")
        with open(conf, "w") as f:
            f.write(f"""global
    maxconn 2000
defaults
    mode http
    timeout connect 1s
    timeout client 10s
    timeout server 10s
    option forwardfor
    http-reuse never
    retries 2
    retry-on conn-failure
    option redispatch 1
frontend vendo
    bind 127.0.0.1:{self.port}
    default_backend vendo_hosts
backend vendo_hosts
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
{servers}
""")
        self.log = open(os.path.join(self.dir, "haproxy.log"), "wb")
        self.proc = subprocess.Popen([exe, "-db", "-f", conf], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        wait_for_http(f"http://127.0.0.1:{self.port}/healthz", self.proc, "haproxy")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


SHARED = os.environ.get("VENDO_SHARED_DIR", os.path.join(REPO, "../shared"))
RGW_SCRIPTS = os.path.join(SHARED, "ceph-rgw-sts")


class CephRgw:
    """A single-node Ceph cluster with the RADOS Gateway (a real S3 + STS that enforces session
    policies) from ../shared/ceph-rgw-sts/start.sh. `env` holds what start.sh wrote."""

    def __init__(self):
        self.scratch = tempfile.mkdtemp(prefix="vendo-rgw-")
        env = dict(os.environ, MON_PORT=str(free_port()), RGW_PORT=str(free_port()))
        started = subprocess.run([os.path.join(RGW_SCRIPTS, "start.sh"), self.scratch], env=env,
                                 capture_output=True, text=True, timeout=120)
        if started.returncode != 0:
            raise RuntimeError("Ceph RGW did not start (apt: ceph-mon ceph-osd radosgw; "
                               f"make deps installs them):\n{started.stdout}\n{started.stderr}")
        self.env = {}
        with open(os.path.join(self.scratch, "env")) as f:
            for line in f:
                if "=" in line:
                    k, v = line.strip().split("=", 1)
                    self.env[k] = v

    def s3(self, key_id, secret, token=None):
        import boto3
        from botocore.config import Config
        return boto3.client("s3", endpoint_url=self.env["RGW_ENDPOINT"],
                            region_name=self.env["RGW_REGION"], aws_access_key_id=key_id,
                            aws_secret_access_key=secret, aws_session_token=token,
                            config=Config(s3={"addressing_style": "path"},
                                          retries={"max_attempts": 1}))

    def admin_s3(self):
        """S3 as the TVM user itself (the bucket's owner), to plant objects."""
        return self.s3(self.env["TVM_ACCESS_KEY_ID"], self.env["TVM_SECRET_ACCESS_KEY"])

    def aws_toml(self, secret_file):
        """An [apps.NAME.aws] table's keys for vendo's aws-assume-role issuer against RGW."""
        return (f'endpoint = "{self.env["RGW_ENDPOINT"]}"\n'
                f'region = "{self.env["RGW_REGION"]}"\n'
                f'role_arn = "{self.env["RGW_ROLE_ARN"]}"\n'
                f'access_key_id = "{self.env["TVM_ACCESS_KEY_ID"]}"\n'
                f'secret_access_key_file = "{secret_file}"\n')

    def stop(self):
        subprocess.run([os.path.join(RGW_SCRIPTS, "stop.sh"), self.scratch, "--purge"],
                       capture_output=True, timeout=60)


class NetNamespace:
    """A network namespace joined to this host by a veth pair: a test client that is not on
    loopback (loopback clients are exempt from vendo's limits). Addresses are in 10.250.77.0/30
    and exist only on the pair, which the test creates and removes itself."""

    HOST_ADDR = "10.250.77.1"
    CLIENT_ADDR = "10.250.77.2"

    def __init__(self, net="10.250.77", kind="t"):
        """`net`: the /30's first three bytes (each kind of test its own); `kind`: one letter
        in the namespace's and interfaces' names."""
        self.host_addr, self.client_addr = f"{net}.1", f"{net}.2"
        tag = f"{os.getpid() % 100000}"
        self.name = f"vendo-{kind}{tag}"
        self.host_if, self.ns_if = f"v{kind}{tag}h", f"v{kind}{tag}n"
        steps = [["ip", "netns", "add", self.name],
                 ["ip", "link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if],
                 ["ip", "link", "set", self.ns_if, "netns", self.name],
                 ["ip", "addr", "add", self.host_addr + "/30", "dev", self.host_if],
                 ["ip", "link", "set", self.host_if, "up"],
                 ["ip", "-n", self.name, "addr", "add", self.client_addr + "/30", "dev",
                  self.ns_if],
                 ["ip", "-n", self.name, "link", "set", self.ns_if, "up"],
                 ["ip", "-n", self.name, "link", "set", "lo", "up"]]
        for step in steps:
            r = subprocess.run(step, capture_output=True, text=True)
            if r.returncode != 0:
                self.stop()
                raise RuntimeError(f"cannot make a network namespace ({' '.join(step)}): "
                                   f"{r.stderr.strip()} (the test needs root and iproute2)")

    def add_ipv6(self, host_addr, client_addrs, prefix=64):
        """Gives the host side `host_addr` and the namespace `client_addrs` (each on-link in its
        own /`prefix`), usable at once (no duplicate address detection)."""
        steps = [["ip", "-6", "addr", "add", f"{host_addr}/{prefix}", "dev", self.host_if,
                  "nodad"]]
        steps += [["ip", "-n", self.name, "-6", "addr", "add", f"{a}/{prefix}", "dev", self.ns_if,
                   "nodad"] for a in client_addrs]
        for step in steps:
            r = subprocess.run(step, capture_output=True, text=True)
            if r.returncode != 0:
                raise RuntimeError(f"cannot add an IPv6 address ({' '.join(step)}): "
                                   f"{r.stderr.strip()}")

    def run(self, args, **kw):
        """Runs `args` inside the namespace."""
        return subprocess.run(["ip", "netns", "exec", self.name, *args], **kw)

    def stop(self):
        subprocess.run(["ip", "link", "del", self.host_if], capture_output=True)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)
