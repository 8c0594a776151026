"""The cells a downloaded chapter notebook gets before the chapter's own: what it needs, settings.

A reader who downloads `03_initialization.ipynb` has neither the repository nor its toml. So the
download opens with a markdown cell (what the chapter needs, how to install it, how long it runs,
where it writes), then a settings cell (`QUICK`, `LANG`, `OUT`), then the chapter's config as a
string handed to `gradbook.notebook.prepare`. The texts follow the language of the site the
notebook was downloaded from. Run times come from `notebook_times.json`, measured (CPU time of a
one-thread run, about a laptop's wall time) by `.venv/bin/python tests/test_notebooks.py --measure`,
never typed by hand.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path

TIMES = Path(__file__).with_name("notebook_times.json")
LANGS = ("en", "zh")

INTRO = {
    "en": """\
> **Run this chapter yourself.** This notebook is chapter {number} of *gradbook*, the module
> `{slug}.py` that computes the chapter's numbers and figures.

**What it needs.** Python 3.11 or newer and the `gradbook` package, which brings PyTorch (`{torch}`;
the CPU build is enough, no GPU), NumPy, scikit-learn and Matplotlib.

**How to install.** Download `{wheel}` from the book (the button beside this notebook on its source
page), then

- *in a venv*: `python -m venv .venv`, activate it (`source .venv/bin/activate`; on Windows
  `.venv\\Scripts\\activate`), run `pip install {wheel} jupyter` and open this notebook with
  `jupyter lab`, or in VS Code with that venv's Python as the kernel;
- *in Colab*: {colab}

**How long.** {Duration} on a laptop CPU (one thread, the kernel's start and imports included);
{quick_duration} with `QUICK = True` in the next cell, which runs the same code with fewer steps.

**What you get.** Each figure appears below the cell that draws it, in the language `LANG` names,
and the measured numbers are printed when the chapter finishes. The files, every figure in English
and Chinese (SVG) and `results.json`, go to `gradbook-out/{slug}/` beside the notebook; `OUT`
changes the folder, and the cell that calls `prepare` prints where it is.
""",
    "zh": """\
> **自己运行这一章**：这个 Notebook 就是 *gradbook* 第 {number} 章的模块 `{slug}.py`，
> 本章的数字和图表都由它计算得出。

**需要什么**：Python 3.11 或更高版本，以及 `gradbook` 包；安装它时会一并装上 PyTorch（`{torch}`，
CPU 版即可，不需要 GPU）、NumPy、scikit-learn 和 Matplotlib。

**如何安装**：先从本书下载 `{wheel}`（在本章的源代码页上，就在这个 Notebook 的下载按钮旁边），然后：

- *在虚拟环境（venv）中*：运行 `python -m venv .venv`，激活它（`source .venv/bin/activate`；
  Windows 上是 `.venv\\Scripts\\activate`），再运行 `pip install {wheel} jupyter`，
  然后用 `jupyter lab` 打开这个 Notebook，或者在 VS Code 中打开，内核选这个虚拟环境里的 Python；
- *在 Colab 中*：{colab}

**要跑多久**：在笔记本电脑的 CPU 上（单线程，含内核启动和导入模块的时间）{duration}；把下一个代码单元里的 `QUICK = False`
改成 `QUICK = True`，同样的代码只跑更少的步数，{quick_duration}。

**会得到什么**：每张图都显示在绘制它的代码单元下方，语言由 `LANG` 决定；本章结束时会打印测得的数字。
所有文件——每张图的英文版和中文版（SVG）以及 `results.json`——都写入 Notebook 所在目录下的
`gradbook-out/{slug}/`；改 `OUT` 可以换一个目录，调用 `prepare` 的那个代码单元会打印出实际路径。
""",
}

COLAB = {
    "en": {
        "url": "run `%pip install {url}` in a code cell (Colab keeps its own PyTorch).",
        "upload": "upload the wheel in the Files panel on the left, then run "
        "`%pip install {wheel}` in a code cell (Colab keeps its own PyTorch).",
    },
    "zh": {
        "url": "在一个代码单元中运行 `%pip install {url}`（Colab 自带的 PyTorch 保持不变）。",
        "upload": "在左侧的“文件”面板上传这个 wheel 文件，然后在一个代码单元中运行 "
        "`%pip install {wheel}`（Colab 自带的 PyTorch 保持不变）。",
    },
}

SETTINGS = {
    "en": """\
# Settings: change them here, then run all cells.
QUICK = False  # True: the same code with fewer steps, for a first run ({quick_duration})
LANG = "{lang}"  # the language of the figures shown below: "en" (English) or "zh" (Chinese)
OUT = "gradbook-out"  # the figures and results.json go to OUT/{slug}/""",
    "zh": """\
# 运行设置：在这里修改，然后运行全部代码单元。
QUICK = False  # True：同样的代码，步数更少，适合第一次运行（{quick_duration}）
LANG = "{lang}"  # 下面显示的图表的语言："zh"（中文）或 "en"（英文）
OUT = "gradbook-out"  # 图表和 results.json 写入 OUT/{slug}/""",
}

CONFIG = {
    "en": """\
# The chapter's hyper-parameters (chapters_src/{slug}.toml in the book's sources). With QUICK = True
# the [quick] table replaces the values it names. Edit a value and run all cells again to see what
# it changes; prepare() saves this config beside the outputs.
CONFIG = r\"\"\"
{toml}\"\"\"

from gradbook import notebook

run = notebook.prepare("{slug}", CONFIG, quick=QUICK, out=OUT, lang=LANG)""",
    "zh": """\
# 本章的全部超参数（即本书源代码中的 chapters_src/{slug}.toml）。QUICK = True 时，
# [quick] 表里列出的值会替换上面的同名值。改一个值，再运行全部代码单元，就能看到它改变了什么；
# prepare() 会把这份配置和输出保存在同一个目录里。
CONFIG = r\"\"\"
{toml}\"\"\"

from gradbook import notebook

run = notebook.prepare("{slug}", CONFIG, quick=QUICK, out=OUT, lang=LANG)""",
}


@cache
def run_times() -> dict[str, dict[str, float]]:
    """`{slug: {"quick": s, "full": s}}` as measured; `{}` when nothing was measured yet."""
    if not TIMES.is_file():
        return {}
    return json.loads(TIMES.read_text(encoding="utf-8"))["seconds"]


def about(seconds: float | None, lang: str) -> str:
    """A run time as a reader plans with it: "about 15 s" (to 5 s), "about 2 minutes"."""
    if seconds is None:
        return {"en": "not measured yet", "zh": "时长尚未测量"}[lang]
    if seconds < 55:
        n = max(5, 5 * round(seconds / 5))
        return {"en": f"about {n} s", "zh": f"约 {n} 秒"}[lang]
    minutes = max(1, math.ceil(seconds / 60 - 0.25))  # 70 s -> 1, 80 s -> 2
    unit = "minute" if minutes == 1 else "minutes"
    return {"en": f"about {minutes} {unit}", "zh": f"约 {minutes} 分钟"}[lang]


def intro(slug: str, lang: str, *, wheel: str, wheel_url: str | None, torch: str) -> str:
    """The first markdown cell: what the chapter needs, how to install it, how long it runs."""
    times = run_times().get(slug, {})
    full = about(times.get("full"), lang)
    colab = COLAB[lang]["url" if wheel_url else "upload"].format(url=wheel_url, wheel=wheel)
    return INTRO[lang].format(
        number=int(slug[:2]), slug=slug, wheel=wheel, colab=colab, torch=torch,
        duration=full, Duration=full[:1].upper() + full[1:],
        quick_duration=about(times.get("quick"), lang),
    )  # fmt: skip


def settings(slug: str, lang: str) -> str:
    """The settings cell: quick mode, the figures' language, the output folder."""
    quick = about(run_times().get(slug, {}).get("quick"), lang)
    return SETTINGS[lang].format(slug=slug, lang=lang, quick_duration=quick)


def config(slug: str, lang: str, toml: str) -> str:
    """The config cell: the chapter's toml as a string, and the call that prepares the run."""
    if '"""' in toml:
        raise ValueError(f"{slug}.toml holds a triple quote; it cannot be embedded in the notebook")
    return CONFIG[lang].format(slug=slug, toml=toml if toml.endswith("\n") else toml + "\n")
