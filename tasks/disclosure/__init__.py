"""Statistical disclosure control for everything that leaves the machine, as statistics offices do it.

The rule (threshold T = config ``seminar.disclosure_threshold``, default 5):

1. **Primary suppression.** A count of persons between 1 and T-1 is not published: it becomes a missing value
   (<NA>), and so do the statistics computed from it on the same row (shares, means, estimates). A count of 0
   is kept. Rows with a hidden cell are flagged in the boolean column ``suppressed`` (it tells a hidden count
   from a zero or an unknown one).
2. **Secondary suppression.** No hidden count may be recoverable from what is published beside it: row and
   column totals, repeated counts (``n_treated`` on every outcome and estimator), and the shared margins of the
   study's other tables (the "all" rows of the participant-flow tables, a count equal to another table's).
   Each table's additive structure is declared in its suite (``meta.disclosure``,
   :mod:`insats.tasks.disclosure.relations`). An audit in the manner of τ-ARGUS
   (:mod:`insats.tasks.disclosure.audit`) computes, for every hidden count, its minimum and maximum over all
   non-negative tables consistent with the published cells and those relations (linear programs, HiGHS); if
   that interval is narrower than the protection width (default T: the attacker must be left with at least
   T+1 possible values), one more published cell sharing a relation with it is hidden, the cheapest first
   (cost = its count; zeros last), and the audit is repeated (:mod:`insats.tasks.disclosure.secondary`).
3. **Where.** Once, for the tables a study publishes to ``data/processed/<study>/`` (all of a study's tables
   together, so relations across them count); the Prefect artifacts, the seminar's quarter snapshot and the
   brief are made from those published tables and pass :func:`protect_for_publication` again, which changes
   nothing on a protected table. Interim tables (``data/interim``, the register stage) are not controlled:
   they are pseudonymised working data, not for release.

Public functions: :func:`protect_tables` (primary + secondary for a study's tables), :func:`protect_for_publication`
(primary, idempotent, with per-count "hidden" flags for reports), :func:`suppress_small_counts`,
:func:`assert_no_small_counts`, :func:`disclosure_rule_text`.
"""

from insats.tasks.disclosure.audit import Auditor
from insats.tasks.disclosure.primary import (
    DEFAULT_THRESHOLD,
    HIDDEN_PREFIX,
    SUPPRESSED_COLUMN,
    assert_no_small_counts,
    disclosure_rule_text,
    hidden_column,
    protect_for_publication,
    suppress_small_counts,
)
from insats.tasks.disclosure.relations import CellIndex, Link, Relation, TableRules, build_relations
from insats.tasks.disclosure.secondary import ControlReport, choose_suppressions, protect_tables

__all__ = [
    "DEFAULT_THRESHOLD",
    "HIDDEN_PREFIX",
    "SUPPRESSED_COLUMN",
    "Auditor",
    "CellIndex",
    "ControlReport",
    "Link",
    "Relation",
    "TableRules",
    "assert_no_small_counts",
    "build_relations",
    "choose_suppressions",
    "disclosure_rule_text",
    "hidden_column",
    "protect_for_publication",
    "protect_tables",
    "suppress_small_counts",
]
