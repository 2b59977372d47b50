"""A small W3C WebDriver client for Debian's chromedriver and headless chromium (no selenium on
the machine): sessions, navigation, elements, scripts and screenshots."""
import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from peers import free_port

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"


class WebDriverError(RuntimeError):
    pass


class Browser:
    """chromedriver on 127.0.0.1 driving one headless chromium."""

    def __init__(self, width=1000, height=900):
        for exe in ("chromedriver", "chromium"):
            if shutil.which(exe) is None:
                raise RuntimeError(f"{exe} is not installed (Debian: chromium chromium-driver; "
                                   "make deps installs them)")
        self.profile = tempfile.mkdtemp(prefix="vendo-chromium-")
        self.port = free_port()
        self.log = open(os.path.join(self.profile, "chromedriver.log"), "wb")
        self.proc = subprocess.Popen(["chromedriver", f"--port={self.port}"],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 20
        while True:
            try:
                self._call("GET", "/status")
                break
            except (urllib.error.URLError, ConnectionError):
                if time.time() > deadline:
                    raise RuntimeError("chromedriver did not start")
                time.sleep(0.1)
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": shutil.which("chromium"),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", f"--window-size={width},{height}",
                         f"--user-data-dir={self.profile}/data"]}}}}
        self.session = self._call("POST", "/session", caps)["sessionId"]

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return json.loads(r.read())["value"]
        except urllib.error.HTTPError as e:
            raise WebDriverError(e.read().decode(errors="replace")) from None

    def _s(self, method, path, body=None):
        return self._call(method, f"/session/{self.session}{path}", body)

    def go(self, url):
        self._s("POST", "/url", {"url": url})

    def title(self):
        return self._s("GET", "/title")

    def url(self):
        return self._s("GET", "/url")

    def find(self, css):
        return self._s("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]

    def type(self, css, text):
        element = self.find(css)
        self._s("POST", f"/element/{element}/clear", {})
        self._s("POST", f"/element/{element}/value", {"text": text})

    def click(self, css):
        self._s("POST", f"/element/{self.find(css)}/click", {})

    def click_and_wait(self, css, seconds=15):
        """Clicks, then waits until another document has loaded (a form's answer)."""
        self.script("window.__vendo_previous_page = true;")
        self.click(css)
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                if self.script("return window.__vendo_previous_page === undefined && "
                               "document.readyState === 'complete';"):
                    return
            except WebDriverError:
                pass  # between documents
            time.sleep(0.05)
        raise WebDriverError(f"clicking {css} loaded no new page")

    def text(self, css):
        return self._s("GET", f"/element/{self.find(css)}/text")

    def script(self, source, *args):
        return self._s("POST", "/execute/sync", {"script": source, "args": list(args)})

    def screenshot(self, path):
        with open(path, "wb") as f:
            f.write(base64.b64decode(self._s("GET", "/screenshot")))
        return path

    def close(self):
        try:
            self._s("DELETE", "")
        except Exception:
            pass
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)
