"""Write gradbook/lite/digits.json: a stratified subset of scikit-learn's digits for the browser.

Run with the main venv: `.venv/bin/python web/make_lite_digits.py`. The file keeps the raw pixels
(integers 0..16, one character each) and the StandardScaler mean and scale of the *full* data set,
so `gradbook.lite.data.digits()` reproduces `StandardScaler().fit_transform(X)[indices]` exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

PER_CLASS = 50  # 500 samples: enough to train a small net, small enough for the wheel
ALPHABET = "0123456789abcdefg"  # pixel value v is ALPHABET[v]
OUT = Path(__file__).resolve().parent.parent / "gradbook" / "lite" / "digits.json"


def main() -> None:
    digits = load_digits()
    X, y = digits.data, digits.target
    scaler = StandardScaler().fit(X)
    indices = sorted(int(i) for c in range(10) for i in np.flatnonzero(y == c)[:PER_CLASS])
    payload = {
        "source": "sklearn.datasets.load_digits, first 50 samples of each class",
        "indices": indices,
        "labels": "".join(str(int(y[i])) for i in indices),
        "pixels": "".join(ALPHABET[int(v)] for i in indices for v in X[i]),
        "mean": [float(v) for v in scaler.mean_],
        "scale": [float(v) for v in scaler.scale_],
    }
    OUT.write_text(json.dumps(payload, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes, {len(indices)} samples)")


if __name__ == "__main__":
    main()
