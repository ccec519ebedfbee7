"""Who may use the chat page (app.py), and the page's language, decided before Gradio sees a request.

The page applies the same rules as the HTTP API (qa/serve/access.py), through Gradio:
  Host, Origin  every request is checked with access.check() (DNS rebinding, other sites' pages);
  Keys          with QA_API_KEY / QA_ADMIN_KEY set, the page asks for a login (Gradio's own login
                form): any name with a key; the name 「admin」 with the admin key may also upload and
                remove documents. Without QA_ADMIN_KEY every login may. A page listening beyond the
                loopback does not start without a key (access.bind_refusal).
  Language      Gradio labels its own widgets (file drop zone, footer, settings) in the browser's
                language; the page is Chinese whatever the browser says, so the index HTML gets a
                first script that reports zh-CN before Gradio's scripts read navigator.language.
"""
from __future__ import annotations

from dataclasses import dataclass

from qa.serve.access import Denial, Policy, check, matches_key

ADMIN_USER = "admin"
# Runs before every other script of the page (inserted right after <head>): Gradio picks its
# locale from navigator.language when it starts.
LANGUAGE_JS = (b"<script>(()=>{const p=Navigator.prototype;"
               b"Object.defineProperty(p,'language',{get:()=>'zh-CN',configurable:true});"
               b"Object.defineProperty(p,'languages',{get:()=>['zh-CN','zh'],configurable:true});"
               b"document.documentElement.lang='zh-CN';})();</script>")


@dataclass(frozen=True)
class PageAccess:
    """The page's keys: who may log in, and who may change the documents."""
    policy: Policy

    def login(self, user: str, key: str) -> bool:
        """Gradio's auth callback: a read or admin key; the admin name needs the admin key."""
        if (user or "").strip() == ADMIN_USER and self.policy.admin_keys:
            return matches_key(key, self.policy.admin_keys)
        return matches_key(key, self.policy.read_keys | self.policy.admin_keys)

    def may_change_documents(self, user: str | None) -> bool:
        """Uploads and removals: everyone on an open page or when no admin key is set; else the admin login."""
        return not self.policy.admin_keys or (user or "").strip() == ADMIN_USER


def _plain(denial: Denial):
    async def respond(scope, receive, send):
        body = denial.message.encode("utf-8")
        await send({"type": "http.response.start", "status": denial.status,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
    return respond


class PageGuard:
    """ASGI middleware for the Gradio app: Host/Origin refusals (403, plain text, before the app),
    and the language script in the page's HTML. Keys are Gradio's login (PageAccess.login)."""

    def __init__(self, app, policy: Policy):
        self.app = app
        self.policy = policy

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        # Keys are Gradio's login here, so only Host and Origin are checked (paths outside /v1/).
        denial = check(self.policy, scope.get("method", "GET"), "/", headers)
        if denial is not None:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            await _plain(denial)(scope, receive, send)
            return
        if scope["type"] == "http" and scope.get("method") == "GET" and scope.get("path", "/").rstrip("/") == "":
            await self._with_language(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _with_language(self, scope, receive, send):
        """The index page with LANGUAGE_JS first in <head> (other responses pass untouched)."""
        start: dict | None = None
        chunks: list[bytes] = []

        async def capture(message):
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            is_html = any(k.lower() == b"content-type" and b"text/html" in v for k, v in headers)
            if is_html and b"<head>" in body:
                body = body.replace(b"<head>", b"<head>" + LANGUAGE_JS, 1)
            await send({**start, "headers": headers + [(b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)
