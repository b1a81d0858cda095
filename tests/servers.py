"""What the tests that start real server processes share: a free port, the virtualenv's
commands."""
from __future__ import annotations

import socket
import sys
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def venv_bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)
