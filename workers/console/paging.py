"""Long lists a page at a time: which rows a page shows, and the links to the others."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

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
