"""A scripted fake LLM server on 127.0.0.1 that speaks the OpenAI Chat Completions and Anthropic Messages wire
formats, plain JSON and streaming (server-sent events), so the real SDK clients can be tested offline.

Each request takes the next step of the script: ("reply", TEXT), ("status", CODE), ("sleep", SECONDS) (then the
next step answers), ("malformed", None) (a 200 whose JSON lacks the fields every reply has). Every request's
JSON body is kept in `requests`.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeLLMServer:
    def __init__(self, script: list[tuple[str, Any]] | None = None) -> None:
        self.script: deque[tuple[str, Any]] = deque(script or [])
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> FakeLLMServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def next_step(self) -> tuple[str, Any]:
        with self.lock:
            return self.script.popleft() if self.script else ("reply", "(script exhausted)")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                server.requests.append(body)
                server.paths.append(self.path)
                kind, value = server.next_step()
                while kind == "sleep":
                    time.sleep(value)
                    kind, value = server.next_step()
                anthropic = self.path.endswith("/messages")
                if kind == "status":
                    self._json(value, {"error": {"type": "error", "message": f"scripted {value}"}})
                elif kind == "malformed":
                    self._json(200, {"id": "x", "unexpected": True})
                elif body.get("stream"):
                    self._stream_anthropic(body, value) if anthropic else self._stream_openai(body, value)
                else:
                    self._json(200, _anthropic_reply(body, value) if anthropic else _openai_reply(body, value))

            def _json(self, code: int, data: dict) -> None:
                raw = json.dumps(data).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _events(self, events: list[tuple[str | None, dict | str]]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for name, data in events:
                    payload = data if isinstance(data, str) else json.dumps(data)
                    head = f"event: {name}\n" if name else ""
                    self.wfile.write(f"{head}data: {payload}\n\n".encode())
                self.wfile.flush()

            def _stream_openai(self, body: dict, text: str) -> None:
                base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": body["model"]}
                pieces = [text[i : i + 7] for i in range(0, len(text), 7)] or [""]
                events: list[tuple[str | None, dict | str]] = [
                    (None, {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": p},
                                                 "finish_reason": None}]})
                    for p in pieces
                ]  # fmt: skip
                events.append((None, {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
                events.append((None, {**base, "choices": [], "usage": _usage_openai(body, text)}))
                events.append((None, "[DONE]"))
                self._events(events)

            def _stream_anthropic(self, body: dict, text: str) -> None:
                usage = _usage_anthropic(body, text)
                message = {**_anthropic_reply(body, ""), "content": [], "stop_reason": None}
                message["usage"] = {"input_tokens": usage["input_tokens"], "output_tokens": 0}
                events: list[tuple[str | None, dict | str]] = [
                    ("message_start", {"type": "message_start", "message": message}),
                    ("content_block_start", {"type": "content_block_start", "index": 0,
                                             "content_block": {"type": "text", "text": ""}}),
                ]  # fmt: skip
                for i in range(0, len(text), 7):
                    events.append(
                        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                 "delta": {"type": "text_delta", "text": text[i : i + 7]}})
                    )  # fmt: skip
                events += [
                    ("content_block_stop", {"type": "content_block_stop", "index": 0}),
                    ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn",
                                       "stop_sequence": None}, "usage": {"output_tokens": usage["output_tokens"]}}),
                    ("message_stop", {"type": "message_stop"}),
                ]  # fmt: skip
                self._events(events)

        return Handler


def _words(text: str) -> int:
    return max(1, len(text.split()))


def _prompt_words(body: dict) -> int:
    total = sum(_words(str(m.get("content", ""))) for m in body.get("messages", []))
    return total + (_words(body["system"]) if isinstance(body.get("system"), str) else 0)


def _usage_openai(body: dict, text: str) -> dict:
    p, c = _prompt_words(body), _words(text)
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def _usage_anthropic(body: dict, text: str) -> dict:
    return {"input_tokens": _prompt_words(body), "output_tokens": _words(text)}


def _openai_reply(body: dict, text: str) -> dict:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", "fake"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": _usage_openai(body, text),
    }


def _anthropic_reply(body: dict, text: str) -> dict:
    return {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "fake"),
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": _usage_anthropic(body, text),
    }
