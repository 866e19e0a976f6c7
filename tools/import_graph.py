"""Draw the package-level import graph of Muse: docs/import_graph.png and docs/import_graph.txt.

Why: the dependency rule (bot, cli -> composer, storage; training, evaluation -> composer)
is checked by lint-imports, but a reviewer also needs to *see* the shape, and to diff it.
The graph comes from the code (grimp, which import-linter uses), collapsed to sub-packages:
`composer.melody` stands for every module under it, `composer` for composer's root modules.

Usage: .venv/bin/python tools/import_graph.py [--out docs]   (or `make docs`)
"""

import argparse
import io
import math
import sys
from collections import Counter
from pathlib import Path

import grimp
import matplotlib
from PIL import Image

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("cli", "bot", "training", "evaluation", "composer_tier", "composer", "storage")
COLOURS = {"cli": "#8e44ad", "bot": "#2e86c1", "training": "#d68910", "evaluation": "#c0392b",
           "composer_tier": "#17a589", "composer": "#239b56", "storage": "#5d6d7e"}
# left to right: storage beside the library, training and evaluation beside the apps
COLUMN = {"storage": 0, "training": 2, "evaluation": 2, "composer_tier": 2}


def package_edges(packages=PACKAGES) -> Counter:
    """Counts module imports between groups: a sub-package, or a top package's root modules."""
    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph(*packages, cache_dir=None)

    def group(module: str) -> str:
        parts = module.split(".")
        sub = ".".join(parts[:2])
        return sub if len(parts) > 1 and graph.find_children(sub) else parts[0]

    edges = Counter()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            a, b = group(module), group(imported)
            if a != b:
                edges[a, b] += 1
    return edges


def is_upward(a: str, b: str) -> bool:
    """A sub-package importing its own package's root modules (composer.sing -> composer)."""
    return "." in a and "." not in b and a.split(".")[0] == b


def layers(nodes, edges) -> dict:
    """Height of each node: the longest downward path to a node that imports nothing."""
    down = {n: [b for (a, b) in edges if a == n and not is_upward(a, b)] for n in nodes}
    height = {}

    def visit(n, seen=()):
        if n not in height:
            rest = [m for m in down[n] if m not in seen]  # a cycle below is cut, not followed
            height[n] = 1 + max((visit(m, seen + (n,)) for m in rest), default=-1)
        return height[n]

    for n in nodes:
        visit(n)
    return height


def positions(nodes, edges) -> dict:
    """Rows by height (importers on top), centred; side packages outside the middle block."""
    height = layers(nodes, edges)
    column = {n: COLUMN.get(n.split(".")[0], 1) for n in nodes}
    pos = {}
    for h in sorted(set(height.values()), reverse=True):
        row = [n for n in nodes if height[n] == h and column[n] == 1]

        def key(n):  # next to what imports it, so arrows cross less
            xs = [pos[a][0] for (a, b) in edges if b == n and a in pos]
            return sum(xs) / len(xs) if xs else 0, n

        for i, n in enumerate(sorted(row, key=key)):
            pos[n] = (i - (len(row) - 1) / 2) * 3.0, h * 1.6
    edge = max(abs(x) for x, _ in pos.values()) + 3.4
    for n in sorted(n for n in nodes if column[n] != 1):
        side = column[n] - 1
        taken = sum(1 for m in pos if column[m] == column[n] and pos[m][1] == height[n] * 1.6)
        pos[n] = side * (edge + 3.0 * taken), height[n] * 1.6
    return pos


def draw(edges: Counter, path: Path) -> None:
    """Boxes coloured by top package, arrows importer -> imported, width by import count."""
    nodes = sorted({n for e in edges for n in e})
    pos = positions(nodes, edges)
    fig, ax = plt.subplots(figsize=(16, 11))
    boxes = {}
    for n in nodes:
        top = n.split(".")[0]
        label = f"{n}\n(root modules)" if n == top and any(m.startswith(top + ".") for m in nodes) else n
        boxes[n] = ax.text(*pos[n], label, ha="center", va="center", fontsize=11, color="white",
                           fontweight="bold", zorder=3,
                           bbox=dict(boxstyle="round,pad=0.5", fc=COLOURS.get(top, "#444"), ec="none"))
    for (a, b), count in sorted(edges.items()):
        up = is_upward(a, b)
        two_way = (b, a) in edges
        inside = a.split(".")[0] == b.split(".")[0]
        ax.annotate("", xy=pos[b], xytext=pos[a], zorder=2, arrowprops=dict(
            arrowstyle="-|>", mutation_scale=14, lw=0.6 + 0.5 * math.log2(count), alpha=0.85 if inside else 0.5,
            color=COLOURS.get(a.split(".")[0], "#444"), linestyle="--" if up else "-",
            connectionstyle=f"arc3,rad={0.18 if two_way else 0.06}",
            patchA=boxes[a].get_bbox_patch(), patchB=boxes[b].get_bbox_patch()))
    for top, colour in COLOURS.items():  # a pale frame holds a package split into sub-packages
        mine = [pos[n] for n in nodes if n.split(".")[0] == top]
        if len(mine) > 1:
            (x0, y0), (x1, y1) = map(min, zip(*mine)), map(max, zip(*mine))
            ax.add_patch(FancyBboxPatch((x0 - 1.3, y0 - 0.45), x1 - x0 + 2.6, y1 - y0 + 0.9, zorder=0,
                                        boxstyle="round,pad=0.1", fc=colour, alpha=0.08, ec=colour))
    xs, ys = zip(*pos.values())
    ax.set_xlim(min(xs) - 1.8, max(xs) + 1.8)
    ax.set_ylim(min(ys) - 0.8, max(ys) + 0.8)
    ax.axis("off")
    handles = [plt.Line2D([], [], color=c, lw=6, label=p) for p, c in COLOURS.items()]
    handles += [plt.Line2D([], [], color="#444", label="imports (arrow at the imported; width ~ count)"),
                plt.Line2D([], [], color="#444", ls="--", label="sub-package imports its package's root modules")]
    ax.legend(handles=handles, loc="upper left", fontsize=9, frameon=False, ncol=2)
    ax.set_title("Muse: package-level imports (from the code, by grimp; tools/import_graph.py)", fontsize=13)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=110, metadata={"Software": None})
    plt.close(fig)
    # a 256-colour palette keeps the committed picture small (a quarter of the RGBA size)
    Image.open(buffer).convert("RGB").quantize(256).save(path, optimize=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for the PNG and TXT")
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)
    edges = package_edges()
    lines = [f"{a} -> {b}" for (a, b) in sorted(edges)]
    header = "# package-level imports (importer -> imported), made by tools/import_graph.py\n"
    (out / "import_graph.txt").write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    draw(edges, out / "import_graph.png")
    print(f"{len(lines)} edges -> {out / 'import_graph.txt'}, {out / 'import_graph.png'}")


if __name__ == "__main__":
    main()
