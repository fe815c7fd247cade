"""NVIDIA driver and CUDA version strings, parsed once and compared as numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

_DRIVER = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?$")
_CUDA = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?$")


@total_ordering
@dataclass(frozen=True)
class DriverVersion:
    """A Linux driver version such as 580.95.05 (branch.minor[.patch]).

    NVIDIA's tables print versions with two parts ("570.26") and three ("570.124.06"); a
    missing patch compares as 0, so 570.26 == 570.26.0. The original text is kept for
    messages so that "580.95.05" is never shown as "580.95.5".
    """

    major: int
    minor: int
    patch: int
    text: str

    @classmethod
    def parse(cls, text: str) -> "DriverVersion":
        value = str(text).strip()
        match = _DRIVER.match(value)
        if not match:
            raise ValueError(
                f"driver version {text!r} is not a driver version; write it as NVIDIA prints it, "
                "e.g. 580.95.05 (branch.minor.patch)"
            )
        major, minor, patch = match.groups()
        return cls(int(major), int(minor), int(patch or 0), value)

    @property
    def branch(self) -> int:
        return self.major

    def _key(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DriverVersion) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __lt__(self, other: "DriverVersion") -> bool:
        return self._key() < other._key()

    def __str__(self) -> str:
        return self.text


@total_ordering
@dataclass(frozen=True)
class CudaVersion:
    """A CUDA version: "12.8" (a minor release) or "12.8.1" (one toolkit release of it)."""

    major: int
    minor: int
    patch: int | None
    text: str

    @classmethod
    def parse(cls, text: str) -> "CudaVersion":
        value = str(text).strip()
        match = _CUDA.match(value)
        if not match:
            raise ValueError(
                f"CUDA version {text!r} is not a CUDA version; write major.minor such as 12.8, "
                "or a toolkit release such as 12.8.1"
            )
        major, minor, patch = match.groups()
        return cls(int(major), int(minor), None if patch is None else int(patch), value)

    @property
    def minor_release(self) -> str:
        return f"{self.major}.{self.minor}"

    def _key(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch or 0)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CudaVersion) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __lt__(self, other: "CudaVersion") -> bool:
        return self._key() < other._key()

    def __str__(self) -> str:
        return self.text
