"""MIG layouts: the text syntax kubeforge accepts and the rules a layout must meet on a card.

A layout is one GPU's instances; kubeforge applies it to every GPU of a pool, so a node's
GPUs are all MIG-enabled with the same layout. What is checked:

- the layout fits the card: compute slices, memory slices, each profile's instance limit,
  and a placement of every instance at a start NVIDIA allows (gpu-drivers/data/mig_profiles.yaml);
- under the ``single`` MIG strategy, every MIG device on the node is the same profile.
  The device plugin (github.com/NVIDIA/k8s-device-plugin, internal/rm/device_map.go:
  ``assertAllMigDevicesAreValid`` with ``uniform`` set for ``single``) refuses to start with
  "more than one MIG device type present on node" when any two MIG devices' attributes
  differ, and gpu-feature-discovery (same repository, internal/lm/mig-strategy.go:
  ``newMigStrategySingleLabeler``) labels the node
  ``nvidia.com/gpu.product=<model>-MIG-INVALID`` with a GPU count of 0. Both also reject a
  node mixing MIG-enabled and MIG-disabled GPUs and a MIG-enabled GPU with no instances,
  which a pool-wide, non-empty layout cannot produce. ``mixed`` advertises each profile as
  its own resource (``nvidia.com/mig-<profile>``) and accepts any layout that fits.
"""

from __future__ import annotations

import re

from kubeforge.gpu.facts import Facts, Gpu, MigProfile, facts

MIG_STRATEGIES = ("single", "mixed")

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


def check_mig_strategy(strategy: str) -> str:
    """``strategy`` if it is one kubeforge checks; ValueError naming the accepted ones otherwise."""
    if strategy not in MIG_STRATEGIES:
        raise ValueError(f"MIG strategy {strategy!r} is not one of {', '.join(MIG_STRATEGIES)}")
    return strategy


def check_mig_layout(gpu: str, layout: dict[str, int], *, strategy: str = "mixed", data: Facts | None = None) -> list[str]:
    """Errors for a layout on one GPU of model ``gpu`` under a MIG strategy; an empty list means it is valid.

    Raises ValueError for a strategy other than ``single`` or ``mixed``.
    """
    check_mig_strategy(strategy)
    data = data or facts()
    card = data.gpu(gpu)
    if card is None:
        known = ", ".join(g.id for g in data.gpus)
        return [f"GPU model {gpu!r} is not one kubeforge knows; use one of {known}"]
    errors = _fit_errors(card, layout)
    if strategy == "single" and len(layout) > 1:
        errors.append(_single_strategy_error(card, layout))
    return errors


def _fit_errors(card: Gpu, layout: dict[str, int]) -> list[str]:
    errors: list[str] = []
    known_names = ", ".join(p.name for p in card.profiles)
    compute = memory = 0
    for name, count in layout.items():
        profile = card.profile(name)
        if profile is None:
            errors.append(f"MIG profile {name} does not exist on {card.id}; its profiles are {known_names}")
            continue
        if count > profile.max_instances:
            errors.append(
                f"MIG layout asks for {count}x {name} on {card.id}, but at most {profile.max_instances} fit on one GPU; "
                f"use {profile.max_instances} or fewer"
            )
        compute += profile.compute_slices * count
        memory += profile.memory_slices * count
    if compute > card.compute_slices:
        errors.append(
            f"MIG layout {format_mig_layout(layout)} uses {compute} compute slices; {card.id} has {card.compute_slices}; "
            "drop or shrink instances"
        )
    if memory > card.memory_slices:
        per = card.gb_per_memory_slice
        errors.append(
            f"MIG layout {format_mig_layout(layout)} needs {memory} memory slices ({memory * per:g} GB); "
            f"{card.id} has {card.memory_slices} ({card.memory_gb} GB); drop or shrink instances"
        )
    if not errors and not _placeable(card, layout):
        starts = "; ".join(
            f"{p.name} at {', '.join(map(str, p.placements))}"
            for p in (card.profile(n) for n in layout)
            if p is not None and p.placements is not None
        )
        errors.append(
            f"MIG layout {format_mig_layout(layout)} fits {card.id}'s slices but cannot be placed: instances may only "
            f"start at these memory slices ({starts}; `nvidia-smi mig -lgipp`) and no arrangement avoids overlap; "
            "drop or change instances"
        )
    return errors


def _placeable(card: Gpu, layout: dict[str, int]) -> bool:
    """Whether every instance can start at an allowed memory slice without overlapping another."""
    instances: list[MigProfile] = []
    for name, count in layout.items():
        profile = card.profile(name)
        if profile is None or profile.placements is None:
            return True
        instances += [profile] * count
    # Widest first: they have the fewest starts, so the search fails early.
    instances.sort(key=lambda p: (-p.memory_slices, len(p.placements or ())))

    def place(i: int, used: int) -> bool:
        if i == len(instances):
            return True
        profile = instances[i]
        for start in profile.placements or ():
            slices = ((1 << profile.memory_slices) - 1) << start
            if not used & slices and place(i + 1, used | slices):
                return True
        return False

    return place(0, 0)


def _single_strategy_error(card: Gpu, layout: dict[str, int]) -> str:
    options = [f"{name}*{n}" if n > 1 else name for name in layout if (n := _most_of(card, name))]
    instead = f"use one profile on every GPU, e.g. {' or '.join(options)}, " if options else ""
    return (
        f"MIG strategy single needs every MIG device on the node to be the same profile, but layout "
        f"{format_mig_layout(layout)} has {', '.join(layout)} (NVIDIA's device plugin refuses it with \"more than "
        f"one MIG device type present on node\"); {instead}or use MIG strategy mixed"
    )


def _most_of(card: Gpu, name: str) -> int:
    """The most instances of one profile that form a valid layout on the card (0 if none)."""
    profile = card.profile(name)
    if profile is None:
        return 0
    for count in range(profile.max_instances, 0, -1):
        if not _fit_errors(card, {name: count}):
            return count
    return 0
