#!/usr/bin/env python3
"""Codec benchmark: mogr CLI vs libvips vs ImageMagick, same machine, one run.

For each conversion and corpus image, every tool runs the same job N times, interleaved
(mogr, vips, convert, mogr, ...) so that machine noise hits all of them alike. Reported per
tool: median wall time, median CPU seconds (user+sys), peak RSS, output bytes and SSIMULACRA2
against the decoded source; then the ratios mogr/libvips and mogr/ImageMagick.

    python3 bench/codec_bench.py                 # everything, N=5 (N=3 for HEIF/AVIF)
    python3 bench/codec_bench.py --runs 3 --only webp,png
    python3 bench/codec_bench.py --peers-only    # libvips and ImageMagick only (no mogr binary)

Writes bench/results/codec-<date>.md. Standard library only; see bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402

TOOLS = ("mogr", "vips", "magick")
TOOL_TITLES = {"mogr": "mogr", "vips": "libvips", "magick": "ImageMagick"}
# Output kinds the ssimulacra2 example cannot decode: they are turned into PNG by vips first.
NEEDS_PNG = {"heif", "avif"}


@dataclass
class Case:
    """One conversion of one source image, with each tool's command line."""

    name: str
    source: Path
    ext: str
    quality: str
    commands: dict[str, list[str]]
    slow: bool = False
    note: str = ""


@dataclass
class Measure:
    """What the repeated runs of one tool on one case gave."""

    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    rss_kb: int = 0
    bytes: int | None = None
    ssim: float | None = None
    error: str | None = None

    @property
    def wall(self) -> float | None:
        """Median wall seconds."""
        return bl.median(self.walls) if self.walls and not self.error else None

    @property
    def cpu(self) -> float | None:
        """Median user+sys seconds."""
        return bl.median(self.cpus) if self.cpus and not self.error else None

    @property
    def rss_mb(self) -> float | None:
        """Peak RSS over all runs, MiB."""
        return self.rss_kb / 1024 if self.rss_kb and not self.error else None


def build_cases(args: argparse.Namespace, mogr: Path | None) -> list[Case]:
    """The conversions of the issue, each on the corpus images that suit it."""
    photos = [bl.corpus_file(n) for n in args.photos.split(",") if n]
    slow_photos = [bl.corpus_file(n) for n in args.slow_photos.split(",") if n]
    png = bl.corpus_file(args.png)
    gif = bl.corpus_file("animated_42frames.gif")
    webp_anim = bl.corpus_file("animated_42frames.webp")
    q_other = args.quality
    hq = args.heif_quality
    im = bl.IM_CONVERT
    m = str(mogr) if mogr else "mogr"
    # Peers keep the source's 4:4:4 (ImageMagick) or choose by Q (libvips); pin one mode for all.
    vips_sub, im_sub = {
        "420": (",subsample-mode=on", ["-sampling-factor", "4:2:0"]),
        "444": (",subsample-mode=off", ["-sampling-factor", "4:4:4"]),
        "default": ("", []),
    }[args.jpeg_subsampling]

    def mogr_cmd(rule: str) -> list[str]:
        return [m, "process", "{in}", rule, "-o", "{out}"]

    cases: list[Case] = []
    for photo in photos:
        q = bl.jpeg_quality(photo) or q_other
        cases += [
            Case("JPEG→PNG", photo, "png", "lossless", {
                "mogr": mogr_cmd("imageMogr2/format/png"),
                "vips": ["vips", "copy", "{in}", "{out}"],
                "magick": [im, "{in}", "{out}"],
            }),
            Case("JPEG→WebP", photo, "webp", f"q{q} (source's)", {
                "mogr": mogr_cmd("imageMogr2/format/webp"),
                "vips": ["vips", "copy", "{in}", f"{{out}}[Q={q}]"],
                "magick": [im, "{in}", "-quality", str(q), "{out}"],
            }),
            Case("JPEG→yjpeg", photo, "jpg", f"q{q} (source's)", {
                "mogr": mogr_cmd("imageMogr2/format/yjpeg"),
                "vips": ["vips", "copy", "{in}",
                         f"{{out}}[Q={q},optimize-coding,trellis-quant,interlace,optimize-scans{vips_sub}]"],
                "magick": [im, "{in}", "-quality", str(q), "-interlace", "JPEG", *im_sub,
                           "-define", "jpeg:optimize-coding=true", "{out}"],
            }, note="Debian's libvips/IM use libjpeg-turbo: no trellis, so peers are plain progressive"),
        ]
    cases.append(Case("PNG→progressive JPEG", png, "jpg", f"q{q_other}", {
        "mogr": mogr_cmd(f"imageMogr2/format/jpg/interlace/1/quality/{q_other}"),
        "vips": ["vips", "copy", "{in}", f"{{out}}[Q={q_other},interlace,optimize-coding{vips_sub}]"],
        "magick": [im, "{in}", "-quality", str(q_other), "-interlace", "JPEG", *im_sub, "{out}"],
    }))
    cases += [
        Case("GIF→animated WebP", gif, "webp", f"q{q_other}", {
            "mogr": mogr_cmd(f"imageMogr2/format/webp/quality/{q_other}"),
            "vips": ["vips", "copy", "{in}[n=-1]", f"{{out}}[Q={q_other}]"],
            "magick": [im, "{in}", "-quality", str(q_other), "{out}"],
        }),
        Case("animated WebP→GIF", webp_anim, "gif", "256 colours", {
            "mogr": mogr_cmd("imageMogr2/format/gif"),
            "vips": ["vips", "copy", "{in}[n=-1]", "{out}"],
            "magick": [im, "{in}", "{out}"],
        }),
        Case("GIF cgif/20", gif, "gif", "20 frames", {
            "mogr": mogr_cmd("imageMogr2/format/gif/cgif/20"),
            "vips": ["vips", "copy", "{in}[n=-1]", "{out}"],
            "magick": [im, "{in}", "-coalesce", "-delete", _frames_to_drop(42, 20),
                       "-layers", "Optimize", "{out}"],
        }, note="libvips cannot drop frames: it re-encodes all 42 (nearest equivalent)"),
    ]
    for photo in slow_photos:
        cases += [
            Case("JPEG→HEIF", photo, "heif", f"libheif Q{hq}", {
                "mogr": mogr_cmd(f"imageMogr2/format/heif/quality/{args.mogr_heif_quality}!"),
                "vips": ["vips", "copy", "{in}", f"{{out}}[Q={hq},compression=hevc]"],
                # ImageMagick 6 writes JPEG for a .heif name: the prefix forces HEIC.
                "magick": [im, "{in}", "-quality", str(hq), "heic:{out}"],
            }, slow=True, note=HEIF_NOTE),
            Case("JPEG→AVIF", photo, "avif", f"libheif Q{hq}", {
                "mogr": mogr_cmd(f"imageMogr2/format/avif/quality/{args.mogr_avif_quality}!"),
                "vips": ["vips", "copy", "{in}", f"{{out}}[Q={hq}]"],
                "magick": [im, "{in}", "-quality", str(hq), "{out}"],
            }, slow=True, note=HEIF_NOTE),
        ]
    if args.only:
        wanted = [w.strip().lower() for w in args.only.split(",") if w.strip()]
        cases = [c for c in cases if any(w in c.name.lower() for w in wanted)]
    return cases


HEIF_NOTE = ("peers get libheif's Q (--heif-quality); mogr's quality is on the JPEG scale and "
             "mapped to libheif's inside mogr, so it gets the JPEG-scale value that maps to the same "
             "libheif Q (--mogr-heif-quality, --mogr-avif-quality); encoder speed/preset differ, so "
             "read bytes and SSIMULACRA2 with the time. mogr's value carries '!' because plain quality/q is "
             "capped at the source's own quality (spec: min(source, q)). photo_rocket.jpg carries an "
             "Adobe RGB profile: mogr converts it to sRGB for HEIF/AVIF while the peers embed it, and "
             "the reference ignores it, so that image's SSIMULACRA2 is not comparable")


def _frames_to_drop(total: int, keep: int) -> str:
    """ImageMagick -delete list leaving `keep` evenly spaced frames of `total`."""
    kept = {round(i * total / keep) for i in range(keep)}
    return ",".join(str(i) for i in range(total) if i not in kept)


def run_once(cmd: list[str], src: Path, out: Path) -> tuple[float, float, int, str | None]:
    """Runs one command: (wall s, user+sys s, max RSS KiB, error or None).

    CPU and RSS come from wait4(2), the call GNU time makes, but unrounded: time -f %U prints
    hundredths, too coarse for the small images.
    """
    argv = [a.replace("{in}", str(src)).replace("{out}", str(out)) for a in cmd]
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
        lines = [ln for ln in stderr.splitlines() if ln.strip() and "WARNING" not in ln]
        return wall, 0.0, 0, (lines[-1] if lines else f"exit {proc.returncode}")[:120]
    kind = sniff(out)
    if kind != EXPECTED_KIND.get(out.suffix.lstrip("."), kind):
        return wall, 0.0, 0, f"wrote {kind}, not {out.suffix.lstrip('.')}"
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, None


# What each output extension must contain, so a tool that silently writes another format fails.
EXPECTED_KIND = {"jpg": "jpeg", "png": "png", "gif": "gif", "webp": "webp", "heif": "heif", "avif": "avif"}


def sniff(path: Path) -> str:
    """The container format from the first bytes."""
    head = path.open("rb").read(32)
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG"):
        return "png"
    if head.startswith(b"GIF8"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp":
        return "avif" if head[8:12] in (b"avif", b"avis") else "heif"
    return "unknown"


def measure_case(case: Case, tools: list[str], runs: int, warmup: int, work: Path) -> dict[str, Measure]:
    """Interleaved repetitions of every tool on one case."""
    results = {t: Measure() for t in tools}
    outputs = {t: work / f"{t}.{case.ext}" for t in tools}
    for rep in range(warmup + runs):
        for tool in tools:
            m = results[tool]
            if m.error:
                continue
            outputs[tool].unlink(missing_ok=True)
            wall, cpu, rss, error = run_once(case.commands[tool], case.source, outputs[tool])
            if error:
                m.error = error
                continue
            if rep >= warmup:
                m.walls.append(wall)
                m.cpus.append(cpu)
                m.rss_kb = max(m.rss_kb, rss)
    for tool in tools:
        if not results[tool].error:
            results[tool].bytes = outputs[tool].stat().st_size
    return results


def reference_png(source: Path, work: Path) -> Path | None:
    """The source decoded once to PNG (first frame of animations), the SSIMULACRA2 reference."""
    ref = work / f"ref-{source.stem}.png"
    if not ref.exists():
        r = subprocess.run(["vips", "copy", str(source), str(ref)], capture_output=True)
        if r.returncode != 0:
            return None
    return ref


def ssim_score(ssim_bin: Path | None, ref: Path | None, dist: Path, ext: str) -> float | None:
    """SSIMULACRA2 of an output against the reference, None when it cannot be scored."""
    if ssim_bin is None or ref is None or not dist.is_file():
        return None
    if ext in NEEDS_PNG:
        png = dist.with_suffix(".dist.png")
        if subprocess.run(["vips", "copy", str(dist), str(png)], capture_output=True).returncode:
            return None
        dist = png
    r = subprocess.run([str(ssim_bin), str(ref), str(dist)], capture_output=True, text=True)
    try:
        return float(r.stdout.strip())
    except ValueError:
        bl.log(f"  ssimulacra2 failed on {dist.name}: {r.stderr.strip()[:160]}")
        return None


def find_ssim(args: argparse.Namespace) -> Path | None:
    """The ssimulacra2 example binary: given, built, or built now (release) unless --no-build."""
    if args.ssim:
        return Path(args.ssim)
    for profile in ("release", "debug"):
        candidate = bl.REPO / "target" / profile / "examples" / "ssimulacra2"
        if candidate.is_file():
            return candidate
    if args.no_build:
        bl.log("ssimulacra2 example not built; SSIMULACRA2 column left empty")
        return None
    bl.log("building the ssimulacra2 example (cargo build --release -p mogr-image --example ssimulacra2)")
    r = subprocess.run(
        ["cargo", "build", "--release", "-p", "mogr-image", "--example", "ssimulacra2"], cwd=bl.REPO
    )
    candidate = bl.REPO / "target" / "release" / "examples" / "ssimulacra2"
    if r.returncode != 0 or not candidate.is_file():
        bl.log("could not build the ssimulacra2 example; SSIMULACRA2 column left empty")
        return None
    return candidate


def fmt(value: float | None, spec: str) -> str:
    """A number, or an en dash for missing."""
    return "–" if value is None else format(value, spec)


def report(cases: list[Case], results: list[dict[str, Measure]], tools: list[str], header: str) -> str:
    """Markdown: absolute medians per tool, then mogr's ratios to each peer."""
    rows = []
    for case, res in zip(cases, results):
        for tool in tools:
            m = res[tool]
            rows.append([
                case.name, case.source.name, TOOL_TITLES[tool],
                fmt(m.wall and m.wall * 1000, ".0f"), fmt(m.cpu, ".3f"), fmt(m.rss_mb, ".1f"),
                fmt(m.bytes, ",d") if m.bytes is not None else "–", fmt(m.ssim, ".2f"),
                m.error or "",
            ])
    absolute = bl.markdown_table(
        ["conversion", "source", "tool", "wall ms (median)", "CPU s (median)", "peak RSS MiB",
         "bytes", "SSIMULACRA2", "error"], rows)
    parts = [header, "## Per tool (medians)\n", absolute]
    peers = [t for t in tools if t != "mogr"]
    if "mogr" in tools:
        ratio_rows = []
        for case, res in zip(cases, results):
            mo = res["mogr"]
            row = [case.name, case.source.name]
            for metric in ("wall", "cpu", "rss_mb", "bytes"):
                for peer in peers:
                    row.append(bl.ratio(getattr(mo, metric), getattr(res[peer], metric)))
            row.append(" / ".join(fmt(res[t].ssim, ".1f") for t in tools))
            ratio_rows.append(row)
        head = ["conversion", "source"]
        for metric in ("wall", "CPU", "RSS", "bytes"):
            head += [f"{metric} mogr/{TOOL_TITLES[p]}" for p in peers]
        head.append("SSIMULACRA2 " + " / ".join(TOOL_TITLES[t] for t in tools))
        parts += ["\n## Ratios (below 1.00x: mogr uses less)\n", bl.markdown_table(head, ratio_rows)]
    notes = sorted({f"- {c.name}: {c.note}" for c in cases if c.note})
    if notes:
        parts += ["\n## Notes\n", "\n".join(notes)]
    return "\n".join(parts) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=5, help="timed runs per tool (default 5)")
    p.add_argument("--slow-runs", type=int, default=3, help="timed runs for HEIF/AVIF (default 3)")
    p.add_argument("--warmup", type=int, default=1, help="untimed runs first (default 1)")
    p.add_argument("--only", help="comma list of words matched against conversion names (webp,heif,...)")
    p.add_argument("--photos", default="photo_path_2560x1600.jpg,photo_rocket.jpg",
                   help="JPEG sources for PNG/WebP/yjpeg")
    p.add_argument("--slow-photos", default="photo_rocket.jpg,photo_path_2560x1600.jpg",
                   help="JPEG sources for HEIF/AVIF")
    p.add_argument("--png", default="astronaut_rgb.png", help="PNG source for progressive JPEG")
    p.add_argument("--quality", type=int, default=85,
                   help="quality for lossy output from non-JPEG sources, all tools (default 85)")
    p.add_argument("--jpeg-subsampling", choices=("420", "444", "default"), default="420",
                   help="chroma subsampling forced on the peers' JPEG output (default 420, as mozjpeg)")
    p.add_argument("--heif-quality", type=int, default=50, help="libheif quality given to the peers for HEIF/AVIF (default 50)")
    # mogr-image/src/encode/heif.rs maps JPEG-scale 85 -> x265 50 and 75 -> aom 50.
    p.add_argument("--mogr-heif-quality", type=int, default=85,
                   help="mogr's JPEG-scale quality for HEIF; 85 maps to libheif 50 (default 85)")
    p.add_argument("--mogr-avif-quality", type=int, default=60,
                   help="mogr's JPEG-scale quality for AVIF; 75 maps to libheif 50 (default 75)")
    p.add_argument("--mogr", help="mogr binary (default target/release/mogr, or $MOGR_BIN)")
    p.add_argument("--peers-only", action="store_true", help="run libvips and ImageMagick only")
    p.add_argument("--ssim", help="ssimulacra2 example binary")
    p.add_argument("--no-build", action="store_true", help="never run cargo")
    args = p.parse_args()

    bl.ensure_packages({"vips": "libvips-tools", bl.IM_CONVERT: "imagemagick",
                        "identify": "imagemagick"})
    mogr = None if args.peers_only else bl.mogr_binary(args.mogr)
    tools = [t for t in TOOLS if t != "mogr" or mogr is not None]
    cases = build_cases(args, mogr)
    if not cases:
        bl.die("no conversion matches --only")
    ssim_bin = find_ssim(args)

    results = []
    with tempfile.TemporaryDirectory(prefix="mogr-codec-") as tmp:
        work = Path(tmp)
        for i, case in enumerate(cases, 1):
            runs = args.slow_runs if case.slow else args.runs
            bl.log(f"[{i}/{len(cases)}] {case.name} {case.source.name} ({runs} runs x {len(tools)} tools)")
            res = measure_case(case, tools, runs, args.warmup, work)
            ref = reference_png(case.source, work)
            for tool in tools:
                if not res[tool].error:
                    res[tool].ssim = ssim_score(ssim_bin, ref, work / f"{tool}.{case.ext}", case.ext)
                else:
                    bl.log(f"  {tool} failed: {res[tool].error}")
            results.append(res)

    header = (
        "# Codec benchmark: mogr vs libvips vs ImageMagick\n\n"
        f"{bl.machine_note()}. Runs per tool: {args.runs} ({args.slow_runs} for HEIF/AVIF), "
        f"interleaved, after {args.warmup} warm-up. Wall = median; CPU = median user+sys; "
        "RSS = max over runs; SSIMULACRA2 vs the source decoded by libvips (first frame for "
        "animations; higher is better).\n"
        f"Peers' JPEG chroma subsampling: {args.jpeg_subsampling}. "
        f"Versions: {_versions(mogr)}\n"
    )
    text = report(cases, results, tools, header)
    print(text)
    bl.log(f"written {bl.write_report('codec', text)}")


def _versions(mogr: Path | None) -> str:
    def first_line(cmd: list[str]) -> str:
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "?"

    parts = [first_line(["vips", "--version"]), first_line([bl.IM_CONVERT, "-version"])]
    if mogr:
        parts.insert(0, first_line([str(mogr), "--version"]))
    return "; ".join(parts)


if __name__ == "__main__":
    main()
