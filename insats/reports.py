"""Turning a rendered HTML report into PDF with Debian's headless chromium (no network, no browser download)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from insats.storage import atomic_path

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-pdf-header-footer",
)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise FileNotFoundError(
            "PDF output needs chromium (Debian: apt-get install chromium); the HTML brief is complete"
        )
    return found


def print_pdf(html: Path, timeout: int = 120) -> Path:
    """Print ``html`` to ``<same name>.pdf`` beside it, atomically. Raises if chromium fails or is missing."""
    target = html.with_suffix(".pdf")
    with tempfile.TemporaryDirectory() as profile, atomic_path(target) as tmp:
        proc = subprocess.run(
            [
                chromium(),
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--print-to-pdf={tmp}",
                html.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if proc.returncode != 0 or not tmp.is_file() or tmp.stat().st_size == 0:
            raise RuntimeError(f"chromium could not print {html} to PDF: {proc.stderr.strip()[-300:]}")
    return target
