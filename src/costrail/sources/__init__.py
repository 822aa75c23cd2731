"""Readers of native billing exports; importing this package registers every reader.

Detection tries readers in registration order, most specific formats first.
"""

from costrail.sources import focus  # noqa: F401
from costrail.sources.base import Reader, readers

__all__ = ["Reader", "readers"]
