"""AWS Cost and Usage Report readers (CUR 2.0, legacy CUR); importing registers both, in order.

Both readers first give their columns the CUR 2.0 snake_case names (the names Athena also gives
legacy CUR) and then share everything else (`base_reader.AwsReader`): the load key and billed
total (`line_items`), AWS's amortisation rules for EffectiveCost (`amortisation`), the FOCUS
charge classification (`mapping`) and the `x_` columns (`attributes`). The mapping is CASE
expressions over one row at a time — no joins — so it streams on DuckDB and compiles unchanged
on Spark.
"""

# Registration order is detection order: CUR 2.0 before legacy CUR.
from costrail.sources.aws import (
    cur2,  # noqa: F401
    legacy,  # noqa: F401
)
