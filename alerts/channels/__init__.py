"""Channel registry: adding a channel is one module and one line here."""

from alerts.channels.base import Channel, ChannelUnavailable, DeliveryResult, Message
from alerts.channels.console import ConsoleChannel
from alerts.channels.dingtalk import DingTalkChannel
from alerts.channels.email import EmailChannel
from alerts.channels.feishu import FeishuChannel
from alerts.channels.webhook import WebhookChannel
from alerts.channels.wecom import WeComChannel

CHANNELS: dict[str, type[Channel]] = {
    "console": ConsoleChannel,
    "email": EmailChannel,
    "webhook": WebhookChannel,
    "dingtalk": DingTalkChannel,
    "wecom": WeComChannel,
    "feishu": FeishuChannel,
}

__all__ = ["CHANNELS", "Channel", "ChannelUnavailable", "DeliveryResult", "Message"]
