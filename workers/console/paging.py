"""Long lists a page at a time. :class:`Window`/:class:`Page` ask for one row more than a page
shows, to know whether there is a next one without counting the table (lists that grow without
bound: notices, the audit trail); :class:`Paging` counts, to say \"page 2 of 7\" (lists a search
narrows: companies, triage)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar
from urllib.parse import urlencode

T = TypeVar("T")


@dataclass(frozen=True)
class Window:
    """Which rows page ``number`` (from 1) of ``size`` rows shows."""

    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def limit(self) -> int:
        return self.size + 1


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    number: int
    has_next: bool
    path: str
    # The list's filters, kept in the links to the pages before and after.
    query: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(
        cls, fetched: Sequence[T], window: Window, path: str, query: Mapping[str, str]
    ) -> Page[T]:
        """The page of rows fetched with ``window``'s offset and limit."""
        return cls(
            rows=list(fetched[: window.size]),
            number=window.number,
            has_next=len(fetched) > window.size,
            path=path,
            query={k: v for k, v in query.items() if v},
        )

    @property
    def previous_url(self) -> str | None:
        return self._url(self.number - 1) if self.number > 1 else None

    @property
    def next_url(self) -> str | None:
        return self._url(self.number + 1) if self.has_next else None

    def _url(self, number: int) -> str:
        return f"{self.path}?{urlencode({**self.query, 'page': str(number)})}"


# A page number beyond this is not a page anybody reads: refused as a bad request.
MAX_PAGE = 100_000


@dataclass(frozen=True)
class Paging:
    page: int
    size: int
    total: int = 0

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    def of(self, total: int) -> Paging:
        """This page of a list of ``total`` rows."""
        return Paging(self.page, self.size, total)

    def link(self, path: str, page: int, **query: str) -> str:
        """The address of ``page`` of the list at ``path`` with the same ``query``."""
        wanted = {k: v for k, v in query.items() if v}
        return f"{path}?{urlencode({**wanted, 'page': page})}"
