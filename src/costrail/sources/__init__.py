"""Readers of native billing exports; importing this package registers every reader.

Detection tries readers in registration order, most specific formats first: AWS (CUR 2.0, then
legacy CUR), Azure, GCP, and FOCUS last.
"""

from costrail.sources import (  # noqa: I001  (registration order = detection order: focus last)
    aws,  # noqa: F401
    azure,  # noqa: F401
    gcp,  # noqa: F401
    focus,  # noqa: F401
)
from costrail.sources.base import Reader, readers

__all__ = ["Reader", "readers"]
