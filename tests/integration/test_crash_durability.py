"""Kill -9 during a stream of registrations: every registration answered 200 must survive."""
import http.client
import signal
import threading
import time
import unittest
import urllib.parse

from vendo_harness import Vendo, new_device, now_ts, sign_b64

THREADS = 16


class CrashDurabilityTest(unittest.TestCase):
    def test_acknowledged_registrations_survive_sigkill(self):
        v = Vendo().start()
        self.addCleanup(v.cleanup)
        acked = []
        lock = threading.Lock()
        stop = threading.Event()

        def writer():
            c = http.client.HTTPConnection("127.0.0.1", v.port, timeout=5)
            while not stop.is_set():
                uid, key = new_device()
                try:
                    c.request("GET", "/registerdevice?" + urllib.parse.urlencode({"uid": uid, "key": key}))
                    r = c.getresponse()
                    r.read()
                except (OSError, http.client.HTTPException):
                    return  # the server died mid-request: this one was never acknowledged
                if r.status == 200:
                    with lock:
                        acked.append((uid, key))
            c.close()

        threads = [threading.Thread(target=writer) for _ in range(THREADS)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        v.proc.send_signal(signal.SIGKILL)  # no drain, no flush
        v.proc.wait()
        stop.set()
        for t in threads:
            t.join()
        self.assertGreater(len(acked), 100, "too few registrations to make the test meaningful")

        v.start()
        c = http.client.HTTPConnection("127.0.0.1", v.port, timeout=10)
        missing = []
        for uid, key in acked:
            ts = now_ts()
            c.request("GET", "/gettoken?" + urllib.parse.urlencode(
                {"uid": uid, "timestamp": ts, "signature": sign_b64(key, ts)}))
            r = c.getresponse()
            r.read()
            if r.status != 200:
                missing.append((uid, r.status))
        c.close()
        print(f"\n{len(acked)} acknowledged registrations before SIGKILL; {len(missing)} lost")
        self.assertEqual(missing, [])


if __name__ == "__main__":
    unittest.main()
