"""insats: research pipeline for evaluating interventions within Swedish social assistance.

Importing the package switches off every library's telemetry before those libraries are imported, so
no run ever tries the network (users' sites sit behind firewalls).
"""

from __future__ import annotations

import os

__version__ = "0.1.0"

_OFFLINE_DEFAULTS = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_UI_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    "PREFECT_LOGGING_TO_API_BATCH_INTERVAL": "0.3",
    "GX_ANALYTICS_ENABLED": "false",
    "MPLBACKEND": "Agg",
    "TQDM_DISABLE": "1",
    # The pipeline's own warnings (logger "insats.*", e.g. "nothing to suggest") reach each run's Prefect log.
    "PREFECT_LOGGING_EXTRA_LOGGERS": "insats",
}
for _name, _value in _OFFLINE_DEFAULTS.items():
    os.environ.setdefault(_name, _value)
