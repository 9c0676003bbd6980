"""SMS gateways for tests that need a failure no real gateway can be made to produce on
demand. Named by dotted path in YICIBAN_SMS_GATEWAY, like a deployment's own gateway."""

from __future__ import annotations


class BrokenGateway:
    """A gateway with a bug: raises something that is not a DeliveryError."""

    def send(self, phone: str, text: str) -> str:
        raise RuntimeError("unexpected bug in gateway")
