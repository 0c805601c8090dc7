"""Rebuild tests/data/mnist-mini: the first images of the real MNIST files, in MNIST's own format.

Usage: python tests/data/make_mini_mnist.py ../shared/data/mnist/raw
"""

import gzip
import hashlib
import sys
from pathlib import Path

from bgbias.mnist import SPLIT_FILES, read_idx

SIZES = {"train": 600, "test": 300}
OUT = Path(__file__).parent / "mnist-mini"


def write_idx(path: Path, array) -> None:
    magic = 2051 if array.ndim == 3 else 2049
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as handle:
            handle.write(header + array.tobytes())


def main(source: Path) -> None:
    OUT.mkdir(exist_ok=True)
    for split, count in SIZES.items():
        for name in SPLIT_FILES[split]:
            write_idx(OUT / name, read_idx(source / name)[:count])
    for path in sorted(OUT.glob("*.gz")):
        print(f"{path.name}: {hashlib.md5(path.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
