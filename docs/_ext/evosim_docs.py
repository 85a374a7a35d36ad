"""Reference tables generated from the code, so that the pages cannot drift from it.

Directives (in a MyST page inside ```` ```{eval-rst} ````, since ``scenario-keys``
writes reST and a MyST page would parse it as Markdown):

- ``scenario-keys``: every scenario key, walked from the pydantic models in
  :mod:`evosim.scenario.model`: its TOML key, type, default, accepted values and
  meaning (the field's ``description``; a ``[[phases]]`` key means what the base key
  of the same name means). A key without a description is a build warning, which
  ``make docs`` (``-W``) turns into an error.
- ``metrics-columns``: the columns of ``metrics.csv`` (:data:`evosim.evolve.metrics.COLUMNS`
  with the comments beside them in the source).
- ``state-arrays``: the arrays of a checkpoint (the fields of
  :class:`evosim.world.WorldState` with the comments beside them).
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from typing import Any, Literal

from docutils import nodes
from docutils.statemachine import StringList
from pydantic import BaseModel
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

LOG = logging.getLogger(__name__)


# ------------------------------------------------------------------ scenario keys


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(the annotation without ``| None``, whether None is allowed)."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return rest[0], True
    return annotation, False


def _base(annotation: Any) -> Any:
    """The plain type inside ``Annotated[...]``."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _constraints(annotation: Any, info: Any) -> list[Any]:
    found = list(info.metadata)
    while typing.get_origin(annotation) is typing.Annotated:
        args = typing.get_args(annotation)
        for meta in args[1:]:
            found.extend(getattr(meta, "metadata", None) or [meta])
        annotation = args[0]
    return found


def _is_table(annotation: Any) -> bool:
    inner = typing.get_args(annotation)[:1] if typing.get_origin(annotation) is tuple else ()
    return any(isinstance(a, type) and issubclass(a, BaseModel) for a in (annotation, *inner))


def _type_name(annotation: Any) -> str:
    plain = _base(annotation)
    if typing.get_origin(plain) is Literal:
        return "string"
    if typing.get_origin(plain) is tuple:
        return "list of strings"
    return {bool: "boolean", int: "integer", float: "number", str: "string"}.get(
        plain, getattr(plain, "__name__", str(plain)))


def _number(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}"
    return repr(value) if abs(value) < 1e6 else f"{value:g}"


def _accepts(annotation: Any, info: Any, optional: bool, key: str) -> str:
    from evosim.scenario import CHANNELS

    plain = _base(annotation)
    if key == "vision.channels":
        text = "each of " + ", ".join(f'``"{c}"``' for c in CHANNELS) + " at most once"
    elif typing.get_origin(plain) is Literal:
        text = "one of " + ", ".join(f'``"{a}"``' for a in typing.get_args(plain))
    elif plain is bool:
        text = "``true`` or ``false``"
    else:
        lo = hi = None
        strict_lo = strict_hi = False
        length = None
        for c in _constraints(annotation, info):
            for attr in ("ge", "gt"):
                if getattr(c, attr, None) is not None:
                    lo, strict_lo = getattr(c, attr), attr == "gt"
            for attr in ("le", "lt"):
                if getattr(c, attr, None) is not None:
                    hi, strict_hi = getattr(c, attr), attr == "lt"
            if getattr(c, "max_length", None) is not None:
                length = c.max_length
        parts = []
        if lo is not None:
            parts.append(f"{'above' if strict_lo else 'at least'} {_number(lo)}")
        if hi is not None:
            parts.append(f"{'below' if strict_hi else 'at most'} {_number(hi)}")
        if length is not None:
            parts.append(f"at most {length:,} characters")
        text = ", ".join(parts) if parts else "any value of its type"
    return text + ("; absent: unchanged" if optional and info.default is None else "")


def _default(info: Any) -> str:
    if info.is_required():
        return "required"
    value = info.default
    if value is None:
        return "none"
    if isinstance(value, str):
        return f'``"{value}"``'
    if isinstance(value, tuple):
        return "``[" + ", ".join(f'"{v}"' for v in value) + "]``"
    return f"``{_number(value)}``"


def _cell(text: str) -> str:
    return " ".join(text.split())


def _key_rows(model: type[BaseModel], prefix: str, fallback: type[BaseModel] | None,
              where: str) -> list[tuple[str, str, str, str, str]]:
    rows = []
    for name, info in model.model_fields.items():
        annotation, optional = _unwrap(info.annotation)
        if _is_table(annotation):
            continue  # a nested table (or the list of phases): listed on its own
        meaning = info.description
        if meaning is None and fallback is not None:
            # A phase's key means what the base key of the same name means.
            table = prefix.split(".")[0]
            base_table = fallback.model_fields[table].annotation
            base = base_table.model_fields.get(name)
            meaning = base.description if base is not None else None
        if not meaning:
            LOG.warning("scenario key %s%s has no description: add description=... to its "
                        "Field in evosim/scenario/model.py", prefix, name, location=where)
            meaning = ""
        rows.append((f"``{prefix}{name}``", _type_name(annotation), _default(info),
                     _accepts(annotation, info, optional, prefix + name), _cell(meaning)))
    return rows


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    lines = [".. list-table::", "   :header-rows: 1", "   :widths: 22 10 10 22 36", "",
             "   * - key", "     - type", "     - default", "     - accepts", "     - meaning"]
    for row in rows:
        lines.append(f"   * - {row[0]}")
        lines.extend(f"     - {cell}" for cell in row[1:])
    return [*lines, ""]


def _doc(model: type[BaseModel]) -> str:
    return _cell(inspect.getdoc(model) or "")


def scenario_rst(where: str) -> list[str]:
    """The reST of every scenario key, table by table."""
    from evosim.scenario.model import Phase, Scenario

    lines: list[str] = []
    top = _key_rows(Scenario, "", None, where)
    lines += ["Top level", "---------", "", _doc(Scenario), "", *_table(top)]
    for name, info in Scenario.model_fields.items():
        annotation = info.annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            continue
        title = f"[{name}]"
        lines += [title, "-" * len(title), "", _doc(annotation), ""]
        lines += _table(_key_rows(annotation, f"{name}.", None, where))
    title = "[[phases]]"
    lines += [title, "-" * len(title), "", _doc(Phase),
              "A key left out keeps the value it had before the phase.", ""]
    rows = _key_rows(Phase, "", None, where)
    for name, info in Phase.model_fields.items():
        sub = info.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            rows += _key_rows(sub, f"{name}.", Scenario, where)
    lines += _table(rows)
    return lines


class ScenarioKeys(SphinxDirective):
    """Every scenario key with its type, default, accepted values and meaning."""

    def run(self) -> list[nodes.Node]:
        where = f"{self.env.docname}:{self.lineno}"
        self.env.note_dependency(inspect.getfile(_scenario_module()))
        return self._parse(scenario_rst(where))

    def _parse(self, lines: list[str]) -> list[nodes.Node]:
        node = nodes.section()
        node.document = self.state.document
        nested_parse_with_titles(self.state, StringList(lines, source="evosim.scenario"), node)
        return list(node.children)


def _scenario_module() -> Any:
    import evosim.scenario.model as module

    return module


# ------------------------------------------------------------------ commented sources

_COMMENTED = re.compile(r"^\s*(?:\"(?P<item>\w+)\",|(?P<field>\w+):\s*[\w.\[\], |]+?)"
                        r"\s*(?:#\s*(?P<comment>.*))?$")


def commented_items(source: str) -> list[tuple[str, str]]:
    """(name, comment) of each ``"name",  # comment`` or ``name: type  # comment`` line;
    an item without a comment shares the comment of the item before it, and a
    comment-only line that follows an item continues that item's comment."""
    out: list[tuple[str, str]] = []
    for line in source.splitlines():
        match = _COMMENTED.match(line)
        if match and (match.group("item") or match.group("field")):
            name = match.group("item") or match.group("field")
            comment = match.group("comment")
            if comment is None:
                comment = out[-1][1] if out else ""
            out.append((name, comment.strip()))
        elif out and re.match(r"^\s*#\s{2,}", line):
            out[-1] = (out[-1][0], out[-1][1] + " " + line.strip().lstrip("#").strip())
    return out


class _ItemTable(SphinxDirective):
    header = ("name", "meaning")

    def items(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        rows = self.items()
        table = nodes.table()
        group = nodes.tgroup(cols=2)
        table += group
        for width in (30, 70):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        group += head
        head += self._row(self.header, literal=False)
        body = nodes.tbody()
        group += body
        for name, comment in rows:
            body += self._row((name, comment), literal=True)
        return [table]

    @staticmethod
    def _row(cells: tuple[str, str], literal: bool) -> nodes.row:
        row = nodes.row()
        for i, text in enumerate(cells):
            entry = nodes.entry()
            para = nodes.paragraph()
            para += nodes.literal(text=text) if literal and i == 0 else nodes.Text(text)
            entry += para
            row += entry
        return row


class MetricsColumns(_ItemTable):
    """The columns of ``metrics.csv``, in order."""

    header = ("column", "meaning")

    def items(self) -> list[tuple[str, str]]:
        from evosim.evolve import metrics

        source = inspect.getsource(metrics)
        block = source[source.index("COLUMNS = ("):]
        block = block[: block.index("\n)")]
        # The counters' columns come in as one starred line; one row each.
        starred = re.search(r"^\s*\*COUNT_COLUMNS,\s*#\s*(.*)$", block, re.M)
        if starred:
            rows = "".join(f'    "{name}",  # {starred.group(1)}\n'
                           for name in metrics.COUNT_COLUMNS)
            block = block[:starred.start()] + rows + block[starred.end() + 1:]
        items = commented_items(block)
        if [name for name, _ in items] != list(metrics.COLUMNS):
            LOG.warning("metrics-columns: could not read every column's comment",
                        location=self.get_location())
        return items


class StateArrays(_ItemTable):
    """The arrays of a checkpoint: every :class:`~evosim.world.WorldState` field."""

    header = ("array", "dtype, shape and meaning")

    def items(self) -> list[tuple[str, str]]:
        from evosim.world.state import WorldState

        source = inspect.getsource(WorldState)
        items = [(n, c) for n, c in commented_items(source) if n in WorldState._fields]
        if [name for name, _ in items] != list(WorldState._fields):
            LOG.warning("state-arrays: could not read every field's comment",
                        location=self.get_location())
        return items


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("scenario-keys", ScenarioKeys)
    app.add_directive("metrics-columns", MetricsColumns)
    app.add_directive("state-arrays", StateArrays)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
