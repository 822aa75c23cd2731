"""`costrail watch`: pick up exports, ingest, analyse, check budgets and anomalies, alert, act."""
