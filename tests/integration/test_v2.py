"""Protocol v2 (docs/protocol-v2.md) against the real server, with a client written here from
the spec (hmac, hashlib, cryptography): registration with a server-made secret, signed token
requests, sealed responses, and the attacks the protocol exists to stop: replays, tampered
bodies and paths, stale timestamps (the error says how far off the clock is), unknown and
revoked devices."""
import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vendo_harness import VENDO, Vendo, b64url, unb64url, v2_signed_headers, write_config

POLICY = "'{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/${uid}/*\"}]}'"


class V2Test(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="vendo-v2-")
        cls.audit = os.path.join(cls.dir, "audit.log")
        cls.cfg = write_config(cls.dir, f"""
[audit]
file = "{cls.audit}"
[apps.sensors]
mode = "anonymous"
allow_insecure_legacy = true
duration_seconds = 3600
policy = {POLICY}
[apps.ident]
mode = "identity"
allow_insecure_legacy = true
app_name = "V2App"
public_endpoint = "https://tvm.example.com/apps/ident"
policy = {POLICY}
[apps.ident.limits]
failed_logins_per_user = 3
""")
        cls.v = Vendo(data_dir=cls.dir, config=cls.cfg).start()

    @classmethod
    def tearDownClass(cls):
        cls.v.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def post(self, path, body=b"", headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.v.port, timeout=10)
        try:
            c.request("POST", path, body=body,
                      headers=headers if headers is not None else {"Content-Type":
                                                                   "application/json"})
            r = c.getresponse()
            data = r.read()
            return r.status, json.loads(data) if data else None, {k.lower(): v for k, v in
                                                                  r.getheaders()}
        finally:
            c.close()

    def register(self):
        status, body, _ = self.post("/v2/apps/sensors/devices", b"{}")
        self.assertEqual(status, 201, body)
        return body["device_id"], unb64url(body["device_secret"])

    def sign(self, device, secret, path, body, skew=0, nonce=None, signed_path=None,
             signed_body=None):
        ts = (datetime.datetime.now(datetime.timezone.utc) +
              datetime.timedelta(seconds=skew)).strftime("%Y-%m-%dT%H:%M:%SZ")
        nonce = nonce or b64url(os.urandom(16))
        return v2_signed_headers(device, secret, signed_path or path, body, ts=ts, nonce=nonce,
                                 signed_body=signed_body), nonce

    def token(self, device, secret, body=b"{}", **kw):
        headers, nonce = self.sign(device, secret, "/v2/apps/sensors/token", body, **kw)
        status, reply, hdrs = self.post("/v2/apps/sensors/token", body, headers)
        return status, reply, hdrs, headers, nonce

    def test_register_then_get_credentials(self):
        device, secret = self.register()
        self.assertRegex(device, r"^d_[0-9A-HJKMNP-TV-Z]{26}$")
        self.assertEqual(len(secret), 32)
        status, creds, headers, _, _ = self.token(device, secret)
        self.assertEqual(status, 200, creds)
        self.assertTrue(creds["AccessKeyId"].startswith("VDEV"))
        self.assertEqual(set(creds), {"AccessKeyId", "SecretAccessKey", "SessionToken",
                                      "Expiration", "Region"})
        expires = datetime.datetime.strptime(creds["Expiration"], "%Y-%m-%dT%H:%M:%SZ")
        self.assertIn("date", headers)

    def test_sealed_credentials_open_only_with_the_device_secret(self):
        device, secret = self.register()
        status, reply, _, _, nonce = self.token(device, secret, b'{"seal":true}')
        self.assertEqual(status, 200, reply)
        self.assertEqual(reply["alg"], "A256GCM-HKDF-SHA256")
        raw = unb64url(reply["sealed"])
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=unb64url(nonce),
                   info=b"vendo-v2-seal\n" + device.encode()).derive(secret)
        plain = AESGCM(key).decrypt(raw[:12], raw[12:], (device + "\n" + nonce).encode())
        self.assertTrue(json.loads(plain)["AccessKeyId"].startswith("VDEV"))

    def test_a_replayed_request_is_refused(self):
        device, secret = self.register()
        body = b"{}"
        headers, _ = self.sign(device, secret, "/v2/apps/sensors/token", body)
        self.assertEqual(self.post("/v2/apps/sensors/token", body, headers)[0], 200)
        status, reply, _ = self.post("/v2/apps/sensors/token", body, headers)
        self.assertEqual((status, reply["error"]["code"]), (401, "replayed_request"))

    def test_tampered_body_or_path_is_refused(self):
        device, secret = self.register()
        headers, _ = self.sign(device, secret, "/v2/apps/sensors/token", b'{"seal":true}',
                               signed_body=b"{}")
        status, reply, _ = self.post("/v2/apps/sensors/token", b'{"seal":true}', headers)
        self.assertEqual((status, reply["error"]["code"]), (401, "invalid_signature"))
        headers, _ = self.sign(device, secret, "/v2/apps/sensors/token", b"{}",
                               signed_path="/v2/apps/other/token")
        status, reply, _ = self.post("/v2/apps/sensors/token", b"{}", headers)
        self.assertEqual((status, reply["error"]["code"]), (401, "invalid_signature"))

    def test_a_stale_timestamp_says_how_far_off_the_clock_is(self):
        device, secret = self.register()
        status, reply, _, _, _ = self.token(device, secret, skew=-600)
        self.assertEqual((status, reply["error"]["code"]), (401, "expired_timestamp"))
        self.assertAlmostEqual(reply["error"]["skew_seconds"], -600, delta=5)
        self.assertIn("server_time", reply["error"])

    def test_unknown_wrong_and_revoked_devices_get_nothing(self):
        device, secret = self.register()
        status, reply, _, _, _ = self.token("d_" + "0" * 26, secret)
        self.assertEqual((status, reply["error"]["code"]), (401, "invalid_signature"))
        status, reply, _, _, _ = self.token(device, os.urandom(32))
        self.assertEqual((status, reply["error"]["code"]), (401, "invalid_signature"))
        status, reply, _ = self.post("/v2/apps/sensors/token", b"{}",
                                     {"Authorization": "Bearer nonsense",
                                      "Content-Type": "application/json"})
        self.assertEqual(status, 401)
        r = subprocess.run([VENDO, "device", "revoke", "--config", self.cfg, "--app", "sensors",
                            "--uid", device], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        import time
        time.sleep(1.2)  # the server's record cache
        status, reply, _, _, _ = self.token(device, secret)
        self.assertEqual((status, reply["error"]["code"]), (403, "device_revoked"))

    def signed(self, method, path, device, secret, body=b""):
        ts = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        nonce = b64url(os.urandom(16))
        canonical = "\n".join(["VENDO-HMAC-SHA256", method, path, hashlib.sha256(body).hexdigest(),
                               ts, nonce, device])
        sig = hmac.new(secret, canonical.encode(), hashlib.sha256).hexdigest()
        c = http.client.HTTPConnection("127.0.0.1", self.v.port, timeout=10)
        try:
            c.request(method, path, body=body, headers={
                "Authorization": f"VENDO-HMAC-SHA256 Device={device},Timestamp={ts},"
                                 f"Nonce={nonce},Signature={sig}",
                "Content-Type": "application/json"})
            r = c.getresponse()
            data = r.read()
            return r.status, json.loads(data) if data else None
        finally:
            c.close()

    def test_a_device_rotates_its_secret_and_revokes_itself(self):
        device, old = self.register()
        status, reply = self.signed("POST", "/v2/apps/sensors/devices/self/rotate", device, old,
                                    b"{}")
        self.assertEqual(status, 200, reply)
        self.assertEqual(reply["device_id"], device)
        new = unb64url(reply["device_secret"])
        self.assertNotEqual(new, old)
        import time
        time.sleep(1.2)  # the record cache
        self.assertEqual(self.token(device, old)[0], 401)  # the old secret stopped working
        self.assertEqual(self.token(device, new)[0], 200)
        status, _ = self.signed("DELETE", "/v2/apps/sensors/devices/self", device, new)
        self.assertEqual(status, 204)
        time.sleep(1.2)
        status, reply, _, _, _ = self.token(device, new)
        self.assertEqual((status, reply["error"]["code"]), (403, "device_revoked"))
        status, reply = self.signed("POST", "/v2/apps/sensors/devices/self/rotate", device, new,
                                    b"{}")
        self.assertEqual((status, reply["error"]["code"]), (403, "device_revoked"))

    def test_wrong_mode_and_unknown_app(self):
        status, reply, _ = self.post("/v2/apps/ident/devices", b"{}")
        self.assertEqual((status, reply["error"]["code"]), (405, "wrong_mode"))
        status, reply, _ = self.post("/v2/apps/sensors/users", b"{}")
        self.assertEqual((status, reply["error"]["code"]), (405, "wrong_mode"))
        status, reply, _ = self.post("/v2/apps/nope/devices", b"{}")
        self.assertEqual((status, reply["error"]["code"]), (404, "not_found"))

    def ident_token(self, device, secret):
        body = b"{}"
        headers, _ = self.sign(device, secret, "/v2/apps/ident/token", body)
        return self.post("/v2/apps/ident/token", body, headers)

    def test_sign_up_log_in_and_get_credentials_for_the_user(self):
        creds = json.dumps({"username": "grace", "password": "long enough pw"}).encode()
        status, reply, _ = self.post("/v2/apps/ident/users", creds)
        self.assertEqual(status, 201, reply)
        self.assertRegex(reply["user_id"], r"^[0-9a-f]{32}$")
        self.assertEqual(self.post("/v2/apps/ident/users", creds)[1]["error"]["code"],
                         "username_taken")
        short = json.dumps({"username": "hal", "password": "short"}).encode()
        self.assertEqual(self.post("/v2/apps/ident/users", short)[0], 400)
        wrong = json.dumps({"username": "grace", "password": "not the password"}).encode()
        status, reply, _ = self.post("/v2/apps/ident/login", wrong)
        self.assertEqual((status, reply["error"]["code"]), (401, "invalid_credentials"))
        status, login, _ = self.post("/v2/apps/ident/login", creds)
        self.assertEqual(status, 200, login)
        device, secret = login["device_id"], unb64url(login["device_secret"])
        status, token, _ = self.ident_token(device, secret)
        self.assertEqual(status, 200, token)
        self.assertTrue(token["AccessKeyId"].startswith("VDEV"))
        # The 2012 login cannot use a v2 user's password: its hash is argon2id, not the salt.
        import hashlib as _h, hmac as _m
        from vendo_harness import now_ts, salted_hash, sign_hex
        h = salted_hash("long enough pw", "grace", "V2App", "https://tvm.example.com/apps/ident")
        ts = now_ts(False)
        self.assertEqual(self.v.request("GET", "/apps/ident/login", {
            "uid": "x" * 32, "username": "grace", "timestamp": ts,
            "signature": sign_hex(h, ts)})[0], 401)

    def test_sign_up_through_the_html_form(self):
        status, page, headers = self.v.request("GET", "/v2/apps/ident/register")
        self.assertEqual(status, 200)
        self.assertIn(b'action="users"', page)
        self.assertIn(b'minlength="8"', page)
        self.assertEqual(headers["x-frame-options"], "DENY")
        cookie = headers["set-cookie"].split(";")[0]
        token = cookie.split("=", 1)[1]
        origin = {"Cookie": cookie, "Origin": f"http://127.0.0.1:{self.v.port}"}
        form = {"username": "ivy", "password": "form password", "csrf": token}
        status, page, _ = self.v.request("POST", "/v2/apps/ident/users", form, headers=origin)
        self.assertEqual(status, 200, page)
        self.assertIn(b"ivy", page)
        # The account works for a JSON login.
        status, login, _ = self.post("/v2/apps/ident/login", json.dumps(
            {"username": "ivy", "password": "form password"}).encode())
        self.assertEqual(status, 200, login)
        # Errors come back as pages a person can read.
        status, page, _ = self.v.request("POST", "/v2/apps/ident/users", form, headers=origin)
        self.assertEqual(status, 409)
        self.assertIn(b"already taken", page)
        status, page, _ = self.v.request("POST", "/v2/apps/ident/users",
                                         dict(form, username="ivy2", password="short"),
                                         headers=origin)
        self.assertEqual(status, 400)
        self.assertIn(b"at least 8 characters", page)
        self.assertIn(b'value="ivy2"', page)  # what the user typed is kept
        self.assertEqual(self.v.request("POST", "/v2/apps/ident/users", {"username": "ivy3", "csrf": token},
                                        headers=origin)[0], 400)
        # Another site cannot post it, and a browser holding the cookie must send the token.
        self.assertEqual(self.v.request("POST", "/v2/apps/ident/users",
                                        dict(form, username="ivy4"),
                                        headers={"Origin": "https://evil.example"})[0], 403)
        self.assertEqual(self.v.request("POST", "/v2/apps/ident/users",
                                        dict(form, username="ivy5", csrf="x"),
                                        headers={"Cookie": cookie})[0], 403)
        # JSON sent with the form content type is not JSON (a cross-site form can send that
        # type without the browser asking): the form handler answers, and no user is made.
        status, body, _ = self.v.request("POST", "/v2/apps/ident/users", body=json.dumps(
            {"username": "ivy6", "password": "json password"}).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 400, body)
        self.assertEqual(self.post("/v2/apps/ident/login", json.dumps(
            {"username": "ivy6", "password": "json password"}).encode())[0], 401)
        # Anonymous apps have no sign-up page.
        status, body, _ = self.v.request("GET", "/v2/apps/sensors/register")
        self.assertEqual((status, json.loads(body)["error"]["code"]), (405, "wrong_mode"))

    def test_a_login_brute_force_locks_the_user(self):
        creds = {"username": "ivan", "password": "correct password"}
        self.assertEqual(self.post("/v2/apps/ident/users", json.dumps(creds).encode())[0], 201)
        for guess in ("a1234567", "b1234567", "c1234567"):
            bad = json.dumps({"username": "ivan", "password": guess}).encode()
            self.assertEqual(self.post("/v2/apps/ident/login", bad)[0], 401)
        status, reply, headers = self.post("/v2/apps/ident/login", json.dumps(creds).encode())
        self.assertEqual((status, reply["error"]["code"]), (429, "rate_limited"))
        self.assertGreater(int(headers["retry-after"]), 0)

    def test_a_disabled_user_gets_nothing(self):
        creds = json.dumps({"username": "judy", "password": "correct password"}).encode()
        self.assertEqual(self.post("/v2/apps/ident/users", creds)[0], 201)
        status, login, _ = self.post("/v2/apps/ident/login", creds)
        device, secret = login["device_id"], unb64url(login["device_secret"])
        r = subprocess.run([VENDO, "user", "disable", "--config", self.cfg, "--app", "ident",
                            "--user", "judy"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        import time
        time.sleep(1.2)
        status, reply, _ = self.ident_token(device, secret)
        self.assertEqual((status, reply["error"]["code"]), (403, "user_disabled"))
        status, reply, _ = self.post("/v2/apps/ident/login", creds)
        self.assertEqual((status, reply["error"]["code"]), (403, "user_disabled"))

    def test_zz_the_audit_log_has_the_events_and_no_secret(self):
        device, secret = self.register()
        status, creds, _, _, _ = self.token(device, secret)
        self.assertEqual(status, 200)
        with open(self.audit) as f:
            text = f.read()
        events = [json.loads(l) for l in text.splitlines()]
        self.assertIn(("register_device", "ok", device),
                      [(e["audit"], e["outcome"], e.get("device")) for e in events])
        self.assertIn(("vend", "replayed_request"), [(e["audit"], e["outcome"]) for e in events])
        for secret_text in (b64url(secret), creds["SecretAccessKey"], creds["SessionToken"],
                            "long enough pw", "correct password"):
            self.assertNotIn(secret_text, text + self.v.logs())


if __name__ == "__main__":
    unittest.main()
