"""MIG layouts: the text syntax kubeforge accepts and the rule that a layout must fit the card."""

from __future__ import annotations

import re

from kubeforge.gpu.facts import Facts, facts

_PROFILE = re.compile(r"^\d+g\.\d+gb(\+me)?$")
_SYNTAX_HELP = 'write profiles separated by commas, each with an optional count, e.g. "3g.40gb,2g.20gb,1g.10gb" or "1g.10gb*7"'


def parse_mig_layout(text: str) -> dict[str, int]:
    """Parse "3g.40gb,2g.20gb,1g.10gb*2" into {"3g.40gb": 1, "2g.20gb": 1, "1g.10gb": 2}.

    Raises ValueError naming the bad part. Whether the profiles exist on a card is
    :func:`check_mig_layout`'s question, not this one's.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"MIG layout {text!r} is empty; {_SYNTAX_HELP}")
    layout: dict[str, int] = {}
    for part in text.split(","):
        item = part.strip()
        if not item:
            raise ValueError(f"MIG layout {text!r} has an empty entry; {_SYNTAX_HELP}")
        name, star, count_text = item.partition("*")
        name = name.strip().lower()
        if not _PROFILE.match(name):
            raise ValueError(f"MIG layout {text!r}: {name!r} is not a MIG profile name like 3g.40gb; {_SYNTAX_HELP}")
        count = 1
        if star:
            count_text = count_text.strip()
            if not count_text.isdigit() or int(count_text) < 1:
                raise ValueError(f"MIG layout {text!r}: count {count_text!r} after {name!r} is not a positive whole number")
            count = int(count_text)
        layout[name] = layout.get(name, 0) + count
    return layout


def format_mig_layout(layout: dict[str, int]) -> str:
    return ",".join(name if count == 1 else f"{name}*{count}" for name, count in layout.items())


def check_mig_layout(gpu: str, layout: dict[str, int], *, data: Facts | None = None) -> list[str]:
    """Errors for a layout on one GPU of model ``gpu``; an empty list means it fits."""
    data = data or facts()
    card = data.gpu(gpu)
    if card is None:
        known = ", ".join(g.id for g in data.gpus)
        return [f"GPU model {gpu!r} is not one kubeforge knows; use one of {known}"]
    errors: list[str] = []
    known_names = ", ".join(p.name for p in card.profiles)
    compute = memory = 0
    for name, count in layout.items():
        profile = card.profile(name)
        if profile is None:
            errors.append(f"MIG profile {name} does not exist on {gpu}; its profiles are {known_names}")
            continue
        if count > profile.max_instances:
            errors.append(
                f"MIG layout asks for {count}x {name} on {gpu}, but at most {profile.max_instances} fit on one GPU; "
                f"use {profile.max_instances} or fewer"
            )
        compute += profile.compute_slices * count
        memory += profile.memory_slices * count
    if compute > card.compute_slices:
        errors.append(
            f"MIG layout {format_mig_layout(layout)} uses {compute} compute slices; {gpu} has {card.compute_slices}; "
            "drop or shrink instances"
        )
    if memory > card.memory_slices:
        per = card.gb_per_memory_slice
        errors.append(
            f"MIG layout {format_mig_layout(layout)} needs {memory} memory slices ({memory * per:g} GB); "
            f"{gpu} has {card.memory_slices} ({card.memory_gb} GB); drop or shrink instances"
        )
    return errors
