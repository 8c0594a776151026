"""Checks for the book's exercises: claims about a reader's result that explain themselves.

An exercise's check (a ```pyexercise fence, see CONTRIBUTING.md) runs after the reader's code in
the same namespace and calls these functions. Each returns quietly when the claim holds and raises
`Failed` otherwise, with a message in the page's language (`set_language`) that says what is wrong
and in which direction (too large, by what factor, which component), without printing the answer.
`run` executes a check's code and turns a NameError into "your code does not define `w`".

Standard library only: the same module runs on CPython (tests) and in Pyodide (the page).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from .engine import Tensor

LANGUAGES = ("en", "zh")
_language = "en"

# Every message, in both languages. Placeholders are filled by str.format; names go in backticks.
MESSAGES: dict[str, dict[str, str]] = {
    "not_number": {
        "en": "`{name}` should be a number, but it is {kind}.",
        "zh": "`{name}` 应当是一个数，但它是{kind}。",
    },
    "not_numbers": {
        "en": "`{name}` should be a number or a list of numbers, but it is {kind}.",
        "zh": "`{name}` 应当是一个数或一列数，但它是{kind}。",
    },
    "length": {
        "en": "`{name}` has {got} numbers; it should have {want}.",
        "zh": "`{name}` 有 {got} 个数，应当有 {want} 个。",
    },
    "not_finite": {
        "en": "`{name}` is {value}: the computation overflowed or divided by zero somewhere.",
        "zh": "`{name}` 是 {value}：计算中某处溢出或除以了零。",
    },
    "too_large": {
        "en": "`{name}` is {value}: too large, by a factor of about {factor}.",
        "zh": "`{name}` 是 {value}：太大了，约为应有值的 {factor} 倍。",
    },
    "too_small": {
        "en": "`{name}` is {value}: too small, by a factor of about {factor}.",
        "zh": "`{name}` 是 {value}：太小了，约为应有值的 1/{factor}。",
    },
    "sign": {
        "en": "`{name}` is {value}: it has the wrong sign.",
        "zh": "`{name}` 是 {value}：符号反了。",
    },
    "not_zero": {
        "en": "`{name}` is {value}: it should be 0 (within {tol}).",
        "zh": "`{name}` 是 {value}：它应当为 0（误差不超过 {tol}）。",
    },
    "slightly": {
        "en": "`{name}` is {value}: close, but {direction} by {amount} (the tolerance is {tol}).",
        "zh": "`{name}` 是 {value}：接近了，但{direction} {amount}（允许的误差是 {tol}）。",
    },
    "off_by": {
        "en": "`{name}` is {value}: {direction} by {amount} (the tolerance is {tol}).",
        "zh": "`{name}` 是 {value}：{direction} {amount}（允许的误差是 {tol}）。",
    },
    "larger": {"en": "too large", "zh": "偏大"},
    "smaller": {"en": "too small", "zh": "偏小"},
    "entries_off": {
        "en": "{count} of {total} entries of `{name}` are off; the worst: {worst}",
        "zh": "`{name}` 的 {total} 个数中有 {count} 个不对；最离谱的一个：{worst}",
    },
    "grad_component": {
        "en": "component {index} of `{name}` is {value}, {relation}.",
        "zh": "`{name}` 的第 {index} 个分量是 {value}，{relation}。",
    },
    "grad_factor": {
        "en": "{factor} times what finite differences give",
        "zh": "是有限差分结果的 {factor} 倍",
    },
    "grad_sign": {
        "en": "the opposite sign of what finite differences give",
        "zh": "与有限差分结果的符号相反",
    },
    "grad_zero": {"en": "but finite differences give 0", "zh": "而有限差分给出 0"},
    "grad_nonzero": {
        "en": "but finite differences do not give 0",
        "zh": "而有限差分给出的不是 0",
    },
    "grad_close": {
        "en": "off by {percent} from what finite differences give",
        "zh": "与有限差分结果相差 {percent}",
    },
    "grad_wrong": {
        "en": "`{name}` does not match finite differences: {detail}",
        "zh": "`{name}` 与有限差分不符：{detail}",
    },
    "f_not_number": {
        "en": "the function given for `{name}` should return a number, but it returns {kind}.",
        "zh": "为 `{name}` 给出的函数应当返回一个数，但它返回的是{kind}。",
    },
    "shape": {
        "en": "`{name}` has shape {got}; it should have shape {want}.",
        "zh": "`{name}` 的形状是 {got}，应当是 {want}。",
    },
    "shape_swapped": {
        "en": "`{name}` has shape {got}; it should have shape {want} (rows and columns swapped?).",
        "zh": "`{name}` 的形状是 {got}，应当是 {want}（行与列弄反了？）。",
    },
    "ragged": {
        "en": "`{name}` is a ragged list: its rows do not all have the same length.",
        "zh": "`{name}` 是参差不齐的列表：各行长度不一样。",
    },
    "no_shape": {
        "en": "`{name}` should be a tensor or a list, but it is {kind}.",
        "zh": "`{name}` 应当是张量或列表，但它是{kind}。",
    },
    "not_below": {
        "en": "`{name}` is {value}; it should be below {target} ({factor} times the target).",
        "zh": "`{name}` 是 {value}，应当低于 {target}（是目标的 {factor} 倍）。",
    },
    "not_below_close": {
        "en": "`{name}` is {value}; it should be below {target} (almost there).",
        "zh": "`{name}` 是 {value}，应当低于 {target}（就差一点）。",
    },
    "not_above": {
        "en": "`{name}` is {value}; it should be above {target}.",
        "zh": "`{name}` 是 {value}，应当高于 {target}。",
    },
    "wrong_type": {
        "en": "`{name}` should be {want}, but it is {kind}.",
        "zh": "`{name}` 应当是{want}，但它是{kind}。",
    },
    "int_large": {
        "en": "`{name}` is {value}: too large.",
        "zh": "`{name}` 是 {value}：太大了。",
    },
    "int_small": {
        "en": "`{name}` is {value}: too small.",
        "zh": "`{name}` 是 {value}：太小了。",
    },
    "not_equal": {
        "en": "`{name}` is {value}, which is not right.",
        "zh": "`{name}` 是 {value}，不对。",
    },
    "undefined": {
        "en": "your code does not define `{name}`.",
        "zh": "你的代码没有定义 `{name}`。",
    },
    "placeholder": {
        "en": "`{name}` is still `...`: replace the placeholder with your answer.",
        "zh": "`{name}` 还是 `...`：请把占位符换成你的答案。",
    },
}

KINDS = {
    "en": {"none": "None", "str": "a string", "bool": "a boolean", "list": "a list"},
    "zh": {"none": "None", "str": "字符串", "bool": "布尔值", "list": "列表"},
}
TYPE_NAMES = {
    "en": {"int": "an integer", "float": "a number", "str": "a string", "bool": "True or False"},
    "zh": {"int": "整数", "float": "数", "str": "字符串", "bool": "True 或 False"},
}


class Failed(Exception):  # noqa: N818 - the name reads as the outcome: check.Failed
    """A check did not pass; `str(err)` is the message for the reader, in the page's language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def set_language(lang: str) -> None:
    """Write the messages in `lang` ("en" or "zh"; "zh-CN" and such count as "zh")."""
    global _language
    base = str(lang).strip().lower().split("-")[0].split("_")[0]
    if base not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; known: {', '.join(LANGUAGES)}")
    _language = base


def language() -> str:
    """The language messages are written in."""
    return _language


def message(key: str, **fields: Any) -> str:
    """The message `key` in the current language, with `fields` filled in."""
    return MESSAGES[key][_language].format(**fields)


def fail(key: str, **fields: Any) -> Failed:
    return Failed(message(key, **fields))


def run(source: str, namespace: dict[str, Any], filename: str = "<check>") -> None:
    """Run a check's code in the reader's namespace; a NameError becomes a `Failed`.

    The NameError is the reader's problem (the starter's variable is gone or misspelt), so it is
    said in the page's language rather than shown as a traceback into the check.
    """
    try:
        exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - the book's own check
    except NameError as err:
        name = getattr(err, "name", None) or str(err)
        raise fail("undefined", name=name) from None


# ---------------------------------------------------------------------------------------------
# Formatting


def fmt(x: float) -> str:
    """A number as the book writes it: 4 significant digits, 1.2 × 10⁻⁶ when small, true minus."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return repr(x)
    if isinstance(x, int) and abs(x) < 10**6:
        text = str(x)
    elif math.isnan(x):
        return "nan"
    elif math.isinf(x):
        return "inf" if x > 0 else "\u2212inf"
    elif x == 0 or 1e-3 <= abs(x) < 1e6:
        text = f"{x:.4g}"
        if "e" in text:  # 4g may still pick an exponent near the limits
            text = f"{x:.6f}".rstrip("0").rstrip(".")
    else:
        mantissa, exponent = f"{x:.2e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".")
        sup = str(int(exponent)).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
        text = f"{mantissa} × 10{sup}"
    return text.replace("-", "\u2212")


def _factor(ratio: float) -> str:
    """A ratio >= 1 written for a reader: 1.5, 12, 3.4 × 10⁵."""
    if ratio < 10:
        return fmt(float(f"{ratio:.2g}"))
    if ratio < 1e6:
        return fmt(round(ratio, 2 - len(str(int(ratio)))))
    return fmt(ratio)


def _percent(fraction: float) -> str:
    percent = fraction * 100
    return f"{percent:.2g}%" if percent < 10 else f"{percent:.0f}%"


def _sig(x: float, digits: int) -> str:
    """x >= 0 with `digits` significant digits, trailing zeros dropped; 1.2 × 10⁻⁷ when tiny."""
    if x == 0 or 1e-3 <= x < 1e6:
        text = f"{x:.{digits}f}" if x >= 10 ** (digits - 1) else f"{x:.{digits}g}"
        if "e" not in text:
            return text.rstrip("0").rstrip(".") if "." in text else text
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    sup = str(int(exponent)).translate(str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹"))
    return f"{mantissa} × 10{sup}"


def _above(amount: float, limit: float) -> str:
    """amount (> limit) with just enough digits to read as more than limit: 1.01, not 1."""
    for digits in range(2, 10):
        if float(f"{amount:.{digits}g}") > limit:
            break
    return _sig(amount, digits)


def _near(value: float, expected: float) -> str:
    """value with enough digits to tell it from expected (1.0101, not 1.01), 4 at least."""
    error = abs(value - expected) / abs(expected)
    digits = 4 if error == 0 else min(15, max(4, math.ceil(-math.log10(error)) + 3))
    return fmt(value) if digits == 4 else ("\u2212" if value < 0 else "") + _sig(abs(value), digits)


def _kind(value: Any) -> str:
    """What `value` is, for a message ("a string"); Latin words get a space after Chinese."""
    kinds = KINDS[_language]
    if value is None:
        text = kinds["none"]
    elif isinstance(value, bool):
        text = kinds["bool"]
    elif isinstance(value, str):
        text = kinds["str"]
    elif isinstance(value, list | tuple):
        text = kinds["list"]
    else:
        text = f"`{type(value).__name__}`"
    return f" {text}" if _language == "zh" and text.isascii() else text


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _number(value: Any, name: str) -> float:
    """`value` as a float: a number or a 1x1 tensor; `...` and anything else fail clearly."""
    if value is Ellipsis:
        raise fail("placeholder", name=name)
    if isinstance(value, Tensor) and value.shape == (1, 1):
        value = value.item()
    if not _is_number(value):
        raise fail("not_number", name=name, kind=_kind(value))
    return float(value)


def _numbers(value: Any, name: str) -> list[float] | None:
    """A flat list of floats from a list/tuple or a one-row/one-column tensor; None for a scalar."""
    if value is Ellipsis:
        raise fail("placeholder", name=name)
    if isinstance(value, Tensor):
        rows, cols = value.shape
        if rows == 1 and cols == 1:
            return None
        if rows != 1 and cols != 1:
            raise fail("not_numbers", name=name, kind=f"`Tensor` {rows}×{cols}")
        return [float(v) for row in value.data for v in row]
    if isinstance(value, list | tuple):
        out = []
        for i, v in enumerate(value):
            out.append(_number(v, f"{name}[{i}]"))
        return out
    if _is_number(value):
        return None
    raise fail("not_numbers", name=name, kind=_kind(value))


def _finite(x: float, name: str) -> None:
    if not math.isfinite(x):
        raise fail("not_finite", name=name, value=fmt(x))


# ---------------------------------------------------------------------------------------------
# The checks


def _close_one(value: float, expected: float, rel: float, abs_tol: float, name: str) -> None:
    _finite(value, name)
    tol = max(rel * abs(expected), abs_tol)
    error = abs(value - expected)
    if error <= tol:
        return
    if expected == 0:
        raise fail("not_zero", name=name, value=fmt(value), tol=fmt(tol))
    if value == 0 or (value > 0) != (expected > 0):
        if value == 0:
            raise fail("too_small", name=name, value=fmt(value), factor="∞")
        raise fail("sign", name=name, value=fmt(value))
    ratio = value / expected
    if 0.5 <= ratio <= 2:
        # Within a factor 2: how far, in the unit of the tolerance (a percentage when it is
        # relative, the difference when it is absolute), with the digits that show it is over;
        # "close" only within 10%.
        direction = message("larger" if abs(value) > abs(expected) else "smaller")
        if rel * abs(expected) >= abs_tol:
            amount, tol_text = (
                _above(abs(ratio - 1) * 100, rel * 100) + "%",
                _sig(rel * 100, 3) + "%",
            )
        else:
            amount, tol_text = _above(error, abs_tol), _sig(abs_tol, 3)
        raise fail(
            "slightly" if round(abs(ratio - 1), 9) <= 0.1 else "off_by",
            name=name,
            value=_near(value, expected),
            direction=direction,
            amount=amount,
            tol=tol_text,
        )
    key = "too_large" if ratio > 1 else "too_small"
    raise fail(key, name=name, value=fmt(value), factor=_factor(max(ratio, 1 / ratio)))


def close(
    value: Any, expected: Any, *, rel: float = 1e-2, abs_tol: float = 0.0, name: str = "value"
) -> None:
    """`value` is within `rel` (relative) or `abs_tol` (absolute) of `expected`.

    Both may be numbers or flat lists / one-row tensors of numbers. The message says whether the
    value is too large or too small and by what factor (for a list: how many entries and the worst).
    """
    got = _numbers(value, name)
    want = expected if _is_number(expected) else _numbers(expected, "expected")
    if got is None or isinstance(want, int | float):
        if got is not None:
            raise fail("not_number", name=name, kind=_kind(value))
        _close_one(_number(value, name), float(want), rel, abs_tol, name)
        return
    assert isinstance(want, list)
    if len(got) != len(want):
        raise fail("length", name=name, got=len(got), want=len(want))
    problems: list[tuple[float, str]] = []
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        try:
            _close_one(g, w, rel, abs_tol, f"{name}[{i}]")
        except Failed as err:
            badness = (
                math.inf if not math.isfinite(g) else abs(g - w) / max(abs(w), abs_tol, 1e-300)
            )
            problems.append((badness, err.message))
    if problems:
        worst = max(problems, key=lambda p: p[0])[1]
        if len(problems) == 1:
            raise Failed(worst)
        raise fail("entries_off", name=name, count=len(problems), total=len(got), worst=worst)


def grad_matches(
    f: Callable[[list[float]], Any],
    x: Sequence[float],
    grad: Any,
    *,
    eps: float = 1e-6,
    rel: float = 1e-4,
    name: str = "gradient",
) -> None:
    """`grad` is the gradient of `f` at `x`, compared with central finite differences.

    `f` maps a list of floats to a float (or a 1x1 tensor). Each component must agree within
    `rel` of its own size or, for components much smaller than the largest, of the largest one's
    size / 1000. The message names the worst component and how it is off.
    """
    point = [_number(v, f"x[{i}]") for i, v in enumerate(x)]
    got = _numbers(grad, name)
    if got is None:
        got = [_number(grad, name)]
    if len(got) != len(point):
        raise fail("length", name=name, got=len(got), want=len(point))
    for i, g in enumerate(got):
        _finite(g, f"{name}[{i}]")

    def value(p: list[float]) -> float:
        out = f(p)
        if isinstance(out, Tensor) and out.shape == (1, 1):
            out = out.item()
        if not _is_number(out):
            raise fail("f_not_number", name=name, kind=_kind(out))
        return float(out)

    numeric = []
    for i in range(len(point)):
        step = eps * max(1.0, abs(point[i]))
        up, down = list(point), list(point)
        up[i] += step
        down[i] -= step
        numeric.append((value(up) - value(down)) / (2 * step))
    scale = max((abs(n) for n in numeric), default=0.0)
    worst: tuple[float, int] | None = None
    for i, (g, n) in enumerate(zip(got, numeric, strict=True)):
        tol = rel * max(abs(n), 1e-3 * scale) + 1e-8
        if abs(g - n) > tol:
            badness = abs(g - n) / tol
            if worst is None or badness > worst[0]:
                worst = (badness, i)
    if worst is None:
        return
    i = worst[1]
    g, n = got[i], numeric[i]
    if abs(n) <= 1e-8 + 1e-3 * scale * rel:
        relation = message("grad_zero")
    elif g == 0:
        relation = message("grad_nonzero")
    elif (g > 0) != (n > 0):
        relation = message("grad_sign")
    elif 0.5 <= g / n <= 2:
        relation = message("grad_close", percent=_percent(abs(g / n - 1)))
    else:
        relation = message("grad_factor", factor=_factor(g / n))
    detail = message("grad_component", index=i, name=name, value=fmt(g), relation=relation)
    raise fail("grad_wrong", name=name, detail=detail)


def _shape_of(value: Any, name: str) -> tuple[int, ...]:
    if isinstance(value, Tensor):
        return tuple(value.shape)
    if not isinstance(value, list | tuple):
        raise fail("no_shape", name=name, kind=_kind(value))
    shape: list[int] = []
    level: list[Any] = [value]
    while level and all(isinstance(v, list | tuple) for v in level):
        lengths = {len(v) for v in level}
        if len(lengths) != 1:
            raise fail("ragged", name=name)
        shape.append(lengths.pop())
        level = [item for v in level for item in v]
    if any(isinstance(v, list | tuple) for v in level):
        raise fail("ragged", name=name)
    return tuple(shape)


def _shape_text(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def shape(value: Any, expected: Sequence[int], *, name: str = "value") -> None:
    """`value` (a lite tensor or a nested list) has shape `expected`."""
    if value is Ellipsis:
        raise fail("placeholder", name=name)
    got = _shape_of(value, name)
    want = tuple(int(n) for n in expected)
    if got == want:
        return
    key = "shape_swapped" if len(got) == 2 and got[::-1] == want else "shape"
    raise fail(key, name=name, got=_shape_text(got), want=_shape_text(want))


def below(value: Any, target: float, *, name: str = "loss") -> None:
    """`value` is a finite number strictly below `target` (a final loss, a gradient norm)."""
    v = _number(value, name)
    _finite(v, name)
    if v < target:
        return
    if target > 0 and v / target >= 1.1:
        raise fail(
            "not_below", name=name, value=fmt(v), target=fmt(target), factor=_factor(v / target)
        )
    raise fail("not_below_close", name=name, value=fmt(v), target=fmt(target))


def above(value: Any, target: float, *, name: str = "value") -> None:
    """`value` is a finite number strictly above `target` (an accuracy, a gradient norm)."""
    v = _number(value, name)
    _finite(v, name)
    if v <= target:
        raise fail("not_above", name=name, value=fmt(v), target=fmt(target))


def equal(value: Any, expected: Any, *, name: str = "value") -> None:
    """`value == expected` (an index, a name, a boolean); numbers say too large or too small."""
    if value is Ellipsis:
        raise fail("placeholder", name=name)
    if value == expected and type(value) is type(expected) or _same_number(value, expected):
        return
    want_type = type(expected).__name__
    if want_type in TYPE_NAMES["en"] and not _comparable(value, expected):
        raise fail(
            "wrong_type", name=name, want=TYPE_NAMES[_language][want_type], kind=_kind(value)
        )
    if _is_number(value) and _is_number(expected):
        raise fail("int_large" if value > expected else "int_small", name=name, value=fmt(value))
    shown = fmt(value) if _is_number(value) else repr(value)
    raise fail("not_equal", name=name, value=shown)


def _same_number(a: Any, b: Any) -> bool:
    return _is_number(a) and _is_number(b) and a == b


def _comparable(value: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(expected, bool)
    if _is_number(expected):
        return _is_number(value)
    return type(value) is type(expected)


def that(condition: Any, *, en: str, zh: str) -> None:
    """Any other claim: fails with the author's message in the page's language."""
    if not condition:
        raise Failed(en if _language == "en" else zh)


def finite(value: Any, *, name: str = "value") -> None:
    """`value` (a number, a list or a tensor of numbers) holds no NaN or infinity."""
    if isinstance(value, Tensor):
        items = [v for row in value.data for v in row]
        for i, v in enumerate(items):
            _finite(float(v), name if len(items) == 1 else f"{name}[{i}]")
        return
    got = _numbers(value, name)
    if got is None:
        _finite(_number(value, name), name)
        return
    for i, v in enumerate(got):
        _finite(v, f"{name}[{i}]")
