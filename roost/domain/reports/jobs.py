"""Jobs of reports."""

from __future__ import annotations

from dataclasses import dataclass

from roost.jobs.registry import Job


@dataclass(frozen=True)
class ReportResolvedMail(Job, kind="mail.report_resolved"):
    """Tell the reporter, by mail, that staff reviewed and closed their report."""

    report_id: int


@dataclass(frozen=True)
class ReportFiled(Job, kind="report.filed"):
    """Tell the staff who handle reports (``admin.report`` notifications)."""

    report_id: int
