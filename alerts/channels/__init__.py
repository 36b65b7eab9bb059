"""Channel registry: adding a channel is one module and one line here."""

from alerts.channels.base import Channel, DeliveryResult, Message
from alerts.channels.console import ConsoleChannel

CHANNELS: dict[str, type[Channel]] = {
    "console": ConsoleChannel,
}

__all__ = ["CHANNELS", "Channel", "DeliveryResult", "Message"]
