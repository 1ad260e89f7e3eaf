"""Webhook bodies: Alertmanager's webhook envelope (version 4), signed with HMAC-SHA256.

Receivers written for Alertmanager's webhook_config read Argus's notifications unchanged. With a
secret, the header `X-Argus-Signature-256: sha256=<hex>` carries HMAC-SHA256(secret, body), the
exact bytes sent; receivers recompute it over the raw body and compare in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence

from argus.notify.alertmanager import FIRING, RESOLVED, Notice, label_key, rfc3339

SIGNATURE_HEADER = "X-Argus-Signature-256"
DELIVERY_HEADER = "X-Argus-Delivery"
RECEIVER = "argus-webhook"
ZERO_TIME = "0001-01-01T00:00:00Z"  # Alertmanager's endsAt of a firing alert


def fingerprint(labels: Mapping[str, str]) -> str:
    """Alertmanager's label-set fingerprint: 64-bit FNV-1a over sorted names and values."""
    h = 0xCBF29CE484222325
    for name in sorted(labels):
        for part in (name, labels[name]):
            for byte in part.encode() + b"\xff":
                h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def _common(maps: Sequence[Mapping[str, str]]) -> dict[str, str]:
    first = maps[0] if maps else {}
    return {k: v for k, v in first.items() if all(m.get(k) == v for m in maps[1:])}


def envelope(notices: Sequence[Notice], external_url: str) -> dict:
    """One transition as Alertmanager's webhook envelope (the last notice is the alert now)."""
    alerts = [
        {
            "status": n.status,
            "labels": n.labels,
            "annotations": n.annotations,
            "startsAt": rfc3339(n.starts_at),
            "endsAt": rfc3339(n.ends_at) if n.ends_at is not None else ZERO_TIME,
            "generatorURL": n.generator_url,
            "fingerprint": fingerprint(n.labels),
        }
        for n in notices
    ]
    key = label_key(notices[-1].labels)
    group_name = "cascade_id" if "cascade_id" in notices[-1].labels else "server"
    return {
        "version": "4",
        "groupKey": f'{{}}:{{{group_name}="{key}"}}',
        "truncatedAlerts": 0,
        "status": FIRING if any(n.status == FIRING for n in notices) else RESOLVED,
        "receiver": RECEIVER,
        "groupLabels": {group_name: key},
        "commonLabels": _common([n.labels for n in notices]),
        "commonAnnotations": _common([n.annotations for n in notices]),
        "externalURL": external_url,
        "alerts": alerts,
    }


def encode(body: object) -> bytes:
    """Compact JSON: the exact bytes sent (and signed)."""
    return json.dumps(body, separators=(",", ":")).encode()


def sign(body: bytes, secret: str) -> str:
    """The signature header's value for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(body: bytes, secret: str, header: str | None) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    return header is not None and hmac.compare_digest(sign(body, secret), header)
