"""Footage parameters that the policy model does not carry yet.

Issue #16's new detector parameters are documented in `monitor/policy/profiles/base.toml`, in its
`[footage]` table (each with its unit and the measured reason for its value). The profile loader
reads only `[parameters]`, and its `Policy` model refuses names it does not know, so until those
names are added to `Policy` (monitor/policy/__init__.py) they are read from that table here; once
a name is a `Policy` field, the profile's (and a class's override's) value wins.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

from monitor.policy import Policy


@cache
def _base_footage_table() -> dict[str, Any]:
    text = resources.files("monitor.policy").joinpath("profiles", "base.toml").read_text(encoding="utf-8")
    return dict(tomllib.loads(text).get("footage", {}))


def parameter(policy: Policy, name: str) -> Any:
    """The policy's value of `name` when it has one, else base.toml's [footage] default."""
    if name in type(policy).model_fields:
        return getattr(policy, name)
    table = _base_footage_table()
    if name not in table:
        raise KeyError(f"footage parameter {name!r} is neither a policy field nor in base.toml [footage]")
    return table[name]
