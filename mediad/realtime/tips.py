"""Tips from a payment provider's webhook: signed, fresh, counted once.

The provider signs ``TIMESTAMP + "." + BODY`` with HMAC-SHA256 and the shared secret and
sends ``X-Mediad-Signature: t=TIMESTAMP,v1=HEXDIGEST`` (the scheme Stripe uses). A
signature older than ``tips.max_age_sec`` (or as far in the future) is a replay and is
refused; a retried delivery carries the same idempotency key and is acknowledged without
being counted again. Idempotency keys are the provider's, unique per stream: the same key
on another stream is another tip.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

from mediad import bounded_json
from mediad.realtime.currencies import is_currency
from mediad.realtime.text import BlockedWords, TextRefused, clean_text

SIGNATURE_HEADER = "X-Mediad-Signature"
MAX_AMOUNT_MINOR = 100_000_000
_KEY = re.compile(r"[\x21-\x7e]{1,128}")


class WebhookRefused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The header value a provider sends (tests and the docs' example use it)."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(secret: str, header: str, body: bytes, now: float, max_age_sec: int) -> None:
    fields: dict[str, list[str]] = {}
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        fields.setdefault(name, []).append(value)
    try:
        timestamp = int(fields["t"][0])
    except (KeyError, ValueError):
        raise WebhookRefused(401, "missing or malformed signature") from None
    if abs(now - timestamp) > max_age_sec:
        raise WebhookRefused(401, "signature timestamp outside the allowed window (replay?)")
    expected = sign(secret, timestamp, body).rpartition("v1=")[2]
    if not any(hmac.compare_digest(expected.encode(), given.encode())
               for given in fields.get("v1", [])):
        raise WebhookRefused(401, "bad signature")


@dataclass(frozen=True, slots=True)
class TipRequest:
    stream_id: str
    idempotency_key: str
    amount_minor: int
    currency: str
    sender: str
    message: str


def parse(body: bytes, blocked: BlockedWords) -> TipRequest:
    try:
        data = bounded_json.loads(body)
    except bounded_json.TooDeep as exc:
        raise WebhookRefused(400, f"body is {exc}") from None
    except ValueError:
        raise WebhookRefused(400, "body is not JSON") from None
    if not isinstance(data, dict):
        raise WebhookRefused(400, "body must be a JSON object")
    stream_id, key = data.get("streamId"), data.get("idempotencyKey")
    amount, currency = data.get("amountMinor"), data.get("currency")
    if not isinstance(stream_id, str) or not 0 < len(stream_id) <= 64 or not stream_id.isascii():
        raise WebhookRefused(400, "'streamId' must be a stream id")
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise WebhookRefused(400, "'idempotencyKey' must be 1-128 printable ASCII characters")
    if isinstance(amount, bool) or not isinstance(amount, int) or not (
            0 < amount <= MAX_AMOUNT_MINOR):
        raise WebhookRefused(400, f"'amountMinor' must be an integer in 1..{MAX_AMOUNT_MINOR}")
    if not isinstance(currency, str) or not is_currency(currency):
        raise WebhookRefused(400, "'currency' must be an active ISO 4217 code such as 'EUR'")
    sender = _text(data.get("from", ""), 64, "from") or "Anonymous"
    message = _text(data.get("message", ""), 280, "message")
    if blocked.found_in(message):
        message = ""  # the tip counts; the words are not shown on stream
    return TipRequest(stream_id, key, amount, currency, sender, message)


def _text(value: object, limit: int, name: str) -> str:
    if not isinstance(value, str):
        raise WebhookRefused(400, f"'{name}' must be a string")
    try:
        return clean_text(value, limit) if value.strip() else ""
    except TextRefused as exc:
        raise WebhookRefused(400, f"'{name}': {exc.message}") from None
