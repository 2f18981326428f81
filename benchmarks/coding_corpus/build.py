"""Build the evaluation corpus files from the annotated sources in ``annotated/``.

Source format (UTF-8): ``# iNN | sector | style`` starts an interview; ``I:``/``R:`` lines are turns (a line
without a label continues the turn); ``@ CODE=stance, ...`` after a respondent turn is the human coding of
that turn; ``@names A, B`` lists the person names written in that turn. Writes ``transcripts/iNN.txt``,
``gold.csv`` (interview, turn, code, stance), ``names.csv`` (interview, turn, name), ``employers.csv``
(interview_id, employer_id, sector) and ``split.csv`` (interview, part). Split rule, fixed before the
interviews were written: i01-i24 (the first set) alternate dev/test within each sector, so both halves cover
every sector with two or more of them; i25-i40, odd numbers are dev and even numbers test; from i41 on
(fixed before i41-i60 were written), every interview is ``train``: training side only, never test, so the
test half stays the same 20 interviews and its figures stay comparable across rounds.

Run: ``python benchmarks/coding_corpus/build.py`` (idempotent; checks every coded turn is a respondent turn).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from insats.tasks.interviews.transcripts import segment_turns

HERE = Path(__file__).resolve().parent
STANCES = {"krav", "inte_krav", "neutral"}
FIRST_SET = 24  # i01-i24: the first set, split within sectors; later interviews split by number
TRAIN_FROM = 41  # i41 onwards: part "train" (training side only, never test)


def parse(path: Path) -> list[dict]:
    """Interviews of one annotated file: id, sector, lines (transcript), gold rows, name rows."""
    out: list[dict] = []
    cur: dict | None = None
    turn = 0
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        where = f"{path.name}:{n}"
        if line.startswith("# "):
            iid, sector, _style = (p.strip() for p in line[2:].split("|"))
            cur = {"id": iid, "sector": sector, "lines": [], "gold": [], "names": []}
            out.append(cur)
            turn = 0
        elif cur is None or not line.strip():
            continue
        elif line.startswith("@names "):
            cur["names"] += [(cur["id"], turn, nm.strip()) for nm in line[7:].split(",")]
        elif line.startswith("@ "):
            for item in line[2:].split(","):
                code, stance = item.strip().split("=")
                if stance not in STANCES:
                    raise ValueError(f"{where}: stance {stance!r} not in {sorted(STANCES)}")
                cur["gold"].append((cur["id"], turn, code, stance))
        else:
            if re.match(r"^(I|R):", line):
                turn += 1
            cur["lines"].append(line)
    return out


def part_of(iid: str) -> str:
    """Part of an interview after the first set: ``train`` from i41 on, else dev (odd) / test (even)."""
    number = int(iid[1:])
    if number <= FIRST_SET:
        raise ValueError(f"{iid}: the first set (i01-i{FIRST_SET}) is split within sectors, not by number")
    if number >= TRAIN_FROM:
        return "train"
    return "dev" if number % 2 else "test"


def main() -> None:
    interviews = [iv for p in sorted((HERE / "annotated").glob("*.txt")) for iv in parse(p)]
    tdir = HERE / "transcripts"
    tdir.mkdir(exist_ok=True)
    gold, names, employers = [], [], []
    for iv in interviews:
        text = f"Intervju {iv['id']} ({iv['sector']}), evalueringskorpus\n\n" + "\n".join(iv["lines"]) + "\n"
        (tdir / f"{iv['id']}.txt").write_text(text, encoding="utf-8")
        seg = segment_turns(text, iv["id"])
        roles = dict(zip(seg["turn"], seg["speaker_role"], strict=True))
        for _, turn, code, _ in iv["gold"]:
            if roles.get(turn) != "respondent":
                raise ValueError(f"{iv['id']} turn {turn}: coded {code} but the turn is not a respondent turn")
        for _, turn, name in iv["names"]:
            if name not in seg.loc[seg["turn"] == turn, "text"].iloc[0]:
                raise ValueError(f"{iv['id']} turn {turn}: name {name!r} not in the turn text")
        gold += iv["gold"]
        names += iv["names"]
        employers.append((iv["id"], f"E{iv['id'][1:]}", iv["sector"]))
    by_sector: dict[str, list[str]] = {}
    for iid, _, sector in employers:
        if int(iid[1:]) <= FIRST_SET:
            by_sector.setdefault(sector, []).append(iid)
    split, toggle = [], 0
    for sector in sorted(by_sector):
        for k, iid in enumerate(sorted(by_sector[sector])):
            part = (k + toggle) % 2
            split.append((iid, ("dev", "test")[part]))
        toggle += len(by_sector[sector]) % 2
    split += [(iid, part_of(iid)) for iid, _, _ in employers if int(iid[1:]) > FIRST_SET]
    for name, header, rows in [
        ("gold.csv", ["interview", "turn", "code", "stance"], gold),
        ("names.csv", ["interview", "turn", "name"], names),
        ("employers.csv", ["interview_id", "employer_id", "sector"], employers),
        ("split.csv", ["interview", "part"], sorted(split)),
    ]:
        with open(HERE / name, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(rows)
    sectors = len({sector for _, _, sector in employers})
    print(f"{len(interviews)} interviews, {len(gold)} coded turns, {len(names)} names, {sectors} sectors")


if __name__ == "__main__":
    main()
