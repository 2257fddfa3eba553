"""Asteroid names, offline: the Minor Planet Center's list of numbered minor planets turned into
name -> number look-ups for the Solar System searches (search bar, ``sso`` and ``resolver`` routes).

ZTF alerts carry only ``ssnamenr``: the number of a numbered asteroid (``8467``), or a packed
designation. Fink turns a name (``Benoitcarry``) into a number through SsODNet's quaero, which the
portal does not call (it runs offline): an operator loads the MPC's ``NumberedMPs.txt`` once
(``manage.py load_sso_names``) into :class:`~search.models.AsteroidName`, and the functions here
read it. With the table empty, a name resolves to nothing and numbers and designations work as
before.
"""
from __future__ import annotations

import gzip
import re
import time
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction

from alerts.selectors import search as selectors

from .models import AsteroidName, asteroid_name_key

#: The command that loads the names (what the messages tell users an operator can run).
LOAD_COMMAND = "python manage.py load_sso_names NumberedMPs.txt"
#: Where the names come from.
NAMES_URL = "https://minorplanetcenter.net/iau/lists/NumberedMPs.txt"


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()


# -- look-ups -------------------------------------------------------------------------------------
def asteroid_names_loaded() -> bool:
    """True when an operator has loaded the names (the table is not empty)."""
    return AsteroidName.objects.exists()


def asteroid_numbers(names: Iterable[str]) -> dict[str, list[int]]:
    """The numbers each name stands for, in one query; names not known (and numbers) are absent.

    ``{"Benoitcarry": [8467]}`` for ``["Benoitcarry", "9016", "Nosuchname"]``. A name's match
    ignores case, spaces and accents; two names differing by accents only give both numbers.
    """
    keys: dict[str, list[str]] = defaultdict(list)
    for name in names:
        text = str(name).strip()
        key = asteroid_name_key(text)
        if key and not _is_number(key):
            keys[key].append(text)
    if not keys:
        return {}
    found: dict[str, list[int]] = defaultdict(list)
    for key, number in AsteroidName.objects.filter(key__in=list(keys)).values_list("key", "number"):
        for text in keys[key]:
            found[text].append(number)
    return dict(found)


def is_asteroid_name(text: str) -> bool:
    """True when ``text`` is the name of a numbered asteroid of the loaded list."""
    return bool(asteroid_numbers([text]))


def asteroid_names(numbers: Iterable[Any]) -> dict[int, str]:
    """``{number: name}`` of the numbered asteroids among ``numbers`` that have a name."""
    wanted = {int(n) for n in numbers if isinstance(n, int) or _is_number(str(n))}
    if not wanted:
        return {}
    return dict(AsteroidName.objects.filter(number__in=wanted).values_list("number", "name"))


def sso_search_names(names: Sequence[str]) -> list[str]:
    """What to search the asteroid index for: each name replaced by its number(s); numbers,
    designations, comets and names not known kept as given (an unknown name matches nothing).

    ``["Benoitcarry", "9016"]`` -> ``["8467", "9016"]``.
    """
    numbers = asteroid_numbers(names)
    out: list[str] = []
    for name in names:
        text = str(name).strip()
        if text in numbers:
            out.extend(str(number) for number in numbers[text])
        else:
            out.append(name)
    return list(dict.fromkeys(out))


def sso_label(text: str) -> str:
    """How the page names a Solar System object typed as ``text``: ``(8467) Benoitcarry`` for a
    numbered asteroid whose name is known (typed as number or name), else ``text`` itself."""
    text = " ".join(str(text).split())
    if _is_number(text):
        numbers = [int(text)]
    else:
        numbers = asteroid_numbers([text]).get(text, [])
    named = asteroid_names(numbers)
    if not named:
        return text
    return ", ".join(f"({number}) {name}" for number, name in sorted(named.items()))


def with_asteroid_names(rows: list[dict[str, Any]]) -> None:
    """Fill ``sso_name`` of alert rows of numbered asteroids (``sso_number`` set, ``sso_name``
    None: the store holds only the number) with their names, in place, as Fink's ``sso`` does."""
    numbers = {row.get("sso_number") for row in rows if "sso_name" in row and row.get("sso_name") is None}
    named = asteroid_names(n for n in numbers if n is not None)
    if not named:
        return
    for row in rows:
        if "sso_name" in row and row["sso_name"] is None and row.get("sso_number") in named:
            row["sso_name"] = named[row["sso_number"]]


def ssodnet_resolve(*, name: str, reverse: bool = False, nmax: int = 10) -> selectors.SearchRows:
    """The ``resolver`` route's ``ssodnet`` look-up, with names.

    A name of the loaded list (or, failing an exact match, the names starting with it, at most
    ``nmax``) gives its number: ``{"i:ssnamenr": "8467", "name": "Benoitcarry", "number": 8467,
    "type": "Asteroid"}``, whether or not alerts of it are held. Numbers, designations and object
    ids (``reverse``) go to the store's asteroid index as before, and a numbered asteroid found
    there gets its name.
    """
    text = " ".join(str(name).split())
    if not _is_number("".join(text.split())) and not (reverse and text.upper().startswith("ZTF")):
        rows = _rows_named(text, max(1, min(nmax, selectors.MAX_ROWS)))
        if rows:
            return selectors.SearchRows(rows=rows)
    found = selectors.resolve_name(resolver="ssodnet", name=name, reverse=reverse, nmax=nmax)
    named = asteroid_names(row.get("number") for row in found.rows if row.get("number") is not None)
    for row in found.rows:
        if row.get("name") is None and row.get("number") in named:
            row["name"] = named[row["number"]]
    return found


def _rows_named(text: str, nmax: int) -> list[dict[str, Any]]:
    key = asteroid_name_key(text)
    if not key:
        return []
    found = list(AsteroidName.objects.filter(key=key).values_list("number", "name")[:nmax])
    if not found:
        found = list(AsteroidName.objects.filter(key__startswith=key).values_list("number", "name")[:nmax])
    return [
        {"i:ssnamenr": str(number), "name": name, "number": number, "type": "Asteroid"}
        for number, name in found
    ]


# -- loading --------------------------------------------------------------------------------------
class NamesFileError(ValueError):
    """A names file that cannot be loaded; ``line`` is its 1-based line number when one is at fault."""

    def __init__(self, path: str | Path, reason: str, line: int | None = None):
        self.path, self.reason, self.line = str(path), reason, line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class NamesLoad:
    """What :func:`asteroid_names_load` did."""

    path: str
    names: int  # named minor planets now in the table
    unnamed: int  # numbered ones without a name (not held)
    lines: int
    seconds: float


# A line of NumberedMPs.txt, e.g.
#   "   (8467) Benoitcarry        1984 SB6    1984 09 18  Anderson Mesa       Bowell, E."
#   "(360000)                     2012 XX21   2001 12 18* Socorro             LINEAR"
# the number in parentheses, the name and the principal provisional designation columns (either
# may be blank), then the discovery date, site and discoverers. Columns are read up to the date,
# not by position, so a wider number column does not shift them.
_NUMBERED = re.compile(r"^\s*\(\d+\)(?:\s|$)")
_LINE = re.compile(r"^\s*\((?P<number>\d+)\)(?P<columns>(?:\s.*?)?)\s+\d{4} \d{2} \d{2}(?!\d)")
# A provisional designation (1984 SB6, 2040 P-L, A898 PA): what an unnamed one shows in place of a name.
_PROVISIONAL = re.compile(r"^(?:[12]\d{3}|A\d{3}) [A-Z]{2}\d*$|^\d{4} (?:P-L|T-[123])$")
_NAME_LENGTH = AsteroidName._meta.get_field("name").max_length


def numbered_minor_planets(lines: Iterable[str]) -> Iterator[tuple[int, int, str | None]]:
    """``(line number, minor planet number, name or None)`` of each line of ``NumberedMPs.txt``.

    Blank lines are skipped. Raises ``ValueError`` with ``(line number, reason)`` as its args for
    a line that is not a numbered minor planet, or a number given twice.
    """
    seen: dict[int, int] = {}
    for index, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        match = _LINE.match(line)
        if match is None:
            if not _NUMBERED.match(line):
                raise ValueError(index, "not a line of the MPC's numbered minor planets: no '(number)' at its start")
            raise ValueError(index, "no discovery date (YYYY MM DD) after the number and name")
        number = int(match["number"])
        if number in seen:
            raise ValueError(index, f"minor planet {number} is listed twice (also on line {seen[number]})")
        seen[number] = index
        parts = [part for part in re.split(r"\s{2,}", match["columns"].strip()) if part]
        if len(parts) > 2:
            raise ValueError(index, f"expected a name and a designation before the date, found {parts}")
        name = parts[0] if parts and not _PROVISIONAL.match(parts[0]) else None
        if name is not None and len(name) > _NAME_LENGTH:
            raise ValueError(index, f"name longer than {_NAME_LENGTH} characters: {name!r}")
        yield index, number, name


def _text_lines(path: Path) -> Iterator[str]:
    """The lines of a plain or gzipped text file (gzip told by its first bytes, not its name)."""
    with open(path, "rb") as raw:
        zipped = raw.read(2) == b"\x1f\x8b"
    with (gzip.open(path, "rb") if zipped else open(path, "rb")) as lines:
        for line in lines:
            try:
                yield line.decode("utf-8")
            except UnicodeDecodeError:
                # The MPC writes ASCII; an older copy saved in Latin-1 still has readable names.
                yield line.decode("latin-1")


def asteroid_names_load(*, path: str | Path) -> NamesLoad:
    """Replace the asteroid names with those of an MPC ``NumberedMPs.txt`` (plain or gzipped).

    The whole file is read and checked before the table changes; the table is then emptied and
    filled in one transaction, so a bad file or a failure leaves the previous names in place, and
    loading the same file again gives the same table.

    Raises
    ------
    NamesFileError
        The file is missing, unreadable, holds a malformed line (its number is given) or no name.
    """
    started = time.perf_counter()
    path = Path(path)
    if not path.is_file():
        raise NamesFileError(path, "no such file")
    names: list[AsteroidName] = []
    unnamed = lines = 0
    try:
        for lines, number, name in numbered_minor_planets(_text_lines(path)):
            if name is None:
                unnamed += 1
            else:
                names.append(AsteroidName(number=number, name=name, key=asteroid_name_key(name)))
    except ValueError as exc:
        if len(exc.args) == 2 and isinstance(exc.args[0], int):
            raise NamesFileError(path, exc.args[1], line=exc.args[0]) from None
        raise NamesFileError(path, f"unreadable ({exc})") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise NamesFileError(path, f"unreadable ({exc or type(exc).__name__})") from None
    if not names:
        raise NamesFileError(path, "no named minor planet in it (the names already loaded are kept)")
    with transaction.atomic():
        AsteroidName.objects.all().delete()
        AsteroidName.objects.bulk_create(names, batch_size=5000)
    return NamesLoad(str(path), len(names), unnamed, lines, time.perf_counter() - started)
