"""A child process of the servers, started and stopped with its process group."""

from __future__ import annotations

import os
import signal
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot import paths
from bot.settings import Settings


def is_answering(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status < 500)
    except (urllib.error.URLError, OSError):
        return False


@dataclass
class Server:
    """One child process, its log file, and the URL that answers once it is ready."""

    name: str
    command: Sequence[str]
    ready_url: str
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    # For a server that does not speak HTTP: whether it answers (``ready_url`` names it).
    probe: Callable[[], bool] | None = None
    user: str | None = None  # the system user it runs as, if not ours
    stop_signal: int = signal.SIGTERM

    def is_ready(self) -> bool:
        return self.probe() if self.probe else is_answering(self.ready_url)

    def start(self, settings: Settings) -> None:
        settings.log_dir.mkdir(parents=True, exist_ok=True)
        # The child keeps its own copy of the file descriptor; ours is closed at once.
        with (settings.log_dir / f"{self.name}.log").open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=paths.PROJECT_ROOT,
                env={**settings.environment(), **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                user=self.user,
                group=self.user,
            )

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if not self.is_running():
            return
        assert self.process is not None
        os.killpg(self.process.pid, self.stop_signal)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
