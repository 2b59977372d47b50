"""A local STS stand-in that injects faults, run in the test's own process.

It answers GetFederationToken and AssumeRole form posts with well-formed credentials, or with
whatever fault the test scripts: "throttle" (400 Throttling), "500" (InternalFailure),
"reset" (the connection is reset), "hang" (no answer for 30 s), "garbage" (200 with a body
that is no STS answer), "denied" (403 AccessDenied), "ok". It counts the calls.
It checks no signatures: moto does that in test_sts_moto."""
import http.server
import socket
import struct
import threading
import time
import urllib.parse
from datetime import datetime, timedelta, timezone

OK = """<{action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><{action}Result>
<Credentials><AccessKeyId>ASIAFAKE{n:012d}</AccessKeyId><SecretAccessKey>secret{n}</SecretAccessKey>
<SessionToken>token{n}</SessionToken><Expiration>{expires}</Expiration></Credentials>
</{action}Result><ResponseMetadata><RequestId>fake-{n}</RequestId></ResponseMetadata>
</{action}Response>"""

ERROR = """<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>{type}</Type>
<Code>{code}</Code><Message>{message}</Message></Error><RequestId>fake-{n}</RequestId>
</ErrorResponse>"""


class FakeSts:
    def __init__(self):
        self.lock = threading.Lock()
        self.calls = 0
        self.script = []        # faults for the next calls, in order
        self.default = "ok"     # once the script is used up
        self.delay = 0.0        # seconds before every answer
        self.hang_seconds = 30
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                params = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                with fake.lock:
                    fake.calls += 1
                    n = fake.calls
                    mode = fake.script.pop(0) if fake.script else fake.default
                    delay = fake.delay
                time.sleep(delay)
                if mode == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                               struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    return
                if mode == "hang":
                    time.sleep(fake.hang_seconds)
                    self.close_connection = True
                    return
                if mode == "throttle":
                    self.reply(400, ERROR.format(type="Sender", code="Throttling",
                                                 message="Rate exceeded", n=n))
                elif mode == "garbage":
                    self.reply(200, "<html><body>a captive portal</body></html>")
                elif mode == "denied":
                    self.reply(403, ERROR.format(type="Sender", code="AccessDenied",
                                                 message="not allowed", n=n))
                elif mode == "500":
                    self.reply(500, ERROR.format(type="Receiver", code="InternalFailure",
                                                 message="boom", n=n))
                else:
                    expires = (datetime.now(timezone.utc) + timedelta(
                        seconds=int(params.get("DurationSeconds", "3600"))))
                    self.reply(200, OK.format(action=params.get("Action", "AssumeRole"), n=n,
                                              expires=expires.strftime("%Y-%m-%dT%H:%M:%SZ")))

            def reply(self, status, body):
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a client that hangs up mid-request (wrk at the end of a run) is normal

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def set(self, script=(), default="ok", delay=0.0):
        with self.lock:
            self.script = list(script)
            self.default = default
            self.delay = delay
            self.calls = 0

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
