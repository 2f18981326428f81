"""The stages of benchmarks/evaluation_scale.py (generate, evaluate, peers), each run in its own process by
that script; see its docstring for what each stage times, with which settings, and the fairness rules of the
peer comparisons."""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

INTERVENTION = "INS01"
HORIZON = 12
WINDOW = 3
FIRST_MONTH = "2021-01"


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB -> GiB


class Timer:
    def __init__(self) -> None:
        self.rows: list[dict] = []

    def run(self, name: str, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        seconds = time.perf_counter() - t0
        self.rows.append({"stage": name, "seconds": round(seconds, 2), "peak_rss_gb": round(_peak_gb(), 2)})
        print(f"  {name:<34} {seconds:8.2f} s   peak RSS so far {_peak_gb():6.2f} GB", flush=True)
        return out


def _last_month(n_months: int) -> str:
    return str(pd.Period(FIRST_MONTH, freq="M") + n_months - 1)


def generate(args: argparse.Namespace) -> dict:
    from insats.demo.register import make_register, write_register

    raw = Path(args.workdir) / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    timer = Timer()
    frames, truth = timer.run(
        "make_register", make_register, seed=args.seed, n_persons=args.persons, n_months=args.months
    )
    if args.format == "sav":
        timer.run("write .sav", write_register, frames, raw)
    else:
        for kind, df in frames.items():
            timer.run(f"write {kind}.parquet", df.to_parquet, raw / f"{kind}.parquet", index=False)
    spells = frames["spells"]
    n_treated = int((spells["insats_id"] == INTERVENTION).sum())
    info = {
        "persons": args.persons,
        "months": args.months,
        "person_months": args.persons * args.months,
        "assistance_rows": len(frames["assistance"]),
        "ins01_spells": n_treated,
        "true_att_12m": truth["true_att_self_sufficiency_12m"],
        "generate_stages": timer.rows,
        "generate_peak_rss_gb": round(_peak_gb(), 2),
    }
    (Path(args.workdir) / "generate.json").write_text(json.dumps(info, indent=1, default=float), encoding="utf-8")
    return info


def evaluate(args: argparse.Namespace) -> dict:
    import yaml

    from insats.tasks.evaluation.balance import balance_table
    from insats.tasks.evaluation.design import covariate_columns, first_starts, sequential_matching_sample
    from insats.tasks.evaluation.estimators import PropensityScoreMatching
    from insats.tasks.evaluation.event_study import event_study
    from insats.tasks.evaluation.panel import build_person_month_panel
    from insats.tasks.evaluation.survival import cox_model, kaplan_meier, matched_survival_data
    from insats.tasks.register.pseudonymise import load_key, pseudonymise
    from insats.tasks.register.readers import read_extract
    from insats.tasks.register.standardise import standardise

    work = Path(args.workdir)
    raw, interim, out = work / "raw", work / "interim", work / "tables"
    interim.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((ROOT / "configs" / "demo.yaml").read_text(encoding="utf-8"))
    columns = config["register"]["columns"]
    key = load_key(demo=True)
    timer = Timer()
    t_start = time.perf_counter()

    def ingest(kind: str) -> Path:
        src = raw / f"{kind}.{args.format}"
        df = read_extract(src)
        df = standardise(df, kind, columns[kind], source=str(src))
        df = pseudonymise(df, key)
        path = interim / f"{kind}.parquet"
        df.to_parquet(path, index=False)
        return path

    paths = {
        kind: timer.run(f"ingest {kind}", ingest, kind) for kind in ("persons", "assistance", "spells", "outcomes")
    }
    tables = timer.run("read interim parquet", lambda: {k: pd.read_parquet(p) for k, p in paths.items()})
    panel = timer.run(
        "panel",
        build_person_month_panel,
        tables["persons"],
        tables["assistance"],
        tables["outcomes"],
        FIRST_MONTH,
        _last_month(args.months),
    )
    spells = tables.pop("spells")
    del tables
    sample = timer.run(
        "design (sequential sample)",
        sequential_matching_sample,
        panel,
        spells,
        INTERVENTION,
        horizon=HORIZON,
        window=WINDOW,
    )
    covariates = covariate_columns(sample)
    psm = PropensityScoreMatching(exact="month")  # the study's setting (the class default is no exact matching)
    estimate = timer.run("PSM (fit, match, AI SE)", psm.estimate, sample, covariates, "self_sufficient")
    balance = timer.run("balance table", balance_table, sample, covariates, pairs=estimate.pairs)
    starts = first_starts(spells, INTERVENTION)
    es = timer.run("event study (CS, -12..+24)", event_study, panel, starts, "on_assistance", 12, 24, "not_yet_treated")

    def survival() -> tuple[pd.DataFrame, pd.DataFrame]:
        data = matched_survival_data(sample, estimate.pairs, panel, k=WINDOW, max_months=36, starts=starts)
        return kaplan_meier(data), cox_model(data).table

    km, cox = timer.run("survival (KM + Cox)", survival)

    def write_tables() -> None:
        pd.DataFrame([estimate.to_record()]).to_parquet(out / "effects.parquet", index=False)
        balance.to_parquet(out / "balance.parquet", index=False)
        es.coefficients.to_parquet(out / "event_study.parquet", index=False)
        km.to_parquet(out / "km.parquet", index=False)
        cox.to_parquet(out / "cox.parquet", index=False)

    timer.run("write tables", write_tables)
    total = time.perf_counter() - t_start
    # For the peers: the sample with the score, and the panel columns the event study uses.
    sample.assign(ps_logit=psm.score_.to_numpy()).to_parquet(work / "sample.parquet", index=False)
    panel[["person_id", "month", "on_assistance"]].to_parquet(work / "panel.parquet", index=False)
    starts.rename("start_date").to_frame().to_parquet(work / "starts.parquet")
    info = {
        "evaluate_total_seconds": round(total, 1),
        "evaluate_peak_rss_gb": round(_peak_gb(), 2),
        "sample_rows": len(sample),
        "sample_treated": int(sample["treated"].sum()),
        "att": estimate.att,
        "se": estimate.se,
        "n_matched_treated": estimate.n_matched_treated,
        "psm_estimator": estimate.estimator,
        "event_study_post_att": es.overall["att"],
        "cox_hr": float(cox["hazard_ratio"].iloc[0]),
        "evaluate_stages": timer.rows,
    }
    (work / "evaluate.json").write_text(json.dumps(info, indent=1, default=float), encoding="utf-8")
    print(json.dumps({k: v for k, v in info.items() if k != "evaluate_stages"}, default=float), flush=True)
    return info


def _greedy_reference(score: np.ndarray, treated: np.ndarray, caliper: float) -> dict[int, int]:
    """Brute force: treated in descending score order, each takes the nearest unused control within caliper."""
    ctrl = np.flatnonzero(~treated)
    free = np.ones(ctrl.size, dtype=bool)
    c_score = score[ctrl]
    pairs: dict[int, int] = {}
    for i in np.flatnonzero(treated)[np.argsort(-score[treated], kind="stable")]:
        dist = np.where(free, np.abs(c_score - score[i]), np.inf)
        j = int(np.argmin(dist))
        if dist[j] <= caliper:
            pairs[int(i)] = int(ctrl[j])
            free[j] = False
    return pairs


def peers(args: argparse.Namespace) -> dict:
    from insats.tasks.evaluation.estimators import fit_logit, nearest_neighbour_match
    from insats.tasks.evaluation.event_study import event_study
    from insats.tasks.evaluation.panel_matrix import start_month_index
    from insats.tasks.evaluation.twfe_event_study import twfe_event_study

    work = Path(args.workdir)
    info: dict = {}
    rng = np.random.default_rng(args.seed)

    # (a) Matching without replacement on a subsample of the design sample.
    sample = pd.read_parquet(work / "sample.parquet")
    take = np.sort(rng.choice(len(sample), size=min(args.match_rows, len(sample)), replace=False))
    sub = sample.iloc[take].reset_index(drop=True)
    covariates = [c for c in sub.columns if c.startswith(("asst_", "employed_months", "age", "female", "born_abroad"))]
    covariates += [c for c in sub.columns if c.startswith(("education_", "household_type_", "municipality_"))]
    covariates = [c for c in covariates if sub[c].nunique() > 1]
    treated = sub["treated"].to_numpy() == 1
    # All dummy levels are included (collinear with the intercept): the penalised logit this benchmark always used.
    score = fit_logit(sub[covariates].to_numpy(dtype=float), treated, penalty_c=1e4)
    pooled_sd = float(np.sqrt((score[treated].var() + score[~treated].var()) / 2))
    caliper = 0.2 * pooled_sd
    # Treated first in descending score order, so causalml (shuffle=False) processes them like the others.
    order = np.argsort(-score * treated, kind="stable")
    sub, score, treated = sub.iloc[order].reset_index(drop=True), score[order], treated[order]
    info["match_rows"] = len(sub)
    info["match_treated"] = int(treated.sum())

    has_replace = "replace" in inspect.signature(nearest_neighbour_match).parameters
    one_stratum = np.zeros(len(sub), np.int64)
    kwargs = {"replace": False} if has_replace else {}  # older estimators.py: only with replacement
    nearest_neighbour_match(score, treated, one_stratum, caliper, **kwargs)  # warm-up, untimed
    ours_s = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        ours = nearest_neighbour_match(score, treated, one_stratum, caliper, **kwargs)
        ours_s.append(time.perf_counter() - t0)
    info["ours_match_seconds"] = statistics.median(ours_s)
    print("  matching: ours done", flush=True)
    info["ours_match_variant"] = "nearest_neighbour_match(replace=False)" if has_replace else "with replacement"
    ours_pairs = dict(zip(ours["treated_pos"].tolist(), ours["control_pos"].tolist(), strict=True))

    t0 = time.perf_counter()
    ref_pairs = _greedy_reference(score, treated, caliper)
    info["greedy_seconds"] = time.perf_counter() - t0

    try:
        from causalml.match import NearestNeighborMatch

        frame = pd.DataFrame({"treated": treated.astype(int), "score": score})
        matcher = NearestNeighborMatch(caliper=caliper / float(np.std(score)), replace=False, ratio=1, shuffle=False)
        t0 = time.perf_counter()
        matcher.match(frame, "treated", ["score"])
        info["causalml_match_seconds"] = time.perf_counter() - t0
        print("  matching: causalml done", flush=True)
        cm = matcher.matched_indexes_
        cm_pairs = dict(zip(cm["from"].astype(int).tolist(), cm["to"].astype(int).tolist(), strict=True))
    except ImportError as exc:
        info["causalml_match_seconds"] = float("nan")
        info["causalml_error"] = str(exc)
        cm_pairs = {}

    def agreement(a: dict[int, int], b: dict[int, int], same_score: bool = False) -> float:
        """Share of treated (matched by either) with the same control, or (``same_score``) a control with the
        same score: many rows share a score (discrete covariates), and which of them is taken is arbitrary."""
        keys = set(a) | set(b)
        if same_score:
            hits = sum(k in a and k in b and score[a[k]] == score[b[k]] for k in keys)
        else:
            hits = sum(a.get(k) == b.get(k) for k in keys)
        return hits / max(len(keys), 1)

    y = sub["self_sufficient"].to_numpy(dtype=float)

    def att(p: dict[int, int]) -> float:
        return float(np.mean([y[t] - y[c] for t, c in p.items()])) if p else float("nan")

    info.update(
        n_pairs_ours=len(ours_pairs),
        n_pairs_greedy=len(ref_pairs),
        n_pairs_causalml=len(cm_pairs),
        agree_ours_greedy=agreement(ours_pairs, ref_pairs),
        agree_ours_causalml=agreement(ours_pairs, cm_pairs) if cm_pairs else float("nan"),
        agree_score_ours_greedy=agreement(ours_pairs, ref_pairs, same_score=True),
        agree_score_ours_causalml=agreement(ours_pairs, cm_pairs, same_score=True) if cm_pairs else float("nan"),
        att_ours=att(ours_pairs),
        att_greedy=att(ref_pairs),
        att_causalml=att(cm_pairs),
    )
    del sample, sub

    # (b) Event study, the SAME model on the same rows: dynamic TWFE (relative months -12..+24, the ends binned,
    # -1 omitted; person and calendar-month fixed effects; SEs clustered by person, CR0): the project's
    # twfe_event_study vs pyfixest feols. The project's headline Callaway-Sant'Anna estimator is a different
    # model: timed once for information, no ratio.
    panel = pd.read_parquet(work / "panel.parquet")
    if args.es_persons:  # same subset for both: the first N persons of the panel
        codes = pd.factorize(panel["person_id"])[0]
        panel = panel[codes < args.es_persons].reset_index(drop=True)
    starts = pd.read_parquet(work / "starts.parquet")["start_date"]
    p_codes, ids = pd.factorize(panel["person_id"])
    m_codes, months = pd.factorize(panel["month"], sort=True)
    g = start_month_index(starts, pd.Index(np.asarray(ids)), pd.DatetimeIndex(months))[p_codes]
    keep = g >= 1  # starts in the first month or before the panel: no pre-period; dropped for both
    panel, p_codes, m_codes, g = panel[keep].reset_index(drop=True), p_codes[keep], m_codes[keep], g[keep]
    info["event_study_rows"] = len(panel)
    ours_s, twfe = [], None
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        twfe = twfe_event_study(panel, starts, "on_assistance", 12, 24)
        ours_s.append(time.perf_counter() - t0)
    info["ours_twfe_seconds"] = statistics.median(ours_s)
    t0 = time.perf_counter()
    es = event_study(panel, starts, "on_assistance", 12, 24, "not_yet_treated")
    info["ours_cs_seconds_other_model"] = time.perf_counter() - t0
    info["ours_cs_att_e0"] = float(es.coefficients.set_index("rel_month").loc[0, "att"])
    try:
        import pyfixest as pf

        ever = g < len(months)
        data = pd.DataFrame(
            {
                "y": panel["on_assistance"].to_numpy(dtype=np.float64),
                "person_id": p_codes,
                "month": m_codes,
                "rel_month": np.where(ever, np.clip(m_codes - g, -12, 24), -1).astype(np.int64),  # never: ref
            }
        )
        del panel
        their_s = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            fit = pf.feols(
                "y ~ i(rel_month, ref=-1) | person_id + month",
                data=data,
                vcov={"CRV1": "person_id"},
                ssc=pf.ssc(k_adj=False, G_adj=False),  # CR0, as ours
            )
            coef, se = fit.coef(), fit.se()
            their_s.append(time.perf_counter() - t0)
        info["pyfixest_twfe_seconds"] = statistics.median(their_s)
        rel = [int(re.search(r"(-?\d+)\]?$", name).group(1)) for name in coef.index]
        theirs = pd.DataFrame({"rel_month": rel, "att": coef.to_numpy(), "se": se.to_numpy()}).set_index("rel_month")
        both = twfe.set_index("rel_month").join(theirs, rsuffix="_pyfixest", how="outer")
        info["twfe_max_abs_coef_diff"] = float((both["att"] - both["att_pyfixest"]).abs().max())
        info["twfe_max_abs_se_diff"] = float((both["se"] - both["se_pyfixest"]).abs().max())
        print("  pyfixest feols done", flush=True)
        if args.did2s:
            data["g"] = np.where(ever, g, 0)
            data["d"] = (ever & (data["rel_month"] >= 0)).astype(np.int64)
            t0 = time.perf_counter()
            pf.did2s(
                data,
                yname="y",
                first_stage="~ 0 | person_id + month",
                second_stage="~ i(rel_month, ref=-1)",
                treatment="d",
                cluster="person_id",
            )
            info["pyfixest_did2s_seconds_other_model"] = time.perf_counter() - t0
    except ImportError as exc:
        info["pyfixest_error"] = str(exc)
    info["peers_peak_rss_gb"] = round(_peak_gb(), 2)
    info["load_after"] = os.getloadavg()[0]
    (work / "peers.json").write_text(json.dumps(info, indent=1, default=float), encoding="utf-8")
    print(json.dumps(info, default=float), flush=True)
    return info
