"""The sign-up pages in a real browser (headless chromium through chromedriver): a user signs
up and sees the success page; a duplicate username and a too-short password show their errors,
first in the browser (client-side validation), then from the server. Screenshots of every step
are kept in BUILD/test-artifacts/browser/."""
import os
import shutil
import tempfile
import unittest
import urllib.error
import urllib.request

from vendo_harness import Vendo, now_ts, write_config
from webdriver import Browser

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("VENDO_BUILD_DIR", os.path.join(HERE, "../../build"))
ARTIFACTS = os.path.join(BUILD, "test-artifacts", "browser")
POLICY = "'{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::b/${username}/*\"}]}'"


class BrowserTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(ARTIFACTS, exist_ok=True)
        cls.dir = tempfile.mkdtemp(prefix="vendo-browser-")
        cfg = write_config(cls.dir, f"""
[apps.photos]
mode = "identity"
allow_insecure_legacy = true
app_name = "PhotoShare"
public_endpoint = "https://photos.example.com/apps/photos"
policy = {POLICY}
""")
        cls.v = Vendo(data_dir=cls.dir, config=cfg).start()
        cls.browser = Browser()

    @classmethod
    def tearDownClass(cls):
        cls.browser.close()
        cls.v.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def shot(self, name):
        return self.browser.screenshot(os.path.join(ARTIFACTS, name + ".png"))

    def fill(self, username, password, confirm=None):
        b = self.browser
        b.type("#username", username)
        b.type("#password", password)
        if confirm is not None:
            b.type("#confirm", confirm)

    def test_modern_page_sign_up_duplicate_and_short_password(self):
        b = self.browser
        page = f"{self.v.base()}/v2/apps/photos/register"
        b.go(page)
        self.assertEqual(b.title(), "photoshare - Register")
        self.shot("v2-1-register")
        self.fill("grace", "correct horse battery", "correct horse battery")
        b.click_and_wait("input[type=submit]")
        self.assertEqual(b.title(), "photoshare - Success")
        self.assertIn("grace", b.text("main"))
        self.shot("v2-2-success")

        # The same username again: the server says so above the form, the name kept.
        b.go(page)
        self.fill("grace", "another password", "another password")
        b.click_and_wait("input[type=submit]")
        self.assertEqual(b.title(), "photoshare - Register")
        self.assertIn("already taken", b.text("#form-error"))
        self.assertEqual(b.script("return document.getElementById('username').value"), "grace")
        self.shot("v2-3-duplicate")

        # A too-short password: the browser refuses to send it and says why.
        b.go(page)
        self.fill("henry", "short", "short")
        b.click("input[type=submit]")
        self.assertEqual(b.url(), page)  # not submitted
        self.assertTrue(b.script("return document.getElementById('password').validity.tooShort"))
        self.assertTrue(b.script("return document.getElementById('password').validationMessage"))
        self.shot("v2-4-short-password-in-browser")
        # Passwords that differ are caught as they are typed.
        self.fill("henry", "long enough 1", "long enough 2")
        self.assertEqual(b.script("return document.getElementById('confirm').validationMessage"),
                         "The passwords do not match.")
        # Without the browser's checks (an old browser), the server refuses it too.
        b.script("for (const e of document.querySelectorAll('input')) e.removeAttribute('minlength');"
                 "document.getElementById('register').noValidate = true;")
        self.fill("henry", "short", "short")
        b.click_and_wait("input[type=submit]")
        self.assertIn("at least 8 characters", b.text("#form-error"))
        self.shot("v2-5-short-password-from-server")

    def test_2012_page_keeps_its_contract_and_shows_errors(self):
        b = self.browser
        page = f"{self.v.base()}/apps/photos/register.jsp"
        b.go(page)
        self.assertEqual(b.title(), "photoshare - Register")
        self.assertEqual(b.script("return document.forms[0].name"), "register")
        self.shot("2012-1-register")
        self.fill("ivan", "secret1")
        b.click_and_wait("input[type=submit]")
        self.assertEqual(b.title(), "photoshare - Success")
        self.shot("2012-2-success")
        b.go(page)
        self.fill("ivan", "secret1")
        b.click_and_wait("input[type=submit]")
        self.assertEqual(b.title(), "photoshare - Error")
        self.assertIn("already taken", b.text("main"))
        self.shot("2012-3-duplicate")
        b.click_and_wait("a")  # "Try again" goes back to the form
        self.assertEqual(b.title(), "photoshare - Register")
        self.fill("judy", "abc")
        b.click("input[type=submit]")
        self.assertTrue(b.script("return document.getElementById('password').validity.tooShort"))
        self.shot("2012-4-short-password")


    def test_status_page_draws_its_chart(self):
        # A failed 2012 login: an error for the chart and the recent-errors table.
        q = f"uid=0123456789abcdef0123456789abcdef&username=nobody&timestamp={now_ts()}&signature=x"
        with self.assertRaises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{self.v.base()}/apps/photos/login?{q}")
        b = self.browser
        b.go(self.v.admin_url + "/")
        self.assertEqual(b.title(), "vendo status")
        # The inline SVG is laid out by the browser: it has a size on screen.
        width = b.script("const s = document.querySelector('svg');"
                         "return s ? s.getBoundingClientRect().width : 0;")
        self.assertGreater(width, 300)
        self.assertIn("photos", b.text("#apps + table"))
        self.assertIn("login", b.text("#errors + table"))
        self.shot("status-page")


if __name__ == "__main__":
    unittest.main()
