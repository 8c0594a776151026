"""Print measures as a table against their targets and keep them as JSON (`bench/*.json`)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.measure import Measure

BENCH_DIR = Path(__file__).resolve().parent
COLUMNS = ("measure", "median", "min", "max", "target", "status")


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "MB":
        return f"{value:.2f} MB"
    if unit == "s":
        return f"{value:.2f} s" if value < 100 else f"{value:.0f} s"
    return f"{value:g} {unit}"


def _status(met: bool | None) -> str:
    return {True: "met", False: "NOT MET", None: ""}[met]


def rows(results: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    """One row of cells per measure (JSON form, so saved results print the same way)."""
    out = []
    for m in results:
        unit = m["unit"]
        label = m["label"] + (f" ({m['note']})" if m.get("note") else "")
        out.append(
            (
                label,
                _fmt(m["median"], unit),
                _fmt(m["min"], unit),
                _fmt(m["max"], unit),
                "" if m["target"] is None else "<= " + _fmt(m["target"], unit),
                _status(m["met"]),
            )
        )
    return out


def text_table(results: list[dict[str, Any]]) -> str:
    """A fixed-width table for the terminal."""
    body = rows(results)
    widths = [max(len(r[i]) for r in [COLUMNS, *body]) for i in range(len(COLUMNS))]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(COLUMNS), line(tuple("-" * w for w in widths)), *map(line, body)])


def markdown_table(results: list[dict[str, Any]], lang: str = "en") -> str:
    """The same table in Markdown, for the README and the docs pages."""
    columns = ZH_COLUMNS if lang == "zh" else COLUMNS
    body = rows(localized(results, lang))
    if lang == "zh":
        body = [(*r[:-1], ZH_STATUS.get(r[-1], r[-1])) for r in body]
    cell = lambda text: text.replace("|", "\\|").strip()  # noqa: E731
    out = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    out += ["| " + " | ".join(cell(c) for c in r) + " |" for r in body]
    return "\n".join(out)


START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def summary_line(doc: dict[str, Any], lang: str = "en") -> str:
    """When and on what the numbers were measured."""
    env = doc["environment"]
    load = f"{env['load_avg_1m']:.1f} -> {env.get('load_avg_1m_end', env['load_avg_1m']):.1f}"
    runs: dict[str, list[str]] = {}
    for group, started in doc.get("parts", {}).items():
        runs.setdefault(started[11:16], []).append(group)
    if lang == "zh":
        when = "；".join(f"{', '.join(g)} 开始于 {t} UTC" for t, g in sorted(runs.items()))
        return (
            f"测量于 {doc['date']}（提交 `{env['commit']}`，每项重复 {doc['reps']} 次，"
            f"{env['cpu_count']} 核，1 分钟平均负载 {load}"
            + (f"；{when}" if len(runs) > 1 else "")
            + "）。"
        )
    when = "; ".join(f"{', '.join(g)} from {t} UTC" for t, g in sorted(runs.items()))
    return (
        f"Measured on {doc['date']} (commit `{env['commit']}`, {doc['reps']} repetitions of each "
        f"measure, {env['cpu_count']} cores, 1-minute load average {load}"
        + (f"; {when}" if len(runs) > 1 else "")
        + ")."
    )


def update_block(path: Path, doc: dict[str, Any], lang: str = "en", data_link: str = "") -> None:
    """Replace the text between the bench markers in `path` with this run's table (and a link to
    its JSON, if given)."""
    text = path.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise ValueError(f"{path} has no {START} ... {END} block")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    link = ""
    if data_link and lang == "zh":  # the Chinese build does not carry docs/assets: name the file
        link = f"\n\n每次重复的原始数据在仓库的 `{data_link}` 中。"
    elif data_link:
        name = data_link.rsplit("/", 1)[-1]
        link = f"\n\nEvery repetition's raw numbers: [{name}]({data_link})"
    table = markdown_table(doc["results"], lang)
    block = f"{START}\n{summary_line(doc, lang)}\n\n{table}{link}\n{END}"
    path.write_text(head + block + tail, encoding="utf-8")


# Chinese labels for the docs page, by key (a trailing "." matches every key that starts so).
ZH_LABELS = {
    "figures.clean.total": "make figures，从零构建，全部章节",
    "figures.clean.cpu": "  该次构建的 CPU 时间（所有进程）",
    "figures.clean.": "  章节 {rest}",
    "figures.noop": "make figures，没有任何改动",
    "figures.touched": "make figures，修改一个章节之后",
    "site.mkdocs_build": "mkdocs build，英文 + 中文",
    "site.mkdocs_build.first": "mkdocs build，英文 + 中文，全新克隆",
    "site.size": "构建出的站点大小",
    "site.pyodide_dir": "站点中的 Pyodide 目录",
    "site.page_files": "最大的章节页面所引用的文件",
    "site.third_party_urls": "章节页面加载的第三方 URL",
    "browser.third_party_requests": "发往第三方主机的请求",
    "browser.page.": "页面 {rest} 加载的内容（不含 Pyodide）",
    "browser.first_output.cold": "点击运行到第一行输出，冷缓存",
    "browser.first_output.warm": "点击运行到第一行输出，热缓存（刷新）",
    "browser.first_output.next_page": "经站内导航到达的第二个章节页上首次运行到输出",
    "browser.bytes.next_page": "导航到第二页并首次运行时的下载量",
    "browser.stop_to_ready": "停止 `while True: pass` 到再次运行有输出",
    "browser.stop_to_ready.isolated": "  同上，带 COOP/COEP 头（中断，不重启）",
    "browser.bytes.pyodide": "第一次运行下载的 Pyodide",
    "browser.bytes.page": "页面与代码单元前端的下载量（冷缓存）",
    "browser.bytes.warm": "刷新后再次下载的量（热缓存）",
    "browser.ratio.": "{rest} 的全部代码单元：Pyodide / CPython",
    "probes.plain": "普通 torch 训练循环",
    "probes.fit": "gradbook.train.fit，不带探针",
    "probes.probed": "在 probes.grad_norms 中运行 fit",
    "probes.fit_overhead": "fit / 普通循环",
    "probes.probe_overhead": "带探针的 fit / fit",
    "probes.overhead": "探针开销（带探针的 fit / 普通循环）",
    "probes.overhead_every10": "  同上，每 10 步记录一次",
    "tests.total": "测试套件（make test）",
    "browser.bytes.web_font": "  中文网页字体（仅在系统没有中文字体时下载）",
    "browser.bytes.offline": "  首次访问时在后台保存的离线副本",
}
ZH_COLUMNS = ("测量项", "中位数", "最小", "最大", "目标", "结果")
ZH_STATUS = {"met": "达标", "NOT MET": "未达标", "": ""}


def zh_label(key: str) -> str | None:
    """The Chinese label of a measure key, or None if there is none."""
    if key in ZH_LABELS:
        return ZH_LABELS[key]
    for prefix, template in ZH_LABELS.items():
        if prefix.endswith(".") and key.startswith(prefix):
            return template.format(rest=key[len(prefix) :])
    return None


def localized(results: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """Results with labels in `lang` (notes kept as they are: file names and settings)."""
    if lang != "zh":
        return results
    return [{**m, "label": zh_label(m["key"]) or m["label"]} for m in results]


def environment() -> dict[str, Any]:
    """What the numbers depend on: code version, interpreter, cores, how busy the machine was."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=BENCH_DIR.parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = ""
    return {
        "commit": commit,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_avg_1m": os.getloadavg()[0],
    }


def document(measures: list[Measure], reps: int, started: datetime, env: dict[str, Any]) -> dict:
    """The JSON document of one bench run."""
    return {
        "date": started.strftime("%Y-%m-%d"),
        "started": started.isoformat(timespec="seconds"),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "reps": reps,
        "environment": {**env, "load_avg_1m_end": os.getloadavg()[0]},
        "results": [m.to_json() for m in measures],
    }


def write(doc: dict, out_dir: Path = BENCH_DIR) -> list[Path]:
    """Write `results-<date>.json` and `latest.json`; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    paths = [out_dir / f"results-{doc['date']}.json", out_dir / "latest.json"]
    for p in paths:
        p.write_text(text, encoding="utf-8")
    return paths


def merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """`new`'s results, plus those of `old` in groups `new` did not measure (a group is the first
    part of a key: figures, site, browser, probes, tests). Each group's numbers stay from one run, so
    its ratios hold; `parts` records which run each group came from."""
    group = lambda m: m["key"].split(".")[0]  # noqa: E731
    fresh = {group(m) for m in new["results"]}
    kept = [m for m in old["results"] if group(m) not in fresh]
    parts = {g: new["started"] for g in fresh}
    parts.update({group(m): old["started"] for m in kept})
    ordered = sorted(kept + new["results"], key=lambda m: GROUP_ORDER.index(group(m)))
    return {**new, "results": ordered, "parts": parts}


GROUP_ORDER = ["figures", "site", "browser", "probes", "tests"]
REPO = BENCH_DIR.parent
DOCS_PAGES = {
    "en": REPO / "docs" / "en" / "benchmarks.md",
    "zh": REPO / "docs" / "zh" / "benchmarks.md",
}
DOCS_DATA = REPO / "docs" / "en" / "assets" / "benchmarks"  # the English site carries it


def publish(doc: dict[str, Any]) -> list[Path]:
    """Put a run's table into the README and the docs pages, and its JSON next to them."""
    DOCS_DATA.mkdir(parents=True, exist_ok=True)
    dated = DOCS_DATA / f"results-{doc['date']}.json"
    dated.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    update_block(REPO / "README.md", doc, "en", dated.relative_to(REPO).as_posix())
    for lang, page in DOCS_PAGES.items():
        where = dated.relative_to(REPO if lang == "zh" else page.parent).as_posix()
        update_block(page, doc, lang, where)
    return [REPO / "README.md", *DOCS_PAGES.values(), dated]


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.report [FILE] [--markdown|--publish]`: print saved results again, or put
    them into README.md and docs/benchmarks.*.md. `python -m bench.report OLD NEW --merge` keeps
    the groups of OLD that NEW did not measure and writes the union as bench/latest.json."""
    args = sys.argv[1:] if argv is None else argv
    markdown = "--markdown" in args
    files = [a for a in args if not a.startswith("--")] or [str(BENCH_DIR / "latest.json")]
    doc = json.loads(Path(files[0]).read_text(encoding="utf-8"))
    if "--merge" in args:  # python -m bench.report OLD NEW --merge: write the union as latest
        doc = merge(doc, json.loads(Path(files[1]).read_text(encoding="utf-8")))
        print("written: " + ", ".join(str(p) for p in write(doc)))
    if "--publish" in args:
        print("updated: " + ", ".join(str(p.relative_to(REPO)) for p in publish(doc)))
        return 0
    print(f"gradbook benchmarks, {doc['date']} (commit {doc['environment'].get('commit', '?')})")
    table = markdown_table if markdown else text_table
    print(table(doc["results"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
