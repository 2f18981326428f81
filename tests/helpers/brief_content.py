"""Constants and HTML-scraping helpers shared by the seminar-brief tests (tests/tasks/reporting)."""

from __future__ import annotations

import base64
import re

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# The limits study 2 publishes with each candidate (insats.tasks.mapping.candidates.CANDIDATE_COLUMNS).
RULES = {"min_treated": 100, "min_comparison": 50, "max_mde": 0.15, "support": "none", "min_alignment": 0.2,
         "min_positive_studies": 1}  # fmt: skip


def _cells(html: str, column: str) -> list[str]:
    return re.findall(rf'<td data-col="{column}"[^>]*>([^<]*)</td>', html)


SMALL = re.compile(r"(?<![\d.,])[1-4](?![\d.,])")  # a standalone number 1..4


def _images(html: str) -> list[bytes]:
    return [base64.b64decode(s, validate=True) for s in re.findall(r'<img src="data:image/png;base64,([^"]+)"', html)]


SHA = {k: k * 64 for k in "0123456789"}


def _part(html: str, anchor: str) -> str:
    """The HTML of the element opened by ``id="<anchor>"`` up to the next heading of the same or a higher level."""
    rest = html.split(f'id="{anchor}"', 1)[1]
    return re.split(r'<(?:section|div) id="|</section>', rest, maxsplit=1)[0]
