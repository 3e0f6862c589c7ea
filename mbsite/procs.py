"""Child processes of a build (render workers, the scan helper) → tied to the life of their parent."""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Ask the kernel to kill this process when its parent dies (Linux PR_SET_PDEATHSIG), then close the race
    where the parent died before the request: a worker orphaned that way exits at once. Elsewhere, workers
    still end when the pipe to their parent closes."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(1)
