"""A binary (non-UTF-8) hierarchy file is a clear error naming the file and row, never a traceback,
in `Hierarchy.read_arx_csv` and in `iplos assess` / `iplos anonymise`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from iplos.catalog.hierarchy import Hierarchy
from iplos.cli import app
from iplos.errors import IplosError


@pytest.fixture
def binary(tmp_path: Path) -> Path:
    path = tmp_path / "kjonn.csv"
    path.write_bytes(b"1;*\n2;\xff\xfe\x00\x01*\n")
    return path


def test_read_names_file_and_row(binary: Path) -> None:
    with pytest.raises(IplosError) as info:
        Hierarchy.read_arx_csv(binary)
    assert "not UTF-8" in info.value.message and str(binary) in info.value.message
    assert info.value.problems[0].row == 2


def test_nul_bytes_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_bytes(b"1;*\n2;\x00*\n")
    with pytest.raises(IplosError, match="NUL"):
        Hierarchy.read_arx_csv(path)


@pytest.mark.parametrize("command", ["assess", "anonymise"])
def test_cli_gives_a_clear_error(command: str, binary: Path, tmp_path: Path) -> None:
    data = tmp_path / "x.csv"
    pd.DataFrame({"kjonn": ["1", "2", "1"], "alder": ["80", "81", "80"]}).to_csv(data, index=False)
    args = [command, str(data), "--qi", f"kjonn={binary}"]
    if command == "anonymise":
        args += ["--k", "2", "--out", str(tmp_path / "out.csv")]
    result = CliRunner().invoke(app, args)
    # `iplos.cli.main` prints an IplosError as one clear message (exit 2) instead of a traceback
    assert isinstance(result.exception, IplosError), result.exception
    assert "not UTF-8" in str(result.exception) and "row 2" in str(result.exception)
