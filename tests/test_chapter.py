"""gradbook.chapter: config loading, the run's command line, results.json, required keys."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gradbook import results
from gradbook.chapter import Chapter, ConfigError, MissingResultsError, load_config

TOML = """\
seed = 7
steps = 100
uses_torch = false
required_keys = ["acc", ["chain_grad", "0.2"]]

[train]
lr = 0.1
batch = 32

[quick]
steps = 3
[quick.train]
batch = 8
"""


@pytest.fixture
def chapter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    src = tmp_path / "chapters_src"
    src.mkdir()
    (src / "02_demo.toml").write_text(TOML)
    (src / "02_demo.py").write_text("")
    monkeypatch.setattr(sys, "argv", ["02_demo.py", "--out", str(tmp_path / "out")])
    return src / "02_demo.py"


def test_config_and_quick_overrides(chapter: Path, tmp_path: Path) -> None:
    ch = Chapter.start(chapter)
    assert (ch.slug, ch.seed, ch.quick) == ("02_demo", 7, False)
    assert ch.out_dir == tmp_path / "out"
    assert ch.config == {"seed": 7, "steps": 100, "uses_torch": False,
                         "train": {"lr": 0.1, "batch": 32}}  # fmt: skip
    ch = Chapter.start(chapter, argv=["--quick"])
    assert ch.quick and ch.config["steps"] == 3 and ch.config["train"] == {"lr": 0.1, "batch": 8}


def test_the_command_line_tolerates_a_notebook_kernel(chapter: Path, tmp_path: Path) -> None:
    kernel = ["-f", "/tmp/kernel-1.json", "--HistoryManager.enabled=False"]
    ch = Chapter.start(chapter, argv=[*kernel, "--quick", "--out", str(tmp_path / "k")])
    assert ch.quick and ch.out_dir == tmp_path / "k"
    ch = Chapter.start(chapter, argv=["--qu", "-f", "kernel.json"])  # no abbreviations
    assert not ch.quick


def test_without_out_a_run_writes_to_its_scratch_folder(
    chapter: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    ch = Chapter.start(chapter, argv=[])
    assert ch.out_dir == tmp_path / "build" / "interactive" / "02_demo"
    ch.results.update(acc=1.0, chain_grad={"0.2": 1.0})
    ch.finish()
    monkeypatch.chdir(tmp_path)
    assert "build/interactive/02_demo" in capsys.readouterr().out  # it says where it wrote
    # a notebook has no __file__: the slug finds the toml in the working directory's chapters_src/
    ch = Chapter.start("02_demo", argv=["--quick"])
    assert ch.config["steps"] == 3 and ch.out_dir == tmp_path / "build" / "interactive" / "02_demo"
    with pytest.raises(ConfigError, match="no 07_nothing.toml in"):
        Chapter.start("07_nothing", argv=[])


def test_finish_writes_results_in_a_stable_order(chapter: Path) -> None:
    import numpy as np

    ch = Chapter.start(chapter)
    ch.results["acc"] = np.float32(0.5)
    ch.results["chain_grad"] = {"0.2": 0.2**30, "1": 1.0}
    ch.results["curve"] = np.arange(3)
    path = ch.finish()
    doc = json.loads(path.read_text())
    assert list(doc) == ["chapter", "seed", "quick", "config", "acc", "chain_grad", "curve"]
    assert doc["acc"] == 0.5 and doc["curve"] == [0, 1, 2] and doc["chapter"] == "02_demo"
    assert path.read_text().endswith("\n")
    with pytest.raises(RuntimeError, match="already called"):
        ch.finish()


def test_finish_names_missing_required_keys(chapter: Path) -> None:
    ch = Chapter.start(chapter)
    ch.results["chain_grad"] = {"1": 1.0}
    with pytest.raises(MissingResultsError, match=r"miss required keys: acc, chain_grad/0\.2"):
        ch.finish()
    assert not (ch.out_dir / "results.json").exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"relu": float("nan")}, "'loss/relu' is nan"),
        ([1.0, float("inf")], "'loss/1' is inf"),
        ({1: 2.0}, "non-string key 1"),
        ({"a": {1, 2}}, "'loss/a' holds a builtins.set"),
    ],
)
def test_finish_rejects_values_json_cannot_hold(chapter: Path, value, message: str) -> None:
    ch = Chapter.start(chapter)
    ch.results.update(acc=1.0, chain_grad={"0.2": 1.0}, loss=value)
    with pytest.raises(results.ResultsError, match=message):
        ch.finish()


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (None, "chapter 02_demo: config file .* does not exist"),
        ("steps = [\n", "chapter 02_demo: 02_demo.toml is not valid TOML"),
        ("steps = 1\n", "chapter 02_demo: 02_demo.toml has no required_keys"),
        ("required_keys = [1]\n", "required_keys item 1 must be a key string"),
        (
            "required_keys = []\n[quick]\nstepz = 1\n",
            r"\[quick\] stepz sets a key the config does not",
        ),
        ("required_keys = []\nseed = 'zero'\n", "seed must be an integer"),
    ],
)
def test_bad_configs_name_the_chapter_and_the_problem(tmp_path: Path, toml, message) -> None:
    path = tmp_path / "02_demo.toml"
    if toml is not None:
        path.write_text(toml)
    with pytest.raises(ConfigError, match=message):
        load_config(path, quick=True)


def test_torch_is_seeded_deterministic_and_single_threaded(tmp_path: Path) -> None:
    src = tmp_path / "chapters_src"
    src.mkdir()
    (src / "01_t.toml").write_text("seed = 5\nrequired_keys = []\n")
    code = (  # torch and numpy load their thread pools before the chapter starts, as chapters do
        "import numpy, torch\n"
        "from threadpoolctl import threadpool_info\n"
        "from gradbook.chapter import Chapter\n"
        f"ch = Chapter.start({str(src / '01_t.py')!r})\n"
        "print(torch.are_deterministic_algorithms_enabled(), torch.get_num_threads(),"
        " sorted({p['num_threads'] for p in threadpool_info()}), torch.rand(2).tolist())\n"
    )
    argv = [sys.executable, "-c", code, "--out", str(tmp_path / "out")]
    env = {"PATH": "/usr/bin:/bin"}  # no thread variables: the toml's default (1) is the one place
    runs = [subprocess.run(argv, env=env, capture_output=True, text=True) for _ in range(2)]
    assert runs[0].returncode == 0, runs[0].stderr
    assert runs[0].stdout == runs[1].stdout
    assert runs[0].stdout.startswith("True 1 [1] [")
    assert (tmp_path / "out").is_dir()


def test_results_load_reads_a_chapter(tmp_path: Path) -> None:
    results.write_json(tmp_path / "figures" / "01_x" / "results.json", {"a": {"b": [1, 2]}})
    assert results.get_path(results.load("01_x", tmp_path), ["a", "b", "-1"]) == 2
    with pytest.raises(FileNotFoundError, match="no results for chapter '01_y'"):
        results.load("01_y", tmp_path)
