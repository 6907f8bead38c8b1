"""A run whose stdout is not a terminal prints plain progress lines and no third-party noise."""

import io
import logging
import re

import pytest

from tests.train.chunks import train_args, write_chunks
from zeroforge.commands.train import main
from zeroforge.train.console import progress_mode


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_mode():
    assert progress_mode("auto", Terminal()) == "bar"
    assert progress_mode("auto", io.StringIO()) == "lines"
    assert progress_mode(True) == "bar" and progress_mode(False) == "none"
    assert progress_mode("lines", Terminal()) == "lines"
    with pytest.raises(ValueError, match="train.progress"):
        progress_mode("sometimes")


def test_a_run_in_a_pipe_prints_lines_and_no_noise(tmp_path, capsys, caplog, recwarn):
    chunks = write_chunks(tmp_path / "chunks", files=1, positions=200)
    args = ["train.progress=auto", "train.print_every=2", "data.val_fraction=0.1"]
    args += ["train.val_every=4", "data.val_batches=1", "train.export_every=0"]
    caplog.set_level(logging.INFO)
    assert main(train_args(chunks, tmp_path / "run", 4, *args)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("step 2/4  loss ") and "samples/s" in lines[0]
    assert lines[1].startswith("step 4/4  loss ")
    assert lines[2].startswith("step 4  validation loss ")
    assert all(
        re.search(r"loss [\d.]+ \(policy [\d.]+, value [\d.]+\)", line) for line in lines[:3]
    )
    assert lines[3].startswith("final network: ") and len(lines) == 4  # no bar, nothing redrawn
    assert "the last 10% of the positions of each of the 1 training file(s)" in caplog.text
    assert "GPU available" in caplog.text  # Lightning's own lines still come through
    assert "litlogger" not in caplog.text and "Tip" not in caplog.text
    assert not [w for w in recwarn if "LeafSpec" in str(w.message)]
