"""`make figures` end to end on a fake book of tiny chapters (tests/fixtures/build_project).

Each test copies the fake book and the real build code into tmp_path and runs
`python -m gradbook.build --root <tmp>` in a subprocess, as `make figures` does.
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

from gradbook.build import hashing, manifest

REPO = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "build_project"
GOOD = ["01", "02", "03"]


def make_project(tmp_path: Path) -> Path:
    root = tmp_path / "book"
    shutil.copytree(FIXTURE, root)
    pkg = root / "gradbook"
    for name in ("__init__.py", "chapter.py", "plot.py", "results.py"):
        shutil.copy(REPO / "gradbook" / name, pkg / name)
    shutil.copytree(
        REPO / "gradbook" / "build", pkg / "build", ignore=shutil.ignore_patterns("__pycache__")
    )
    return root


def env_for(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(root)  # the fake book's gradbook copy wins over the installed one
    env.pop("GRADBOOK_QUICK", None)
    env.pop("GRADBOOK_OUT", None)
    return env


def build(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gradbook.build", "--root", str(root), *args],
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


def ran(result: subprocess.CompletedProcess[str]) -> set[str]:
    """Slugs the build started, read from its progress lines."""
    return {
        line.split(":")[0].strip() for line in result.stderr.splitlines() if ": running (" in line
    }


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
        "line.en.svg",
        "line.zh.svg",
        "results.json",
    ]
    assert json.loads((figures / "02_extra" / "results.json").read_text())["value"] == 1
    assert not (figures / "04_nan").exists() and not (figures / "05_badtoml").exists()
    # the NaN: chapter, exception type, message, chapter line and where it was raised
    line = (
        (root / "chapters_src/04_nan.py")
        .read_text()
        .splitlines()
        .index('ch.results["loss"] = train(ch.config["steps"])')
    )
    assert "FAILED 04_nan: gradbook.fake_train.NonFiniteError: non-finite gradient at step 7" in err
    assert f"at chapters_src/04_nan.py:{line + 1}" in err
    assert "raised in gradbook/fake_train.py:" in err
    # the malformed config names the chapter and the problem
    assert "FAILED 05_badtoml: gradbook.chapter.ConfigError: chapter 05_badtoml:" in err
    assert "05_badtoml.toml is not valid TOML" in err
    assert "3 built, 2 failed" in err
    data = json.loads((figures / "manifest.json").read_text())
    assert sorted(data["chapters"]) == ["01_fine", "02_extra", "03_flaky"]
    assert not list((figures / ".staging").iterdir())


def test_noop_rebuild_runs_nothing_and_never_imports_torch(built: Path) -> None:
    probe = (
        "import sys, time\n"
        "t = time.perf_counter()\n"
        "from gradbook.build.cli import main\n"
        f"rc = main(['--root', {str(built)!r}, '--only', *{GOOD!r}])\n"
        "print(rc, time.perf_counter() - t, sorted(m for m in ('torch', 'numpy', 'matplotlib')"
        " if m in sys.modules))\n"
    )
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", probe], env=env_for(built), capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    rc, seconds, heavy = out.stdout.split(" ", 2)
    assert rc == "0", out.stderr
    assert heavy.strip() == "[]"  # no torch, numpy or matplotlib in the build process
    assert "0 to run, 3 current" in out.stderr
    assert wall < 5, f"no-op rebuild took {wall:.2f} s (in-process {float(seconds):.2f} s)"


def test_editing_an_imported_module_reruns_exactly_its_chapter(built: Path) -> None:
    extra = built / "gradbook" / "extra.py"
    extra.write_text(extra.read_text().replace("VALUE = 1", "VALUE = 2"))
    result = build(built, "--only", *GOOD)
    assert result.returncode == 0, result.stderr
    assert ran(result) == {"02_extra"}
    assert "changed gradbook/extra.py" in result.stderr
    assert json.loads((built / "figures/02_extra/results.json").read_text())["value"] == 2
    # a config edit reruns its chapter; a hand-deleted figure is rebuilt
    toml = built / "chapters_src" / "01_fine.toml"
    toml.write_text(toml.read_text().replace("steps = 12", "steps = 13"))
    (built / "figures/03_flaky/results.json").unlink()
    result = build(built, "--only", *GOOD)
    assert ran(result) == {"01_fine", "03_flaky"}
    assert "missing output results.json" in result.stderr
    assert ran(build(built, "--only", *GOOD)) == set()


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
        while not list((figures / ".staging").glob("01_fine-*/line.zh.svg")):
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
    # the next build finishes the job and clears what the killed one left in staging
    toml.write_text(toml.read_text().replace("pause = 60.0", "pause = 0.01"))  # still stale
    time.sleep(0.5)  # the orphaned chapter gets SIGKILL from the kernel (PR_SET_PDEATHSIG)
    result = build(built, "--only", *GOOD)
    assert result.returncode == 0, result.stderr
    assert ran(result) == {"01_fine"}
    assert not list((figures / ".staging").iterdir())
    assert build(built, "--check", "--only", *GOOD).returncode == 0


def test_two_clean_builds_are_byte_identical(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    a, b = tmp_path / "a", tmp_path / "b"
    assert build(root, "--only", *GOOD, "--out", str(a)).returncode == 0
    assert build(root, "--only", *GOOD, "--out", str(b), "--jobs", "1").returncode == 0
    assert snapshot(a) == snapshot(b)
    assert len(snapshot(a)) == 6  # 2 svg + 3 results.json + manifest


def test_quick_build_uses_the_quick_table_and_never_touches_figures(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    out = root / "build" / "figures-quick"
    result = build(root, "--quick", "--only", "01", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert not (root / "figures").exists()
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
    assert ran(result) == set()
    (built / "figures" / "manifest.json").unlink()
    result = build(built, "--check", "--only", *GOOD)
    assert result.returncode == 1 and "no manifest.json" in result.stderr


def test_running_a_chapter_directly_publishes_like_the_runner(built: Path) -> None:
    extra = built / "gradbook" / "extra.py"
    extra.write_text(extra.read_text().replace("VALUE = 1", "VALUE = 5"))
    result = subprocess.run(
        [sys.executable, "chapters_src/02_extra.py"],
        cwd=built,
        env=env_for(built),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads((built / "figures/02_extra/results.json").read_text())["value"] == 5
    assert build(built, "--check", "--only", *GOOD).returncode == 0


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
