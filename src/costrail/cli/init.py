"""`costrail init`: write a commented starter costrail.yaml that validates as written."""

from __future__ import annotations

from pathlib import Path

import typer

from costrail.cli.output import console, handled_errors
from costrail.config import ConfigError, parse_config

STARTER = """\
# costrail.yaml — written by `costrail init`. Every section is optional.
# Reference: docs/budgets.md (budgets, alerts, actions) and docs/watch.md (costrail watch).

# Where the canonical tables live: a DuckDB file, or spark:///path/to/dir
warehouse: .costrail/warehouse.duckdb

# Budgets: scope (FOCUS columns and tags), period, amount in USD, thresholds in percent.
budgets:
  - name: total-monthly
    amount: 10000
    period: month            # month | quarter | {start: 2026-01-01, end: 2026-06-30}
    metric: EffectiveCost    # or BilledCost
    thresholds:
      actual: [50, 80, 100]  # % of amount spent so far
      forecast: [100]        # % of amount forecast by the end of the period
    channels: []             # names from alerts.channels, e.g. [slack-finops]
    actions: []              # names from actions, e.g. [stop-dev-gpus]
#  - name: ml-training
#    amount: 25000
#    scope:
#      ServiceName: Amazon SageMaker
#      x_Provider: {in: [aws]}
#      RegionId: {not_in: [eu-west-1]}
#      tags: {team: research}
#    channels: [slack-finops, pagerduty-oncall]
#    actions: [stop-dev-gpus]
#    actions_at_pct: 100

# Alert channels, by name. ${VAR} is read from the environment (keep secrets out of this file).
alerts:
  channels: {}
#    slack-finops:
#      type: slack
#      url: ${SLACK_WEBHOOK_URL}
#    ops-webhook:
#      type: webhook
#      url: https://example.internal/costrail
#      headers: {Authorization: "Bearer ${WEBHOOK_TOKEN}"}
#    finance-email:
#      type: email
#      host: smtp.example.com
#      port: 587
#      starttls: true
#      username: costrail
#      password: ${SMTP_PASSWORD}
#      from: costrail@example.com
#      to: [finops@example.com]
#    pagerduty-oncall:
#      type: pagerduty
#      routing_key: ${PAGERDUTY_ROUTING_KEY}
  retry: {attempts: 3, delay_s: 2, factor: 2, timeout_s: 10}
  anomalies:
    enabled: true
    channels: []             # empty: every channel
    lookback_days: 3
    by: [ServiceName]

# Actions run dry (print and audit the plan) unless `apply: true` here AND `--apply` is given.
actions: {}
#  stop-dev-gpus:
#    type: aws.ec2-stop
#    apply: false
#    region: us-east-1
#    tags: {env: dev}
#  shrink-endpoint:
#    type: aws.sagemaker-endpoint-scale
#    endpoint_name: llm-staging
#    min_instance_count: 1
#  pause-team-deployments:
#    type: kubernetes.scale-to-zero
#    namespace: research
#    label_selector: costrail/pausable=true
#  cancel-research-jobs:
#    type: slurm.scancel
#    partition: gpu
#    user: research-bot
#  notify-script:
#    type: command
#    argv: [/usr/local/bin/on-budget-breach, --team, research]

# costrail watch: sources to pick up new export files from, and how often.
watch:
  sources: []                # e.g. [/data/exports/cur, /data/exports/gcp]
  every: 1h
  analyses: true             # re-run the waste analyses after each ingest

# LLM token prices: a price-map file instead of the packaged snapshot, and model aliases.
# llm_prices:
#   catalog: /etc/costrail/llm_prices.json
#   aliases: {my-gpt-deployment: gpt-4o}
"""


def init_command(
    path: Path = typer.Option(Path("costrail.yaml"), "--path", help="Where to write the file."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a commented starter costrail.yaml (refuses to overwrite without --force)."""
    with handled_errors():
        if path.exists() and not force:
            raise ConfigError(f"{path} exists; pass --force to overwrite it")
        parse_config(STARTER, path)
        path.write_text(STARTER, encoding="utf-8")
    console.print(f"wrote {path}")
