"""Whether a study can be skipped by the chain: its published outputs are what its inputs, config and code
would produce again (the study-level counterpart of a node's cache key, ``flows/nodes.py``).

After a study's subflow completes, the pipeline writes a stamp, ``data/interim/<study>/chain-stamp.json``:

- ``key``: sha256 over the study's name, the fingerprint of all the code its flow can run
  (:func:`insats.fingerprint.function_fingerprint` of the flow function, which follows every node, helper and
  constant it uses), library versions, the config file's sha256, the pseudonym key's id (stages that read the
  register), the contents of every contract under ``schemas/``, and the contents of every input the run declared
  (:func:`insats.flows.steps.record_inputs`; a folder by its file names and bytes, so an added file counts);
- ``outputs``: sha256 of every file in the study's published folder (tables, manifest, figures);
- ``run``: the flow run of the study that the stamp vouches for;
- ``tree`` and ``code``: a hash of every file of the project's packages, and the code fingerprint. A check
  whose project files are byte for byte the stamp's reuses that fingerprint rather than importing the study's
  modules to walk them again (the fingerprint is a function of those files; libraries are in the key).

Before entering a study, the pipeline recomputes the key and re-hashes the outputs: the study is skipped only
if both match. Anything else (no stamp, a changed input, config, contract, code or library, an output altered
or removed, a study run on its own since) runs the study, whose nodes then decide what to recompute.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from insats.config import Config
from insats.fingerprint import function_fingerprint
from insats.flows.steps import DECLARED_INPUTS, input_hashes, published_dir, work_dir
from insats.provenance import files_under, package_versions, sha256_file
from insats.storage import write_json
from insats.studies import get_study
from insats.tasks.register.pseudonymise import load_key

STAMP = "chain-stamp.json"


def source_hash(*folders: Path) -> str:
    """sha256 over every file below ``folders`` (names relative to their folder, and bytes), leaving out
    ``__pycache__``: bytecode appears when a module is first imported, which must not count as a change."""
    digest = hashlib.sha256()
    for i, root in enumerate(Path(f) for f in folders):
        for f in sorted(root.rglob("*")):
            relative = f.relative_to(root)
            if f.is_file() and "__pycache__" not in relative.parts:
                digest.update(f"{i}/{relative.as_posix()}\0{sha256_file(f)}\0".encode())
    return digest.hexdigest()


def project_tree() -> str:
    """:func:`source_hash` of the project's packages (``insats``, ``tasks``, ``flows``, ``schemas``): equal trees
    with equal library versions give equal code fingerprints, so a check can reuse the stamp's fingerprint
    instead of importing every study to walk its code."""
    from importlib.util import find_spec

    roots = []
    for package in ("insats", "insats.tasks", "insats.flows", "insats.schemas"):
        spec = find_spec(package)
        roots += [Path(p) for p in (spec.submodule_search_locations or [])] if spec else []
    return source_hash(*roots)


def code_fingerprint(study: str) -> str:
    """The fingerprint of all the code ``study``'s flow can run (imports the flow's module)."""
    return function_fingerprint(get_study(study).load_flow().fn)


def stamp_key(config_sha256: str, config: Config, study: str, inputs: dict[str, str], code: str) -> str:
    """sha256 of everything that decides a study's published outputs (``inputs``: path -> content hash; ``code``:
    :func:`code_fingerprint`); see the module docstring."""
    from insats.validation import schemas_dir

    entry = get_study(study)
    material: dict[str, Any] = {
        "study": entry.name,
        "code": code,
        "libraries": package_versions(),
        "config_sha256": config_sha256,
        "contracts": source_hash(schemas_dir()),
        "inputs": inputs,
    }
    if "register" in entry.sections:  # a new pseudonym key makes new pseudonyms
        reg = config.register
        key = load_key(env_var=reg.pseudonym_key_env, key_file=reg.pseudonym_key_file, demo=config.mode == "demo")
        material["key_id"] = hashlib.sha256(b"insats-chain-stamp" + key).hexdigest()[:16]
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def _outputs(folder: Path) -> dict[str, str]:
    return {str(f): sha256_file(f) for f in files_under(folder)} if folder.is_dir() else {}


def write_stamp(config: Config, study: str, run: dict[str, str]) -> Path | None:
    """After ``study`` completed in run ``run`` (flow_run_id, flow_run_name): vouch for its published outputs,
    keyed on the inputs and config as that run read them (its ``declared-inputs.json``). None (and any old
    stamp removed) when the run declared no inputs or published nothing."""
    stamp = work_dir(config, study) / STAMP
    stamp.unlink(missing_ok=True)
    try:
        declared = json.loads((work_dir(config, study) / DECLARED_INPUTS).read_text(encoding="utf-8"))
        inputs, config_sha256 = dict(declared["inputs"]), str(declared["config_sha256"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    outputs = _outputs(published_dir(config, study))
    if not outputs:
        return None
    tree, code = project_tree(), code_fingerprint(study)
    if project_tree() != tree:  # the code changed on disk while it was read: no shortcut for the next check
        tree = ""
    key = stamp_key(config_sha256, config, study, inputs, code)
    record = {"study": study, "key": key, "run": run, "inputs": list(inputs), "outputs": outputs}
    return write_json({**record, "tree": tree, "code": code}, stamp)


def unchanged_since(config: Config, study: str) -> dict[str, Any] | None:
    """The stamp's run if ``study``'s published outputs are intact and its key, with the inputs' contents and
    the config as they are now, is what it was; else None."""
    try:
        stamp = json.loads((work_dir(config, study) / STAMP).read_text(encoding="utf-8"))
        outputs, inputs, key = dict(stamp["outputs"]), list(stamp["inputs"]), str(stamp["key"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not outputs or _outputs(published_dir(config, study)) != outputs:
        return None
    # Same project files (and library versions, in the key): the code is the stamp's, without importing it.
    tree = project_tree()
    same_tree = bool(stamp.get("tree")) and stamp.get("tree") == tree and bool(stamp.get("code"))
    code = str(stamp["code"]) if same_tree else code_fingerprint(study)
    if stamp_key(config.sha256, config, study, input_hashes(inputs), code) != key:
        return None
    if not same_tree and project_tree() == tree:  # files changed elsewhere, not in this study's code: remember
        write_json({**stamp, "tree": tree, "code": code}, work_dir(config, study) / STAMP)
    return dict(stamp.get("run") or {})
