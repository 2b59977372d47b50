"""Transport security: HTTPS required for the 2012 protocol unless an app allows plain HTTP
(or a trusted balancer ended TLS), TLS 1.2+ with forward-secret ciphers only, the certificate
reloaded on SIGHUP without dropping connections, security headers and HSTS on the pages, and
the registration form protected against cross-site requests."""
import hashlib
import os
import shutil
import signal
import socket
import ssl
import tempfile
import time
import unittest

from vendo_harness import Vendo, make_cert, new_device, s3_policy, write_config

POLICY = s3_policy()


def apps(allow):
    return f"""
[apps.a]
mode = "anonymous"
allow_insecure_legacy = {"true" if allow else "false"}
policy = {POLICY}
[apps.i]
mode = "identity"
allow_insecure_legacy = {"true" if allow else "false"}
public_endpoint = "https://tvm.example.com/apps/i"
policy = {POLICY.replace("uid", "username")}
"""


class PlainHttpTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="vendo-plain-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def start(self, allow, server_extra=""):
        v = Vendo(data_dir=self.dir, config=write_config(self.dir, apps(allow),
                                                          server_extra=server_extra)).start()
        self.addCleanup(v.cleanup)
        return v

    def test_the_2012_protocol_needs_https_unless_allowed(self):
        v = self.start(False)
        uid, key = new_device()
        self.assertEqual(v.request("GET", "/apps/a/registerdevice", {"uid": uid, "key": key})[:2],
                         (403, b"HTTPS required\n"))
        self.assertEqual(v.request("GET", "/apps/a/")[0], 200)  # the home page is harmless
        self.assertEqual(v.request("GET", "/healthz")[0], 200)
        self.assertNotIn("plain HTTP", v.logs())

    def test_allowing_it_is_warned_about(self):
        v = self.start(True)
        uid, key = new_device()
        self.assertEqual(v.request("GET", "/apps/a/registerdevice", {"uid": uid, "key": key})[0],
                         200)
        self.assertIn("the 2012 protocol is served over plain HTTP", v.logs())

    def test_a_trusted_balancer_that_ended_tls_counts_as_https(self):
        v = self.start(False, 'trusted_proxies = ["127.0.0.1"]')
        uid, key = new_device()
        ok = v.request("GET", "/apps/a/registerdevice", {"uid": uid, "key": key},
                       headers={"X-Forwarded-Proto": "https"})
        self.assertEqual(ok[0], 200)
        self.assertEqual(v.request("GET", "/apps/a/register.jsp",
                                   headers={"X-Forwarded-Proto": "https"})[0], 404)

    def test_an_untrusted_peer_cannot_claim_https(self):
        v = self.start(False, 'trusted_proxies = ["10.0.0.1"]')
        uid, key = new_device()
        self.assertEqual(v.request("GET", "/apps/a/registerdevice", {"uid": uid, "key": key},
                                   headers={"X-Forwarded-Proto": "https"})[0], 403)

    def test_pages_carry_security_headers(self):
        v = self.start(True)
        status, _, headers = v.request("GET", "/apps/i/register.jsp")
        self.assertEqual(status, 200)
        self.assertIn("default-src 'none'", headers["content-security-policy"])
        self.assertEqual(headers["x-frame-options"], "DENY")
        self.assertEqual(headers["x-content-type-options"], "nosniff")
        self.assertNotIn("strict-transport-security", headers)  # plain HTTP: no HSTS

    def test_the_registration_form_is_protected_against_cross_site_requests(self):
        v = self.start(True)
        status, body, headers = v.request("GET", "/apps/i/register.jsp")
        cookie = headers["set-cookie"].split(";")[0]
        self.assertIn("SameSite=Strict", headers["set-cookie"])
        self.assertIn("HttpOnly", headers["set-cookie"])
        token = cookie.split("=", 1)[1]
        self.assertIn(f'name="csrf" value="{token}"'.encode(), body)
        host = f"127.0.0.1:{v.port}"
        form = {"username": "csrf_ok", "password": "secret123", "csrf": token}
        # From this site's own form: accepted.
        self.assertEqual(v.request("POST", "/apps/i/registeruser", form,
                                   headers={"Cookie": cookie, "Origin": f"http://{host}"})[0], 200)
        # From another site (the browser names it in Origin): refused, even with the field.
        for headers in ({"Origin": "https://evil.example"},
                        {"Referer": "https://evil.example/page"}, {"Origin": "null"}):
            status, body, _ = v.request("POST", "/apps/i/registeruser",
                                        {"username": "csrf_evil", "password": "secret123"},
                                        headers=headers)
            self.assertEqual(status, 403, headers)
        # A browser that holds the cookie must send the matching field.
        self.assertEqual(v.request("POST", "/apps/i/registeruser",
                                   {"username": "csrf_nofield", "password": "secret123"},
                                   headers={"Cookie": cookie})[0], 403)
        self.assertEqual(v.request("POST", "/apps/i/registeruser",
                                   {"username": "csrf_bad", "password": "secret123", "csrf": "x"},
                                   headers={"Cookie": cookie})[0], 403)
        # An app POSTing directly, as 2012 apps do (no Origin, Referer or cookie): accepted.
        self.assertEqual(v.request("POST", "/apps/i/registeruser",
                                   {"username": "csrf_app", "password": "secret123"})[0], 200)


class TlsTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="vendo-tls-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.cert, self.key = make_cert(self.dir, "first")
        cfg = write_config(self.dir, apps(False),
                           server_extra=f'tls_cert_file = "{self.dir}/live.pem"\n'
                                        f'tls_key_file = "{self.dir}/live.key"')
        shutil.copy(self.cert, os.path.join(self.dir, "live.pem"))
        shutil.copy(self.key, os.path.join(self.dir, "live.key"))
        self.v = Vendo(data_dir=self.dir, config=cfg)
        self.v.start()
        self.addCleanup(self.v.cleanup)

    def connect(self, context=None):
        ctx = context or ssl._create_unverified_context()
        s = socket.create_connection(("127.0.0.1", self.v.port), timeout=5)
        return ctx.wrap_socket(s)

    def fingerprint(self, tls_sock):
        return hashlib.sha256(tls_sock.getpeercert(binary_form=True)).hexdigest()

    def pem_fingerprint(self, path):
        der = ssl.PEM_cert_to_DER_cert(open(path).read())
        return hashlib.sha256(der).hexdigest()

    def get(self, tls_sock, path):
        tls_sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        return tls_sock.recv(65536)

    def test_only_tls12_and_up_with_forward_secret_ciphers(self):
        old = ssl._create_unverified_context()
        old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
        old.set_ciphers("ALL:@SECLEVEL=0")
        with self.assertRaises(ssl.SSLError):
            self.connect(old)
        weak = ssl._create_unverified_context()
        weak.maximum_version = ssl.TLSVersion.TLSv1_2
        weak.set_ciphers("AES128-SHA:AES256-GCM-SHA384")  # no forward secrecy
        with self.assertRaises(ssl.SSLError):
            self.connect(weak)
        tls12 = ssl._create_unverified_context()
        tls12.maximum_version = ssl.TLSVersion.TLSv1_2
        s = self.connect(tls12)
        self.assertIn("ECDHE", s.cipher()[0])
        self.assertIn(b"200 OK", self.get(s, "/healthz"))
        s.close()

    def test_pages_over_tls_carry_hsts(self):
        s = self.connect()
        reply = self.get(s, "/apps/i/register.jsp")
        s.close()
        self.assertIn(b"Strict-Transport-Security: max-age=31536000", reply)
        self.assertNotIn(b"not running SSL", reply)

    def test_sighup_reloads_the_certificate_without_dropping_connections(self):
        before = self.connect()
        self.assertEqual(self.fingerprint(before), self.pem_fingerprint(self.cert))
        second, second_key = make_cert(self.dir, "second")
        shutil.copy(second, os.path.join(self.dir, "live.pem"))
        shutil.copy(second_key, os.path.join(self.dir, "live.key"))
        self.v.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 5
        while "TLS certificate reloaded" not in self.v.logs() and time.time() < deadline:
            time.sleep(0.05)
        after = self.connect()
        self.assertEqual(self.fingerprint(after), self.pem_fingerprint(second))
        self.assertIn(b"200 OK", self.get(before, "/healthz"))  # the old connection lives on
        self.assertIn(b"200 OK", self.get(after, "/healthz"))
        before.close()
        after.close()
        # A broken file is refused and the working certificate kept.
        with open(os.path.join(self.dir, "live.pem"), "w") as f:
            f.write("not a certificate")
        self.v.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 5
        while "TLS reload failed" not in self.v.logs() and time.time() < deadline:
            time.sleep(0.05)
        self.assertIn("TLS reload failed", self.v.logs())
        again = self.connect()
        self.assertEqual(self.fingerprint(again), self.pem_fingerprint(second))
        again.close()
        self.assertIsNone(self.v.proc.poll())


if __name__ == "__main__":
    unittest.main()
