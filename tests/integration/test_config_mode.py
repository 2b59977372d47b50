"""`vendo serve --config` with the shipped examples, over TLS, and the CLI's contract."""
import http.client
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from vendo_harness import (VENDO, Vendo, extract, new_device, now_ts, salted_hash, sign_b64,
                           sign_hex, unwrap)

EXAMPLES = os.path.join(os.path.dirname(__file__), "../../examples")


def run(*args):
    p = subprocess.run([VENDO, *args], capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


class Workdir:
    """A temp dir with a master key, a self-signed certificate and the examples copied in,
    their paths pointed at the temp dir and their listener at a free loopback port."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="vendo-cfg-")
        self.key_file = os.path.join(self.dir, "master.key")
        with open(self.key_file, "w") as f:
            f.write(os.urandom(32).hex() + "\n")
        os.chmod(self.key_file, 0o600)
        self.cert = os.path.join(self.dir, "cert.pem")
        self.tls_key = os.path.join(self.dir, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", self.tls_key,
                        "-out", self.cert], check=True, capture_output=True)
        shutil.copytree(os.path.join(EXAMPLES, "policies"), os.path.join(self.dir, "policies"))

    def example(self, name, **overrides):
        with open(os.path.join(EXAMPLES, name)) as f:
            text = f.read()
        text = (text.replace("/etc/vendo/master.key", self.key_file)
                .replace("/var/lib/vendo/vendo.db", os.path.join(self.dir, name + ".db"))
                .replace("/etc/vendo/tls/fullchain.pem", self.cert)
                .replace("/etc/vendo/tls/privkey.pem", self.tls_key)
                .replace('listen = "0.0.0.0:8443"', 'listen = "127.0.0.1:0"')
                .replace('listen = "127.0.0.1:9090"', 'listen = "127.0.0.1:0"'))
        for key, value in overrides.items():
            text, n = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
            assert n == 1, key
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class TlsVendo(Vendo):
    def __init__(self, config, cafile):
        super().__init__(data_dir=tempfile.mkdtemp(prefix="vendo-tls-"), config=config)
        self.owns_dir = True
        self.ctx = ssl.create_default_context(cafile=cafile)

    def conn(self):
        return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=10, context=self.ctx)


class ExamplesTest(unittest.TestCase):
    def setUp(self):
        self.w = Workdir()
        self.addCleanup(self.w.cleanup)

    def test_examples_pass_config_check(self):
        for name in ("anonymous.toml", "identity.toml", "aws.toml", "federated.toml"):
            code, out, err = run("config", "check", self.w.example(name))
            self.assertEqual(code, 0, err)
            self.assertIn(": ok", out)
            self.assertRegex(out, r"policy at most \d+ of 2048 bytes")

    def test_anonymous_example_over_tls(self):
        v = TlsVendo(self.w.example("anonymous.toml"), self.w.cert).start()
        self.addCleanup(v.cleanup)
        uid, key = new_device()
        self.assertEqual(v.request("GET", "/registerdevice", {"uid": uid, "key": key})[0], 200)
        ts = now_ts()
        status, body, _ = v.request("GET", "/apps/field-sensors/gettoken",
                                    {"uid": uid, "timestamp": ts, "signature": sign_b64(key, ts)})
        self.assertEqual(status, 200)
        plain = unwrap(body.decode(), key)
        self.assertAlmostEqual(int(extract(plain, "expirationDate")) / 1000, time.time() + 3600,
                               delta=30)
        # Plain HTTP on the TLS port is refused, not answered.
        s = socket.create_connection(("127.0.0.1", v.port), timeout=5)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertNotIn(b"HTTP/1.1 200", s.recv(4096))
        s.close()

    def test_identity_example_salts_with_the_configured_endpoint(self):
        v = TlsVendo(self.w.example("identity.toml"), self.w.cert).start()
        self.addCleanup(v.cleanup)
        status, body, _ = v.request("GET", "/register.jsp")
        self.assertEqual(status, 200)
        self.assertNotIn(b"not running SSL", body)
        self.assertEqual(v.request("POST", "/registeruser",
                                   {"username": "tls_user", "password": "secret123"})[0], 200)
        # The client is configured with https://tvm.example.com, whatever address it reaches.
        h = salted_hash("secret123", "tls_user", "MyMobileAppName", "https://tvm.example.com/")
        uid = new_device()[0]
        ts = now_ts(False)
        status, body, _ = v.request("GET", "/login", {"uid": uid, "username": "tls_user",
                                                      "timestamp": ts, "signature": sign_hex(h, ts)})
        self.assertEqual(status, 200, body)
        key = extract(unwrap(body.decode(), h[:32]), "key")
        ts = now_ts()
        status, body, _ = v.request("GET", "/gettoken",
                                    {"uid": uid, "timestamp": ts, "signature": sign_hex(key, ts)})
        self.assertEqual(status, 200)
        self.assertIn("VDEV", unwrap(body.decode(), key))


class TransportLimitsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.w = Workdir()
        cfg = cls.w.example("anonymous.toml", header_timeout_ms="300", idle_timeout_ms="700",
                            max_connections="3", tls_cert_file='""', tls_key_file='""')
        cls.v = Vendo(config=cfg).start()

    @classmethod
    def tearDownClass(cls):
        cls.v.cleanup()
        cls.w.cleanup()

    def closed_within(self, sock, seconds):
        sock.settimeout(seconds)
        start = time.time()
        try:
            while sock.recv(4096):
                pass
        except socket.timeout:
            return None
        except ConnectionResetError:
            pass
        return time.time() - start

    def test_slow_header_is_cut_off(self):
        s = socket.create_connection(("127.0.0.1", self.v.port))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finished
        took = self.closed_within(s, 3)
        s.close()
        self.assertIsNotNone(took, "connection not closed after the header timeout")
        self.assertLess(took, 2)

    def test_idle_keep_alive_connection_is_closed(self):
        s = socket.create_connection(("127.0.0.1", self.v.port))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIn(b"200 OK", s.recv(4096))
        start = time.time()
        took = self.closed_within(s, 4)
        s.close()
        self.assertIsNotNone(took, "idle connection never closed")
        self.assertGreater(time.time() - start, 0.5)

    def test_connection_cap_answers_503(self):
        held = []
        try:
            for _ in range(3):
                s = socket.create_connection(("127.0.0.1", self.v.port))
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertIn(b"200 OK", s.recv(4096))
                held.append(s)
            extra = socket.create_connection(("127.0.0.1", self.v.port))
            extra.settimeout(3)
            self.assertTrue(extra.recv(4096).startswith(b"HTTP/1.1 503"))
            extra.close()
        finally:
            for s in held:
                s.close()
        time.sleep(0.2)
        self.assertEqual(self.v.request("GET", "/healthz")[0], 200)


class HeaderTimeoutOnReusedConnectionTest(unittest.TestCase):
    """Regression: after a keep-alive response the deadline is the (long) idle timeout; a
    request that then starts must get the (short) header timeout, not the idle one."""

    def test_slow_header_on_a_reused_connection_is_cut_off(self):
        w = Workdir()
        self.addCleanup(w.cleanup)
        cfg = w.example("anonymous.toml", header_timeout_ms="300", idle_timeout_ms="20000",
                        tls_cert_file='""', tls_key_file='""')
        v = Vendo(config=cfg).start()
        self.addCleanup(v.cleanup)
        s = socket.create_connection(("127.0.0.1", v.port))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIn(b"200 OK", s.recv(4096))
        time.sleep(0.8)  # idle past the header timeout: the watchdog now waits for the idle one
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finished
        s.settimeout(5)
        start = time.time()
        try:
            while s.recv(4096):
                pass
        except socket.timeout:
            self.fail("a slow header on a reused connection was not cut off within 5 s")
        except ConnectionResetError:
            pass
        s.close()
        self.assertLess(time.time() - start, 2)


class PolicyRenderTest(unittest.TestCase):
    def setUp(self):
        self.w = Workdir()
        self.addCleanup(self.w.cleanup)

    def test_renders_what_sts_would_receive(self):
        import json
        code, out, err = run("policy", "render", "--config", self.w.example("identity.toml"),
                             "--app", "photos", "--user", 'al"ice')
        self.assertEqual(code, 0, err)
        doc = json.loads(out)  # a quote in a value cannot change the structure
        self.assertEqual(doc["Statement"][0]["Resource"], 'arn:aws:s3:::example-photo-app/al"ice/*')
        self.assertRegex(err, r"\d+ of 2048 bytes")
        code, out, err = run("policy", "render", "--config", self.w.example("anonymous.toml"),
                             "--app", "field-sensors", "--uid", "dev-42")
        self.assertEqual(code, 0, err)
        self.assertIn("example-sensor-uploads/dev-42/*", out)
        # The mode's principal is required; unknown apps are named.
        self.assertEqual(run("policy", "render", "--config", self.w.example("identity.toml"),
                             "--app", "photos")[0], 2)
        code, _, err = run("policy", "render", "--config", self.w.example("identity.toml"),
                           "--app", "nope", "--user", "x")
        self.assertEqual(code, 2)
        self.assertIn('no app named "nope"', err)

    def test_shipped_deploy_templates(self):
        import json
        deploy = os.path.abspath(os.path.join(EXAMPLES, "../deploy/policies"))
        cfg = self.w.example("identity.toml")
        with open(cfg) as f:
            text = f.read()
        for name in ("per-user-s3.json", "per-user-dynamodb.json"):
            with open(cfg, "w") as f:
                f.write(text.replace('policy_file = "policies/per-user-s3.json"',
                                     f'policy_file = "{deploy}/{name}"'))
            self.assertEqual(run("config", "check", cfg)[0], 0, name)
            code, out, err = run("policy", "render", "--config", cfg, "--app", "photos",
                                 "--user", "alice", "--userid", "0123abcd", "--region",
                                 "eu-west-1", "--account-id", "111122223333")
            self.assertEqual(code, 0, err)
            doc = json.dumps(json.loads(out))
            if "dynamodb" in name:
                self.assertIn('"dynamodb:LeadingKeys": ["0123abcd"]', doc)
                self.assertIn("arn:aws:dynamodb:eu-west-1:111122223333:table/", doc)
            else:
                self.assertIn("REPLACE-WITH-BUCKET/alice/*", doc)
                self.assertIn('"s3:prefix": ["alice/", "alice/*"]', doc)


    def test_shipped_load_balancer_example(self):
        deploy = os.path.abspath(os.path.join(EXAMPLES, "../deploy/haproxy"))
        with open(os.path.join(deploy, "haproxy.cfg")) as f:
            lb = f.read()
        pem = os.path.join(self.w.dir, "lb.pem")
        with open(pem, "w") as out:
            for part in (self.w.cert, self.w.tls_key):
                with open(part) as f:
                    out.write(f.read())
        lb_path = os.path.join(self.w.dir, "haproxy.cfg")
        with open(lb_path, "w") as f:
            f.write(lb.replace("/etc/haproxy/tls/vendo.pem", pem))
        checked = subprocess.run(["haproxy", "-c", "-f", lb_path], capture_output=True, text=True)
        self.assertEqual(checked.returncode, 0, checked.stdout + checked.stderr)
        with open(os.path.join(deploy, "vendo-host.toml")) as f:
            host = f.read()
        pw = os.path.join(self.w.dir, "pg-password")
        with open(pw, "w") as f:
            f.write("x\n")
        shutil.copytree(os.path.join(EXAMPLES, "policies"), os.path.join(self.w.dir, "p2"))
        host_path = os.path.join(self.w.dir, "vendo-host.toml")
        with open(host_path, "w") as f:
            f.write(host.replace("/etc/vendo/pg-password", pw)
                    .replace("/etc/vendo/master.key", self.w.key_file)
                    .replace("/etc/vendo/policies", os.path.join(self.w.dir, "p2")))
        code, out, err = run("config", "check", host_path)
        self.assertEqual(code, 0, err)


class CliTest(unittest.TestCase):
    def test_help_and_version(self):
        code, out, _ = run("--help")
        self.assertEqual(code, 0)
        for word in ("serve", "config", "version", "Exit codes"):
            self.assertIn(word, out)
        code, out, _ = run("serve", "--help")
        self.assertEqual(code, 0)
        for word in ("--config", "--dev", "--listen", "--data-dir", "SIGTERM"):
            self.assertIn(word, out)
        code, out, _ = run("version")
        self.assertEqual(code, 0)
        self.assertRegex(out, r"^vendo \d+\.\d+\.\d+\n$")

    def test_admin_help_has_its_own_examples(self):
        # Subcommands show their own examples, not a copy of the top-level ones.
        for group in ("user", "device"):
            code, out, _ = run(group, "--help")
            self.assertEqual(code, 0)
            self.assertIn(f"vendo {group} list --config", out)
            self.assertNotIn("vendo serve --dev", out)
        code, out, _ = run("user", "list", "--help")
        self.assertIn("--after", out)
        self.assertNotIn("vendo serve --dev", out)

    def test_usage_errors_exit_2(self):
        self.assertEqual(run("serve")[0], 2)
        self.assertEqual(run()[0], 2)
        self.assertNotEqual(run("serve", "--listen", "127.0.0.1:1")[0], 0)  # --listen needs --dev
        self.assertNotEqual(run("serve", "--config", "/nonexistent.toml")[0], 0)

    def test_config_check_lists_every_problem(self):
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        path = os.path.join(d, "bad.toml")
        with open(path, "w") as f:
            f.write('[server]\nlisten = "nope"\n[store]\npath = "x"\n[apps.a]\nmode = "x"\n'
                    'policy = "{}"\n')
        code, out, err = run("config", "check", path)
        self.assertEqual(code, 2)
        for key in ("server.listen", "store.master_key_file", "apps.a.mode"):
            self.assertIn(key, err)
        with open(path, "w") as f:
            f.write("[server\n")
        code, _, err = run("config", "check", path)
        self.assertEqual(code, 2)
        self.assertIn("line 1", err)


if __name__ == "__main__":
    unittest.main()
