"""Reconciliation: statement import, matching, breaks, actions, reports."""
