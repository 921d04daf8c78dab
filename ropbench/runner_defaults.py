"""Run defaults the CLI shows without importing the runner (and torch)."""

__all__ = ["DEFAULT_THREADS"]

# torch threads per task unless --threads says otherwise: fixed, so that every executor
# (in-process or a Ray worker) computes the same bits on a machine.
DEFAULT_THREADS = 1
