"""GX Data Docs for one steward run (static HTML built by GX's own site builder)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from insats.storage import publish_folder
from insats.validation import ValidationReport, load_suite


def jsonable(value: Any) -> Any:
    """JSON-safe copy (timestamps and numpy scalars as text/numbers) of a validation result dict."""
    return json.loads(json.dumps(value, default=str))


def build_data_docs(report: ValidationReport, docs_dir: Path, run_name: str, run_time: datetime) -> Path:
    """Build GX Data Docs for this one run into ``docs_dir`` (replaced as a whole); return ``index.html``.

    Uses a fresh ephemeral GX context with a local ``SiteBuilder`` site; the (masked) validation result is
    put in its in-memory store, so the site shows this run only. Nothing is fetched while building; the
    HTML links Bootstrap/jQuery from CDNs, so it renders unstyled without network.
    """
    import great_expectations as gx
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResultSchema
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    import insats.expectations  # noqa: F401 - registers the custom expectations the suites use

    result = ExpectationSuiteValidationResultSchema().load(jsonable(report.raw))

    def fill(staging: Path) -> None:
        ctx = gx.get_context(mode="ephemeral")
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        ctx.add_data_docs_site(
            "steward",
            {
                "class_name": "SiteBuilder",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(staging)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
        suite = load_suite(report.suite)
        suite.pop("id", None)
        ctx.suites.add(gx.ExpectationSuite(**suite))
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=report.suite),
            run_id=RunIdentifier(run_name=run_name, run_time=run_time),
            batch_identifier=run_name,
        )
        ctx.validation_results_store.set(key, result)
        ctx.build_data_docs(site_names=["steward"])

    publish_folder(docs_dir, fill)
    return Path(docs_dir) / "index.html"
