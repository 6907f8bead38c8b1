import subprocess
import sys

from zeroforge.cli import COMMANDS, main


def test_help_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)
    assert main(["no-such-command"]) == 2


def test_closed_stdout_is_not_a_traceback(tmp_path):
    """`zeroforge ... | head` must end quietly when the reader goes away."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "zeroforge.cli", "data", "inspect", "data/sample"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # before the command has printed anything
    _, err = proc.communicate(timeout=120)
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
    assert proc.returncode == 141
