"""The second layer: a user's file is decoded in a child process with memory and time limits.

The static checks (:mod:`advviewer.reading.files`, :mod:`advviewer.reading.image_io`, the ``.pt2`` checks...)
bound what they can compute from a file's header before it is decoded. Whatever they miss -- a
decoder bug, a header lie no check foresaw, a model whose forward pass is worse than its graph
says -- still must not take the machine. :func:`run_isolated` runs one function of ours on a file
in a child process that

- may add at most ``Limits.memory_mb`` to its address space (``RLIMIT_AS``): an allocation beyond
  it fails there (MemoryError, or the child dies), never in the window;
- may use at most ``Limits.cpu_seconds`` of processor time (``RLIMIT_CPU``: SIGXCPU, then SIGKILL)
  and is killed by the parent after ``Limits.wall_seconds`` of wall-clock time;
- writes no core file and no file at all (``RLIMIT_CORE`` and ``RLIMIT_FSIZE`` are 0), and
  whatever it prints goes to /dev/null, not into the window's terminal or the CLI's output.

Nothing that comes back is unpickled: the child sends one small JSON header, then each numpy array
as raw bytes; the parent checks the header (numeric dtypes only, the sizes it announces) before
it reads the bytes. An error comes back as its class name and one line of text, and becomes an
:class:`~advviewer.errors.AdvViewerError` in the parent; a child that is killed, crashes or runs
out of memory becomes one line as well ("...needed more than 1024 MB of memory; refused").

Start-up: ``fork`` from the window (Qt and torch threads running) is unsafe, and a fresh
``spawn`` child would import numpy and Pillow (and torch) again for every file. So children come from a
*fork server* of our own: one single-threaded process, started once with our reading modules
imported (:func:`start_server`; the window starts it after its first model load, with torch, so a
user's model is checked without importing torch again), forks a child per file in milliseconds.
(multiprocessing's forkserver would do this too, but each of its children re-runs the parent's
``__main__`` script: every script that calls ``load_image`` would need the ``__main__`` guard.)
Per file, the server forks a *supervisor*, which forks the *reader*: the reader sets its limits,
runs the function and writes its answer to a pipe the parent passed along with the request; the
supervisor waits for it and then writes how it ended (exit code or signal) to the same pipe.

A caller that no longer wants the answer (a newer scene was asked for) passes ``cancel``: the
parent looks at it every CANCEL_CHECK_SECONDS while it waits, kills the reader as a timeout
does, and raises :class:`~advviewer.errors.Cancelled` (the lanes drop it without a word). A
reader not yet started when the wait is cancelled stops at its first write, to a pipe nobody reads.

Where the mechanism is missing (no ``resource`` module or no ``fork``: Windows) the function runs
in this process and this is logged once; where ``RLIMIT_AS`` is not enforced
(macOS) the child still has its time limits. ``ADVVIEWER_SANDBOX=off`` turns the layer off.
"""

from __future__ import annotations

import atexit
import importlib
import json
import logging
import os
import pickle
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Protocol

import numpy as np

from advviewer import errors
from advviewer.errors import AdvViewerError, Cancelled
from advviewer.reading.files import shown

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

MB = 1 << 20
HEADER_BYTES = 64 * 1024  # the JSON header; an error's text is cut to MESSAGE_CHARS
MESSAGE_CHARS = 400
MAX_ARRAYS = 16  # a scene file sends back one array per member (advviewer.reading.scene_file.MEMBERS)
CANCEL_CHECK_SECONDS = 0.025  # how often a wait for the reader looks at its cancel flag (a superseded read ends this soon)
SERVER_START_SECONDS = 60.0  # the most a request waits for the server (importing torch on a cold start) to fork its reader
# the modules a child needs for pictures, IDX files and scene files, imported once by the server; a module's
# function named WARM_UP, if it has one, is then called once in the server (image_io reads a picture
# of each format, so that every reader forked later finds Pillow's plugins imported)
WARM_UP = "warm_up_in_sandbox_server"
READING_MODULES = ("advviewer.reading.sandbox", "advviewer.reading.image_io", "advviewer.data.idx",
                   "advviewer.reading.scene_file")
# torch._dynamo and sympy: graph_cost (advviewer.models.pt2_cost) runs ops on meta tensors, which imports them (slow)
MODEL_MODULES = ("torch", "advviewer.models.loading", "torch.fx.experimental.symbolic_shapes", "torch._dynamo")
# how an allocation the memory limit refused shows in exceptions that are not MemoryError (torch's C++
# allocator, std::bad_alloc, ENOMEM)
_ALLOCATION_FAILURES = ("can't allocate memory", "bad_alloc", "Cannot allocate memory")


@dataclass(frozen=True)
class Limits:
    """What one child may use: address space added to what it starts with, processor and wall-clock time."""

    memory_mb: int
    cpu_seconds: int
    wall_seconds: float


# Each budget is at least twice the peak of the largest file the static checks let through
# (docs/safety.md, "The limits").
PICTURE_LIMITS = Limits(memory_mb=1024, cpu_seconds=20, wall_seconds=30.0)
IDX_LIMITS = Limits(memory_mb=2048, cpu_seconds=60, wall_seconds=90.0)
MODEL_LIMITS = Limits(memory_mb=3072, cpu_seconds=20, wall_seconds=25.0)


class Cancel(Protocol):
    """What tells a wait for the reader to give up: a ``threading.Event`` (a lane's ``TaskState.cancel``)."""

    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class Mechanism:
    """How files are isolated on this platform, and the sentence that says what holds."""

    isolated: bool  # in a child process at all
    memory_limited: bool  # RLIMIT_AS is enforced there
    explanation: str


@dataclass(frozen=True)
class ArrayHeader:
    """One array the child announces: its dtype (numeric only) and shape."""

    dtype: np.dtype
    shape: tuple[int, ...]

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize


# numeric dtypes only: an object dtype made from raw bytes would be pointers
_ALLOWED_DTYPES = {np.dtype(f"{order}{kind}{size}").str
                   for order in "<>|" for kind, sizes in (("b", (1,)), ("i", (1, 2, 4, 8)), ("u", (1, 2, 4, 8)), ("f", (2, 4, 8)))
                   for size in sizes} | {np.dtype(bool).str}

_in_child = False  # set in a child: a nested call runs in place (a child cannot start children)
_lock = threading.Lock()
_said_once: set[str] = set()


def mechanism() -> Mechanism:
    """What this platform offers (see the module docstring)."""
    if os.environ.get("ADVVIEWER_SANDBOX", "").lower() in ("0", "off", "no", "false"):
        return Mechanism(False, False, "ADVVIEWER_SANDBOX=off: files are read in the program's own process, without limits")
    if resource is None or not hasattr(os, "fork") or not hasattr(socket, "send_fds"):
        return Mechanism(False, False, "this platform has no fork or resource limits (Windows): files are read "
                                       "in the program's own process; only the static checks bound them")
    if sys.platform == "darwin":
        return Mechanism(True, False, "macOS does not enforce RLIMIT_AS: files are read in a child process with time "
                                      "limits, but its memory is bounded only by the static checks")
    return Mechanism(True, True, "files are read in a child process with memory and time limits")


def _say_once(key: str, text: str, level: int = logging.WARNING) -> None:
    with _lock:
        if key in _said_once:
            return
        _said_once.add(key)
    log.log(level, "%s", text)


def start_server(with_models: bool = False) -> bool:
    """Start the fork server now, in the background (it imports its modules on its own); True if it runs.

    The server imports the reading modules, and torch with ``with_models`` (a model check then
    costs a fork, not torch's import); a running server without torch is replaced by one with it.
    """
    how = mechanism()
    if not how.isolated or _in_child:
        return False
    try:
        _server.ensure_running(READING_MODULES + (MODEL_MODULES if with_models else ()))
    except OSError as exc:
        _say_once("start", f"could not start the file-reading process ({exc}); files are read in this process")
        return False
    return True


def run_isolated(function: Callable[..., Any], args: Sequence[Any], *, limits: Limits, error: type[AdvViewerError],
                 name: str, action: str = "reading it", needs_models: bool = False, cancel: Cancel | None = None) -> Any:
    """``function(*args)`` in a child process within ``limits``; its result must be None, an array or a tuple of arrays.

    ``function`` must be a module-level function of ours (it is sent to the child by name). An
    AdvViewerError it raises comes back with its class and text; anything else that stops it
    (memory, time, a crash, another exception) raises ``error`` with one line that starts with
    ``name`` (the file, as the user sees it) and ``action`` ("reading it"). Once ``cancel`` (a
    ``threading.Event``, say) is set, the reader is killed within CANCEL_CHECK_SECONDS and
    :class:`~advviewer.errors.Cancelled` is raised: the caller no longer wants the answer. (Where
    files are read in this process, ``cancel`` is not looked at: a lane abandons such a read.)
    """
    how = mechanism()
    if _in_child or not how.isolated:
        if not _in_child:
            _say_once("mechanism", how.explanation)
        return function(*args)
    if not how.memory_limited:
        _say_once("mechanism", how.explanation, logging.INFO)
    if not start_server(with_models=needs_models):
        return function(*args)
    if cancel is not None and cancel.is_set():
        raise Cancelled(f"{shown(name)}: {action} was cancelled")
    try:
        reader = _server.submit(pickle.dumps((function, tuple(args), limits)))
    except OSError as exc:  # the server went away and could not be restarted: read here rather than refuse every file
        _say_once("submit", f"could not reach the file-reading process ({exc}); files are read in this process")
        return function(*args)
    with reader:
        outcome = _receive(reader, limits.wall_seconds, cancel)
    if isinstance(outcome, _Stopped) and outcome.cancelled:
        raise Cancelled(f"{shown(name)}: {action} was cancelled")
    if isinstance(outcome, _Stopped):
        raise error(f"{shown(name)}: {_stopped_reason(outcome, limits, action)}")
    return outcome


# ---------------------------------------------------------------- the fork server


class _Server:
    """The parent's handle on the fork server: one socket, one request at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._socket: socket.socket | None = None
        self._modules: tuple[str, ...] = READING_MODULES
        self._retired: list[subprocess.Popen] = []  # replaced servers, exiting on their own; reaped at exit

    def ensure_running(self, modules: tuple[str, ...]) -> None:
        """A running server that has imported ``modules``: a server without torch is replaced by one with it
        (once: a picture opened before the window's first model load would otherwise make every model
        check import torch again)."""
        with self._lock:
            alive = self._process is not None and self._process.poll() is None
            if not alive or not set(modules) <= set(self._modules):
                self._start(tuple(dict.fromkeys(self._modules + modules)) if self._process is not None else modules)

    def _start(self, modules: tuple[str, ...]) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            process = subprocess.Popen(
                _server_command(theirs.fileno(), modules), pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True, env=_server_environment())
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        if self._socket is None and self._process is None:
            atexit.register(self.stop)
        if self._socket is not None:
            self._socket.close()  # the old server sees the end of its socket and exits
        if self._process is not None:
            self._retired.append(self._process)
        ours.settimeout(SERVER_START_SECONDS)  # a server that never reads (stuck importing) is replaced, not waited for
        self._process, self._socket, self._modules = process, ours, modules

    def stop(self) -> None:
        """End and reap the servers, at once: a server holds nothing (readers already forked finish
        on their own, within their limits), and waiting for its own exit would only delay the program's."""
        with self._lock:
            if self._socket is not None:
                self._socket.close()
                self._socket = None
            for process in [*self._retired, *([self._process] if self._process is not None else [])]:
                if process.poll() is None:
                    process.kill()
                process.wait()
            self._process, self._retired = None, []

    def submit(self, request: bytes) -> Connection:
        """Send one request; the returned connection carries the reader's answer, then how it ended."""
        answer_r, answer_w = os.pipe()
        try:
            for attempt in (1, 2):
                try:
                    with self._lock:
                        if self._process is None or self._process.poll() is not None:
                            self._start(self._modules)
                        assert self._socket is not None
                        socket.send_fds(self._socket, [struct.pack("!Q", len(request))], [answer_w])
                        self._socket.sendall(request)
                    break
                except OSError:
                    if attempt == 2:
                        raise
                    with self._lock:
                        if self._process is not None:
                            self._process.kill()
                            self._process.wait()
        except BaseException:
            os.close(answer_r)
            raise
        finally:
            os.close(answer_w)  # only the server's children hold the writing end now
        return Connection(answer_r, writable=False)


_server = _Server()
SERVER_FLAG = "--advviewer-file-reader"


def _server_environment() -> dict[str, str]:
    """One thread per reader (its processor-time limit counts every thread), and no threads in the server to fork."""
    return {**os.environ, **{name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}}


def _server_command(fd: int, modules: tuple[str, ...]) -> list[str]:
    """How to start the server: this interpreter with our sys.path; a frozen program runs itself with SERVER_FLAG."""
    arguments = [SERVER_FLAG, str(fd), ",".join(modules)]
    if getattr(sys, "frozen", False):
        return [sys.executable, *arguments]
    code = ("import sys, json; sys.path[:0] = json.loads(sys.argv[1]); "
            "from advviewer.reading.sandbox import serve_from_arguments; serve_from_arguments(sys.argv[2:])")
    return [sys.executable, "-c", code, json.dumps([p for p in sys.path if isinstance(p, str)]), *arguments]


def serve_from_arguments(arguments: Sequence[str]) -> None:
    """The server's entry point: ``SERVER_FLAG fd module,module...`` (see :func:`_server_command`)."""
    if len(arguments) != 3 or arguments[0] != SERVER_FLAG:
        raise SystemExit("usage: advviewer --advviewer-file-reader FD MODULES")
    serve(int(arguments[1]), [m for m in arguments[2].split(",") if m])


def serve(fd: int, modules: Sequence[str]) -> None:
    """Import ``modules``, then fork a supervisor per request until the parent closes the socket."""
    warm_ups = []
    for module in modules:
        try:
            imported = importlib.import_module(module)
        except ImportError:
            continue  # the reader imports what it needs; only slower
        warm_ups.append(getattr(imported, WARM_UP, None))
    for warm_up in filter(None, warm_ups):
        warm_up()  # after every module is imported, as a forked reader finds them
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # supervisors are reaped by the kernel
    with socket.socket(fileno=fd) as channel:
        while True:
            try:
                request, answer_fd = _next_request(channel)
            except EOFError:
                return
            if os.fork() == 0:
                channel.close()
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                _supervise(request, answer_fd)
            os.close(answer_fd)
            del request  # a model file's bytes are not kept until the next request


def _next_request(channel: socket.socket) -> tuple[bytes, int]:
    head, fds, _, _ = socket.recv_fds(channel, 8, 1)
    if not fds:
        raise EOFError
    if len(head) < 8:
        head += _recv_exactly(channel, 8 - len(head))
    return _recv_exactly(channel, struct.unpack("!Q", head)[0]), fds[0]


def _recv_exactly(channel: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = channel.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _supervise(request: bytes, answer_fd: int) -> None:
    """In the supervisor: fork the reader, wait for it, write how it ended; never returns."""
    code = 1
    try:
        pid = os.fork()
        if pid == 0:
            _reader_main(request, answer_fd)
        _, status = os.waitpid(pid, 0)
        ended = os.waitstatus_to_exitcode(status)
        Connection(answer_fd, readable=False).send_bytes(json.dumps({"ended": ended}).encode())
        code = 0
    finally:
        os._exit(code)


# ---------------------------------------------------------------- the child


def _reader_main(request: bytes, answer_fd: int) -> None:
    """In the reader: limits first, then the function; the outcome goes back as JSON and raw bytes, nothing else."""
    global _in_child
    _in_child = True
    code = 1
    try:
        conn = Connection(answer_fd, readable=False)
        conn.send_bytes(json.dumps({"pid": os.getpid()}).encode())
        _silence_output()
        header, blobs = _run_request(request)
        conn.send_bytes(json.dumps(header).encode())
        for blob in blobs:
            conn.send_bytes(blob)
        code = 0
    finally:
        os._exit(code)


def _run_request(request: bytes) -> tuple[dict, list[memoryview]]:
    """(header, raw bytes) of ``function(*args)``, or the header of the error that stopped it."""
    try:
        function, args, limits = pickle.loads(request)  # from our own parent, never from the file
        _apply_limits(limits)  # after the arguments are unpacked: a model file's bytes are not counted twice
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(1)  # as the program runs (advviewer.runtime.threads)
        return _encode(function(*args))
    except BaseException as exc:  # noqa: BLE001 -- every way out becomes one line for the parent
        header: dict = {"error": type(exc).__name__, "message": _one_line(exc)}
        if not isinstance(exc, AdvViewerError):
            header["unexpected"] = True
        if _is_memory(exc):  # also "image is corrupt or truncated (MemoryError)", raised while handling one
            header = {"error": "memory"}
        return header, []


def _silence_output() -> None:
    """What a decoder prints (libtiff warnings, a stray print) must not reach the user's terminal or the CLI's output."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


def _address_space_now() -> int | None:
    """This process's virtual size in bytes (Linux /proc), or None where it cannot be read."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _apply_limits(limits: Limits) -> None:
    assert resource is not None
    for which, value in ((resource.RLIMIT_CORE, 0), (resource.RLIMIT_FSIZE, 0)):
        _set_limit(which, value, value)
    _set_limit(resource.RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 2)
    now = _address_space_now()
    if now is not None:
        allowed = now + limits.memory_mb * MB
        _set_limit(resource.RLIMIT_AS, allowed, allowed)


def _set_limit(which: int, soft: int, hard: int) -> None:
    """Lower one limit (never above the hard limit the process already has); a platform that refuses keeps its own."""
    assert resource is not None
    _, current_hard = resource.getrlimit(which)
    if current_hard != resource.RLIM_INFINITY:
        soft, hard = min(soft, current_hard), min(hard, current_hard)
    try:
        resource.setrlimit(which, (soft, hard))
    except (ValueError, OSError):
        pass


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:MESSAGE_CHARS] if lines else ""


def _is_memory(exc: BaseException | None) -> bool:
    """Whether ``exc`` or an exception it was raised while handling is a refused allocation.

    The chain, not the text: our readers turn a decoder's exception into one ImageLoadError line
    (``raise ... from None`` keeps ``__context__``), and that line names the file, which may be
    called ``MemoryError.png``."""
    for _ in range(20):
        if exc is None:
            return False
        if isinstance(exc, MemoryError):
            return True
        if not isinstance(exc, AdvViewerError) and any(text in str(exc) for text in _ALLOCATION_FAILURES):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _encode(result: object) -> tuple[dict, list[memoryview]]:
    """The header and the raw bytes of a result: None, an array, or a tuple of arrays."""
    if result is None:
        return {"kind": "none", "arrays": []}, []
    arrays = [result] if isinstance(result, np.ndarray) else list(result) if isinstance(result, tuple) else None
    if arrays is None or len(arrays) > MAX_ARRAYS or not all(isinstance(a, np.ndarray) for a in arrays):
        raise TypeError(f"a file reader returned {type(result).__name__}, not arrays")
    contiguous = [np.ascontiguousarray(a) for a in arrays]
    header = {"kind": "array" if isinstance(result, np.ndarray) else "tuple",
              "arrays": [{"dtype": a.dtype.str, "shape": list(a.shape)} for a in contiguous]}
    return header, [a.reshape(-1).view(np.uint8).data for a in contiguous]


# ---------------------------------------------------------------- the parent


@dataclass(frozen=True)
class _Stopped:
    """The reader gave no usable answer: why, as far as the parent can tell."""

    ended: int | None = None  # the reader's exit code, or minus the signal that killed it
    timed_out: bool = False
    memory: bool = False
    message: str = ""  # an unexpected exception's one line, or a protocol fault
    cancelled: bool = False  # the caller's cancel flag was set: the reader was killed, nobody wants its answer


class _ProtocolError(Exception):
    """The answer was not what our reader sends."""


class _WaitCancelled(Exception):
    """The caller's cancel flag was set while the parent waited for the reader."""


class _Ended(Exception):
    """The supervisor's last word came where the reader's answer was expected."""

    def __init__(self, ended: int | None) -> None:
        super().__init__(ended)
        self.ended = ended


def _receive(answers: Connection, wall_seconds: float, cancel: Cancel | None = None) -> Any:
    """The reader's result, or the AdvViewerError it raised (raised here), or a :class:`_Stopped`.

    The reader's clock starts when it says it has started: a server still importing torch (seconds,
    on a cold start) does not eat into the file's time."""
    pid: int | None = None
    try:
        pid = _message(answers, _Wait(time.monotonic() + SERVER_START_SECONDS, cancel)).get("pid")
        wait = _Wait(time.monotonic() + wall_seconds, cancel)
        header = _message(answers, wait)
        if "error" in header:
            return _failure(header)
        if header.get("kind") not in ("none", "array", "tuple"):
            raise _ProtocolError("the reading process sent an unreadable answer")
        arrays = [np.frombuffer(_recv(answers, wait, spec.nbytes, exact=True), dtype=spec.dtype).reshape(spec.shape).copy()
                  for spec in _array_headers(header)]
    except TimeoutError:
        _kill(pid)
        return _Stopped(timed_out=True)
    except _WaitCancelled:
        _kill(pid if pid is not None else _pid_if_sent(answers))
        return _Stopped(cancelled=True)
    except _Ended as end:
        return _Stopped(ended=end.ended)
    except (EOFError, OSError):
        return _Stopped()
    except _ProtocolError as exc:
        _kill(pid)
        return _Stopped(message=str(exc))
    if header["kind"] == "none":
        return None
    return arrays[0] if header["kind"] == "array" else tuple(arrays)


@dataclass(frozen=True)
class _Wait:
    """How long the parent waits for the reader's next words: until ``deadline`` (time.monotonic), or ``cancel`` is set."""

    deadline: float
    cancel: Cancel | None = None


def _pid_if_sent(answers: Connection) -> int | None:
    """The reader's pid if it has said it started (a wait cancelled before its first message was read), else None:
    a reader not yet started finds its pipe closed at its first write, and ends there."""
    try:
        pid = _message(answers, _Wait(time.monotonic())).get("pid")
    except (TimeoutError, EOFError, OSError, _Ended, _ProtocolError):
        return None
    return pid if isinstance(pid, int) else None


def _message(answers: Connection, wait: _Wait) -> dict:
    """The next JSON message; _Ended if it is the supervisor's report that the reader has ended."""
    try:
        message = json.loads(_recv(answers, wait, HEADER_BYTES))
    except ValueError:
        raise _ProtocolError("the reading process sent an unreadable answer") from None
    if not isinstance(message, dict):
        raise _ProtocolError("the reading process sent an unreadable answer")
    if "ended" in message:
        ended = message["ended"]
        raise _Ended(ended if isinstance(ended, int) else None)
    return message


def _wait_for_data(answers: Connection, wait: _Wait) -> None:
    """Return once ``answers`` has something to read; TimeoutError at the deadline, _WaitCancelled once cancelled.

    Without a cancel flag one poll to the deadline; with one, polls of CANCEL_CHECK_SECONDS (sleeping, not spinning)."""
    while True:
        if wait.cancel is not None and wait.cancel.is_set():
            raise _WaitCancelled
        left = max(0.0, wait.deadline - time.monotonic())
        if answers.poll(left if wait.cancel is None else min(left, CANCEL_CHECK_SECONDS)):
            return
        if time.monotonic() >= wait.deadline:
            raise TimeoutError


def _recv(answers: Connection, wait: _Wait, limit: int, exact: bool = False) -> bytes:
    _wait_for_data(answers, wait)
    try:
        data = answers.recv_bytes(max(limit, 1))
    except OSError as exc:  # a message over the limit: the connection is no longer usable
        raise _ProtocolError("the reading process sent more than it announced") from exc
    if exact and len(data) != limit:
        raise _ProtocolError("the reading process sent fewer bytes than it announced")
    return data


def _kill(pid: object) -> None:
    """Kill the reader (a timeout, a broken answer); the supervisor then reports how it ended."""
    if isinstance(pid, int) and pid > 1:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass  # already gone


def _array_headers(header: dict) -> list[ArrayHeader]:
    specs = header.get("arrays")
    if not isinstance(specs, list) or len(specs) > MAX_ARRAYS or (header["kind"] == "array" and len(specs) != 1):
        raise _ProtocolError("the reading process announced no usable arrays")
    out = []
    for spec in specs:
        dtype, shape = (spec.get("dtype"), spec.get("shape")) if isinstance(spec, dict) else (None, None)
        if dtype not in _ALLOWED_DTYPES or not isinstance(shape, list) or len(shape) > 8 \
                or not all(isinstance(n, int) and 0 <= n < 1 << 40 for n in shape):
            raise _ProtocolError("the reading process announced an array that is not numeric")
        out.append(ArrayHeader(np.dtype(dtype), tuple(shape)))
    return out


_ERROR_CLASSES: dict[str, type[AdvViewerError]] = {
    cls.__name__: cls for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, AdvViewerError)
}


def _failure(header: dict) -> _Stopped:
    """Raise the AdvViewerError the reader raised; anything else is returned as a :class:`_Stopped`."""
    kind, message = shown(str(header.get("error"))[:80]), shown(str(header.get("message", ""))[:MESSAGE_CHARS])
    if kind == "memory":
        return _Stopped(memory=True)
    if not header.get("unexpected") and kind in _ERROR_CLASSES:
        raise _ERROR_CLASSES[kind](message)
    log.warning("reading a file failed unexpectedly in the reading process: %s: %s", kind, message)
    return _Stopped(message=f"{kind}: {message}" if message else kind)


def _stopped_reason(stopped: _Stopped, limits: Limits, action: str) -> str:
    if stopped.memory:
        return f"{action} needed more than {limits.memory_mb} MB of memory; refused"
    if stopped.timed_out:
        return f"{action} took more than {limits.wall_seconds:g} s; refused"
    if stopped.message:
        return f"{action} failed ({stopped.message}); refused"
    if stopped.ended is not None and stopped.ended < 0:
        sig = -stopped.ended
        if sig in (getattr(signal, "SIGXCPU", -1), signal.SIGKILL):
            return f"{action} used more than {limits.cpu_seconds} s of processor time (or was killed); refused"
        if sig == getattr(signal, "SIGXFSZ", -1):
            return f"{action} tried to write a file; refused"
        return f"{action} crashed the reading process ({_signal_name(sig)}); refused"
    ended = "" if stopped.ended is None else f" (exit code {stopped.ended})"
    return f"{action} stopped the reading process{ended}; refused"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
