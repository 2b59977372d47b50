"""The Debian package: built with CPack, unpacked with dpkg-deb -x into a temporary root, its
files, permissions, control data and systemd unit checked, and the packaged binary run from
there until it answers."""
import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest

from vendo_harness import Vendo, anonymous_token, new_device

BUILD = os.path.dirname(os.path.abspath(os.environ.get("VENDO_BIN", "../../build/vendo")))


class PackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="vendo-pkg-")
        out = os.path.join(cls.dir, "out")
        built = subprocess.run(["cpack", "-G", "DEB", "--config",
                                os.path.join(BUILD, "CPackConfig.cmake"), "-B", out],
                               capture_output=True, text=True, timeout=300)
        if built.returncode != 0:
            raise RuntimeError("cpack failed:\n" + built.stdout + built.stderr)
        debs = [f for f in os.listdir(out) if f.endswith(".deb")]
        assert len(debs) == 1, debs
        cls.deb = os.path.join(out, debs[0])
        cls.root = os.path.join(cls.dir, "root")
        subprocess.run(["dpkg-deb", "-x", cls.deb, cls.root], check=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def path(self, p):
        return os.path.join(self.root, p.lstrip("/"))

    def test_file_list_and_permissions(self):
        listing = subprocess.run(["dpkg-deb", "-c", self.deb], capture_output=True, text=True,
                                 check=True).stdout
        files = {line.split()[-1].lstrip(".") for line in listing.splitlines()}
        for f in ("/usr/bin/vendo", "/usr/lib/systemd/system/vendo.service",
                  "/etc/vendo/vendo.toml", "/usr/share/vendo/policies/per-user-s3.json",
                  "/usr/share/vendo/policies/per-device-s3.json",
                  "/usr/share/vendo/cloudformation/vendo.yaml",
                  "/usr/share/doc/vendo/configuration.md", "/usr/share/doc/vendo/operating.md",
                  "/usr/share/doc/vendo/LICENSE"):
            self.assertIn(f, files)
        self.assertNotIn("/etc/vendo/master.key", files, "the key is made on the host")
        for f, mode in (("/usr/bin/vendo", 0o755), ("/etc/vendo/vendo.toml", 0o644),
                        ("/usr/lib/systemd/system/vendo.service", 0o644)):
            self.assertEqual(stat.S_IMODE(os.stat(self.path(f)).st_mode), mode, f)
        for line in listing.splitlines():
            self.assertIn("root/root", line, "files belong to root")

    def test_control_data_and_maintainer_scripts(self):
        info = subprocess.run(["dpkg-deb", "-f", self.deb], capture_output=True, text=True,
                              check=True).stdout
        self.assertIn("Package: vendo", info)
        depends = re.search(r"(?m)^Depends: (.*)$", info).group(1)
        for lib in ("libssl3", "libsqlite3-0", "libpq5", "adduser"):
            self.assertIn(lib, depends)
        control = os.path.join(self.dir, "control")
        subprocess.run(["dpkg-deb", "-e", self.deb, control], check=True)
        with open(os.path.join(control, "conffiles")) as f:
            self.assertEqual(f.read().split(), ["/etc/vendo/vendo.toml"])
        for script in ("postinst", "prerm", "postrm"):
            p = os.path.join(control, script)
            self.assertTrue(os.stat(p).st_mode & stat.S_IXUSR, script)
            self.assertEqual(subprocess.run(["sh", "-n", p]).returncode, 0, script)
        with open(os.path.join(control, "postinst")) as f:
            postinst = f.read()
        self.assertIn("adduser --system", postinst)
        self.assertIn("chmod 0600 /etc/vendo/master.key", postinst)

    def test_systemd_unit_is_hardened(self):
        with open(self.path("/usr/lib/systemd/system/vendo.service")) as f:
            unit = dict(re.findall(r"(?m)^(\w+)=(.*)$", f.read()))
        expected = {"User": "vendo", "Group": "vendo", "Restart": "on-failure",
                    "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
                    "PrivateTmp": "yes", "StateDirectory": "vendo", "LimitCORE": "0",
                    "ExecStart": "/usr/bin/vendo serve --config /etc/vendo/vendo.toml",
                    "ExecReload": "/bin/kill -HUP $MAINPID", "RemoveIPC": "yes",
                    "PrivateMounts": "yes", "ProtectProc": "invisible", "ProcSubset": "pid",
                    "SystemCallFilter": "~@privileged"}
        for key, value in expected.items():
            self.assertEqual(unit.get(key), value, key)
        analyze = shutil.which("systemd-analyze")
        if analyze:  # not on every machine image; the checks above hold either way
            verify = subprocess.run([analyze, "verify", "--man=no", self.path(
                "/usr/lib/systemd/system/vendo.service")], capture_output=True, text=True)
            self.assertNotIn("Unknown", verify.stderr)

    def test_the_binary_is_hardened(self):
        binary = self.path("/usr/bin/vendo")
        dynamic = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True,
                                 check=True).stdout
        self.assertRegex(dynamic, r"FLAGS.*BIND_NOW|FLAGS_1.*NOW")      # full RELRO: BIND_NOW
        self.assertIn("PIE", dynamic)
        segments = subprocess.run(["readelf", "-lW", binary], capture_output=True, text=True,
                                  check=True).stdout
        self.assertIn("GNU_RELRO", segments)
        symbols = subprocess.run(["readelf", "--dyn-syms", "-W", binary], capture_output=True,
                                 text=True, check=True).stdout
        self.assertIn("__stack_chk_fail", symbols)                      # stack protector
        self.assertRegex(symbols, r"__\w+_chk@")                        # _FORTIFY_SOURCE

    def test_lintian_finds_no_error_or_warning(self):
        lintian = shutil.which("lintian")
        if lintian is None:
            raise RuntimeError("lintian is not installed (make deps installs it)")
        out = subprocess.run([lintian, self.deb], capture_output=True, text=True, timeout=300)
        found = [l for l in (out.stdout + out.stderr).splitlines() if l[:2] in ("E:", "W:")]
        self.assertEqual(found, [])

    def test_debian_documents_and_every_document_the_readme_links(self):
        docs = "/usr/share/doc/vendo"
        for name in ("copyright", "changelog.gz"):
            self.assertTrue(os.path.exists(self.path(f"{docs}/{name}")), name)
        self.assertTrue(os.path.exists(self.path("/usr/share/man/man1/vendo.1.gz")))
        with open(os.path.join(os.path.dirname(__file__), "../../README.md")) as f:
            linked = set(re.findall(r"\(docs/([\w.-]+\.md)\)", f.read()))
        self.assertTrue(linked)
        for name in linked:
            self.assertTrue(os.path.exists(self.path(f"{docs}/{name}")), name)

    def test_maintainer_scripts_keep_an_admins_disabled_service_disabled(self):
        control = os.path.join(self.dir, "control-scripts")
        subprocess.run(["dpkg-deb", "-e", self.deb, control], check=True)
        with open(os.path.join(control, "postinst")) as f:
            postinst = f.read()
        self.assertIn("deb-systemd-helper --quiet was-enabled 'vendo.service'", postinst)
        self.assertNotIn("systemctl enable", postinst)
        with open(os.path.join(control, "prerm")) as f:
            self.assertIn("deb-systemd-invoke stop", f.read())

    def test_the_packaged_binary_serves_the_packaged_config(self):
        binary = self.path("/usr/bin/vendo")
        version = subprocess.run([binary, "version"], capture_output=True, text=True)
        self.assertEqual(version.returncode, 0)
        self.assertRegex(version.stdout, r"^vendo \d+\.\d+\.\d+")
        # The default config, with its absolute paths moved into the unpacked root.
        state = os.path.join(self.dir, "state")
        os.makedirs(state)
        key = os.path.join(state, "master.key")
        with open(key, "w") as f:
            f.write(os.urandom(32).hex() + "\n")
        os.chmod(key, 0o600)
        with open(self.path("/etc/vendo/vendo.toml")) as f:
            text = f.read()
        text = (text.replace("/usr/share/vendo", self.path("/usr/share/vendo"))
                .replace("/etc/vendo/master.key", key)
                .replace("/var/lib/vendo", state)
                .replace('listen = "127.0.0.1:8080"', 'listen = "127.0.0.1:0"')
                .replace('listen = "127.0.0.1:9090"', 'listen = "127.0.0.1:0"'))
        cfg = os.path.join(state, "vendo.toml")
        with open(cfg, "w") as f:
            f.write(text)
        check = subprocess.run([binary, "config", "check", cfg], capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stderr)
        v = Vendo(data_dir=state, config=cfg, binary=binary).start()
        self.addCleanup(v.cleanup)
        self.assertEqual(v.request("GET", "/healthz")[0], 200)
        uid, devkey = new_device()
        status, creds = anonymous_token(v, "", uid, devkey)
        self.assertEqual(status, 200, creds)
        self.assertTrue(creds["accessKey"].startswith("VDEV"))


if __name__ == "__main__":
    unittest.main()
