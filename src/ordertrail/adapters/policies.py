"""Policies built from settings: the written rules of DESIGN.md §5 and the seller scorecard."""

from __future__ import annotations

from datetime import timedelta

from ordertrail.config import Settings
from ordertrail.domain.cases import CasePolicy, CaseType
from ordertrail.domain.performance import PerformancePolicy


def case_policy(settings: Settings) -> CasePolicy:
    windows = {
        t: timedelta(days=settings.case_reporting_window_days.get(t.value, settings.reporting_window_days))
        for t in CaseType
    }
    return CasePolicy(
        reporting_windows=windows,
        response_time=timedelta(hours=settings.case_response_hours),
        escalation_window=timedelta(days=settings.case_escalation_window_days),
        max_evidence_bytes=settings.evidence_max_bytes,
        max_attachments=settings.evidence_max_files_per_case,
    )


def performance_policy(settings: Settings) -> PerformancePolicy:
    return PerformancePolicy(
        window=timedelta(days=settings.performance_window_days),
        valid_tracking_within=timedelta(days=settings.valid_tracking_scan_days),
        late_dispatch_max=settings.late_dispatch_rate_max,
        valid_tracking_min=settings.valid_tracking_rate_min,
        on_time_delivery_min=settings.on_time_delivery_rate_min,
        case_rate_max=settings.case_rate_max,
        seller_fault_max=settings.seller_fault_rate_max,
    )
