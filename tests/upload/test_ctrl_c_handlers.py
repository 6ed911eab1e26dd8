"""An upload's own Ctrl-C handling (stop sending, finish the calls in flight) lasts as long as
the upload: after it, Ctrl-C does what it did before, so ``apply`` can still say what its
campaigns did, and a host that handled Ctrl-C in its loop is not left with a signal that does
nothing."""

from __future__ import annotations

import subprocess
import sys
import textwrap

RUN = textwrap.dedent(
    """
    import asyncio, io, os, signal, sys
    from ctflow.upload.runner import _GracefulStop

    class Engine:
        stopping = False

    async def main(host_handler):
        loop = asyncio.get_running_loop()
        if host_handler:
            loop.add_signal_handler(signal.SIGINT, lambda: None)
        with _GracefulStop(Engine(), io.StringIO()):
            pass
        os.kill(os.getpid(), signal.SIGINT)
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            return "cancelled: the command can still report"
        return "ignored"

    try:
        print(asyncio.run(main(sys.argv[1] == "host")))
    except KeyboardInterrupt:
        print("KeyboardInterrupt")
    """
)


def _ctrl_c_after_an_upload(host: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", RUN, host], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_after_an_upload_ctrl_c_cancels_the_command_as_asyncio_does() -> None:
    assert _ctrl_c_after_an_upload("none") == "cancelled: the command can still report"


def test_a_host_that_handled_ctrl_c_in_its_loop_is_not_left_deaf_to_it() -> None:
    assert _ctrl_c_after_an_upload("host") == "KeyboardInterrupt"
