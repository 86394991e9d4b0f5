"""The injectable clock the sandbox tests hand to a sandbox: real time until a test moves it forward."""
import time


class Clock:
    """Injectable clock: real time until a test moves it forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds
