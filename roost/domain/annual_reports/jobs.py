"""The job that computes an annual report (its handler: handlers.py)."""

from __future__ import annotations

from dataclasses import dataclass

from roost.jobs.registry import Job


@dataclass(frozen=True)
class GenerateAnnualReport(Job, kind="annual_report.generate"):
    """Compute the account's report for ``year`` from its own data and store
    it; the report's row says "generating" until this has run."""

    account_id: int
    year: int
