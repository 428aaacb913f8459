"""Exporting an experiment's results for analysts: one tidy row per (variant, replication, seed, metric).

``coopsim compare ... --export results.csv`` writes CSV with the standard
library; ``.parquet`` needs pandas and pyarrow (``pip install 'coopsim[parquet]'``).
An export never replaces a file that is already there: nothing of the user's
is overwritten. The file is written whole or not at all (a temporary file,
then a rename).
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

from coopsim.engine.scenario.files import write_text

if TYPE_CHECKING:
    from coopsim.engine.experiments.comparison import Comparison

COLUMNS = ("variant", "replication", "seed", "metric", "value")
FORMATS = (".csv", ".parquet")


class ExportError(Exception):
    """An export that cannot be written: an unknown format, a file already there, a missing library."""


class PandasMissing(ExportError, ModuleNotFoundError):
    """pandas (or pyarrow) is needed and not installed."""


def to_pandas(result: Comparison):
    """The tidy rows as a pandas DataFrame.

    Raises:
        PandasMissing: pandas is not installed.
    """
    try:
        import pandas as pd
    except ModuleNotFoundError:
        raise PandasMissing("pandas is not installed (expected: pip install 'coopsim[pandas]')") from None
    return pd.DataFrame(result.rows, columns=list(COLUMNS))


def export_target(path: str | os.PathLike) -> Path:
    """``path`` as an export target, checked before any work is done.

    Raises:
        ExportError: an unknown suffix, a file already there, or no such directory.
    """
    path = Path(path)
    if path.suffix not in FORMATS:
        raise ExportError(f"{path}: cannot export to {path.suffix or 'a file without a suffix'} (expected a .csv or .parquet file)")
    if path.exists():
        raise ExportError(f"{path}: a file is already there and will not be replaced (expected a new file name)")
    if not path.parent.is_dir():
        raise ExportError(f"{path}: no such directory {path.parent} (expected an existing directory)")
    return path


def export(result: Comparison, path: str | os.PathLike) -> Path:
    """Write the tidy rows to ``path`` (.csv or .parquet); returns the path.

    Raises:
        ExportError: an unknown suffix, a file already at ``path``, or pyarrow missing for Parquet.
    """
    path = export_target(path)
    if path.suffix == ".csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in result.rows:
            writer.writerow(["" if row[c] is None else row[c] for c in COLUMNS])
        write_text(path, buffer.getvalue())
        return path
    frame = to_pandas(result)
    try:
        import pyarrow  # noqa: F401
    except ModuleNotFoundError:
        raise PandasMissing("pyarrow is not installed, so Parquet cannot be written (expected: pip install 'coopsim[parquet]')") from None
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return path
