"""Readers of native billing exports; importing this package registers every reader.

Detection tries readers in registration order, most specific formats first.
"""

from costrail.sources import (  # noqa: I001  (registration order = detection order: focus last)
    aws_cur2,  # noqa: F401
    aws_cur_legacy,  # noqa: F401
    azure_cost,  # noqa: F401
    gcp_billing,  # noqa: F401
    focus,  # noqa: F401
)
from costrail.sources.base import Reader, readers

__all__ = ["Reader", "readers"]
