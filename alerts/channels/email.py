"""Email over SMTP (SSL, STARTTLS or plain), one plain-text UTF-8 message per unit told (a record, such as
the day's 舆情日志, with its document attached).

The unit's addresses come from `options.to` (or `default_to`); the password from the variable named by
`password_env`. The Message-ID is derived from the delivery key, so a resend after a crash is the same mail.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any

from alerts.channels.base import Channel, DeliveryResult, Message
from config.channels import EmailOptions

# The records a message may carry as an attachment (a daily log), by their ending.
DOCUMENT_TYPES = {
    ".docx": ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ".pdf": ("application", "pdf"),
}


class EmailChannel(Channel):
    type = "email"
    options_model = EmailOptions

    options: EmailOptions

    def __init__(
        self,
        name: str,
        options: Mapping[str, Any],
        *,
        environ: Mapping[str, str] | None = None,
        timer: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(name, options, environ=environ, timer=timer)
        self._password = self.secret(self.options.password_env) if self.options.password_env else None

    def addresses(self, recipient: str) -> list[str]:
        return list(self.options.to.get(recipient) or self.options.default_to)

    def compose(self, message: Message, to: list[str]) -> EmailMessage:
        mail = EmailMessage()
        mail["Subject"] = message.subject
        mail["From"] = self.options.sender
        mail["To"] = ", ".join(to)
        mail["Date"] = formatdate(self._timer(), localtime=True)
        domain = self.options.sender.rpartition("@")[2]
        digest = hashlib.sha256((message.key or message.body).encode("utf-8")).hexdigest()[:32]
        mail["Message-ID"] = f"<{digest}@{domain}>"
        # base64 so that no relay without 8BITMIME can mangle the Chinese text.
        mail.set_content(message.body, charset="utf-8", cte="base64")
        attachment = Path(str((message.data or {}).get("attachment") or ""))
        if attachment.name and attachment.is_file():
            kind = DOCUMENT_TYPES.get(attachment.suffix.lower(), ("application", "octet-stream"))
            mail.add_attachment(
                attachment.read_bytes(), maintype=kind[0], subtype=kind[1], filename=attachment.name
            )
        return mail

    def _connect(self) -> smtplib.SMTP:
        options = self.options
        if options.security == "ssl":
            return smtplib.SMTP_SSL(
                options.host,
                options.effective_port,
                timeout=options.timeout_seconds,
                context=ssl.create_default_context(),
            )
        smtp = smtplib.SMTP(options.host, options.effective_port, timeout=options.timeout_seconds)
        if options.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        return smtp

    def send(self, message: Message) -> DeliveryResult:
        to = self.addresses(message.recipient)
        if not to:
            return DeliveryResult(
                ok=False,
                error=f"没有 {message.recipient} 的邮箱地址：请在渠道 {self.name} 的 options.to 下添加",
                permanent=True,
            )
        mail = self.compose(message, to)
        try:
            with self._connect() as smtp:
                if self.options.user and self._password is not None:
                    smtp.login(self.options.user, self._password.get_secret_value())
                smtp.send_message(mail)
        except (
            smtplib.SMTPAuthenticationError,
            smtplib.SMTPRecipientsRefused,
            smtplib.SMTPSenderRefused,
        ) as exc:
            return DeliveryResult(
                ok=False, error=self.scrub(f"邮件服务器拒绝：{_describe(exc)}"), permanent=True
            )
        except (smtplib.SMTPException, OSError) as exc:
            return DeliveryResult(
                ok=False, error=self.scrub(f"邮件服务器 {self.options.host}：{_describe(exc)}")
            )
        return DeliveryResult(ok=True)

    def describe(self) -> dict[str, Any]:
        options = self.options
        return {
            **super().describe(),
            "to": f"{options.host}:{options.effective_port} ({options.security})",
            "units": len(options.to),
        }


def _describe(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode("utf-8", "replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return f"{exc.smtp_code} {text}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{addr}: {code}" for addr, (code, _msg) in exc.recipients.items())
    return f"{type(exc).__name__}: {exc}"
