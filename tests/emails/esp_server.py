"""A local stand-in for Postmark's HTTP API: anymail's real Postmark backend posts to it.

It answers like Postmark's ``/email`` endpoint and remembers every request, so a
test counts what really went over HTTP. ``script`` holds answers to give first
(status code, body, delay in seconds); after those every request succeeds.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class PostmarkServer:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.script: list[tuple[int, dict | None, float]] = []
        self.delay = 0.0  # seconds every answer takes (after the scripted ones)
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                payload = json.loads(body or b"{}")
                with server.lock:
                    server.requests.append({"path": self.path, "json": payload})
                    status, answer, delay = (
                        server.script.pop(0) if server.script else (200, None, server.delay)
                    )
                if delay:
                    time.sleep(delay)
                if answer is None:
                    answer = {
                        "To": payload.get("To"),
                        "SubmittedAt": "2026-12-01T10:00:00Z",
                        "MessageID": str(uuid.uuid4()),
                        "ErrorCode": 0,
                        "Message": "OK",
                    }
                data = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (timeout tests)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> PostmarkServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def sent_to(self) -> list[str]:
        return [r["json"].get("To") for r in self.requests]
