"""Saved plans: ``plan --out plan.json`` records what was reviewed, ``apply plan.json``
applies exactly that or nothing.

``document`` is the file format, ``evidence`` what is fingerprinted, ``seal`` how (keyed,
never a secret), ``check`` the judgement at apply time.
"""

from __future__ import annotations

from authform.saved_plan.check import (
    SealVerdict,
    check_saved_plan,
    settings_for_apply,
    verify_seal,
)
from authform.saved_plan.document import (
    SAVED_PLAN_FORMAT,
    SavedPlan,
    SavedPlanError,
    is_saved_plan_path,
    read_saved_plan,
    write_saved_plan,
)
from authform.saved_plan.evidence import MadeWith

__all__ = [
    "SAVED_PLAN_FORMAT",
    "MadeWith",
    "SavedPlan",
    "SavedPlanError",
    "SealVerdict",
    "check_saved_plan",
    "is_saved_plan_path",
    "read_saved_plan",
    "settings_for_apply",
    "verify_seal",
    "write_saved_plan",
]
