"""The model registry: every version, its card and its model file in the database, with which one
is active or shadow.

Models are of two kinds, each with its own active and shadow version: account models score
accounts, evidence models read off-platform documents for claims. Training an account model
writes ``<data_dir>/models/<version>/`` (native XGBoost ``model.ubj``, ``card.json``, ``card.md``,
plots) with a ``manifest.json`` listing every version; an evidence model is written to
``<data_dir>/models/evidence/<version>/`` (``model.json``, its cards). Registering copies the model
file and its SHA-256 into the database. A worker on any host loads a version from its own disk
cache, checked against that hash, and fills the cache from the database when the file is absent
or different: no disk is shared. Which version is active or shadow is database state, so every
worker agrees on it and picks up a change without a restart.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from infra.db.models import AuditEvent, ModelVersion
from infra.users import Actor, authorize

ROLES = ("active", "shadow", "candidate", "retired")
KINDS = ("account", "evidence")
# Each kind's model file, and the folder of the models directory its versions are written in.
MODEL_FILES = {"account": "model.ubj", "evidence": "model.json"}
FOLDERS = {"account": "", "evidence": "evidence"}


class RegistryError(RuntimeError):
    pass


def model_path(models_dir: Path, row: ModelVersion) -> Path:
    """Paths are stored relative to the models directory, so a registry can move with its data."""
    return models_dir / row.path


def read_card(model_dir: Path) -> dict[str, Any]:
    card: dict[str, Any] = json.loads((model_dir / "card.json").read_text())
    return card


def write_manifest(models_dir: Path) -> None:
    """Rewrite the manifest from the directories present: the files are the source of truth."""
    entries = []
    for card_path in sorted(models_dir.glob("*/card.json")):
        card = json.loads(card_path.read_text())
        entries.append(
            {
                "version": card["version"],
                "created_at": card["created_at"],
                "path": f"{card_path.parent.name}/model.ubj",
                "roc_auc": card["metrics"]["roc_auc"],
                "pr_auc": card["metrics"]["pr_auc"],
            }
        )
    tmp = models_dir / "manifest.json.tmp"
    tmp.write_text(json.dumps({"models": entries}, indent=2) + "\n")
    tmp.replace(models_dir / "manifest.json")


def versions_dir(models_dir: Path, kind: str) -> Path:
    """Where versions of ``kind`` are written under the models directory."""
    return models_dir / FOLDERS[kind]


def register(session: Session, model_dir: Path) -> ModelVersion:
    """Record the version in ``model_dir`` (once) with its card and model file; its kind is the
    card's (account when the card names none)."""
    card = read_card(model_dir)
    kind = card.get("kind", "account")
    if kind not in KINDS:
        raise RegistryError(f"unknown model kind {kind!r}; choose one of {', '.join(KINDS)}")
    name = MODEL_FILES[kind]
    artifact = (model_dir / name).read_bytes()
    row = session.get(ModelVersion, card["version"])
    if row is None:
        path = "/".join(part for part in (FOLDERS[kind], model_dir.name, name) if part)
        row = ModelVersion(
            version=card["version"], kind=kind, role="candidate", path=path, card=card
        )
        session.add(row)
    elif row.kind != kind:
        raise RegistryError(f"{row.version} is registered as a model of kind {row.kind}")
    if row.artifact_sha256 is None:
        row.artifact = artifact
        row.artifact_sha256 = hashlib.sha256(artifact).hexdigest()
    session.flush()
    if kind == "account":
        write_manifest(model_dir.parent)
    return row


def local_model_file(session: Session, models_dir: Path, row: ModelVersion) -> Path:
    """The version's model file on this host, written from the database when it is missing or
    does not match the registered hash (a shared disk is never assumed)."""
    path = model_path(models_dir, row)
    expected = row.artifact_sha256
    if expected is None:
        return path  # registered before files were kept in the database: its own disk only
    if path.exists() and hashlib.sha256(path.read_bytes()).hexdigest() == expected:
        return path
    artifact = session.scalar(
        select(ModelVersion.artifact).where(ModelVersion.version == row.version)
    )
    if artifact is None or hashlib.sha256(artifact).hexdigest() != expected:
        raise RegistryError(
            f"model version {row.version}: the stored file does not match its SHA-256 "
            f"{expected[:12]}; register it again"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written beside and renamed over, so another process never reads half a file.
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_bytes(artifact)
    partial.replace(path)
    return path


# Who activates a model when no person does: the demo, the benchmarks and the test fixtures,
# which install the model they trained.
INSTALLER = Actor.system("install")


def set_role(
    session: Session,
    version: str,
    role: str,
    *,
    actor: Actor = INSTALLER,
    audited: dict[str, Any] | None = None,
) -> ModelVersion:
    """Make ``version`` the active or shadow model of its kind; the previous holder of the role
    among models of that kind retires. A person doing so must hold ``admin``; every change is
    audited with who made it, the version it replaced and ``audited`` (the activation check's
    verdict, a forced activation's reason)."""
    if actor.is_person:
        authorize(session, actor, "admin")
    if role not in ROLES:
        raise RegistryError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    row = session.get(ModelVersion, version, with_for_update=True)
    if row is None:
        raise RegistryError(f"no model version {version!r} is registered")
    if role == "shadow" and row.role == "active":
        # The shadow slot is for a model beside the active one: moving the active model there
        # would leave nothing to score with.
        raise RegistryError(
            f"{version} is the active model of kind {row.kind}; activate another version first, "
            "or give the shadow role to a candidate"
        )
    replaced = None
    if role in {"active", "shadow"}:
        replaced = session.scalar(
            select(ModelVersion.version).where(
                ModelVersion.kind == row.kind,
                ModelVersion.role == role,
                ModelVersion.version != version,
            )
        )
        session.execute(
            update(ModelVersion)
            .where(
                ModelVersion.kind == row.kind,
                ModelVersion.role == role,
                ModelVersion.version != version,
            )
            .values(role="retired")
        )
        session.flush()
    previous = row.role
    row.role = role
    if previous == role:
        session.flush()
        return row
    session.add(
        AuditEvent(
            entity="model_version",
            # Versions are named, not numbered: the name is in the details.
            entity_id=0,
            event=f"role:{role}",
            details={
                "version": version,
                "previous_role": previous,
                **({"replaced": replaced} if replaced else {}),
                **(audited or {}),
            },
            **actor.recorded(),
        )
    )
    session.flush()
    return row


def activated_by(session: Session, version: str) -> str | None:
    """Who last made ``version`` active, as the audit trail names them (None: no record)."""
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity == "model_version", AuditEvent.event == "role:active")
        .order_by(AuditEvent.id.desc())
        .limit(50)
    )
    # Versions are named in the details, which no portable index reads: the recent few suffice.
    return next((e.actor for e in events if e.details.get("version") == version), None)


def serving_versions(session: Session, kind: str = "account") -> dict[str, ModelVersion]:
    """The active and (if any) shadow model of ``kind``, keyed by role."""
    rows = session.scalars(
        select(ModelVersion).where(
            ModelVersion.kind == kind, ModelVersion.role.in_(("active", "shadow"))
        )
    ).all()
    return {row.role: row for row in rows}
