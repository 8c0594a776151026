"""`make figures` end to end on a fake book of tiny chapters (tests/fixtures/build_project).

Each test copies the fake book and the real build code into tmp_path and runs
`python -m gradbook.build --root <tmp>` in a subprocess, as `make figures` does. What ran is read
from the build's own record (`--json`), never from its human-readable output.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gradbook.build import failure, hashing, manifest, paths, record

REPO = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "build_project"
GOOD = ["01", "02", "03"]


def make_project(tmp_path: Path) -> Path:
    root = tmp_path / "book"
    shutil.copytree(FIXTURE, root)
    pkg = root / "gradbook"
    for name in ("__init__.py", "chapter.py", "plot.py", "results.py", "train.py"):
        shutil.copy(REPO / "gradbook" / name, pkg / name)
    shutil.copytree(
        REPO / "gradbook" / "build", pkg / "build", ignore=shutil.ignore_patterns("__pycache__")
    )
    return root


def env_for(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(root)  # the fake book's gradbook copy wins over the installed one
    return env


def record_path(root: Path) -> Path:
    return root / "build" / "record.json"


def build(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    record_path(root).unlink(missing_ok=True)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "gradbook.build",
            "--root",
            str(root),
            "--json",
            str(record_path(root)),
            *args,
        ],  # fmt: skip
        cwd=root,
        env=env_for(root),
        capture_output=True,
        text=True,
        timeout=300,
    )


def snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and ".staging" not in p.parts and p.name != ".manifest.lock"
    }


def statuses(root: Path) -> dict[str, str]:
    """`{slug: status}` from the last build's record."""
    return {c["slug"]: c["status"] for c in record.read(record_path(root))["chapters"]}


def ran(root: Path) -> set[str]:
    """Slugs the last build ran (successfully or not), read from its record."""
    return {slug for slug, status in statuses(root).items() if status in ("ok", "failed")}


def processes_mentioning(text: str) -> list[int]:
    """Live processes whose command line contains `text` (Linux /proc)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text in cmdline.read_bytes().decode(errors="replace"):
                pids.append(int(cmdline.parent.name))
        except OSError:  # it ended while we looked
            continue
    return pids


@pytest.fixture
def built(tmp_path: Path) -> Path:
    """A fake book whose good chapters are built (into figures/ with a manifest)."""
    root = make_project(tmp_path)
    result = build(root, "--only", *GOOD)
    assert result.returncode == 0, result.stderr
    return root


def test_failures_are_reported_and_the_rest_is_built(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    result = build(root, "--jobs", "2")
    assert result.returncode == 1
    err = result.stderr
    figures = root / "figures"
    assert sorted(p.name for p in (figures / "01_fine").iterdir()) == [
        "line.en.csv",  # the figure's data (tests/test_figure_data.py)
        "line.en.svg",
        "line.zh.csv",
        "line.zh.svg",
        "provenance.json",
        "results.json",
    ]
    run = json.loads((figures / "manifest.json").read_text())["chapters"]["01_fine"]["run"]
    assert set(run) == {"inputs_sha256", "commit", "date"}  # the build's part of the provenance
    assert json.loads((figures / "02_extra" / "results.json").read_text())["value"] == 1
    assert not (figures / "04_nan").exists() and not (figures / "05_badtoml").exists()
    # the NaN, from the real training loop: chapter, exception, message, chapter line, origin
    line = (
        (root / "chapters_src/04_nan.py")
        .read_text()
        .splitlines()
        .index('history = fit(net, x, y, steps=ch.config["steps"], lr=ch.config["lr"])')
    )
    assert "FAILED 04_nan: gradbook.train.NonFiniteError: non-finite " in err
    assert f"at chapters_src/04_nan.py:{line + 1}" in err
    assert "raised in gradbook/train.py:" in err
    # the malformed config names the chapter and the problem
    assert "FAILED 05_badtoml: gradbook.chapter.ConfigError: chapter 05_badtoml:" in err
    assert "05_badtoml.toml is not valid TOML" in err
    assert "3 built, 2 failed" in err
    data = json.loads((figures / "manifest.json").read_text())
    assert sorted(data["chapters"]) == ["01_fine", "02_extra", "03_flaky"]
    assert not list((figures / ".staging").iterdir())
    # the record says the same, for programs
    doc = record.read(record_path(root))
    assert (doc["command"], doc["mode"], doc["exit"]) == ("build", "full", 1)
    by_slug = {c["slug"]: c for c in doc["chapters"]}
    assert [c["slug"] for c in doc["chapters"]] == sorted(by_slug)
    assert {s: c["status"] for s, c in by_slug.items()} == {
        "01_fine": "ok", "02_extra": "ok", "03_flaky": "ok", "04_nan": "failed",
        "05_badtoml": "failed",
    }  # fmt: skip
    assert by_slug["04_nan"]["error"].startswith("gradbook.train.NonFiniteError: non-finite")
    assert all(c["seconds"] > 0 and Path(c["log"]).is_file() for c in doc["chapters"])
    assert by_slug["01_fine"]["reasons"] == ["never built"] and by_slug["01_fine"]["error"] is None


def test_noop_rebuild_runs_nothing_and_never_imports_torch(built: Path) -> None:
    probe = (
        "import sys\n"
        "from gradbook.build.cli import main\n"
        f"rc = main(['--root', {str(built)!r}, '--only', *{GOOD!r}, "
        f"'--json', {str(record_path(built))!r}])\n"
        "print(rc, sorted(m for m in ('torch', 'numpy', 'matplotlib') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env_for(built), capture_output=True, text=True
    )
    rc, heavy = out.stdout.split(" ", 1)
    assert rc == "0", out.stderr
    assert heavy.strip() == "[]"  # no torch, numpy or matplotlib in the build process
    assert statuses(built) == dict.fromkeys(["01_fine", "02_extra", "03_flaky"], "current")


def test_editing_an_imported_module_reruns_exactly_its_chapter(built: Path) -> None:
    extra = built / "gradbook" / "extra.py"
    extra.write_text(extra.read_text().replace("VALUE = 1", "VALUE = 2"))
    result = build(built, "--only", *GOOD)
    assert result.returncode == 0, result.stderr
    assert ran(built) == {"02_extra"}
    assert "changed gradbook/extra.py" in result.stderr
    assert json.loads((built / "figures/02_extra/results.json").read_text())["value"] == 2
    # a config edit reruns its chapter; a hand-deleted figure is rebuilt
    toml = built / "chapters_src" / "01_fine.toml"
    toml.write_text(toml.read_text().replace("steps = 12", "steps = 13"))
    (built / "figures/03_flaky/results.json").unlink()
    result = build(built, "--only", *GOOD)
    assert ran(built) == {"01_fine", "03_flaky"}
    assert "missing output results.json" in result.stderr
    build(built, "--only", *GOOD)
    assert ran(built) == set()


def test_a_failing_chapter_keeps_its_previous_outputs(built: Path) -> None:
    before = snapshot(built / "figures" / "03_flaky")
    entry = json.loads((built / "figures/manifest.json").read_text())["chapters"]["03_flaky"]
    toml = built / "chapters_src" / "03_flaky.toml"
    toml.write_text(toml.read_text().replace("fail = false", "fail = true"))
    result = build(built, "--only", *GOOD)
    assert result.returncode == 1
    assert "FAILED 03_flaky: KeyError: 'the flaky chapter failed on purpose'" in result.stderr
    assert "at chapters_src/03_flaky.py:6" in result.stderr
    assert "left untouched" in result.stderr
    assert snapshot(built / "figures" / "03_flaky") == before
    after = json.loads((built / "figures/manifest.json").read_text())["chapters"]["03_flaky"]
    assert after == entry
    assert build(built, "--check", "--only", *GOOD).returncode == 1  # still stale: it failed


def test_killing_the_build_midway_leaves_no_partial_file(built: Path) -> None:
    figures = built / "figures"
    before = snapshot(figures)
    toml = built / "chapters_src" / "01_fine.toml"
    toml.write_text(toml.read_text().replace("pause = 0.0", "pause = 60.0"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "gradbook.build", "--root", str(built), "--only", *GOOD],
        cwd=built,
        env=env_for(built),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:  # wait until the chapter has written its figures into staging, then kill the runner
        deadline = time.monotonic() + 120
        while not (drawn := list((figures / ".staging").glob("01_fine-*/line.zh.svg"))):
            assert time.monotonic() < deadline, "chapter never reached its pause"
            assert proc.poll() is None
            time.sleep(0.1)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert snapshot(figures) == before  # figures/ and the manifest: not a byte changed
    assert not [p for p in figures.rglob("*.tmp") if ".staging" not in p.parts]
    # the orphaned chapter (its staging dir is on its argv) gets SIGKILL from the kernel
    staged = str(drawn[0].parent)
    deadline = time.monotonic() + 30
    while processes_mentioning(staged):
        assert time.monotonic() < deadline, "the orphaned chapter outlived the killed runner"
        time.sleep(0.05)
    # the next build finishes the job and clears what the killed one left in staging
    toml.write_text(toml.read_text().replace("pause = 60.0", "pause = 0.01"))  # still stale
    result = build(built, "--only", *GOOD)
    assert result.returncode == 0, result.stderr
    assert ran(built) == {"01_fine"}
    assert not list((figures / ".staging").iterdir())
    assert build(built, "--check", "--only", *GOOD).returncode == 0


def test_two_clean_builds_are_byte_identical(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    a, b = tmp_path / "a", tmp_path / "b"
    assert build(root, "--only", *GOOD, "--out", str(a)).returncode == 0
    assert build(root, "--only", *GOOD, "--out", str(b), "--jobs", "1").returncode == 0
    first, second = snapshot(a), snapshot(b)
    # the manifest's "run" records (date, commit) are the one thing a rerun may change: kept out
    # of the chapters' files (gradbook/build/provenance.py) and of what --check compares
    manifests = [json.loads(snap.pop("manifest.json")) for snap in (first, second)]
    for m in manifests:
        for entry in m["chapters"].values():
            assert set(entry.pop("run")) == {"inputs_sha256", "commit", "date"}
    assert first == second and manifests[0] == manifests[1]
    assert len(first) == 10  # 2 svg + 2 csv + 3 results.json + 3 provenance.json


def test_quick_build_uses_the_quick_table_and_never_touches_figures(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    out = root / paths.QUICK
    result = build(root, "--quick", "--only", "01")
    assert result.returncode == 0, result.stderr
    assert not (root / "figures").exists()
    assert record.read(record_path(root))["out"] == str(out)
    res = json.loads((out / "01_fine" / "results.json").read_text())
    assert res["quick"] is True and res["config"]["steps"] == 4 and len(res["values"]) == 4
    assert json.loads((out / "manifest.json").read_text())["mode"] == "quick"
    refused = build(root, "--quick", "--out", str(root / "figures"))
    assert refused.returncode != 0 and "never writes into figures/" in refused.stderr


def test_check_lists_stale_chapters_without_running_them(built: Path) -> None:
    assert build(built, "--check", "--only", *GOOD).returncode == 0
    extra = built / "gradbook" / "extra.py"
    extra.write_text(extra.read_text() + "\n# edited\n")
    result = build(built, "--check", "--only", *GOOD)
    assert result.returncode == 1
    assert "stale: 02_extra (changed gradbook/extra.py)" in result.stderr
    assert ran(built) == set()
    (built / "figures" / "manifest.json").unlink()
    result = build(built, "--check", "--only", *GOOD)
    assert result.returncode == 1 and "no manifest.json" in result.stderr


def run_directly(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python chapters_src/X.py ...`, as an author runs a chapter by hand."""
    return subprocess.run(
        [sys.executable, *args], cwd=root, env=env_for(root), capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


def test_running_a_chapter_directly_writes_a_scratch_folder(built: Path) -> None:
    before = snapshot(built / "figures")
    extra = built / "gradbook" / "extra.py"
    extra.write_text(extra.read_text().replace("VALUE = 1", "VALUE = 5"))
    result = run_directly(built, "chapters_src/02_extra.py")
    assert result.returncode == 0, result.stderr
    scratch = built / "build" / "interactive" / "02_extra"
    assert json.loads((scratch / "results.json").read_text())["value"] == 5
    assert "build/interactive/02_extra" in result.stdout  # it says where it wrote
    # never over the committed figures, never through the build tool: the manifest is untouched
    assert snapshot(built / "figures") == before
    assert build(built, "--check", "--only", *GOOD).returncode == 1
    # --quick and --out, the same flags the runner passes
    out = built / "mine"
    result = run_directly(built, "chapters_src/01_fine.py", "--quick", "--out", str(out))
    assert result.returncode == 0, result.stderr
    res = json.loads((out / "results.json").read_text())
    assert res["quick"] is True and len(res["values"]) == 4
    assert sorted(p.name for p in out.iterdir()) == [
        *("line.en.csv", "line.en.svg", "line.zh.csv", "line.zh.svg"),
        *("provenance.json", "results.json"),
    ]


def test_the_failure_report_reads_the_last_traceback_of_a_log(tmp_path: Path) -> None:
    chapter = tmp_path / "chapters_src" / "03_x.py"
    log = (
        "step 1\nTraceback (most recent call last):\n"
        f'  File "{chapter}", line 4, in <module>\n    import nothing\n'
        "ModuleNotFoundError: No module named 'nothing'\n\n"
        "During handling of the above exception, another exception occurred:\n\n"
        "Traceback (most recent call last):\n"
        f'  File "{chapter}", line 9, in <module>\n    run()\n'
        f'  File "{tmp_path}/gradbook/train.py", line 30, in run\n    raise ValueError(...)\n'
        "ValueError: two\nlines\n"
    )
    f = failure.from_log(log, chapter, 1)
    assert (f.type, f.message) == ("ValueError", "two\n    lines")
    assert (f.location, f.origin) == (f"{chapter}:9", f"{tmp_path}/gradbook/train.py:30")
    assert "at chapters_src/03_x.py:9 (raised in gradbook/train.py:30)" in f.describe(tmp_path)
    # no traceback: the exit status and the log's last lines
    quiet = failure.from_log("loading\nsaving\n", chapter, 3)
    assert quiet.type == "exit" and "status 3" in quiet.message
    assert quiet.describe(tmp_path).endswith("    | loading\n    | saving")
    assert "signal SIGKILL" in failure.from_log("", chapter, -9).message


def test_inputs_follow_gradbook_imports_transitively_without_importing(tmp_path: Path) -> None:
    root = tmp_path
    pkg = root / "gradbook"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "build").mkdir()
    (root / "chapters_src").mkdir()
    files = {
        "gradbook/__init__.py": "",
        "gradbook/a.py": "from . import b\nfrom .sub.c import thing\n",
        "gradbook/b.py": "def f():\n    import gradbook.lazy\n",
        "gradbook/lazy.py": "import torch\n",
        "gradbook/sub/__init__.py": "",
        "gradbook/sub/c.py": "from ..d import x\nthing = 1\n",
        "gradbook/d.py": "x = 1\n",
        "gradbook/unused.py": "",
        "gradbook/build/__init__.py": "",
        "chapters_src/01_x.py": "import numpy\nfrom gradbook import a\nimport gradbook.build\n",
        "chapters_src/01_x.toml": "required_keys = []\n",
    }
    for rel, text in files.items():
        (root / rel).write_text(text)
    src = root / "chapters_src" / "01_x.py"
    got = hashing.input_hashes(root, src, src.with_suffix(".toml"))
    assert sorted(got) == [
        "chapters_src/01_x.py",
        "chapters_src/01_x.toml",
        "gradbook/__init__.py",
        "gradbook/a.py",
        "gradbook/b.py",
        "gradbook/d.py",
        "gradbook/lazy.py",
        "gradbook/sub/__init__.py",
        "gradbook/sub/c.py",
    ]


def test_stale_reasons_cover_inputs_and_outputs(tmp_path: Path) -> None:
    out = tmp_path / "01_x"
    out.mkdir()
    (out / "results.json").write_text("{}")
    entry = {"inputs": {"a.py": "h1"}, "outputs": manifest.output_hashes(out)}
    assert manifest.stale_reasons(entry, {"a.py": "h1"}, out) == []
    assert manifest.stale_reasons(entry, {"a.py": "h2"}, out) == ["changed a.py"]
    (out / "stray.svg").write_text("<svg/>")
    assert manifest.stale_reasons(entry, {"a.py": "h1"}, out) == ["unexpected output stray.svg"]
    assert manifest.stale_reasons(None, {}, out) == ["never built"]
