"""A stand-in for the commands the node suite runs, answering from a fixture directory.

Installed by the tests as small scripts named nvidia-smi, systemctl, nv-fabricmanager,
lsmod and nvidia-ctk on PATH; each runs ``python fakenode.py <command> <args...>`` with
FAKE_NODE_DIR naming the node's fixture directory. A missing fixture file behaves like a
missing command (exit 127), which is how a planted "not installed" fault is made.
"""

import os
import sys
from pathlib import Path


def _emit(path: Path, *, noheader: bool = False, fields: str | None = None) -> int:
    if not path.exists():
        print(f"{sys.argv[1]}: command not found", file=sys.stderr)
        return 127
    lines = path.read_text().splitlines()
    if fields is not None:
        header, rows = lines[0], lines[1:]
        if header != fields:
            # The suite changed its query; the fixture must be re-recorded to match.
            print(f"fake nvidia-smi: fixture {path.name} has fields {header!r}, query asked for {fields!r}", file=sys.stderr)
            return 2
        lines = rows if noheader else lines
    print("\n".join(lines))
    return 0


def main(command: str, args: list[str]) -> int:
    node = Path(os.environ["FAKE_NODE_DIR"])
    if command == "nvidia-smi":
        noheader = any(a.startswith("--format=") and "noheader" in a for a in args)
        for arg in args:
            for option, name in (("--query-gpu=", "query-gpu.csv"), ("--query-remapped-rows=", "remapped-rows.csv")):
                if arg.startswith(option):
                    return _emit(node / name, noheader=noheader, fields=arg[len(option):])
        if args == ["-q"]:
            return _emit(node / "smi-q.txt")
        if args == ["mig", "-lgi"]:
            return _emit(node / "mig-lgi.txt")
    elif command == "systemctl" and args[:1] == ["is-active"]:
        path = node / f"systemctl-is-active-{args[1]}.txt"
        state = path.read_text().strip() if path.exists() else "inactive"
        print(state)
        return 0 if state == "active" else 3
    elif command == "nv-fabricmanager" and args == ["-v"]:
        return _emit(node / "nv-fabricmanager-v.txt")
    elif command == "lsmod":
        return _emit(node / "lsmod.txt")
    elif command == "nvidia-ctk" and args == ["--version"]:
        return _emit(node / "nvidia-ctk-version.txt")
    print(f"fake {command}: no fixture for arguments {args}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
