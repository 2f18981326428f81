"""Demo intervention inventory: ten fictitious but realistic local interventions (insatser) INS01..INS10.

Deterministic (no randomness). The register period of the demo is 2021-01..2024-12; start and end dates lie
inside or around it. INS01 ("Jobbspåret", Supported Employment/IPS) addresses KOMP.SVENSKA, KOMP.MOTIVATION
and KOMP.PUNKTLIGHET; every other intervention addresses at most two codes, so INS01 is the best-aligned
intervention whenever KOMP.SVENSKA is the most demanded code (the only way to lose would be KOMP.SERVICE plus
KOMP.KORKORT, addressed by INS06, outweighing INS01's three codes). Some demanded competencies (driving
licence, customer service) are addressed only by interventions that have ended, so study 2 has coverage gaps
to report.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

import pandas as pd

from insats.tasks.mapping.inventory import INVENTORY_COLUMNS, check_inventory

COMPETENCY_CODES: tuple[str, ...] = (
    "KOMP.SVENSKA",
    "KOMP.PUNKTLIGHET",
    "KOMP.SAMARBETE",
    "KOMP.KORKORT",
    "KOMP.MOTIVATION",
    "KOMP.YRKESKUNSKAP",
    "KOMP.DIGITAL",
    "KOMP.SERVICE",
)

# intervention_id, name, provider, method_family, target_group, start_date, end_date ("" = ongoing),
# capacity, competencies
_ROWS: tuple[tuple[str, str, str, str, str, str, str, int, str], ...] = (
    (
        "INS01",
        "Jobbspåret – Supported Employment (IPS)",
        "kommun",
        "supported_employment",
        "Vuxna med försörjningsstöd som vill ha ett arbete på den öppna arbetsmarknaden",
        "2021-03-01",
        "",
        120,
        "KOMP.SVENSKA;KOMP.MOTIVATION;KOMP.PUNKTLIGHET",
    ),
    (
        "INS02",
        "Samverkanskoordinatorer i Eskilstuna",
        "samordningsforbund",
        "coordinator",
        "Personer med långvarigt försörjningsstöd och behov av samordnat stöd",
        "2020-09-01",
        "2023-06-30",
        60,
        "KOMP.MOTIVATION",
    ),
    (
        "INS03",
        "Bedömningsteamet – gemensam kartläggning av arbetsförmåga",
        "region",
        "joint_assessment",
        "Deltagare med oklar arbetsförmåga som står still i sin planering",
        "2022-01-17",
        "2024-06-28",
        40,
        "KOMP.MOTIVATION;KOMP.SAMARBETE",
    ),
    (
        "INS04",
        "Stegvis framåt – arbete med BIP-indikatorer",
        "samordningsforbund",
        "indicator_work",
        "Unga vuxna 18–29 år med försörjningsstöd",
        "2021-05-03",
        "2024-12-20",
        50,
        "KOMP.SAMARBETE",
    ),
    (
        "INS05",
        "Arbetsträning på Återbruket",
        "kommun",
        "work_practice",
        "Vuxna med försörjningsstöd som står långt från arbetsmarknaden",
        "2019-08-19",
        "",
        80,
        "KOMP.PUNKTLIGHET;KOMP.SAMARBETE",
    ),
    (
        "INS06",
        "Extratjänster i välfärden och föreningslivet",
        "arbetsformedlingen",
        "subsidised_employment",
        "Långtidsarbetslösa och nyanlända inskrivna på Arbetsförmedlingen",
        "2021-01-01",
        "2022-12-31",
        100,
        "KOMP.SERVICE;KOMP.KORKORT",
    ),
    (
        "INS07",
        "Vård- och omsorgsutbildning med yrkessvenska",
        "kommun",
        "education",
        "Nyanlända kvinnor med försörjningsstöd som vill arbeta inom äldreomsorgen",
        "2022-08-15",
        "",
        35,
        "KOMP.YRKESKUNSKAP",
    ),
    (
        "INS08",
        "SFI-intensiv med språkpraktik",
        "kommun",
        "language_training",
        "Nyanlända och utrikes födda med försörjningsstöd och kort tid i Sverige",
        "2021-02-01",
        "",
        90,
        "KOMP.SVENSKA",
    ),
    (
        "INS09",
        "Förstärkt samarbete – arbetslivsinriktad rehabilitering",
        "forsakringskassan",
        "health_rehabilitation",
        "Personer med försörjningsstöd och nedsatt arbetsförmåga på grund av ohälsa",
        "2021-09-01",
        "2024-03-29",
        30,
        "KOMP.MOTIVATION",
    ),
    (
        "INS10",
        "Gränsgångare – digital vägledning i Årby och Lagersberg",
        "samordningsforbund",
        "boundary_worker",
        "Boende i Årby och Lagersberg som behöver stöd att använda myndigheternas e-tjänster",
        "2023-02-06",
        "",
        45,
        "KOMP.DIGITAL",
    ),
)


def make_inventory() -> pd.DataFrame:
    """Return the demo inventory: 10 rows INS01..INS10, columns and dtypes as ``check_inventory`` returns
    them (dates as datetime64[ns], ``end_date`` NaT when ongoing, ``capacity`` Int64, ``competencies`` as a
    ";"-separated string of codebook ids from :data:`COMPETENCY_CODES`)."""
    raw = pd.DataFrame(list(_ROWS), columns=list(INVENTORY_COLUMNS), dtype=object)
    raw["end_date"] = raw["end_date"].replace("", None)
    return check_inventory(raw, source="demo inventory", known_codes=set(COMPETENCY_CODES))


def _file_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Cells as written to files: dates as YYYY-MM-DD text, missing values as None (empty cells)."""
    out = df[list(INVENTORY_COLUMNS)].astype(object)
    for col in ("start_date", "end_date"):
        out[col] = [None if pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d") for v in df[col]]
    out["capacity"] = [None if pd.isna(v) else int(v) for v in df["capacity"]]
    out["target_group"] = [None if pd.isna(v) else str(v) for v in df["target_group"]]
    return out


def write_inventory(df: pd.DataFrame, out_dir: Path) -> dict[str, Path]:
    """Write the inventory as ``out_dir/interventions.csv`` (UTF-8, ``,``, empty cell for a missing value)
    and ``out_dir/interventions.xlsx`` (same cells, sheet "Insatser", dates as YYYY-MM-DD text so both files
    hold identical content; the XLSX is byte-for-byte reproducible). Creates ``out_dir``.
    Returns ``{"csv": path, "xlsx": path}``."""
    from openpyxl import Workbook  # imported here: only needed for writing

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cells = _file_frame(df)
    csv_path = out_dir / "interventions.csv"
    cells.to_csv(csv_path, index=False, encoding="utf-8", lineterminator="\n")

    xlsx_path = out_dir / "interventions.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "Insatser"
    ws.append(list(cells.columns))
    for rec in cells.itertuples(index=False):
        ws.append(list(rec))
    wb.properties.created = _FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    xlsx_path.write_bytes(_normalise_xlsx(buf.getvalue()))
    return {"csv": csv_path, "xlsx": xlsx_path}


_FIXED_TIME = datetime(2024, 1, 1)


def _normalise_xlsx(data: bytes) -> bytes:
    """Make an openpyxl workbook byte-for-byte reproducible: openpyxl stamps the save time into
    docProps/core.xml and into every zip entry, which would change the file (and its hash, which the
    pipeline's caching uses) on every run."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>2024-01-01T00:00:00Z\g<2>",
                    content,
                )
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, content)
    return out.getvalue()
