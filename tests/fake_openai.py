"""A local OpenAI-compatible chat server for tests: a visible script queue and a request history.

Unscripted requests get a valid answer quoting the first sentence of segment S1 of the prompt.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeOpenAI:
    def __init__(self, latency: float = 0.0) -> None:
        self.script: deque[dict[str, Any]] = deque()
        self.history: list[dict[str, Any]] = []
        self.latency = latency
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with fake._lock:
                    fake.history.append(body)
                    step = fake.script.popleft() if fake.script else {}
                time.sleep(step.get("sleep", fake.latency))
                status = step.get("status", 200)
                if status != 200:
                    self._send(status, {"error": {"message": "scripted error", "type": "rate_limit", "code": status}})
                    return
                content = step["content"] if "content" in step else fake.default_answer(body)
                self._send(
                    200,
                    {
                        "id": "chatcmpl-fake",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body.get("model", "fake"),
                        "choices": [
                            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
                        ],
                        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
                    },
                )

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def enqueue(self, **step: Any) -> None:
        self.script.append(step)

    def __enter__(self) -> FakeOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    @staticmethod
    def user_text(body: dict[str, Any]) -> str:
        return "\n".join(str(m.get("content", "")) for m in body.get("messages", []) if m.get("role") == "user")

    @classmethod
    def default_answer(cls, body: dict[str, Any]) -> str:
        text = cls.user_text(body)
        evidence = []
        m = re.search(r"\[segment (S\d+)[^\]]*\]\n(.+?)(?:\n\[segment|<<<FIN)", text, re.S)
        if m:
            line = next((ln for ln in m.group(2).splitlines() if len(ln) >= 45), "")
            quote = re.split(r"(?<=[.!?])\s", line)[0].strip()
            if quote:
                evidence = [{"chunk_id": m.group(1), "quote": quote, "why": "passage pertinent"}]
        return json.dumps(
            {
                "level": 2,
                "confidence": 0.7,
                "rationale": "Le critère est traité de façon spécifique.",
                "present": ["analyse présente"],
                "missing": ["aucun seuil d’alerte chiffré"],
                "evidence": evidence,
                "manipulation": False,
            },
            ensure_ascii=False,
        )
