"""Child processes that die with their parent, so a killed pass leaves nothing behind.

On Linux, ``prctl(PR_SET_PDEATHSIG)`` asks the kernel to signal a process when its
parent exits, however the parent ends (SIGKILL and the OOM killer included). presswatch
uses it along the whole chain: the scheduler's pass child, the pass's extraction
forkserver, and the forkserver's workers. Elsewhere it does nothing (the scheduler still
ends its passes by process group).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1

_prctl = None
if sys.platform.startswith("linux"):
    try:
        _prctl = ctypes.CDLL(None, use_errno=True).prctl  # loaded now, not after a fork
    except (OSError, AttributeError):
        _prctl = None


def die_with_parent(parent: int | None = None, sig: int = signal.SIGKILL) -> bool:
    """Have the kernel send ``sig`` to this process when its parent exits.

    ``parent``, when known, is the pid the parent had: if it already exited before the
    request was made (this process was adopted), this process ends at once. Safe to call
    between fork and exec (no allocation, no import). True when the request was made.
    """
    if _prctl is None or _prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0:
        return False
    if (parent is not None and os.getppid() != parent) or os.getppid() == 1:
        os.kill(os.getpid(), sig)
    return True
