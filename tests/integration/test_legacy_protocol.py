"""End to end: the real vendo binary, both 2012 modes, driven by an independent client."""
import re
import signal
import socket
import time
import unittest

from vendo_harness import (Vendo, extract, new_device, now_ts, salted_hash, sign_b64, sign_hex,
                           unwrap)

IDENT = "/apps/identity-demo"


class LegacyProtocolTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.v = Vendo().start()

    @classmethod
    def tearDownClass(cls):
        cls.v.cleanup()

    # --- anonymous -------------------------------------------------------------------------

    def register(self, uid, key, prefix=""):
        return self.v.request("GET", prefix + "/registerdevice", {"uid": uid, "key": key})

    def gettoken(self, uid, key, prefix="", ts=None, method="GET", hexsig=False):
        ts = ts or now_ts()
        sig = sign_hex(key, ts) if hexsig else sign_b64(key, ts)
        return self.v.request(method, prefix + "/gettoken",
                              {"uid": uid, "timestamp": ts, "signature": sig})

    def check_token(self, body, key, duration_s=86400):
        self.assertTrue(body.endswith(b"\r\n"))
        plain = unwrap(body.decode(), key)
        self.assertTrue(plain.startswith('{\taccessKey: "VDEV'), plain[:20])
        self.assertRegex(plain, r'^\{\taccessKey: "[A-Z0-9]+",\tsecretKey: "[^"]+",\t'
                                r'securityToken: "[^"]+",\texpirationDate: "\d+"\}$')
        expiry_ms = int(extract(plain, "expirationDate"))
        self.assertAlmostEqual(expiry_ms / 1000, time.time() + duration_s, delta=30)
        return plain

    def test_anonymous_flow_at_root_and_under_app_path(self):
        for prefix in ("", "/apps/anonymous-demo"):
            uid, key = new_device()
            status, body, headers = self.register(uid, key, prefix)
            self.assertEqual((status, body), (200, b""))
            self.assertEqual(headers["content-type"], "text/plain; charset=UTF-8")
            self.assertIn("expires", headers)
            for millis in (True, False):  # Android and iOS timestamp forms
                status, body, _ = self.gettoken(uid, key, prefix, ts=now_ts(millis))
                self.assertEqual(status, 200, body)
                self.check_token(body, key)
            # POST with a form body is the same as GET.
            status, body, _ = self.gettoken(uid, key, prefix, method="POST")
            self.assertEqual(status, 200)
            self.check_token(body, key)
            # A uid registers once, even with the same key.
            self.assertEqual(self.register(uid, key, prefix)[:2], (409, b"null\r\n"))

    def test_credentials_are_reused_per_device_and_per_user(self):
        uid, key = new_device()
        self.register(uid, key)
        first = unwrap(self.gettoken(uid, key)[1].decode(), key)
        second = unwrap(self.gettoken(uid, key)[1].decode(), key)
        self.assertEqual(extract(first, "accessKey"), extract(second, "accessKey"))
        uid2, key2 = new_device()
        self.register(uid2, key2)
        other = unwrap(self.gettoken(uid2, key2)[1].decode(), key2)
        self.assertNotEqual(extract(first, "accessKey"), extract(other, "accessKey"))
        # Identity: two devices of one user get the user's credentials.
        self.assertEqual(self.register_user("frank_it", "secret123")[0], 200)
        keys = []
        for _ in range(2):
            dev = new_device()[0]
            status, body, h = self.login(dev, "frank_it", "secret123")
            dkey = extract(unwrap(body.decode(), h[:32]), "key")
            status, body, _ = self.gettoken(dev, dkey, IDENT, hexsig=True)
            keys.append(extract(unwrap(body.decode(), dkey), "accessKey"))
        self.assertEqual(keys[0], keys[1])

    def test_root_and_app_path_are_the_same_app(self):
        uid, key = new_device()
        self.assertEqual(self.register(uid, key)[0], 200)
        self.assertEqual(self.gettoken(uid, key, "/apps/anonymous-demo")[0], 200)

    def test_servlet_style_path_suffix_matches(self):
        uid, key = new_device()
        status, _, _ = self.v.request("GET", "/registerdevice/extra", {"uid": uid, "key": key})
        self.assertEqual(status, 200)
        status, _, _ = self.v.request("GET", "/gettoken/extra", {"uid": uid, "timestamp": now_ts(),
                                                                 "signature": "x"})
        self.assertEqual(status, 401)

    def test_anonymous_error_bodies_are_byte_exact(self):
        uid, key = new_device()
        self.register(uid, key)
        ts = now_ts()
        cases = [
            ({"signature": sign_b64(key, ts), "timestamp": ts}, 400, b"null\r\n"),
            ({"uid": uid, "signature": sign_b64(key, ts), "timestamp": "  "}, 400, b"null\r\n"),
            ({"uid": uid, "signature": sign_b64(key, ts), "timestamp": "2013-08-08T12:34:56Z"},
             408, b"Timestamp not valid\r\n"),
            ({"uid": uid, "timestamp": now_ts(skew_seconds=-16 * 60),
              "signature": sign_b64(key, now_ts(skew_seconds=-16 * 60))},
             408, b"Timestamp not valid\r\n"),
            ({"uid": uid, "timestamp": ts, "signature": sign_b64(key, ts + "x")},
             401, b"Error matching signature\r\n"),
            ({"uid": "f" * 32, "timestamp": ts, "signature": sign_b64(key, ts)},
             401, b"Error matching signature\r\n"),
            ({"uid": uid, "timestamp": ts, "signature": sign_hex(key, ts)},
             401, b"Error matching signature\r\n"),
            ({"uid": uid, "timestamp": "2013-08-08T12:34:56+00:00", "signature": "x"},
             408, b"Timestamp not valid\r\n"),
        ]
        for params, want_status, want_body in cases:
            status, body, headers = self.v.request("GET", "/gettoken", params)
            self.assertEqual((status, body), (want_status, want_body), params)
            self.assertNotIn("www-authenticate", headers)
            self.assertEqual(headers["content-type"], "text/plain; charset=UTF-8")

    def test_registration_bad_inputs(self):
        key = new_device()[1]
        bad = [
            {"key": key},
            {"uid": "u" * 32},
            {"uid": "  ", "key": key},
            {"uid": "short", "key": key},
            {"uid": "u" * 129, "key": key},
            {"uid": "u" * 32, "key": "k" * 32},             # not hex
            {"uid": "u" * 32, "key": "ab" * 15},            # 30 hex characters
            {"uid": "u" * 32, "key": "a" * 2000},           # far too long
        ]
        for params in bad:
            self.assertEqual(self.v.request("GET", "/registerdevice", params)[:2],
                             (400, b"null\r\n"), params)
        # Non-UTF-8 and malformed percent-encoding.
        for target in ("/registerdevice?uid=%FF%FE" + "a" * 30 + "&key=" + key,
                       "/registerdevice?uid=%zz&key=" + key,
                       "/gettoken?uid=%E0%80&timestamp=x&signature=y"):
            status, body, _ = self.v.request("GET", target)
            self.assertIn(status, (400, 408), target)
            self.assertTrue(body.endswith(b"\r\n"))
        # 48- and 64-hex keys are AES-192/256 keys and work.
        for n in (24, 32):
            uid, _ = new_device()
            key = "ab" * n
            self.assertEqual(self.register(uid, key)[0], 200)
            status, body, _ = self.gettoken(uid, key)
            self.assertEqual(status, 200)
            self.check_token(body, key)

    def test_unknown_paths_and_methods(self):
        self.assertEqual(self.v.request("GET", "/nope")[0], 404)
        self.assertEqual(self.v.request("GET", "/apps/nope/gettoken")[0], 404)
        self.assertEqual(self.v.request("GET", "/login")[0], 404)  # anonymous default app
        self.assertEqual(self.v.request("GET", IDENT + "/registerdevice")[0], 404)
        status, _, headers = self.v.request("PUT", "/gettoken")
        self.assertEqual(status, 405)
        self.assertEqual(self.v.request("GET", "/healthz")[:2], (200, b"ok\n"))
        self.assertEqual(self.v.request("GET", "/readyz")[0], 200)

    # --- identity --------------------------------------------------------------------------

    def endpoint_url(self):
        # What a 2012 client is configured with.
        return f"http://127.0.0.1:{self.v.port}{IDENT}"

    def register_user(self, username, password, method="POST"):
        return self.v.request(method, IDENT + "/registeruser",
                              {"username": username, "password": password})

    def login(self, uid, username, password, ts=None):
        h = salted_hash(password, username, "MyMobileAppName", self.endpoint_url())
        ts = ts or now_ts(millis=False)
        status, body, _ = self.v.request("GET", IDENT + "/login", {
            "uid": uid, "username": username, "timestamp": ts, "signature": sign_hex(h, ts)})
        return status, body, h

    def test_identity_full_flow(self):
        status, body, _ = self.v.request("GET", IDENT + "/register.jsp")
        self.assertEqual(status, 200)
        self.assertIn(b"<title>mymobileappname - Register</title>", body)
        self.assertIn(b'<form id="register" name="register" action="registeruser" method="POST">',
                      body)
        self.assertIn(b"Warning: You are not running SSL.", body)

        status, body, _ = self.register_user("alice_it", "secret123")
        self.assertEqual(status, 200, body)
        self.assertIn(b"<title>mymobileappname - Success</title>", body)
        status, body, _ = self.register_user("alice_it", "another123")
        self.assertEqual(status, 406)
        self.assertIn(b"<title>mymobileappname - Error</title>", body)
        status, body, _ = self.register_user("bob_it", "short")
        self.assertEqual(status, 400)
        self.assertIn(b"<title>mymobileappname - Error</title>", body)
        status, body, _ = self.v.request("POST", IDENT + "/registeruser", {"username": "x"})
        self.assertEqual(status, 400)

        uid = new_device()[0]
        status, body, h = self.login(uid, "alice_it", "secret123")
        self.assertEqual(status, 200, body)
        key = extract(unwrap(body.decode(), h[:32]), "key")
        self.assertRegex(key, r"^[0-9a-f]{32}$")
        status, body, _ = self.gettoken(uid, key, IDENT, hexsig=True)
        self.assertEqual(status, 200, body)
        self.check_token(body, key)
        # Base64 signatures are for anonymous apps only.
        self.assertEqual(self.gettoken(uid, key, IDENT)[0], 401)

        # Every login rotates the key; the old one stops working. (A later login has a later
        # timestamp; the same signed login twice is a replay, refused.)
        status, body, _ = self.login(uid, "alice_it", "secret123",
                                     ts=now_ts(millis=False, skew_seconds=1))
        key2 = extract(unwrap(body.decode(), h[:32]), "key")
        self.assertNotEqual(key, key2)
        self.assertEqual(self.gettoken(uid, key, IDENT, hexsig=True)[0], 401)
        self.assertEqual(self.gettoken(uid, key2, IDENT, hexsig=True)[0], 200)

    def test_identity_bad_inputs(self):
        self.assertEqual(self.register_user("carol_it", "secret123")[0], 200)
        self.assertEqual(self.register_user("dave_it", "secret456")[0], 200)
        uid = new_device()[0]
        # Wrong password, unknown user: 401.
        self.assertEqual(self.login(uid, "carol_it", "wrong-pass")[:2],
                         (401, b"Error matching signature\r\n"))
        self.assertEqual(self.login(uid, "nobody_it", "secret123")[0], 401)
        # Skewed timestamp: 408, before the user lookup.
        self.assertEqual(self.login(uid, "nobody_it", "x", ts=now_ts(False, 3600))[0], 408)
        # Missing parameters.
        for params in ({"username": "carol_it"}, {"uid": uid}, {}):
            self.assertEqual(self.v.request("GET", IDENT + "/login", params)[:2],
                             (400, b"null\r\n"))
        # A device bound to carol cannot be taken over by dave (2012: 500).
        self.assertEqual(self.login(uid, "carol_it", "secret123")[0], 200)
        self.assertEqual(self.login(uid, "dave_it", "secret456")[:2],
                         (500, b"Server Error\r\n"))
        # A salt computed for another host name does not log in (the server salts with the
        # configured public endpoint, exactly as clients do).
        ts = now_ts(False)
        wrong = salted_hash("secret123", "carol_it", "MyMobileAppName", "http://localhost")
        status, _, _ = self.v.request("GET", IDENT + "/login", {
            "uid": uid, "username": "carol_it", "timestamp": ts, "signature": sign_hex(wrong, ts)})
        self.assertEqual(status, 401)

    # --- transport limits ------------------------------------------------------------------

    def raw(self, data, read=65536):
        s = socket.create_connection(("127.0.0.1", self.v.port), timeout=10)
        try:
            s.sendall(data)
            out = b""
            while True:
                chunk = s.recv(read)
                if not chunk:
                    break
                out += chunk
                if b"\r\n\r\n" in out and b"Content-Length: 0" not in out and out.count(b"\r\n\r\n") >= 1:
                    m = re.search(rb"Content-Length: (\d+)", out)
                    if m and len(out.split(b"\r\n\r\n", 1)[1]) >= int(m.group(1)):
                        break
            return out
        finally:
            s.close()

    def test_limits(self):
        long_uri = b"GET /gettoken?uid=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        self.assertTrue(self.raw(long_uri).startswith(b"HTTP/1.1 414"))
        big_header = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n"
        self.assertTrue(self.raw(big_header).startswith(b"HTTP/1.1 431"))
        big_body = (b"POST /gettoken HTTP/1.1\r\nHost: x\r\nContent-Type: "
                    b"application/x-www-form-urlencoded\r\nContent-Length: 70000\r\n\r\n" + b"a" * 70000)
        self.assertTrue(self.raw(big_body).startswith(b"HTTP/1.1 413"))
        garbage = b"NOT HTTP AT ALL\r\n\r\n"
        self.assertTrue(self.raw(garbage).startswith(b"HTTP/1.1 400"))
        # The server still answers afterwards.
        self.assertEqual(self.v.request("GET", "/healthz")[0], 200)

    def test_body_arriving_after_the_header_in_pieces(self):
        # Regression: the parser loop once took "header done, body not here yet" for a
        # finished request and answered as if the form body were empty.
        uid, key = new_device()
        body = f"uid={uid}&key={key}".encode()
        for expect_continue in (False, True):
            if expect_continue:
                uid, key = new_device()
                body = f"uid={uid}&key={key}".encode()
            head = (b"POST /registerdevice HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Type: application/x-www-form-urlencoded\r\n"
                    + (b"Expect: 100-continue\r\n" if expect_continue else b"")
                    + b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n")
            s = socket.create_connection(("127.0.0.1", self.v.port), timeout=10)
            s.sendall(head)
            if expect_continue:
                self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 100 Continue"))
            time.sleep(0.05)
            s.sendall(body[:10])
            time.sleep(0.05)
            s.sendall(body[10:])
            reply = b""
            while chunk := s.recv(4096):
                reply += chunk
            s.close()
            self.assertTrue(reply.startswith(b"HTTP/1.1 200 OK"), reply)
            self.assertEqual(self.register(uid, key)[0], 409)  # it was really registered

    def test_keep_alive(self):
        uid, key = new_device()
        self.register(uid, key)
        c = self.v.conn()
        for _ in range(5):
            ts = now_ts()
            c.request("GET", f"/gettoken?uid={uid}&timestamp={ts}&signature="
                      + sign_b64(key, ts).replace("+", "%2B").replace("/", "%2F").replace("=", "%3D"))
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            r.read()
        c.close()

    # --- logs ------------------------------------------------------------------------------

    def test_logs_are_json_and_hold_no_secrets(self):
        uid, key = new_device()
        self.register(uid, key)
        ts = now_ts()
        sig = sign_b64(key, ts)
        status, body, _ = self.gettoken(uid, key, ts=ts)
        plain = unwrap(body.decode(), key)
        secret = extract(plain, "secretKey")
        token = extract(plain, "securityToken")
        self.register_user("erin_it", "pa55word-erin")
        # Log lines are buffered and written at least once a second.
        deadline = time.time() + 5
        while '"path":"/registeruser"' not in self.v.logs() and time.time() < deadline:
            time.sleep(0.1)
        logs = self.v.logs()
        import json
        for line in logs.splitlines():
            json.loads(line)
        for s in (key, sig, secret, token, "pa55word-erin"):
            self.assertNotIn(s, logs)
        self.assertIn('"path":"/gettoken"', logs)
        self.assertIn('"request_id":', logs)


class LifecycleTest(unittest.TestCase):
    def test_sigterm_drains_and_exits_zero(self):
        v = Vendo().start()
        try:
            idle = v.conn()  # an idle keep-alive connection must not hold up the drain
            idle.request("GET", "/healthz")
            idle.getresponse().read()
            self.addCleanup(idle.close)
            start = time.time()
            self.assertEqual(v.stop(signal.SIGTERM), 0)
            self.assertLess(time.time() - start, 10)
            self.assertIn('"msg":"stopped"', v.logs())
        finally:
            v.cleanup()

    def test_data_survives_restart_and_master_key_is_private(self):
        import os
        import stat
        v = Vendo().start()
        try:
            uid, key = new_device()
            self.assertEqual(v.request("GET", "/registerdevice", {"uid": uid, "key": key})[0], 200)
            v.stop()
            mode = stat.S_IMODE(os.stat(os.path.join(v.data_dir, "master.key")).st_mode)
            self.assertEqual(mode, 0o600)
            with open(os.path.join(v.data_dir, "vendo.db"), "rb") as f:
                self.assertNotIn(key.encode(), f.read())
            v.start()
            ts = now_ts()
            status, _, _ = v.request("GET", "/gettoken",
                                     {"uid": uid, "timestamp": ts, "signature": sign_b64(key, ts)})
            self.assertEqual(status, 200)
        finally:
            v.cleanup()


if __name__ == "__main__":
    unittest.main()
