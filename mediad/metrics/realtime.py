"""Real-time events: chat messages accepted, limiters' refusals, moderation actions, tips.

Labels are bounded by the code, never by what a client sends: ``limit`` is a limiter's
name, ``action`` a moderation command's, ``currency`` one of ISO 4217's active codes."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from mediad.metrics.registry import EVENTS

WEBSOCKET_CONNECTIONS = Gauge(
    "mediad_websocket_connections",
    "Real-time WebSockets open now (chat, health, viewer counts), all streams.",
    registry=EVENTS)

CHAT_MESSAGES = Counter(
    "mediad_chat_messages_total",
    "Chat messages accepted (stored and broadcast).",
    registry=EVENTS)

RATELIMIT_REFUSALS = Counter(
    "mediad_ratelimit_refusals_total",
    "Requests or commands a rate limit refused, by limiter.",
    labelnames=["limit"], registry=EVENTS)

MODERATION_ACTIONS = Counter(
    "mediad_moderation_actions_total",
    "Moderation actions carried out (ban, unban, timeout, delete, pin, unpin, clear, "
    "slow_mode).",
    labelnames=["action"], registry=EVENTS)

TIPS = Counter(
    "mediad_tips_total",
    "Tips received (a retried delivery counts once), by currency.",
    labelnames=["currency"], registry=EVENTS)

TIPS_AMOUNT = Counter(
    "mediad_tips_amount_total",
    "The sum of the tips received, in the currency's major unit (5.00 USD is 5.0).",
    labelnames=["currency"], registry=EVENTS)


def tip_received(currency: str, amount_major: float) -> None:
    TIPS.labels(currency).inc()
    TIPS_AMOUNT.labels(currency).inc(amount_major)
