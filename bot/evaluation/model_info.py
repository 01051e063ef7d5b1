"""What a trained model is: which file, when it was trained, and its components."""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.paths import PROJECT_ROOT

# Run nodes of the predict graph are named after their component and its position; a custom
# component's name is its dotted module path ("run_bot.nlu.red_flags.RedFlagDetector8").
COMPONENT_NODE = re.compile(r"run_(?:\w+\.)*(\w+?)\d+$")


def sha256_prefix(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:12]


def read_metadata(path: Path) -> dict[str, Any]:
    with tarfile.open(path) as archive:
        member = archive.extractfile("metadata.json")
        metadata: dict[str, Any] = json.load(member) if member else {}
    return metadata


def display_path(path: Path) -> str:
    resolved = path.resolve()
    return (
        str(resolved.relative_to(PROJECT_ROOT))
        if resolved.is_relative_to(PROJECT_ROOT)
        else str(path)
    )


def describe_model(path: Path) -> dict[str, Any]:
    """The model's path, hash, file time, training time and its NLU components and policies."""
    metadata = read_metadata(path)
    nodes = metadata.get("predict_schema", {}).get("nodes", {})
    components = [m.group(1) for name in nodes if (m := COMPONENT_NODE.match(name))]
    return {
        "path": display_path(path),
        "sha256": sha256_prefix(path),
        "file_time": datetime.fromtimestamp(path.stat().st_mtime).isoformat(timespec="seconds"),
        "trained_at": str(metadata.get("trained_at", ""))[:19],
        "rasa": metadata.get("rasa_open_source_version", ""),
        "components": components,
    }
