"""Scale benchmark of study 3 (outcome evaluation) at national size, with peers side by side.

Stages, each in its own process so that peak memory (ru_maxrss) is per stage group:

1. ``generate``: demo register (``insats.demo.register.make_register``) at ``--persons`` x ``--months``, written as
   the chain's raw extract (SPSS ``.sav`` with value labels, or ``--format parquet``). Not part of the timing.
2. ``evaluate``: the whole evaluation of one intervention (INS01) at one horizon (12 months), from the raw extract
   to the tables: read, standardise (demo config's column map), pseudonymise (keyed HMAC), write/read interim
   Parquet, person-month panel, sequential matching sample, propensity-score matching (the project's default
   ``PropensityScoreMatching``: 1:1 with replacement, caliper 0.2 SD, exact on month, Abadie-Imbens SE) with the
   balance table, the Callaway-Sant'Anna event study (-12..+24) and the survival analysis (KM + Cox). Prints the
   time per stage, the total, and the peak RSS of the process.
3. ``peers`` (run with a Python that has the ``bench`` extra: pyfixest, causalml): on the same data,
   (a) 1:1 matching WITHOUT replacement on ``--match-rows`` rows of the design sample: the project's
   ``nearest_neighbour_match(replace=False)``, causalml ``NearestNeighborMatch(replace=False, shuffle=False)`` and a
   brute-force greedy reference; times and matched-pair agreement; (b) the event study as ONE model on both sides:
   dynamic TWFE, ours (``twfe_event_study``) vs pyfixest ``feols("y ~ i(rel_month, ref=-1) | person_id + month")``;
   times and the largest coefficient and SE differences. The project's Callaway-Sant'Anna event study (its headline
   estimator) and, with ``--did2s``, pyfixest's ``did2s`` are other models: timed for information, never a ratio.
   (Matching WITH replacement against causalml: ``benchmarks/matching_peers.py``.)

Fairness rules of the peer comparisons (``peers``)
--------------------------------------------------
* Same inputs: the sample and panel that ``evaluate`` wrote, read from Parquet by each side's stage. Matching: the
  same float64 logit score and treated flags, one stratum; event study: the same person-month rows, after dropping
  the persons who started in the panel's first month or before it (no pre-period), for both.
* Same configuration: matching: 1:1, without replacement, the same absolute caliper (0.2 pooled SDs of the score;
  causalml is given it in its unit, SDs of the score), treated taken in descending score order by all three
  (causalml ``shuffle=False`` on rows sorted so). Event study: the same model, dynamic TWFE with relative months
  -12..+24 (the ends binned, -1 the reference, never-treated rows all in the reference), person and calendar-month
  fixed effects, SEs clustered by person without small-sample factors (CR0; pyfixest ``ssc(k_adj=False,
  G_adj=False)``).
* Same outputs produced: matching: the (treated, control) pairs (compared: same control, same control score, ATT);
  event study: coefficients and SEs per relative month (compared: largest absolute difference).
* What is timed: the estimator call from data in memory to its outputs. Ours includes building its person x month
  matrices from the long panel; pyfixest gets the long frame with ``rel_month`` already made (outside its clock),
  and its time includes ``coef()`` and ``se()``. Reading files, generating data and the comparison are outside.
* Warm vs cold: ours matching: one untimed warm-up call, then ``--repeats`` timed calls. Event study: ``--repeats``
  calls of each (the first includes pyfixest's numba compilation on a fresh cache, so the median is the warm
  figure). causalml without replacement (tens of seconds): one timed call. The median is reported.
* Threads: both in one process on the machine's 2 cores; pyfixest/numba and BLAS use what they find, ours numpy.
* Machine load: give ``uptime`` beside every figure (the stage prints the 1-minute load average).

Usage (from the repository root)::

    /work/venv/bin/python benchmarks/evaluation_scale.py all --persons 50000 --workdir /tmp/evalscale \\
        --peer-python /tmp/benchvenv/bin/python

``all`` runs generate, evaluate and peers as subprocesses and prints one table with the ratios.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from evaluation_scale_steps import evaluate, generate, peers


def _report(work: Path) -> None:
    gen = json.loads((work / "generate.json").read_text(encoding="utf-8"))
    ev = json.loads((work / "evaluate.json").read_text(encoding="utf-8"))
    pe_path = work / "peers.json"
    pe = json.loads(pe_path.read_text(encoding="utf-8")) if pe_path.exists() else {}
    print(f"\n== {gen['persons']:,} persons x {gen['months']} months = {gen['person_months']:,} person-months ==")
    print(
        f"sample rows {ev['sample_rows']:,}, treated {ev['sample_treated']:,}; ATT {ev['att']:.4f} (se {ev['se']:.4f})"
    )
    print(f"{'stage':<36}{'seconds':>10}{'peak GB':>10}")
    for row in ev["evaluate_stages"]:
        print(f"{row['stage']:<36}{row['seconds']:>10.2f}{row['peak_rss_gb']:>10.2f}")
    print(
        f"{'TOTAL raw extract -> tables':<36}{ev['evaluate_total_seconds']:>10.1f}{ev['evaluate_peak_rss_gb']:>10.2f}"
    )
    if pe:
        print(f"\nmatching without replacement, {pe['match_rows']:,} rows ({pe['match_treated']:,} treated)")
        ours = pe["ours_match_seconds"]
        for name, key in (
            ("ours", "ours_match_seconds"),
            ("causalml", "causalml_match_seconds"),
            ("greedy", "greedy_seconds"),
        ):
            print(f"  {name:<10}{pe[key]:>10.3f} s   ratio to ours {pe[key] / ours:>10.1f}")
        print(
            f"  pairs ours/causalml/greedy {pe['n_pairs_ours']}/{pe['n_pairs_causalml']}/{pe['n_pairs_greedy']}; "
            f"same control: ours-greedy {pe['agree_ours_greedy']:.4f}, ours-causalml {pe['agree_ours_causalml']:.4f}; "
            f"same control score: ours-greedy {pe['agree_score_ours_greedy']:.4f}, "
            f"ours-causalml {pe['agree_score_ours_causalml']:.4f}; "
            f"ATT {pe['att_ours']:.4f}/{pe['att_causalml']:.4f}/{pe['att_greedy']:.4f}"
        )
        ours_es, theirs_es = pe["ours_twfe_seconds"], pe.get("pyfixest_twfe_seconds", float("nan"))
        print(f"event study, the same model (dynamic TWFE, CR0), {pe['event_study_rows']:,} person-months:")
        print(
            f"  ours {ours_es:.2f} s, pyfixest feols {theirs_es:.2f} s: ours takes {ours_es / theirs_es:.2f}x its time"
        )
        if "twfe_max_abs_coef_diff" in pe:
            print(
                f"  largest |coef diff| {pe['twfe_max_abs_coef_diff']:.1e}, |se diff| {pe['twfe_max_abs_se_diff']:.1e}"
            )
        print(f"  (other model, no ratio: ours Callaway-Sant'Anna {pe['ours_cs_seconds_other_model']:.2f} s)")
        print(f"  load average (1 min) at the end of peers: {pe.get('load_after', float('nan')):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("step", choices=["generate", "evaluate", "peers", "report", "all"])
    parser.add_argument("--persons", type=int, default=500_000)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--format", choices=["sav", "parquet"], default="sav")
    parser.add_argument("--workdir", default="/tmp/evaluation_scale")
    parser.add_argument("--match-rows", type=int, default=100_000)
    parser.add_argument("--did2s", action="store_true", help="also time pyfixest.did2s (memory-hungry)")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per peer comparison (median reported)")
    parser.add_argument("--es-persons", type=int, default=0, help="event-study peer comparison on the first N persons")
    parser.add_argument("--peer-python", default=None, help="Python with the bench extra (default: this one)")
    parser.add_argument("--skip-generate", action="store_true")
    args = parser.parse_args()
    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    if args.step == "all":
        common = [
            f"--persons={args.persons}",
            f"--months={args.months}",
            f"--seed={args.seed}",
            f"--format={args.format}",
            f"--workdir={args.workdir}",
            f"--match-rows={args.match_rows}",
            f"--es-persons={args.es_persons}",
            f"--repeats={args.repeats}",
        ] + (["--did2s"] if args.did2s else [])
        steps = (["evaluate"] if args.skip_generate else ["generate", "evaluate"]) + ["peers"]
        for step in steps:
            python = args.peer_python if step == "peers" and args.peer_python else sys.executable
            print(f"== {step} ({python})", flush=True)
            subprocess.run([python, __file__, step, *common], check=True)
        _report(Path(args.workdir))
        return
    {"generate": generate, "evaluate": evaluate, "peers": peers, "report": lambda a: _report(Path(a.workdir))}[
        args.step
    ](args)


if __name__ == "__main__":
    main()
