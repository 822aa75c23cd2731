"""Email over SMTP (optional STARTTLS and login), one `EmailMessage` per alert."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from costrail.alerts.channels import DeliveryError, senders
from costrail.alerts.model import Alert
from costrail.alerts.render import render_text
from costrail.alerts.settings import EmailChannel, expand_env


def email_message(config: EmailChannel, alert: Alert) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"[costrail] {alert.title}"
    message["From"] = config.sender
    message["To"] = ", ".join(config.to)
    message["X-Costrail-Dedup-Key"] = alert.dedup_key
    message.set_content(render_text(alert) + "\n")
    return message


@senders.register("email")
def send_email(config: EmailChannel, alert: Alert, timeout_s: float) -> None:
    message = email_message(config, alert)
    try:
        with smtplib.SMTP(
            config.host, config.port, timeout=min(timeout_s, config.timeout_s)
        ) as smtp:
            if config.starttls:
                smtp.starttls()
            if config.username is not None:
                smtp.login(config.username, expand_env(config.password or ""))
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryError(f"SMTP {config.host}:{config.port}: {error}") from error
