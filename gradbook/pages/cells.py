"""The ```pycell fence: a code block that the page's script turns into a runnable cell.

Registered as a pymdownx.superfences custom fence (``fence_validator`` reads its options,
``fence_format`` writes its HTML). The HTML is a plain code block inside a marked container, so
without JavaScript the reader still sees the code; web/src/cells.js finds ``div.pycell`` and
replaces it with an editor, buttons and an output area.

Knobs: a cell may bind sliders and choices to its top-level variables,

    ```pycell knobs="depth:int:1..30, lr:float:0.01..1/0.01, activation:choice:sigmoid|tanh|relu"
    activation = "sigmoid"
    depth = 10
    lr = 0.1
    ```

Each knob is ``name:kind:domain`` with an optional ``:label`` (text in the page's language, shown
beside the name; it may not contain ``,`` or ``:``, so write ``，``/``：`` in Chinese). Kinds:

- ``int:LO..HI`` or ``int:LO..HI/STEP`` (integers, step 1 by default),
- ``float:LO..HI/STEP`` (the step also fixes the decimals written into the code),
- ``choice:A|B|C`` (two or more values of letters, digits, ``_ . + -``; numbers are written into the
  code bare, anything else as a string).

The cell's code must assign each knob's variable once at the top level, on a line of its own
(``depth = 10``, a trailing comment allowed), to a value inside the knob's domain: the browser
rewrites that literal when the reader moves the knob. A malformed spec fails the build.
The knobs reach the page as JSON in ``data-knobs``.
"""

from __future__ import annotations

import json
import keyword
import re
from decimal import Decimal, InvalidOperation
from html import escape
from typing import Any

from pymdownx.superfences import SuperFencesException

CSS_CLASS = "pycell"
OPTIONS = ("knobs",)
KINDS = ("int", "float", "choice")

NUMBER = r"[-+]?(?:\d[\d_]*\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)"
STRING = r"\"[^\"\\\n]*\"|'[^'\\\n]*'"
# The literal a knob rewrites: `name = <literal>` at the start of a line (web/src/knobs.js: same).
LITERAL = rf"(?:{STRING}|{NUMBER})"
CHOICE_VALUE = re.compile(r"[A-Za-z0-9_.+-]+")
INT = re.compile(r"[-+]?\d+")


class KnobError(SuperFencesException):
    """A pycell's knobs option is malformed or does not fit the cell's code (fails the build)."""


def assignment(name: str) -> re.Pattern[str]:
    """The top-level line `name = literal` (the literal is group 2)."""
    return re.compile(rf"^({re.escape(name)}[ \t]*=[ \t]*)({LITERAL})(?=[ \t]*(?:#.*)?$)", re.M)


def _number(text: str, where: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise KnobError(f"{where}: {text.strip()!r} is not a number") from None
    if not value.is_finite():
        raise KnobError(f"{where}: {text.strip()!r} is not a finite number")
    return value


def _range(domain: str, where: str, kind: str) -> dict[str, Any]:
    bounds, _, step_text = domain.partition("/")
    lo_text, sep, hi_text = bounds.partition("..")
    if not sep:
        raise KnobError(f"{where}: a {kind} knob needs LO..HI, got {domain!r}")
    if kind == "int":
        for text in (lo_text, hi_text, step_text or "1"):
            if not INT.fullmatch(text.strip()):
                raise KnobError(f"{where}: {text.strip()!r} is not an integer")
    elif not step_text:
        raise KnobError(f"{where}: a float knob needs a step, LO..HI/STEP")
    lo, hi = _number(lo_text, where), _number(hi_text, where)
    step = _number(step_text or "1", where)
    if lo >= hi:
        raise KnobError(f"{where}: LO must be below HI in {domain!r}")
    if step <= 0 or step > hi - lo:
        raise KnobError(f"{where}: the step must be positive and at most HI - LO in {domain!r}")
    if kind == "int":
        return {"min": int(lo), "max": int(hi), "step": int(step)}
    decimals = max(0, -step.normalize().as_tuple().exponent)
    return {"min": float(lo), "max": float(hi), "step": float(step), "decimals": decimals}


def parse_knobs(spec: str) -> list[dict[str, Any]]:
    """Parse a `knobs="..."` option into the list the front end reads; raises KnobError."""
    knobs: list[dict[str, Any]] = []
    for part in spec.split(","):
        part = part.strip()
        if not part:
            raise KnobError(f"pycell knobs={spec!r}: empty knob (a stray comma?)")
        fields = [f.strip() for f in part.split(":")]
        where = f"pycell knob {part!r}"
        if len(fields) not in (3, 4):
            raise KnobError(f"{where}: write name:kind:domain or name:kind:domain:label")
        name, kind, domain = fields[:3]
        if not name.isidentifier() or keyword.iskeyword(name):
            raise KnobError(f"{where}: {name!r} is not a Python variable name")
        if any(k["name"] == name for k in knobs):
            raise KnobError(f"{where}: {name!r} has two knobs")
        knob: dict[str, Any] = {"name": name, "kind": kind}
        if kind == "choice":
            values = [v.strip() for v in domain.split("|")]
            if len(values) < 2 or len(set(values)) != len(values):
                raise KnobError(f"{where}: a choice needs two or more different values A|B")
            for value in values:
                if not CHOICE_VALUE.fullmatch(value):
                    raise KnobError(
                        f"{where}: choice value {value!r} may only hold [A-Za-z0-9_.+-]"
                    )
            knob["values"] = values
        elif kind in ("int", "float"):
            knob.update(_range(domain, where, kind))
        else:
            raise KnobError(f"{where}: unknown kind {kind!r} (one of {', '.join(KINDS)})")
        if len(fields) == 4:
            if not fields[3]:
                raise KnobError(f"{where}: empty label")
            knob["label"] = fields[3]
        knobs.append(knob)
    return knobs


def _literal_value(literal: str) -> str | Decimal:
    if literal[0] in "\"'":
        return literal[1:-1]
    return Decimal(literal.replace("_", ""))


def check_knobs(knobs: list[dict[str, Any]], source: str) -> None:
    """Each knob's variable is assigned once at the top level, to a value in the knob's domain."""
    for knob in knobs:
        name = knob["name"]
        found = assignment(name).findall(source)
        where = f"pycell knob {name!r}"
        if len(found) != 1:
            raise KnobError(
                f"{where}: the cell needs exactly one top-level line `{name} = <literal>`,"
                f" found {len(found)}"
            )
        value = _literal_value(found[0][1])
        if knob["kind"] == "choice":
            if str(value) not in knob["values"] and found[0][1] not in knob["values"]:
                raise KnobError(f"{where}: {found[0][1]} is not one of {knob['values']}")
        elif isinstance(value, str) or not knob["min"] <= value <= knob["max"]:
            raise KnobError(f"{where}: {found[0][1]} is outside {knob['min']}..{knob['max']}")
        elif knob["kind"] == "int" and value != value.to_integral_value():
            raise KnobError(f"{where}: {found[0][1]} is not an integer")


def fence_validator(
    language: str,
    inputs: dict[str, str],
    options: dict[str, Any],
    attrs: dict[str, Any],
    md: Any,
) -> bool:
    """Accept ``knobs="..."`` (parsed into options["knobs"]); any other option fails the build."""
    for key, value in inputs.items():
        if key not in OPTIONS:
            raise KnobError(f"pycell: unknown option {key!r} (known: {', '.join(OPTIONS)})")
        if key == "knobs":
            options["knobs"] = parse_knobs(value)
    return True


def fence_format(
    source: str,
    language: str,
    css_class: str,
    options: dict[str, Any],
    md: Any,
    **kwargs: Any,
) -> str:
    """Render one cell; ``source`` is escaped, so printed HTML in the code stays text."""
    code = escape(source.rstrip("\n"), quote=False)
    knobs = options.get("knobs") or []
    extra = ""
    if knobs:
        check_knobs(knobs, source)
        extra = f' data-knobs="{escape(json.dumps(knobs, ensure_ascii=False), quote=True)}"'
    return (
        f'<div class="{CSS_CLASS}" data-language="python"{extra}>'
        f'<pre class="pycell-source"><code class="language-python" tabindex="0">{code}\n</code></pre>'
        "</div>"
    )
