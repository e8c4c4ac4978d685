"""Handling ``GenerateAnnualReport`` (jobs.py)."""

from __future__ import annotations

from roost.domain.annual_reports.actions import do_generate
from roost.domain.annual_reports.jobs import GenerateAnnualReport
from roost.domain.jobs import JobContext
from roost.jobs.registry import handles


@handles(GenerateAnnualReport)
async def generate_annual_report(ctx: JobContext, job: GenerateAnnualReport) -> None:
    async with ctx.db.write() as tx:
        await do_generate(tx, job.account_id, job.year)
