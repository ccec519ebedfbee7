"""Who may use the HTTP API (qa/serve/api.py): keys and roles, and the Host and Origin a browser sends.

Decided from the request line and headers alone, before any body is read:
  Host     on a loopback-only server, the Host header must name the loopback (or a configured
           QA_ALLOWED_HOSTS name): a page of another site reached through DNS rebinding is refused.
  Origin   a browser request from a page of another site (an Origin that is neither the server's own
           nor in QA_ALLOWED_ORIGINS) is refused: a web page cannot upload to, or read from, a server
           on the user's machine with a form post or fetch ("simple requests" have no preflight).
  Key      with QA_API_KEY set, every /v1 request needs `Authorization: Bearer <key>`; with
           QA_ADMIN_KEY set, uploads and cancels need that key (asking and reading take either).
           A server listening beyond the loopback does not start without a key (serve()).
  Size     a body over its route's limit (uploads: max_upload_body; everything else: max_body) is
           refused with 413 from its Content-Length, before a byte of it is read; a body sent
           without a length is counted as it arrives and cut off at the limit.
  Rate     each client (its key and address) may send `rate_per_minute` /v1 requests a minute, with a
           burst of a tenth of that; beyond it: 429 with Retry-After (RateLimiter).
The OpenAPI page (/docs, /openapi.json) stays readable: it holds no data.
"""
from __future__ import annotations

import hashlib
import hmac
import math
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
# What changes the documents or someone's upload: the admin role.
_ADMIN = (("POST", "/v1/documents"), ("DELETE", "/v1/documents/"))


@dataclass(frozen=True)
class Denial:
    status: int
    code: str
    message: str
    retry_after: int = 0   # seconds, for a 429


@dataclass(frozen=True)
class Policy:
    read_keys: frozenset[str] = frozenset()
    admin_keys: frozenset[str] = frozenset()
    hosts: frozenset[str] = frozenset()      # empty: any Host (a server beyond the loopback, keyed)
    origins: frozenset[str] = frozenset()    # "scheme://host[:port]" or a bare host name
    # A question with its history is kilobytes; 1 MB leaves room for long follow-ups and no more.
    max_body: int = 1 << 20
    max_upload_body: int = 1 << 20             # the API sets its upload limit here

    @classmethod
    def of(cls, api_key: str = "", admin_key: str = "", allowed_hosts: str = "", allowed_origins: str = "",
           bind_host: str = "127.0.0.1") -> "Policy":
        hosts = _items(allowed_hosts)
        if not hosts and is_loopback(bind_host):
            hosts = LOOPBACK
        return cls(_items(api_key), _items(admin_key), frozenset(h.lower() for h in hosts),
                   frozenset(o.lower().rstrip("/") for o in _items(allowed_origins)))

    @property
    def keyed(self) -> bool:
        return bool(self.read_keys or self.admin_keys)


def bind_refusal(host: str, api_key: str, admin_key: str) -> str | None:
    """Why a server may not listen on host (beyond the loopback without a key), or None."""
    if is_loopback(host) or api_key or admin_key:
        return None
    return (f"监听 {host} 时必须设置 API 密钥（环境变量 QA_API_KEY，上传另可设 QA_ADMIN_KEY）；"
            "只在本机使用请监听 127.0.0.1")


def _items(spec: str) -> frozenset[str]:
    return frozenset(x.strip() for x in (spec or "").split(",") if x.strip())


def is_loopback(host: str) -> bool:
    return host.strip("[]").lower() in LOOPBACK or host.startswith("127.")


def host_name(value: str) -> str:
    """The host of a Host header or URL authority, without its port: "[::1]:8000" → "::1"."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.index("]")] if "]" in value else value[1:]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def matches_key(key: str, keys: frozenset[str]) -> bool:
    """Whether key is one of keys (an empty key never is), compared in constant time."""
    return bool(key) and any(hmac.compare_digest(key.encode(), k.encode()) for k in keys)


def bearer_token(headers: Mapping[str, str]) -> str:
    """The key of an `Authorization: Bearer <key>` header, or ""."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def check(policy: Policy, method: str, path: str, headers: Mapping[str, str]) -> Denial | None:
    """None when the request may go on; else why not (headers: lower-case names)."""
    host = host_name(headers.get("host", ""))
    if policy.hosts and host not in policy.hosts and not (is_loopback(host) and "127.0.0.1" in policy.hosts):
        return Denial(403, "host_not_allowed", "请求的主机名不被允许 / Host not allowed")
    origin = headers.get("origin", "").strip().lower().rstrip("/")
    if origin:
        o_host = host_name(urlsplit(origin).netloc) if "://" in origin else origin
        same_site = o_host == host or (is_loopback(o_host) and is_loopback(host))
        if not (same_site or origin in policy.origins or o_host in policy.origins):
            return Denial(403, "origin_not_allowed", "不接受来自其他网站页面的请求 / Cross-origin request refused")
    if not policy.keyed or not path.startswith("/v1/"):
        return None
    token = bearer_token(headers)
    admin = any(method == m and (path == p or (p.endswith("/") and path.startswith(p))) for m, p in _ADMIN)
    if not token or not (matches_key(token, policy.read_keys) or matches_key(token, policy.admin_keys)):
        return Denial(401, "unauthorized", "需要有效的 API 密钥（Authorization: Bearer <密钥>）/ A valid API key is required")
    if admin and policy.admin_keys and not matches_key(token, policy.admin_keys):
        return Denial(403, "admin_required", "上传和取消需要管理员密钥 / This operation needs the admin key")
    return None


def role_of(policy: Policy, headers: Mapping[str, str]) -> str:
    """For the audit log: "admin" or "reader" by the key a request carries, "open" on a keyless server."""
    if not policy.keyed:
        return "open"
    token = bearer_token(headers)
    if token and (matches_key(token, policy.admin_keys) or not policy.admin_keys):
        return "admin"
    return "reader"


def client_id(headers: Mapping[str, str], address: str, keyed: bool = True) -> str:
    """Who a request comes from, for rate limits and upload queues: its key (colleagues behind one
    address each have their own) and its address (one key shared by several machines). On a server
    without keys a token proves nothing, so there the address alone counts."""
    token = bearer_token(headers) if keyed else ""
    tag = hashlib.sha256(token.encode()).hexdigest()[:12] if token else "-"
    return f"{address}|{tag}"


class RateLimiter:
    """A token bucket per client: `per_minute` requests a minute on average, at most `burst` at
    once (a tenth of a minute's worth, at least 5). per_minute 0: no limit. Buckets idle long
    enough to be full again are forgotten, so a flood of addresses cannot grow it without end."""

    def __init__(self, per_minute: int, burst: int | None = None, clock: Callable[[], float] = time.monotonic):
        self.rate = per_minute / 60.0
        self.burst = float(burst if burst is not None else max(5, per_minute // 10))
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}   # client → (tokens, time)

    def take(self, client: str) -> float:
        """0 when the request may go on (one token taken); else the seconds until it may."""
        if self.rate <= 0:
            return 0.0
        now = self._clock()
        with self._lock:
            tokens, then = self._buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            if tokens >= 1:
                self._buckets[client] = (tokens - 1, now)
                wait = 0.0
            else:
                self._buckets[client] = (tokens, now)
                wait = (1 - tokens) / self.rate
            if len(self._buckets) > 10_000:
                full = self.burst / self.rate
                self._buckets = {c: b for c, b in self._buckets.items() if now - b[1] < full}
        return wait


def rate_denial(wait: float) -> Denial:
    seconds = max(1, math.ceil(wait))
    return Denial(429, "rate_limited", f"请求过于频繁，请 {seconds} 秒后再试 / Too many requests, retry in {seconds} s",
                  seconds)


def body_limit(policy: Policy, method: str, path: str) -> int:
    return policy.max_upload_body if (method, path) == ("POST", "/v1/documents") else policy.max_body


def too_large(limit: int) -> Denial:
    return Denial(413, "too_large", f"请求内容过大（上限 {limit / (1 << 20):.0f} MB）/ Request body too large")


def size_denial(policy: Policy, method: str, path: str, headers: Mapping[str, str]) -> Denial | None:
    """413 when the declared Content-Length is over the route's limit (an unreadable length: 400)."""
    length = headers.get("content-length")
    if length is None:
        return None
    if not length.strip().isdigit():
        return Denial(400, "bad_request", "Content-Length 无效 / Invalid Content-Length")
    limit = body_limit(policy, method, path)
    return too_large(limit) if int(length) > limit else None


class AccessGuard:
    """ASGI middleware: check() on every HTTP request before the app (and its body) is reached;
    respond(denial) is the ASGI response the API sends for a refusal (its own error shape)."""

    def __init__(self, app, policy: Policy, respond: Callable[[Denial], Any], limiter: RateLimiter | None = None):
        self.app = app
        self.policy = policy
        self.respond = respond
        self.limiter = limiter

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
            method, path = scope.get("method", "GET"), scope.get("path", "")
            denial = check(self.policy, method, path, headers) or size_denial(self.policy, method, path, headers)
            if denial is None and self.limiter is not None and path.startswith("/v1/"):
                address = (scope.get("client") or ("?", 0))[0]
                wait = self.limiter.take(client_id(headers, address, self.policy.keyed))
                denial = rate_denial(wait) if wait > 0 else None
            if denial is not None:
                await self.respond(denial)(scope, receive, send)
                return
            if "content-length" not in headers:
                await self._counted(scope, receive, send, body_limit(self.policy, method, path))
                return
        await self.app(scope, receive, send)

    async def _counted(self, scope, receive, send, limit: int) -> None:
        """The app with a receive that stops a body sent without a length at the limit: the app
        sees the client leave, and the client gets 413 unless the app has already answered."""
        seen, over, started = 0, False, False

        async def counted_receive():
            nonlocal seen, over
            if over:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def tracked_send(message):
            nonlocal started
            if over:   # the app's own reply to a body it saw cut short (a parse error) is replaced by 413
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except Exception:
            if not over:
                raise
        if over and not started:
            await self.respond(too_large(limit))(scope, receive, send)
