"""Starts a real `vendo serve` for a test and talks the 2012 protocol to it.

The client side here is written independently of vendo's C++ code: Python's hmac/hashlib for
signatures and the `cryptography` package for AES-CBC, following the spec in
../shared/specs/aws-tvm-legacy-protocol.md.
"""
import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.parse

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

VENDO = os.environ.get("VENDO_BIN", os.path.join(os.path.dirname(__file__), "../../build/vendo"))


def now_ts(millis=True, skew_seconds=0):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=skew_seconds)
    if millis:
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def sign_b64(key, msg):
    return base64.b64encode(hmac.new(key.encode(), msg.encode(), hashlib.sha256).digest()).decode()


def sign_hex(key, msg):
    return hmac.new(key.encode(), msg.encode(), hashlib.sha256).hexdigest()


def salted_hash(password, username, app_name, url):
    endpoint = url.lower()
    for scheme in ("http://", "https://"):
        if endpoint.startswith(scheme):
            endpoint = endpoint[len(scheme):]
            break
    if endpoint.endswith("/"):
        endpoint = endpoint[:-1]
    msg = username + app_name.lower() + endpoint
    return hmac.new(password.encode(), msg.encode(), hashlib.sha256).hexdigest()


def unwrap(body, key_hex):
    raw = base64.b64decode(body.strip())
    iv, ct = raw[:16], raw[16:]
    dec = Cipher(algorithms.AES(bytes.fromhex(key_hex)), modes.CBC(iv)).decryptor()
    padded = dec.update(ct) + dec.finalize()
    return padded[: -padded[-1]].decode()


def extract(text, name):
    """The 2012 clients' extractElement: text between the two quotes after `name`."""
    start = text.index(name)
    q1 = text.index('"', start)
    q2 = text.index('"', q1 + 1)
    return text[q1 + 1 : q2]


class Vendo:
    """A `vendo serve --dev` process on 127.0.0.1 with a free port, in a temp data dir."""

    def __init__(self, data_dir=None, extra_args=(), config=None, env=None, binary=None,
                 prefix=()):
        self.owns_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="vendo-it-")
        self.extra_args = list(extra_args)
        self.config = config
        self.env = env
        self.binary = binary or VENDO
        self.prefix = list(prefix)  # a command that runs vendo, such as setpriv
        self.proc = None
        self.port = None
        self.admin_url = None  # the admin listener (/metrics, status page), when there is one
        self.stderr_path = os.path.join(self.data_dir, "stderr.log")

    def start(self):
        if self.config:
            args = [self.binary, "serve", "--config", self.config]
        else:
            args = [self.binary, "serve", "--dev", "--listen", "127.0.0.1:0", "--data-dir",
                    self.data_dir]
        self.port = None
        if getattr(self, "stderr", None):
            self.stderr.close()
        self.stderr = open(self.stderr_path, "ab")
        offset = self.stderr.tell()  # earlier runs' lines are not this run's
        self.proc = subprocess.Popen(self.prefix + args + self.extra_args, stdout=subprocess.PIPE,
                                     stderr=self.stderr, stdin=subprocess.DEVNULL, env=self.env)
        deadline = time.time() + 15
        while time.time() < deadline:
            with open(self.stderr_path, "rb") as f:
                f.seek(offset)
                for line in f.read().decode(errors="replace").splitlines():
                    if '"msg":"listening"' in line:
                        self.port = json.loads(line)["port"]
                    if '"msg":"admin listening"' in line:
                        self.admin_url = json.loads(line)["address"]
            if self.port and self._pid_alive():
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"vendo exited with {self.proc.returncode}: {self.logs()}")
            time.sleep(0.05)
        raise RuntimeError("vendo did not start listening: " + self.logs())

    def _pid_alive(self):
        return self.proc.poll() is None

    def logs(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")

    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=timeout)
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        if getattr(self, "stderr", None):
            self.stderr.close()
            self.stderr = None
        self.port = None
        return self.proc.returncode if self.proc else None

    def cleanup(self):
        self.stop()
        if self.owns_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def conn(self):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)

    def request(self, method, path, params=None, body=None, headers=None):
        """Returns (status, body bytes, headers dict with lower-case names)."""
        target = path
        if params is not None and method == "GET":
            target += "?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
        hdrs = dict(headers or {})
        if params is not None and method == "POST":
            body = urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        c = self.conn()
        try:
            c.request(method, target, body=body, headers=hdrs)
            r = c.getresponse()
            data = r.read()
            return r.status, data, {k.lower(): v for k, v in r.getheaders()}
        finally:
            c.close()


def new_device():
    return secrets.token_hex(16), secrets.token_hex(16)


def write_config(directory, apps_toml, log_level="info", listen="127.0.0.1:0", store=None,
                 server_extra="", name="vendo.toml", key_file=None, admin='listen = "127.0.0.1:0"'):
    """A config file in `directory` with a master key (fresh unless `key_file` is given), a
    loopback listener (a free port by default) and the given [apps.*] tables. `store` replaces
    the SQLite location with other [store] keys. Returns its path."""
    if key_file is None:
        key_file = os.path.join(directory, "master.key")
        if not os.path.exists(key_file):
            with open(key_file, "w") as f:
                f.write(os.urandom(32).hex() + "\n")
            os.chmod(key_file, 0o600)
    if store is None:
        store = f'path = "{os.path.join(directory, "vendo.db")}"'
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(f"""
[server]
listen = "{listen}"
log_level = "{log_level}"
{server_extra}
[admin]
{admin}
[store]
{store}
master_key_file = "{key_file}"
{apps_toml}
""")
    return path


# An S3 policy for tests, as a TOML literal string, scoped by one template variable.
def s3_policy(variable="uid"):
    return ("'{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":"
            "\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/${" + variable + "}/*\"}]}'")


IDENT_ENDPOINT = "https://tvm.example.com/apps/ident"


def two_apps(app_name, policy=None):
    """[apps.*] tables for an anonymous app "anon" and an identity app "ident" (its 2012 app
    name `app_name`, its public URL IDENT_ENDPOINT), both over plain HTTP on loopback."""
    policy = policy or s3_policy()
    return f"""
[apps.anon]
mode = "anonymous"
allow_insecure_legacy = true
policy = {policy}
[apps.ident]
mode = "identity"
allow_insecure_legacy = true
app_name = "{app_name}"
public_endpoint = "{IDENT_ENDPOINT}"
policy = {policy}
"""


def parse_token(plain):
    """The credentials in a decrypted /gettoken body, as a dict of the 2012 field names."""
    return {name: extract(plain, name)
            for name in ("accessKey", "secretKey", "securityToken", "expirationDate")}


def anonymous_token(v, prefix, uid, key, register=True):
    """Registers (once) and fetches a token; returns (status, credentials dict or body)."""
    if register:
        status, body, _ = v.request("GET", prefix + "/registerdevice", {"uid": uid, "key": key})
        if status != 200:
            return status, body
    return fetch_token(v, prefix, uid, key, sign_b64)


def fetch_token(v, prefix, uid, key, sign):
    """A signed /gettoken; returns (status, credentials dict or body)."""
    ts = now_ts()
    status, body, _ = v.request("GET", prefix + "/gettoken",
                                {"uid": uid, "timestamp": ts, "signature": sign(key, ts)})
    if status != 200:
        return status, body
    return status, parse_token(unwrap(body.decode(), key))


def identity_token(v, prefix, username, password, app_name, endpoint, uid=None):
    """Registers the user (if new), logs a device in and fetches a token; returns
    (status, credentials dict or body)."""
    status, body, _ = v.request("POST", prefix + "/registeruser",
                                {"username": username, "password": password})
    if status not in (200, 409):
        return status, body
    h = salted_hash(password, username, app_name, endpoint)
    uid = uid or new_device()[0]
    ts = now_ts(False)
    status, body, _ = v.request("GET", prefix + "/login", {"uid": uid, "username": username,
                                                           "timestamp": ts,
                                                           "signature": sign_hex(h, ts)})
    if status != 200:
        return status, body
    key = extract(unwrap(body.decode(), h[:32]), "key")
    return fetch_token(v, prefix, uid, key, sign_hex)


def make_cert(directory, name):
    """A self-signed P-256 certificate for 127.0.0.1 (so also its own CA): (cert, key) paths."""
    cert, key = os.path.join(directory, name + ".pem"), os.path.join(directory, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=" + name,
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    return cert, key


def write_secret(directory, name, value):
    """A file holding one secret, mode 0600; returns its path."""
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(value + "\n")
    os.chmod(path, 0o600)
    return path


def run_concurrently(fn, count, timeout=60):
    """Runs fn() on `count` threads at once; returns their results."""
    import threading
    results = []
    threads = [threading.Thread(target=lambda: results.append(fn())) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    return results


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def v2_signed_headers(device, secret, path, body, ts=None, nonce=None, signed_body=None):
    """The v2 Authorization header (docs/protocol-v2.md) for a POST of `body` to `path`.
    `secret` is the device secret as the server gave it (base64url) or its raw bytes."""
    if isinstance(secret, str):
        secret = unb64url(secret)
    ts = ts or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    nonce = nonce or b64url(os.urandom(16))
    canonical = "\n".join(["VENDO-HMAC-SHA256", "POST", path,
                           hashlib.sha256(body if signed_body is None else signed_body)
                           .hexdigest(), ts, nonce, device])
    sig = hmac.new(secret, canonical.encode(), hashlib.sha256).hexdigest()
    return {"Authorization": f"VENDO-HMAC-SHA256 Device={device},Timestamp={ts},"
                             f"Nonce={nonce},Signature={sig}",
            "Content-Type": "application/json"}


def v2_post(v, path, body=b"", headers=None):
    """A v2 POST (JSON unless `headers` say otherwise): (status, parsed JSON or None, headers)."""
    hdrs = {"Content-Type": "application/json"}
    hdrs.update(headers or {})
    status, data, got = v.request("POST", path, body=body, headers=hdrs)
    return status, json.loads(data) if data else None, got
