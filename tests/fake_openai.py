"""A fake OpenAI-compatible HTTP server on loopback, for tests of how we handle provider faults.

It fakes the provider only: the real `openai` client, LangChain's ChatOpenAI and our retry code
talk to it over HTTP. Each request to /v1/chat/completions takes the next step of a script:
``Reply(content)`` answers like OpenAI; ``Respond(fn)`` answers with ``fn(messages)`` (a scripted
model that reads the prompt: bench/paraphrase.py); ``Status(code, headers)`` answers with an HTTP
error; ``Stall(seconds)`` waits before answering, so the client times out; ``Raw(status,
content_type, body)`` answers with exactly that (a web page, plain text, JSON of another API), as a
misconfigured server would. It answers on any path, so a base URL without /v1 reaches it too. When the script is used up,
the last step repeats. Requests are recorded (headers and JSON body) for assertions.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    content: str
    finish_reason: str = "stop"


@dataclass
class Status:
    code: int
    headers: dict[str, str] = field(default_factory=dict)
    message: str = "fake provider error"


@dataclass
class Respond:
    content: Callable[[list[dict]], str]


@dataclass
class Stall:
    seconds: float


@dataclass
class Raw:
    status: int
    content_type: str
    body: str


class FakeOpenAI:
    def __init__(self):
        self.script: list[Reply | Respond | Status | Stall | Raw] = [Reply("{}")]
        self.requests: list[dict] = []
        self.times: list[float] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def next_step(self):
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(body or b"{}")})
                fake.times.append(time.monotonic())
                step = fake.next_step()
                if isinstance(step, Stall):
                    threading.Event().wait(step.seconds)  # not time.sleep, which tests may patch
                    step = Reply("{}")
                if isinstance(step, Respond):
                    step = Reply(step.content(fake.requests[-1]["json"].get("messages", [])))
                if isinstance(step, Status):
                    self._send(step.code, {"error": {"message": step.message, "type": "fake", "code": None}}, step.headers)
                    return
                if isinstance(step, Raw):
                    self._send_raw(step.status, step.content_type, step.body.encode())
                    return
                self._send(200, {
                    "id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": "fake-model",
                    "choices": [{"index": 0, "finish_reason": step.finish_reason,
                                 "message": {"role": "assistant", "content": step.content}}],
                    "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
                })

            def _send(self, code: int, payload: dict, headers: dict[str, str] | None = None):
                self._send_raw(code, "application/json", json.dumps(payload).encode(), headers)

            def _send_raw(self, code: int, content_type: str, data: bytes, headers: dict[str, str] | None = None):
                try:
                    self.send_response(code)
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.send_header("content-type", content_type)
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                    pass

        return Handler
