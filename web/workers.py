"""The web app in its own worker processes, so that pages never delay the scheduler's alerts.

``docketwatch run`` (and ``docketwatch web``) bind the listening socket themselves, then start
``web_workers`` children (``python -m web.workers --fd N``), each serving the app with uvicorn
on that inherited socket: the kernel hands each new connection to one of them. A child reads the
settings from its standard input (secrets included, never written to disk), opens its own
engine, and says ``ready`` on its standard output once it serves. The parent restarts a child
that dies, and stops them all with SIGTERM (uvicorn finishes the requests in hand). A child
whose parent is gone (killed with SIGKILL) stops by itself within a second.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any

from storage.errors import ConfigError
from web.server import WebServer

log = logging.getLogger(__name__)
READY = "ready"


def settings_payload(settings: Any) -> str:
    """The settings as JSON for a child, secrets in clear (it goes through a pipe)."""
    from pydantic import SecretStr

    data = settings.model_dump(mode="json")
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            data[name] = value.get_secret_value()
    return json.dumps(data)


class WebWorkers:
    """``count`` worker processes serving the web app on ``host:port``."""

    def __init__(self, settings: Any, host: str, port: int, count: int) -> None:
        self.settings, self.host, self.port, self.count = settings, host, port, count
        self.sock: socket.socket | None = None
        self.children: list[subprocess.Popen[str]] = []
        self.restarts = 0
        self._stop = threading.Event()
        self._watch: threading.Thread | None = None
        self._lock = threading.Lock()

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise ConfigError(
                f"the web app could not listen on {self.host}:{self.port}: {exc}"
            ) from None
        sock.listen(2048)
        sock.set_inheritable(True)
        return sock

    def _spawn(self, wait_s: float) -> subprocess.Popen[str]:
        assert self.sock is not None
        fd = self.sock.fileno()
        child = subprocess.Popen(
            [sys.executable, "-m", "web.workers", "--fd", str(fd), "--parent", str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            pass_fds=(fd,),
            text=True,
            start_new_session=True,  # a terminal's Ctrl-C reaches the service, which stops us
        )
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(settings_payload(self.settings))
        child.stdin.close()
        said: list[str] = []
        out = child.stdout
        reader = threading.Thread(target=lambda: said.append(out.readline()), daemon=True)
        reader.start()
        reader.join(wait_s)
        if not said or said[0].strip() != READY:
            child.kill()
            child.wait()
            raise ConfigError(
                f"a web worker did not start on {self.host}:{self.port} "
                f"(exit {child.returncode}; see the log above)"
            )
        return child

    def start(self, wait_s: float = 60.0) -> WebWorkers:
        self.sock = self._bind()
        try:
            for _ in range(self.count):
                self.children.append(self._spawn(wait_s))
        except Exception:
            self.stop()
            raise
        self._watch = threading.Thread(target=self._keep, name="docketwatch-web-workers")
        self._watch.daemon = True
        self._watch.start()
        log.info(
            "web app listening on %s:%d (%d worker processes)", self.host, self.port, self.count
        )
        return self

    def _keep(self) -> None:
        """Restart a worker that died (a crash, the kernel's OOM killer)."""
        while not self._stop.wait(1.0):
            with self._lock:
                for i, child in enumerate(self.children):
                    if child.poll() is None or self._stop.is_set():
                        continue
                    log.warning("web worker %d exited %s: starting another", i, child.returncode)
                    try:
                        self.children[i] = self._spawn(60.0)
                        self.restarts += 1
                    except ConfigError as exc:
                        log.error("%s", exc)

    def stop(self, wait_s: float = 10.0) -> None:
        self._stop.set()
        if self._watch is not None:
            self._watch.join(timeout=wait_s)
        with self._lock:
            for child in self.children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + wait_s
            for child in self.children:
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
            self.children = []
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def serve(engine: Any, settings: Any, host: str, port: int) -> WebServer | WebWorkers:
    """The web app on ``host:port``, started: in ``web_workers`` processes, or (0) in a thread
    of this process on ``engine``."""
    if settings.web_workers == 0:
        from web.app import create_app

        return WebServer(create_app(engine, settings), host, port, settings).start()
    return WebWorkers(settings, host, port, settings.web_workers).start()


def _orphan_watch(parent: int, server: Any) -> None:
    while not server.should_exit:
        if os.getppid() != parent:
            server.should_exit = True  # the service is gone: so is its web app
            return
        time.sleep(0.5)


def _say_ready(server: Any) -> None:
    while not server.started and not server.should_exit:
        time.sleep(0.02)
    if server.started:
        sys.stdout.write(READY + "\n")  # to the parent, through a pipe
        sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m web.workers")
    parser.add_argument("--fd", type=int, required=True, help="the listening socket, inherited")
    parser.add_argument("--parent", type=int, required=True, help="the service's process id")
    args = parser.parse_args(argv)

    from storage.db import make_engine
    from storage.logs import setup_logging
    from storage.settings import Settings

    settings = Settings(**json.loads(sys.stdin.read()))
    setup_logging(settings.log_level, fmt=settings.log_format)
    import uvicorn

    from web.app import create_app
    from web.server import uvicorn_config

    sock = socket.socket(fileno=args.fd)
    engine = make_engine(settings.database_url)
    host, port = sock.getsockname()[:2]
    server = uvicorn.Server(uvicorn_config(create_app(engine, settings), host, port, settings))
    threading.Thread(target=_say_ready, args=(server,), daemon=True).start()
    threading.Thread(target=_orphan_watch, args=(args.parent, server), daemon=True).start()
    try:
        server.run(sockets=[sock])
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
