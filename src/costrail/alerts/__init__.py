"""Alert channels (Slack, webhook, email, PagerDuty), rendering, delivery with retries."""

from costrail.alerts.model import Alert
from costrail.alerts.settings import AlertsSection

__all__ = ["Alert", "AlertsSection"]
