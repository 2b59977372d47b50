"""The admin listener: a scripted workload, then /metrics scraped and every counter checked
against it; the status page; the bearer token and the client certificates that guard it."""
import http.client
import os
import re
import shutil
import ssl
import tempfile
import unittest
import urllib.error
import urllib.request

from vendo_harness import (IDENT_ENDPOINT, Vendo, anonymous_token, identity_token, make_cert,
                           new_device, now_ts, s3_policy, salted_hash, sign_hex, two_apps,
                           write_config, write_secret)

POLICY = s3_policy()
ENDPOINT = IDENT_ENDPOINT


def get(url, token=None, context=None):
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10, context=context) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


def parse_metrics(text):
    """{(name, frozenset(labels)): value} from the Prometheus text format."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$', line)
        assert m, line
        labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


class MetricsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="vendo-admin-")
        cls.cfg = write_config(cls.dir, two_apps("IdentApp") + """
[apps.ident.limits]
failed_logins_per_user = 2
""")
        cls.v = Vendo(data_dir=cls.dir, config=cls.cfg).start()

    @classmethod
    def tearDownClass(cls):
        cls.v.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def login(self, username, password):
        h = salted_hash(password, username, "IdentApp", ENDPOINT)
        ts = now_ts(False)
        return self.v.request("GET", "/apps/ident/login", {
            "uid": new_device()[0], "username": username, "timestamp": ts,
            "signature": sign_hex(h, ts)})[0]

    def metric(self, metrics, name, **labels):
        return metrics.get((name, frozenset(labels.items())), 0.0)

    def test_counters_match_a_scripted_workload(self):
        # 3 devices, 5 tokens each (the first of each a cache miss), 2 bad signatures.
        for _ in range(3):
            uid, key = new_device()
            for i in range(5):
                status, _ = anonymous_token(self.v, "/apps/anon", uid, key, register=(i == 0))
                self.assertEqual(status, 200)
        for _ in range(2):
            uid, key = new_device()
            self.assertEqual(self.v.request("GET", "/apps/anon/gettoken", {
                "uid": uid, "timestamp": "2026-01-01T00:00:00Z", "signature": "x"})[0], 408)
        # One user: signed up, 2 wrong passwords (locked out), then 1 more attempt refused.
        self.assertEqual(identity_token(self.v, "/apps/ident", "zoe", "right-pw", "IdentApp",
                                        ENDPOINT)[0], 200)
        statuses = [self.login("zoe", "wrong-pw") for _ in range(3)]
        self.assertEqual(statuses[:2], [401, 401])
        self.assertNotEqual(statuses[2], 200)  # locked out
        status, text, headers = get(self.v.admin_url + "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/plain; version=0.0.4"))
        m = parse_metrics(text)
        req = "vendo_http_requests_total"
        self.assertEqual(self.metric(m, req, app="anon", endpoint="registerdevice", status="200"), 3)
        self.assertEqual(self.metric(m, req, app="anon", endpoint="gettoken", status="200"), 15)
        self.assertEqual(self.metric(m, req, app="anon", endpoint="gettoken", status="408"), 2)
        self.assertEqual(self.metric(m, "vendo_http_request_duration_seconds_count", app="anon",
                                     endpoint="gettoken"), 17)
        self.assertEqual(self.metric(m, "vendo_registrations_total", app="anon", outcome="ok"), 3)
        self.assertEqual(self.metric(m, "vendo_vends_total", app="anon", outcome="ok"), 15)
        self.assertEqual(self.metric(m, "vendo_credential_cache_misses_total", app="anon"), 3)
        self.assertEqual(self.metric(m, "vendo_credential_cache_hits_total", app="anon"), 12)
        self.assertEqual(self.metric(m, "vendo_registrations_total", app="ident", outcome="ok"), 1)
        self.assertEqual(self.metric(m, "vendo_logins_total", app="ident", outcome="ok"), 1)
        self.assertEqual(self.metric(m, "vendo_logins_total", app="ident",
                                     outcome="unauthenticated"), 2)
        self.assertEqual(self.metric(m, "vendo_lockouts_total", app="ident"), 1)
        self.assertGreater(self.metric(m, "vendo_store_call_duration_seconds_count",
                                       operation="create_device"), 2)
        # Nothing secret or per-device in the labels.
        self.assertNotIn("uid", text)
        # The status page shows the same activity.
        status, page, headers = get(self.v.admin_url + "/")
        self.assertEqual(status, 200)
        self.assertIn("default-src 'none'", headers["Content-Security-Policy"])
        self.assertIn("16 vends, 5 errors", page)  # 15 + zoe's; 2 stale, 2 wrong, 1 locked
        self.assertIn("<svg", page)
        self.assertRegex(page, r"<td>anon</td><td>anonymous</td><td>dev</td><td class=\"n\">3</td>")
        self.assertIn("stale_request", page)  # the recent errors

    def test_health_endpoints_and_methods(self):
        self.assertEqual(get(self.v.admin_url + "/healthz")[0], 200)
        self.assertEqual(get(self.v.admin_url + "/readyz")[:2], (200, "ready\n"))
        self.assertEqual(get(self.v.admin_url + "/nope")[0], 404)
        # The main listener does not serve the admin endpoints.
        self.assertEqual(get(self.v.base() + "/metrics")[0], 404)


class TokenTest(unittest.TestCase):
    def test_a_token_guards_the_listener_and_is_required_beyond_loopback(self):
        d = tempfile.mkdtemp(prefix="vendo-admin-token-")
        self.addCleanup(shutil.rmtree, d, True)
        apps = f'[apps.a]\nmode = "anonymous"\nallow_insecure_legacy = true\npolicy = {POLICY}\n'
        # Beyond loopback without a token: refused at start, with the key named.
        cfg = write_config(d, apps, admin='listen = "0.0.0.0:0"')
        with self.assertRaises(RuntimeError) as caught:
            Vendo(data_dir=d, config=cfg).start()
        self.assertIn("admin.token_file", str(caught.exception))
        token = write_secret(d, "admin-token", "s3cret-admin-token")
        cfg = write_config(d, apps, admin=f'listen = "0.0.0.0:0"\ntoken_file = "{token}"')
        v = Vendo(data_dir=d, config=cfg).start()
        self.addCleanup(v.stop)
        url = v.admin_url.replace("0.0.0.0", "127.0.0.1")
        status, _, headers = get(url + "/metrics")
        self.assertEqual(status, 401)
        self.assertIn("Bearer", headers["WWW-Authenticate"])
        self.assertEqual(get(url + "/metrics", token="wrong")[0], 401)
        self.assertEqual(get(url + "/metrics", token="s3cret-admin-token")[0], 200)
        self.assertIn('"bearer_token_required":true', v.logs())
        self.assertNotIn("s3cret-admin-token", v.logs())


    def test_client_certificates_guard_the_listener_instead_of_a_token(self):
        d = tempfile.mkdtemp(prefix="vendo-admin-mtls-")
        self.addCleanup(shutil.rmtree, d, True)
        server_cert, server_key = make_cert(d, "server")
        ca_cert, _ = make_cert(d, "operators")  # the CA whose certificates may connect
        client_cert, client_key = ca_cert, os.path.join(d, "operators.key")
        stranger_cert, stranger_key = make_cert(d, "stranger")
        apps = f'[apps.a]\nmode = "anonymous"\nallow_insecure_legacy = true\npolicy = {POLICY}\n'
        # Client certificates need TLS: refused at start, with the key named.
        cfg = write_config(d, apps, admin=f'listen = "0.0.0.0:0"\nclient_ca_file = "{ca_cert}"')
        with self.assertRaises(RuntimeError) as caught:
            Vendo(data_dir=d, config=cfg).start()
        self.assertIn("admin.client_ca_file", str(caught.exception))
        # Beyond loopback, client certificates stand in for the token.
        cfg = write_config(d, apps, admin=f"""listen = "0.0.0.0:0"
tls_cert_file = "{server_cert}"
tls_key_file = "{server_key}"
client_ca_file = "{ca_cert}"
""")
        v = Vendo(data_dir=d, config=cfg).start()
        self.addCleanup(v.stop)
        self.assertTrue(v.admin_url.startswith("https://"), v.admin_url)
        self.assertIn('"client_certificate_required":true', v.logs())
        url = v.admin_url.replace("0.0.0.0", "127.0.0.1") + "/metrics"

        def context(cert=None, key=None):
            ctx = ssl.create_default_context(cafile=server_cert)
            if cert:
                ctx.load_cert_chain(cert, key)
            return ctx

        status, body, _ = get(url, context=context(client_cert, client_key))
        self.assertEqual(status, 200)
        self.assertIn("vendo_sts_calls_total", body)
        for who in ((None, None), (stranger_cert, stranger_key)):
            with self.assertRaises((ssl.SSLError, ConnectionError, urllib.error.URLError)):
                get(url, context=context(*who))
        # Plain HTTP to a TLS listener gets nothing either.
        with self.assertRaises((ConnectionError, urllib.error.URLError, http.client.HTTPException)):
            get(url.replace("https://", "http://"))

    def test_a_token_over_plain_http_beyond_loopback_is_warned_about(self):
        d = tempfile.mkdtemp(prefix="vendo-admin-warn-")
        self.addCleanup(shutil.rmtree, d, True)
        token = write_secret(d, "admin-token", "t0ken")
        apps = f'[apps.a]\nmode = "anonymous"\nallow_insecure_legacy = true\npolicy = {POLICY}\n'
        cfg = write_config(d, apps, admin=f'listen = "0.0.0.0:0"\ntoken_file = "{token}"')
        v = Vendo(data_dir=d, config=cfg).start()
        self.addCleanup(v.stop)
        self.assertIn("admin bearer token crosses the network in the clear", v.logs())


if __name__ == "__main__":
    unittest.main()
