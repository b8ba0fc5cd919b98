"""The enforcement policy in force in a worker process, re-read when its file changes.

Workers look at the file's modification time at most every ``CHECK_SECONDS``, so a reviewed
change reaches every worker without a restart. A change that does not parse, breaks the schema,
or alters the rules under the same version is refused with the reason in the log, and the policy
in force stays: actions are stamped with the version, and one version must mean one set of rules.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from tasks.enforcement.policy import Policy, PolicyError, parse
from tasks.errors import TransientError

log = logging.getLogger(__name__)

DEFAULT_POLICY = Path(__file__).parent / "data" / "policy.toml"
CHECK_SECONDS = 2.0
# A file changed this recently may still be being written.
SETTLE = 1.0


class NoPolicyError(PolicyError, TransientError):
    """No valid policy has been read yet: a task that needs one waits and tries again rather
    than deciding without it."""


@dataclass
class _Loaded:
    policy: Policy
    # SHA-256 of the file's bytes as accepted, as ``sha256sum`` prints it: which text is in
    # force, where the version alone cannot tell a file edited by hand from the reviewed one.
    sha256: str


class PolicyFile:
    """One policy file, as this process last accepted it."""

    def __init__(self, path: Path, check_seconds: float = CHECK_SECONDS) -> None:
        self.path = path
        self.check_seconds = check_seconds
        self._loaded: _Loaded | None = None
        self._seen: tuple[int, int] | None = None
        self._checked_at = -float("inf")

    @property
    def sha256(self) -> str | None:
        """The digest of the policy in force (see :meth:`current`), None while there is none."""
        return self._loaded.sha256 if self._loaded is not None else None

    def current(self) -> Policy:
        """The policy in force. Raises :class:`NoPolicyError` only while none was ever valid."""
        now = time.monotonic()
        if self._loaded is not None and now - self._checked_at < self.check_seconds:
            return self._loaded.policy
        self._checked_at = now
        try:
            changed = self._changed_bytes()
        except OSError as exc:
            return self._keep(f"{self.path}: cannot be read ({exc.strerror or exc})")
        if changed is None:
            if self._loaded is None:
                raise NoPolicyError(f"{self.path}: being written; try again in a moment")
            return self._loaded.policy
        try:
            return self._accept(parse(changed.decode("utf-8"), str(self.path)), changed)
        except PolicyError as exc:
            return self._keep(str(exc))
        except UnicodeDecodeError as exc:
            return self._keep(f"{self.path}: not UTF-8 text ({exc.reason})")

    def _accept(self, policy: Policy, raw: bytes) -> Policy:
        """Put ``policy`` in force, unless it changes the rules under the version in force."""
        previous = self._loaded
        if (
            previous is not None
            and policy != previous.policy
            and policy.version == previous.policy.version
        ):
            return self._keep(
                f"{self.path}: the rules changed but the version is still "
                f"{policy.version!r}; give the new rules a new version"
            )
        if previous is None or policy.version != previous.policy.version:
            log.info("enforcement policy %s in force (%s)", policy.version, self.path)
        self._loaded = _Loaded(policy, hashlib.sha256(raw).hexdigest())
        return policy

    def _changed_bytes(self) -> bytes | None:
        """The file's bytes if it changed since it was last read and has settled; None if it
        is unchanged or still being written (an editor saving in place: half a file must never
        pass for a policy; replacing the file by a rename avoids the wait)."""
        before = self.path.stat()
        seen = (before.st_mtime_ns, before.st_size)
        if self._loaded is not None and seen == self._seen:
            return None
        raw = self.path.read_bytes()
        after = self.path.stat()
        if (after.st_mtime_ns, after.st_size) != seen or time.time() - after.st_mtime < SETTLE:
            return None
        self._seen = seen
        return raw

    def _keep(self, problem: str) -> Policy:
        if self._loaded is None:
            raise NoPolicyError(problem)
        log.error(
            "enforcement policy change refused, %s stays in force: %s",
            self._loaded.policy.version,
            problem,
        )
        return self._loaded.policy


_files: dict[Path, PolicyFile] = {}


def policy_path(path: Path | None) -> Path:
    """The file a worker reads for the setting ``path``: the shipped default when None."""
    return (path or DEFAULT_POLICY).resolve()


def policy_in_force(path: Path | None) -> Policy:
    """The policy of ``path`` (the shipped default when None), cached per process."""
    resolved = policy_path(path)
    if resolved not in _files:
        _files[resolved] = PolicyFile(resolved)
    return _files[resolved].current()
