#!/usr/bin/env python3
"""Watermark benchmark: mogr vs ImageMagick drawing the same watermark on a 12 MP JPEG.

Two rows, each tool run N times interleaved (mogr, ImageMagick, mogr, ...) so machine noise
hits both alike:
  image  a 400x120 semi-transparent PNG logo, south-east corner, dissolve 90
         (mogr `watermark/1/image/...`, ImageMagick `composite -dissolve 90 -gravity southeast`)
  text   a tiled text watermark "mogr 水印 2026", 48 px, white at 60 %, tiles turned 30 degrees
         (mogr `watermark/2/text/.../batch/1/degree/30`, ImageMagick `convert` drawing the text
         once with `-annotate` on a tile and tiling it over the photo with `tile:`)
Both write a JPEG at the source's quality. Reported per tool: median CPU seconds (user+sys of
the child, from wait4), median peak RSS and wall time; then the ratios mogr/ImageMagick.

    python3 bench/watermark_bench.py                 # N=5
    python3 bench/watermark_bench.py --runs 9 --only text

Writes bench/results/watermark-<date>.md. Standard library only; installs imagemagick with
apt-get when `convert`/`composite` are missing (root). See bench/README.md.
"""

from __future__ import annotations

import argparse
import base64
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402
import codec_bench as cb  # noqa: E402  (run_once)

SOURCE = "photo_dog_4032x3024_exif-orient6.jpg"  # 12.2 MP phone photo (MANIFEST.tsv)
LOGO_URL = "http://bench-1250000000.cos.ap-guangzhou.myqcloud.com/logo.png"
TEXT = "mogr 水印 2026"
CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
TOOLS = ("mogr", "magick")
TITLES = {"mogr": "mogr", "magick": "ImageMagick"}


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def make_logo(path: Path) -> None:
    """A 400x120 logo: a half-transparent dark plate with opaque white lettering."""
    subprocess.run(
        ["convert", "-size", "400x120", "xc:rgba(20,20,20,0.5)", "-fill", "white",
         "-font", CJK_FONT, "-pointsize", "56", "-gravity", "center", "-annotate", "+0+0",
         "mogr", str(path)],
        check=True,
    )


def rows(mogr: Path, assets: Path, logo: Path, quality: int, size: tuple[int, int]) -> dict:
    """Command lines per row and tool ({in} and {out} are filled in by run_once)."""
    w, h = size
    image_rule = f"watermark/1/image/{b64(LOGO_URL)}"
    text_rule = (f"watermark/2/text/{b64(TEXT)}/font/{b64('simhei.ttf')}/fontsize/48"
                 f"/fill/{b64('#FFFFFF')}/dissolve/60/batch/1/degree/30")
    # mogr tiles with a gap of half the (turned) tile; the ImageMagick tile is sized to match:
    # the text turned 30 degrees is about 400x260 px, so tiles repeat every ~600x390.
    magick_text = [
        "convert", "{in}",
        "(", "-size", "600x390", "xc:none", "-font", CJK_FONT, "-pointsize", "48",
        "-fill", "rgba(255,255,255,0.6)", "-gravity", "center", "-annotate", "30x30+0+0", TEXT,
        "-write", "mpr:tile", "+delete", ")",
        "(", "-size", f"{w}x{h}", "tile:mpr:tile", ")",
        "-composite", "-quality", str(quality), "{out}",
    ]
    return {
        "image": {
            "mogr": [str(mogr), "process", "{in}", image_rule, "-o", "{out}", "--assets", str(assets)],
            "magick": ["composite", "-dissolve", "90", "-gravity", "southeast", str(logo), "{in}",
                       "-quality", str(quality), "{out}"],
        },
        "text": {
            "mogr": [str(mogr), "process", "{in}", text_rule, "-o", "{out}"],
            "magick": magick_text,
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", default="image,text")
    ap.add_argument("--mogr", default=None)
    args = ap.parse_args()
    bl.ensure_packages({"convert": "imagemagick", "composite": "imagemagick", "identify": "imagemagick"})
    mogr = bl.mogr_binary(args.mogr)
    src = bl.corpus_file(SOURCE)
    geometry = bl.image_geometry(src)
    if not geometry:
        bl.die(f"cannot read {src}")
    size = geometry[:2]
    quality = bl.jpeg_quality(src) or 90
    only = [r for r in args.only.split(",") if r]

    with tempfile.TemporaryDirectory(prefix="mogr-wm-bench-") as tmp:
        tmp = Path(tmp)
        assets = tmp / "assets"
        assets.mkdir()
        logo = assets / "logo.png"
        make_logo(logo)
        table = rows(mogr, assets, logo, quality, size)
        results: dict[str, dict[str, dict[str, list[float]]]] = {}
        for row in only:
            results[row] = {t: {"cpu": [], "wall": [], "rss": []} for t in TOOLS}
            for i in range(args.runs):
                for tool in TOOLS:
                    out = tmp / f"{row}-{tool}-{i}.jpg"
                    wall, cpu, rss, err = cb.run_once(table[row][tool], src, out)
                    if err:
                        bl.die(f"{row}/{tool}: {err}")
                    got = bl.image_geometry(out)
                    if not got or got[:2] != size:
                        bl.die(f"{row}/{tool}: wrote {got}, expected {size}")
                    r = results[row][tool]
                    r["cpu"].append(cpu)
                    r["wall"].append(wall)
                    r["rss"].append(rss / 1024)
                    bl.log(f"{row} {tool} run {i + 1}: {cpu:.3f} s CPU, {rss / 1024:.0f} MiB")

    lines = [
        "# Watermark benchmark: mogr vs ImageMagick",
        "",
        f"{bl.machine_note()}; N={args.runs}, interleaved; source {SOURCE} "
        f"({size[0]}x{size[1]}), JPEG out at q{quality}.",
        "",
    ]
    header = ["row", "mogr CPU s", "IM CPU s", "CPU mogr/IM", "mogr RSS MiB", "IM RSS MiB",
              "RSS mogr/IM", "mogr wall s", "IM wall s"]
    body = []
    for row in only:
        m, k = results[row]["mogr"], results[row]["magick"]
        med = {t: {f: bl.median(results[row][t][f]) for f in ("cpu", "wall", "rss")} for t in TOOLS}
        body.append([
            row,
            f"{med['mogr']['cpu']:.3f}", f"{med['magick']['cpu']:.3f}",
            bl.ratio(med["mogr"]["cpu"], med["magick"]["cpu"]),
            f"{med['mogr']['rss']:.0f}", f"{med['magick']['rss']:.0f}",
            bl.ratio(med["mogr"]["rss"], med["magick"]["rss"]),
            f"{med['mogr']['wall']:.3f}", f"{med['magick']['wall']:.3f}",
        ])
        del m, k
    lines.append(bl.markdown_table(header, body))
    lines += ["", "Commands:", ""]
    for row in only:
        for tool in TOOLS:
            lines.append(f"- {row}/{TITLES[tool]}: `{' '.join(table[row][tool])}`")
    text = "\n".join(lines) + "\n"
    print(text)
    bl.log(f"report: {bl.write_report('watermark', text)}")


if __name__ == "__main__":
    main()
