"""Writing an ``EvaluationResult``: tables (CSV), figures (PNG), a one-page report (Markdown and HTML) using
the data set's variable and value labels, and ``manifest.json`` (input sha256, the call's parameters, code
version and package versions, a sha256 per output file), all swapped into the output folder at once."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from insats.evaluate.api import EvaluationResult

MANIFEST_KIND = "insats evaluate"
EFFECT_COLUMNS = ["estimator", "att", "se", "ci_low", "ci_high", "p_value", "variance_method"]
BALANCE_COLUMNS = ["estimator", "covariate", "smd_before", "smd_after", "var_ratio_before", "var_ratio_after"]


def _fmt(v: Any) -> str:
    if isinstance(v, float | np.floating):
        if not np.isfinite(v):
            return ""
        return f"{v:.1f}" if abs(v) >= 1e4 else f"{v:.5g}"
    return str(v)


def _md_table(df: pd.DataFrame) -> str:
    if df.empty:
        return "(none)\n"
    head = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(_fmt(v).replace("|", "/") for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *body]) + "\n"


def _value_text(result: EvaluationResult, column: str | None) -> str:
    labels = result.dataset.value_labels.get(column or "", {})
    return "; ".join(f"{k} = {v}" for k, v in labels.items())


def tables(result: EvaluationResult) -> dict[str, pd.DataFrame]:
    """The report's tables by file stem (effects always; balance/overlap or the DiD tables)."""
    out = {"effects": result.effects}
    if not result.balance.empty:
        out["balance"] = result.balance.assign(
            covariate_label=[result.dataset.term_label(c) for c in result.balance["covariate"]]
        )
    if not result.overlap.empty:
        out["overlap"] = result.overlap
    if not result.did_group_time.empty:
        out["did_group_time"] = result.did_group_time
        out["did_aggregates"] = result.did_aggregates
    return out


def markdown_report(result: EvaluationResult) -> str:
    """The one-page report as Markdown (figures referenced by file name)."""
    p, ds, c = result.parameters, result.dataset, result.counts
    lines = ["# Effect evaluation", ""]
    lines.append(f"Data: {ds.source.name if ds.source else 'a data frame'}; {c.get('n_rows', 0)} rows read. ")
    lines.append("Counts: " + ", ".join(f"{k} {v}" for k, v in c.items()) + ".")
    lines += ["", "## Specification", ""]
    if p.get("treatment"):
        vt = _value_text(result, p["treatment"])
        lines.append(f"- Treatment: {ds.label(p['treatment'])}" + (f" [{vt}]" if vt else ""))
    vo = _value_text(result, p["outcome"])
    lines.append(f"- Outcome: {ds.label(p['outcome'])}" + (f" [{vo}]" if vo else ""))
    if result.covariates:
        lines.append("- Covariates: " + "; ".join(ds.term_label(t) for t in result.covariates))
    if p.get("formula"):
        lines.append(f"- Formula: `{p['formula']}`")
    if p["design"] == "did":
        lines.append(
            f"- Design: Callaway-Sant'Anna DiD, time {ds.label(p['time'])}, group {p['group'] or '(2x2)'}, unit "
            f"{p['unit'] or '(repeated cross-sections)'}, comparison {p['control_group']}, "
            f"base period {p['base_period']}"
        )
    else:
        caliper = "none" if p["caliper"] is None else f"{p['caliper']} SD of the propensity logit"
        lines.append(
            f"- Estimators: {p['estimator']}; matching 1:1 {'with' if p['replace'] else 'without'} replacement, "
            f"caliper {caliper}; exact on {', '.join(p['exact'] or []) or 'nothing'}; clusters {p['cluster'] or 'rows'}"
        )
    lines += [
        "",
        "## Effects (ATT, 95 % CI)",
        "",
        _md_table(result.effects[[c for c in EFFECT_COLUMNS if c in result.effects]]),
    ]
    if not result.balance.empty:
        bal = tables(result)["balance"]
        bal = bal.assign(covariate=bal["covariate_label"])[BALANCE_COLUMNS]
        lines += ["## Balance (standardised mean differences, variance ratios)", "", _md_table(bal)]
    if not result.did_aggregates.empty:
        lines += ["## DiD aggregates", "", _md_table(result.did_aggregates)]
    for name in result.figures:
        lines += [f"![{name}]({name}.png)", ""]
    if result.notes:
        lines += ["## Notes", "", *[f"- {n}" for n in result.notes], ""]
    return "\n".join(lines)


def html_report(result: EvaluationResult) -> str:
    """The same page as self-contained HTML (tables as HTML, figures linked)."""
    body = []
    for block in markdown_report(result).split("\n\n"):
        text = block.strip()
        if text.startswith("| "):
            rows = [r.strip("|").split("|") for r in text.splitlines() if not r.startswith("|---")]
            cells = "".join(
                "<tr>"
                + "".join(
                    f"<{'th' if i == 0 else 'td'}>{html.escape(v.strip())}</{'th' if i == 0 else 'td'}>" for v in r
                )
                + "</tr>"
                for i, r in enumerate(rows)
            )
            body.append(f"<table>{cells}</table>")
        elif text.startswith("#"):
            level = len(text) - len(text.lstrip("#"))
            body.append(f"<h{level}>{html.escape(text.lstrip('# '))}</h{level}>")
        elif text.startswith("!["):
            name = text[text.index("(") + 1 : text.index(")")]
            body.append(f'<img src="{html.escape(name)}" alt="{html.escape(name)}" style="max-width:100%">')
        elif text.startswith("- "):
            body.append("<ul>" + "".join(f"<li>{html.escape(li[2:])}</li>" for li in text.splitlines()) + "</ul>")
        elif text:
            body.append(f"<p>{html.escape(text)}</p>")
    style = (
        "body{font-family:sans-serif;max-width:60em;margin:1em auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%}"
    )
    head = f'<meta charset="utf-8"><title>Effect evaluation</title><style>{style}</style>'
    return f"<!doctype html><html><head>{head}</head><body>{''.join(body)}</body></html>\n"


def write_result(result: EvaluationResult, out: str | Path) -> Path:
    """Write everything into ``out`` atomically (a folder swapped in whole). Refuses to replace a folder
    that exists, is not empty and was not written by ``insats evaluate`` (no such ``manifest.json``)."""
    from insats.provenance import checksum_inputs, code_version, package_versions, sha256_file
    from insats.storage import publish_folder

    out = Path(out)
    if out.exists() and any(out.iterdir()):
        manifest = out / "manifest.json"
        kind = json.loads(manifest.read_text(encoding="utf-8")).get("kind") if manifest.is_file() else None
        if kind != MANIFEST_KIND:
            raise ValueError(f"refusing to replace {out}: it is not empty and not an earlier `insats evaluate` output")
    source = result.dataset.source

    def fill(folder: Path) -> None:
        for name, df in tables(result).items():
            df.to_csv(folder / f"{name}.csv", index=False)
        for name, png in result.figures.items():
            (folder / f"{name}.png").write_bytes(png)
        (folder / "report.md").write_text(markdown_report(result), encoding="utf-8")
        (folder / "report.html").write_text(html_report(result), encoding="utf-8")
        files = sorted(p for p in folder.iterdir() if p.is_file())
        manifest = {
            "kind": MANIFEST_KIND,
            "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "inputs": checksum_inputs([source.resolve()])
            if source
            else [{"path": None, "note": "in-memory data frame"}],
            "parameters": result.parameters,
            "counts": result.counts,
            "code": code_version(),
            "packages": package_versions(),
            "outputs": [{"file": f.name, "bytes": f.stat().st_size, "sha256": sha256_file(f)} for f in files],
        }
        (folder / "manifest.json").write_text(
            json.dumps(manifest, indent=2, default=str, ensure_ascii=False) + "\n", encoding="utf-8"
        )

    return publish_folder(out, fill)
