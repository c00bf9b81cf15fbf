"""Writing output files atomically: a failed or interrupted run never leaves a half-written file behind.

The data goes to a temporary file beside the target (``.NAME.PID.XXXX.tmp``), which is renamed over
the target at the end. An exception, SIGTERM, SIGHUP or SIGINT during the write removes the
temporary file; one left by a process that was SIGKILLed is removed by the next write to the same
target (its PID no longer runs).
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import tempfile
import threading
from pathlib import Path
from typing import Any, Iterator, Union

from .errors import CostlabError


class WriteError(CostlabError):
    """An output file that cannot be written: names the path and the reason."""


def write_atomic(path: Union[str, Path], data: Union[str, bytes]) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it into place."""
    target = Path(path)
    folder = target.parent
    if "\0" in str(target):
        raise WriteError(f"{str(target)!r}: cannot write: the path contains a NUL byte")
    if not folder.is_dir():
        raise WriteError(f"{target}: cannot write: the folder {folder} does not exist")
    try:
        mode = target.stat().st_mode
    except OSError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
        raise WriteError(f"{target}: cannot write: it is {kind} (name a new or ordinary file)")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        _remove_stale(folder, target.name)
        with _signals_raise():
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=str(folder))
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(payload)
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a report is an ordinary file
                os.replace(tmp, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
    except OSError as e:
        raise WriteError(f"{target}: cannot write: {e.strerror or e}") from None


class Interrupted(SystemExit):
    """A termination signal arrived during a write; exits with 128 + the signal number."""


@contextlib.contextmanager
def _signals_raise() -> Iterator[None]:
    """Turn SIGTERM/SIGHUP/SIGINT into an exception for the duration, so clean-up code runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise Interrupted(128 + signum)

    wanted = [s for s in (signal.SIGTERM, getattr(signal, "SIGHUP", None), signal.SIGINT) if s is not None]
    previous = {s: signal.signal(s, handler) for s in wanted}
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


def _remove_stale(folder: Path, name: str) -> None:
    """Temporary files of earlier writes to ``name`` whose process no longer runs (it was SIGKILLed)."""
    for candidate in folder.glob(f".{_glob_escape(name)}.*.tmp"):
        pid_text = candidate.name[len(name) + 2:].split(".", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid():
            continue
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            with contextlib.suppress(OSError):
                candidate.unlink()
        except (PermissionError, OverflowError, ValueError):
            continue


def _glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)
