"""Budgets, scopes, alert/action state and dry-run-first actions."""
