"""Every admin command (`vendo device|user|app ...`, `vendo stats`) against both stores: a real
server makes devices, users and vends; the commands list, show, page, change and count them,
as tables and as JSON."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from peers import PostgresServer
from vendo_harness import (IDENT_ENDPOINT, VENDO, Vendo, anonymous_token, identity_token,
                           new_device, now_ts, salted_hash, sign_hex, two_apps, write_config,
                           write_secret)

ENDPOINT = IDENT_ENDPOINT
APPS = two_apps("IdentApp")


class AdminCommandsBase:
    """The tests; a subclass says which store."""

    def store_toml(self):
        raise NotImplementedError

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="vendo-admin-cmd-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.cfg = write_config(self.dir, APPS, store=self.store_toml())
        # A workload: 3 anonymous devices with 2 tokens each; one user with one device and
        # one token. Stopping the server writes its last activity counts.
        v = Vendo(data_dir=self.dir, config=self.cfg).start()
        self.devices = []
        for _ in range(3):
            uid, key = new_device()
            for i in range(2):
                self.assertEqual(anonymous_token(v, "/apps/anon", uid, key, register=i == 0)[0],
                                 200)
            self.devices.append(uid)
        self.ident_uid = new_device()[0]
        self.assertEqual(identity_token(v, "/apps/ident", "amy", "amy-pw-1", "IdentApp",
                                        ENDPOINT, uid=self.ident_uid)[0], 200)
        self.assertEqual(v.stop(), 0)

    def admin(self, *args, stdin=None):
        r = subprocess.run([VENDO, *args, "--config", self.cfg], input=stdin, capture_output=True,
                           text=True, timeout=60)
        return r.returncode, r.stdout, r.stderr

    def json(self, *args):
        code, out, err = self.admin(*args, "--json")
        self.assertEqual(code, 0, err)
        return json.loads(out)

    def test_app_list_and_stats_count_what_the_server_did(self):
        code, table, _ = self.admin("app", "list")
        self.assertEqual(code, 0)
        self.assertRegex(table, r"APP\s+MODE\s+ISSUER\s+DURATION\s+DEVICES\s+USERS")
        self.assertRegex(table, r"anon\s+anonymous\s+dev\s+86400\s+3\s+-")
        apps = {a["app"]: a for a in self.json("app", "list")}
        self.assertEqual((apps["anon"]["devices"], apps["anon"]["users"]), (3, None))
        self.assertEqual((apps["ident"]["devices"], apps["ident"]["users"]), (1, 1))
        stats = {a["app"]: a for a in self.json("stats")}
        self.assertEqual(stats["anon"]["registrations_1h"], 3)
        self.assertEqual(stats["anon"]["vends_1h"], 6)
        self.assertEqual(stats["anon"]["vends_24h"], 6)
        self.assertEqual(stats["ident"]["registrations_24h"], 1)
        self.assertEqual(stats["ident"]["vends_1h"], 1)
        only = self.json("stats", "--app", "ident")
        self.assertEqual([a["app"] for a in only], ["ident"])
        code, table, _ = self.admin("stats")
        self.assertRegex(table, r"anon\s+3\s+-\s+3\s+3\s+6\s+6")

    def test_devices_list_page_show_and_revoke(self):
        rows = self.json("device", "list", "--app", "anon")
        self.assertEqual(sorted(r["uid"] for r in rows), sorted(self.devices))
        self.assertTrue(all(r["state"] == "active" for r in rows))
        code, out, err = self.admin("device", "list", "--app", "anon", "--limit", "2")
        self.assertEqual(len(out.strip().splitlines()), 3)  # the header and 2 rows
        after = err.split("--after ")[1].split(")")[0]
        rest = self.json("device", "list", "--app", "anon", "--after", after)
        self.assertEqual(len(rest), 1)
        self.assertGreater(rest[0]["uid"], after)
        shown = self.json("device", "show", "--app", "ident", "--uid", self.ident_uid)
        self.assertEqual((shown["username"], shown["state"]), ("amy", "active"))
        code, out, _ = self.admin("device", "revoke", "--app", "anon", "--uid", self.devices[0])
        self.assertEqual((code, out), (0, "revoke_device: done\n"))
        self.assertEqual(self.json("device", "show", "--app", "anon",
                                   "--uid", self.devices[0])["state"], "revoked")
        code, _, err = self.admin("device", "show", "--app", "anon", "--uid", "f" * 32)
        self.assertEqual(code, 1)
        self.assertIn("f" * 32, err)

    def test_users_add_list_show_disable_enable_delete(self):
        code, _, err = self.admin("user", "add", "--app", "ident", "--user", "bea", stdin="bea-pw-12\n")
        self.assertEqual(code, 0, err)
        pw = write_secret(self.dir, "cy-pw", "cy-pw-1")
        code, _, err = self.admin("user", "add", "--app", "ident", "--user", "cyd", "--protocol",
                                  "2012", "--password-file", pw)
        self.assertEqual(code, 0, err)
        self.assertEqual(self.admin("user", "add", "--app", "ident", "--user", "bea",
                                    stdin="bea-pw-12\n")[0], 1)  # taken
        self.assertEqual(self.admin("user", "add", "--app", "ident", "--user", "short",
                                    stdin="x\n")[0], 2)
        self.assertEqual(self.admin("user", "add", "--app", "anon", "--user", "dan",
                                    stdin="dan-pw-123\n")[0], 2)
        users = {u["username"]: u for u in self.json("user", "list", "--app", "ident")}
        self.assertEqual(sorted(users), ["amy", "bea", "cyd"])
        shown = self.json("user", "show", "--app", "ident", "--user", "amy")
        self.assertEqual(shown["devices"], [self.ident_uid])
        code, table, _ = self.admin("user", "show", "--app", "ident", "--user", "amy")
        self.assertIn("state:       enabled", table)
        # The added users log in: bea with protocol v2, cyd with the 2012 protocol.
        v = Vendo(data_dir=self.dir, config=self.cfg).start()
        try:
            status, body, _ = v.request("POST", "/v2/apps/ident/login",
                                        body=b'{"username": "bea", "password": "bea-pw-12"}',
                                        headers={"Content-Type": "application/json"})
            self.assertEqual(status, 200, body)
            h = salted_hash("cy-pw-1", "cyd", "IdentApp", ENDPOINT)
            ts = now_ts(False)
            self.assertEqual(v.request("GET", "/apps/ident/login", {
                "uid": new_device()[0], "username": "cyd", "timestamp": ts,
                "signature": sign_hex(h, ts)})[0], 200)
        finally:
            v.stop()
        for what, state in (("disable", "disabled"), ("enable", "enabled")):
            self.assertEqual(self.admin("user", what, "--app", "ident", "--user", "bea")[0], 0)
            self.assertEqual(self.json("user", "show", "--app", "ident", "--user", "bea")["state"],
                             state)
        self.assertEqual(self.json("user", "delete", "--app", "ident", "--user", "bea"),
                         {"action": "delete_user", "outcome": "ok"})
        self.assertEqual(self.admin("user", "show", "--app", "ident", "--user", "bea")[0], 1)
        self.assertEqual(self.admin("user", "disable", "--app", "ident", "--user", "nobody")[0], 1)

    def test_usage_errors(self):
        self.assertEqual(self.admin("device", "list", "--app", "ghost")[0], 2)
        self.assertEqual(self.admin("user", "list")[0], 2)  # --app is required
        code, out, _ = self.admin("user", "list", "--app", "anon")
        self.assertEqual((code, out.splitlines()[-1]), (0, "(none)"))
        self.assertEqual(self.json("user", "list", "--app", "anon"), [])


class SqliteAdminCommandsTest(AdminCommandsBase, unittest.TestCase):
    def store_toml(self):
        return f'path = "{os.path.join(self.dir, "vendo.db")}"'


class PostgresAdminCommandsTest(AdminCommandsBase, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PostgresServer()

    @classmethod
    def tearDownClass(cls):
        cls.pg.stop()

    def setUp(self):
        # A fresh database per test: drop what the previous test left.
        subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-p", str(self.pg.port), "-U", "vendo",
                        "-d", "vendo", "-c",
                        "DROP TABLE IF EXISTS devices, users, counters, activity, "
                        "schema_migrations"],
                       env=dict(os.environ, PGPASSFILE="", PGPASSWORD=open(
                           self.pg.password_file).read().strip()),
                       check=True, capture_output=True)
        super().setUp()

    def store_toml(self):
        return f'url = "{self.pg.url}"\npassword_file = "{self.pg.password_file}"'


if __name__ == "__main__":
    unittest.main()
