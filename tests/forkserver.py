"""A process that imports presswatch once and forks a fresh ``python -m crawler ARGS``
for each command a test runs (conftest's ``run_cli``).

A child of ``python -m crawler`` spends most of its CPU importing Scrapy, Twisted,
trafilatura and presswatch itself (about 2 s of the 2.1 s of an empty pass). This server
imports them once, before any reactor is installed, and then forks: each child is a
process of its own that runs ``crawler/__main__.py`` as ``-m`` does (its argv,
environment, working directory, stdin, stdout and stderr are the caller's, its exit
status is reported back), so the test still sees a real process, a real Scrapy crawl on
a fresh reactor and a real exit code.

Started by conftest with the listening socket as its ``--fd``; it ends when its stdin (a
pipe from the test process) closes. One request is a JSON message ``{"args", "env",
"cwd", "session"}`` (``session``: the child starts a session and process group of its
own, as ``start_new_session`` does) on a SOCK_SEQPACKET connection carrying three file
descriptors (stdin, stdout, stderr); the answers are ``{"pid": N}`` at once and
``{"returncode": N}`` (negative: the signal that ended it, as ``subprocess`` reports it)
when the child has ended.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import json
import os
import pkgutil
import random
import runpy
import select
import socket
import sys
import traceback

# The entry points of a command and of a pass; what they import is imported with them.
PRELOAD = (
    "crawler.commands.main",
    "crawler.run",
    "crawler.settings",
    "spiders.sources",
    "spiders.discover",
    "trafilatura",
)
# The project's packages: every module of them is imported too (a command imports its
# own modules, and a pass some of its stages, only when they run: each child would
# import them again; all of them take half a second, once).
PACKAGES = ("crawler", "spiders", "pipelines")


def preload() -> None:
    """Import what a pass imports, short of the reactor: the entry points, every module
    of the project, and the Scrapy components of the project's settings (Scrapy loads
    them only at a crawl)."""
    for name in PRELOAD:
        importlib.import_module(name)
    for package in PACKAGES:
        path = importlib.import_module(package).__path__
        for module in pkgutil.walk_packages(path, f"{package}."):
            if not module.name.endswith(".__main__"):  # that one runs the command
                with contextlib.suppress(ImportError):  # an extra not installed
                    importlib.import_module(module.name)
    from scrapy.settings import Settings
    from scrapy.utils.misc import load_object

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    for key in (
        "ITEM_PIPELINES",
        "DOWNLOADER_MIDDLEWARES",
        "DOWNLOADER_MIDDLEWARES_BASE",
        "SPIDER_MIDDLEWARES",
        "SPIDER_MIDDLEWARES_BASE",
        "EXTENSIONS",
        "EXTENSIONS_BASE",
    ):
        for path, order in settings.getdict(key).items():
            if order is not None and isinstance(path, str):
                load_object(path)
    for key in ("SCHEDULER", "DUPEFILTER_CLASS", "STATS_CLASS", "TWISTED_DNS_RESOLVER"):
        if isinstance(settings.get(key), str):
            load_object(settings.get(key))
    if "twisted.internet.reactor" in sys.modules:  # each child must install its own
        raise RuntimeError("preloading installed a Twisted reactor")


def run_child(request: dict, fds: list[int]) -> int:
    """In the forked child: become ``python -m crawler ARGS`` and run it."""
    if request.get("session"):
        os.setsid()
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    sys.path[0] = os.getcwd()  # as -m puts it
    sys.argv = ["-m", *request["args"]]
    random.seed()  # not the server's sequence
    try:
        runpy.run_module("crawler", run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as done:
        code = exit_code(done.code)
    except KeyboardInterrupt:
        traceback.print_exc()
        code = 130
    except BaseException:
        traceback.print_exc()
        code = 1
    atexit._run_exitfuncs()  # logging's shutdown (a --log-file) and the rest, as at exit
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    return code


def exit_code(code: object) -> int:
    """The exit status Python gives ``sys.exit(code)``."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def serve(listener: socket.socket) -> None:
    waiting: dict[int, socket.socket] = {}  # child pid -> the connection that asked
    while True:
        ready, _, _ = select.select([listener, sys.stdin], [], [], 0.05)
        if sys.stdin in ready and not os.read(sys.stdin.fileno(), 1):
            return  # the test process has gone
        if listener in ready:
            connection, _ = listener.accept()
            message, fds, _, _ = socket.recv_fds(connection, 1 << 20, 3)
            pid = os.fork()
            if pid == 0:
                listener.close()
                connection.close()
                for other in waiting.values():
                    other.close()
                os._exit(run_child(json.loads(message), fds))
            for fd in fds:
                os.close(fd)
            connection.send(json.dumps({"pid": pid}).encode())
            waiting[pid] = connection
        reap(waiting)


def reap(waiting: dict[int, socket.socket]) -> None:
    while waiting:
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            return
        connection = waiting.pop(pid, None)
        if connection is not None:
            code = os.waitstatus_to_exitcode(status)
            with contextlib.suppress(OSError):  # unless the caller gave up waiting
                connection.send(json.dumps({"returncode": code}).encode())
            connection.close()


if __name__ == "__main__":
    preload()
    serve(socket.socket(fileno=int(sys.argv[sys.argv.index("--fd") + 1])))
