#!/usr/bin/env python3
"""Thumbnail benchmark: mogr vs vipsthumbnail vs ImageMagick, and mogr vs thumbor.

Command-line rows: each tool makes the same thumbnail N times, interleaved (mogr, vipsthumbnail,
convert, mogr, ...) so that machine noise hits all of them alike. Reported per tool: median CPU
seconds (user+sys of the child, from wait4), median peak RSS (ru_maxrss), median wall time,
output bytes and SSIMULACRA2 against a reference resize of the original (ImageMagick Lanczos to
the same size, saved as PNG); then the ratios mogr/peer. Server row: `mogr serve` answering
`GET key?imageMogr2/thumbnail/512x` against thumbor's `/unsafe/512x0/<file>`, driven by wrk.

    python3 bench/thumb_bench.py                         # everything, N=5
    python3 bench/thumb_bench.py --runs 9 --only jpeg,png
    python3 bench/thumb_bench.py --only server --concurrency 4,16
    python3 bench/thumb_bench.py --peers-only --runs 2   # no mogr binary: checks the harness

Writes bench/results/thumb-<date>.md. Standard library only; see bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402
import codec_bench as cb  # noqa: E402  (run_once, ssim_score, fmt, _versions)
import process_bench as pb  # noqa: E402  (thumbor install, server, wrk cell)

TOOLS = ("mogr", "vips", "magick")
TITLES = {"mogr": "mogr", "vips": "vipsthumbnail", "magick": "ImageMagick"}
# The issue's targets: CPU at or under libvips' on every row, thumbnails within 2 SSIMULACRA2
# points of vipsthumbnail's, at least twice thumbor's requests per second.
SSIM_MARGIN = 2.0
RPS_TARGET = 2.0
PNG_SIZE = (5120, 2880)
# --jpeg-subsampling: (vipsthumbnail output option, ImageMagick flags).
JPEG_SUBSAMPLING = {
    "420": (",subsample-mode=on", ["-sampling-factor", "4:2:0"]),
    "444": (",subsample-mode=off", ["-sampling-factor", "4:4:4"]),
    "default": ("", []),
}


@dataclass
class Row:
    """One thumbnail job with each tool's command line ({in} and {out} are filled in)."""

    key: str
    name: str
    source: Path
    ext: str
    commands: dict[str, list[str]]
    # The same resize written as PNG, scored once untimed: separates the resampler from the
    # encoder in the SSIMULACRA2 figure. Empty when PNG output would not be the same picture.
    png_commands: dict[str, list[str]] = field(default_factory=dict)
    animated: bool = False
    note: str = ""


@dataclass
class Result:
    """What the repeated runs of one tool on one row gave."""

    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)
    bytes: int | None = None
    geometry: tuple[int, int, int] | None = None
    ssim: float | None = None
    ssim_png: float | None = None
    error: str | None = None

    def median(self, name: str) -> float | None:
        """Median of one metric list, None when the tool failed or never ran."""
        values = getattr(self, name)
        return bl.median(values) if values and not self.error else None

    @property
    def wall(self) -> float | None:
        """Median wall seconds."""
        return self.median("walls")

    @property
    def cpu(self) -> float | None:
        """Median user+sys seconds."""
        return self.median("cpus")

    @property
    def rss_mb(self) -> float | None:
        """Median peak RSS, MiB."""
        kb = self.median("rss_kb")
        return kb / 1024 if kb else None

    def shape(self) -> str:
        """'512x384', or '123x123, 42 frames' for animations."""
        if self.geometry is None:
            return "–"
        w, h, frames = self.geometry
        return f"{w}x{h}" + (f", {frames} frames" if frames > 1 else "")


# ---------------------------------------------------------------- inputs


def rgba_png(path: Path | None) -> Path:
    """The 5120x2880 RGBA PNG of row (b): given, cached in bench/results/, or made once now.

    A plasma texture (smooth areas and fine detail, so it compresses like a photo, about 14 MB)
    under an alpha channel with a soft radial falloff and two hard-edged holes whose hidden
    colour is black: resizing without premultiplied alpha shows there as dark fringes.
    """
    if path is not None:
        if not path.is_file():
            bl.die(f"--png {path}: no such file")
        return path
    w, h = PNG_SIZE
    cached = bl.RESULTS / f"thumb-src-{w}x{h}-rgba.png"
    if cached.is_file():
        return cached
    bl.RESULTS.mkdir(parents=True, exist_ok=True)
    bl.log(f"making {cached.name} once (ImageMagick plasma + alpha; about a minute)")
    tmp = cached.with_suffix(".tmp.png")
    cmd = [
        bl.IM_CONVERT, "-size", f"{w}x{h}", "-seed", "8", "plasma:fractal", "-blur", "0x1",
        "(", "-size", f"{w}x{h}", "radial-gradient:white-black", "-level", "0%,70%",
        "-fill", "black", "-draw", f"rectangle {w * 3 // 25},{h // 7} {w * 11 // 50},{h * 6 // 7}",
        "-draw", f"circle {w * 3 // 4},{h // 2} {w * 3 // 4},{h // 2 + h // 6}", ")",
        "-alpha", "off", "-compose", "CopyOpacity", "-composite",
        "-background", "black", "-alpha", "background", f"PNG32:{tmp}",
    ]
    if subprocess.run(cmd, capture_output=True).returncode != 0 or not tmp.is_file():
        bl.die("ImageMagick could not make the RGBA PNG (see --png to give one)")
    tmp.rename(cached)
    return cached


def build_rows(args: argparse.Namespace, mogr: Path | None) -> list[Row]:
    """The three command-line rows of the issue, with each tool's flags for the same result."""
    m = str(mogr) if mogr else "mogr"
    im = bl.IM_CONVERT
    width = args.width
    rows: list[Row] = []
    words = [w.strip().lower() for w in (args.only or "").split(",") if w.strip()]

    def wanted(key: str) -> bool:
        return not words or key in words

    def mogr_cmd(rule: str) -> list[str]:
        return [m, "process", "{in}", rule, "-o", "{out}"]

    if wanted("jpeg"):
        photo = bl.corpus_file(args.photo)
        q = bl.jpeg_quality(photo) or 85
        rule = f"imageMogr2/thumbnail/{width}x"
        # mogr (mozjpeg) writes 4:2:0; libvips turns subsampling off at Q >= 90 by itself and
        # ImageMagick copies the source's: pin the peers to one mode so the encoders match.
        vips_sub, im_sub = JPEG_SUBSAMPLING[args.jpeg_subsampling]
        rows.append(Row(
            "jpeg", f"JPEG → {width} px wide JPEG", photo, "jpg",
            {
                "mogr": mogr_cmd(rule),
                # The source carries EXIF Orientation 6. A CI rule rotates only with auto-orient,
                # so vipsthumbnail's default auto-rotation is turned off to do the same work.
                "vips": ["vipsthumbnail", "{in}", "--size", f"{width}x", "--no-rotate",
                         "-o", f"{{out}}[Q={q}{vips_sub}]"],
                "magick": [im, "{in}", "-resize", f"{width}x", "-quality", str(q), *im_sub, "{out}"],
            },
            {
                "mogr": mogr_cmd(rule + "/format/png"),
                "vips": ["vipsthumbnail", "{in}", "--size", f"{width}x", "--no-rotate", "-o", "{out}"],
                "magick": [im, "{in}", "-resize", f"{width}x", "{out}"],
            },
            note=f"JPEG quality {q} for all (the source's, which mogr inherits), peers' chroma "
                 f"subsampling {args.jpeg_subsampling} (--jpeg-subsampling; mogr writes 4:2:0); "
                 "no auto-rotation (vipsthumbnail --no-rotate); ImageMagick decodes the full "
                 "12 MP (no jpeg:size hint, as the issue's command line)",
        ))
    if wanted("png"):
        png = rgba_png(Path(args.png) if args.png else None)
        q = args.quality
        rule = f"imageMogr2/thumbnail/{width}x/format/webp"
        if args.png_webp == "lossless":
            # mogr writes lossless WebP for a lossless source (quality is then ignored): the
            # peers are asked for the same, with libwebp's default effort as mogr uses.
            vips_out, im_opts = "{out}[lossless]", ["-define", "webp:lossless=true"]
            note = ("lossless WebP for all: mogr's choice for a lossless source, so the peers get "
                    "`lossless` too (--png-webp lossy gives the peers lossy WebP at --quality)")
        else:
            rule += f"/quality/{q}"
            vips_out, im_opts = f"{{out}}[Q={q}]", ["-quality", str(q)]
            note = f"peers: lossy WebP at quality {q}; mogr: quality/{q}"
        rows.append(Row(
            "png", f"RGBA PNG → {width} px wide WebP", png, "webp",
            {
                "mogr": mogr_cmd(rule),
                "vips": ["vipsthumbnail", "{in}", "--size", f"{width}x", "-o", vips_out],
                "magick": [im, "{in}", "-resize", f"{width}x", *im_opts, "{out}"],
            },
            {
                "mogr": mogr_cmd(f"imageMogr2/thumbnail/{width}x/format/png"),
                "vips": ["vipsthumbnail", "{in}", "--size", f"{width}x", "-o", "{out}"],
                "magick": [im, "{in}", "-resize", f"{width}x", "{out}"],
            },
            note=note,
        ))
    if wanted("gif"):
        gif = bl.corpus_file(args.gif)
        geometry = bl.image_geometry(gif)
        if geometry is None:
            bl.die(f"identify cannot read {gif}")
        # ImageMagick's -resize 50% rounds half up (245 -> 123); vipsthumbnail gets that width.
        half = (geometry[0] + 1) // 2
        rows.append(Row(
            "gif", f"animated GIF ({geometry[2]} frames) → 50 %", gif, "gif",
            {
                "mogr": mogr_cmd("imageMogr2/thumbnail/!50p"),
                "vips": ["vipsthumbnail", "{in}[n=-1]", "--size", f"{half}x", "-o", "{out}"],
                "magick": [im, "{in}", "-coalesce", "-resize", "50%", "-layers", "Optimize", "{out}"],
            },
            animated=True,
            note="SSIMULACRA2 of the first frame only; every tool's palette quantiser differs, so "
                 "the GIF score mixes resampling and quantisation",
        ))
    return rows


# ---------------------------------------------------------------- command-line rows


def explain(error: str) -> str:
    """A failing mogr row says why in words a reader of the report understands."""
    if "unsupported operation" in error:
        return f"{error} (this mogr build has no thumbnail yet)"
    return error


def measure_row(row: Row, tools: list[str], runs: int, warmup: int, work: Path) -> dict[str, Result]:
    """Interleaved repetitions of every tool on one row, then output facts."""
    results = {t: Result() for t in tools}
    outputs = {t: work / f"{row.key}-{t}.{row.ext}" for t in tools}
    for rep in range(warmup + runs):
        for tool in tools:
            r = results[tool]
            if r.error:
                continue
            outputs[tool].unlink(missing_ok=True)
            wall, cpu, rss, error = cb.run_once(row.commands[tool], row.source, outputs[tool])
            if error:
                r.error = explain(error)
                bl.log(f"  {TITLES[tool]} failed: {r.error}")
                continue
            if rep >= warmup:
                r.walls.append(wall)
                r.cpus.append(cpu)
                r.rss_kb.append(rss)
    for tool in tools:
        if not results[tool].error:
            results[tool].bytes = outputs[tool].stat().st_size
            results[tool].geometry = bl.image_geometry(outputs[tool])
    if row.ext == "webp":
        kinds = {TITLES[t]: webp_kind(outputs[t]) for t in tools if not results[t].error}
        if len(set(kinds.values())) > 1:  # bytes and scores would compare unlike things
            row.note += "; NOT like for like, WebP kinds differ: " + ", ".join(
                f"{tool} {kind}" for tool, kind in kinds.items())
    return results


def webp_kind(path: Path) -> str:
    """'lossless' (VP8L) or 'lossy' (VP8) from the WebP's RIFF chunks, '?' if neither is found."""
    data = path.read_bytes()
    at = 12
    while at + 8 <= len(data):
        tag, size = data[at:at + 4], int.from_bytes(data[at + 4:at + 8], "little")
        if tag == b"VP8L":
            return "lossless"
        if tag == b"VP8 ":
            return "lossy"
        if tag == b"ANMF":  # animation frame: its own chunks start after a 16-byte header
            at += 8 + 16
            continue
        at += 8 + size + (size & 1)
    return "?"


def reference(row: Row, width: int, height: int, work: Path) -> Path | None:
    """ImageMagick's Lanczos resize of the original to width x height, as PNG (cached per size)."""
    ref = work / f"ref-{row.key}-{width}x{height}.png"
    if ref.exists():
        return ref
    cmd = [bl.IM_CONVERT, f"{row.source}[0]"]
    if row.animated:
        cmd.append("-coalesce")  # the first frame on its full canvas
    cmd += ["-filter", "Lanczos", "-resize", f"{width}x{height}!", str(ref)]
    if subprocess.run(cmd, capture_output=True).returncode != 0 or not ref.exists():
        bl.log(f"  reference resize of {row.source.name} failed")
        return None
    return ref


def score_row(row: Row, res: dict[str, Result], ssim_bin: Path | None, work: Path) -> None:
    """SSIMULACRA2 of each output, and of each tool's PNG output (one untimed run)."""
    if ssim_bin is None:
        return
    for tool, r in res.items():
        if r.error or r.geometry is None:
            continue
        w, h, _ = r.geometry
        ref = reference(row, w, h, work)
        r.ssim = cb.ssim_score(ssim_bin, ref, work / f"{row.key}-{tool}.{row.ext}", row.ext)
        if tool in row.png_commands:
            out = work / f"{row.key}-{tool}-lossless.png"
            *_, error = cb.run_once(row.png_commands[tool], row.source, out)
            if not error:
                r.ssim_png = cb.ssim_score(ssim_bin, ref, out, "png")


def find_ssim(args: argparse.Namespace) -> Path | None:
    """The ssimulacra2 example binary: given, already built, or built now unless --no-build."""
    if args.ssim:
        return Path(args.ssim)
    targets = [Path(os.environ["CARGO_TARGET_DIR"])] if os.environ.get("CARGO_TARGET_DIR") else []
    targets.append(bl.REPO / "target")

    def built() -> Path | None:
        for target in targets:
            for profile in ("release", "debug"):
                candidate = target / profile / "examples" / "ssimulacra2"
                if candidate.is_file():
                    return candidate
        return None

    found = built()
    if found or args.no_build:
        if not found:
            bl.log("ssimulacra2 example not built; SSIMULACRA2 columns left empty")
        return found
    bl.log("building the ssimulacra2 example (cargo build --release -p mogr-image --example ssimulacra2)")
    subprocess.run(["cargo", "build", "--release", "-p", "mogr-image", "--example", "ssimulacra2"],
                   cwd=bl.REPO)
    found = built()
    if not found:
        bl.log("could not build the ssimulacra2 example; SSIMULACRA2 columns left empty")
    return found


# ---------------------------------------------------------------- server row


def probe(port: int, target: str, kind: str) -> tuple[int, float, str | None]:
    """One request that must answer 200 in the right format: (bytes, seconds, error or None)."""
    start = time.perf_counter()
    r = bl.http_request(port, "GET", target)
    seconds = time.perf_counter() - start
    if r.status != 200 or bl.image_kind(r.body[:32]) != kind:
        return 0, seconds, explain(f"{r.status} {describe_body(r)}")
    return len(r.body), seconds, None


def describe_body(r: bl.HttpResult) -> str:
    """A COS error as 'Code: Message', anything else as its type and first bytes."""
    text = r.body[:2000].decode(errors="replace")
    code, message = (re.search(f"<{tag}>(.*?)</{tag}>", text, re.S) for tag in ("Code", "Message"))
    if code:
        return f"{code.group(1)}: {message.group(1) if message else ''}"
    return f"{r.headers.get('content-type')}: {r.body[:160]!r}"


# The servers of the server rows: (name, config) for mogr, (name, result storage) for thumbor;
# PAIRS says which mogr is compared with which thumbor.
MOGRS = [("mogr", bl.NO_VARIANT_CACHE), ("mogr-cached", None)]
PEERS = [("thumbor", False), ("thumbor-cached", True)]
PAIRS = [("mogr", "thumbor", "every response computed (mogr variant cache off, thumbor no result storage)"),
         ("mogr-cached", "thumbor-cached",
          "repeats served from a result cache (mogr's default variant cache, thumbor file result storage)")]


def WIDTHS(width: int) -> list[int]:  # noqa: N802 (a table, computed)
    """128 widths from `width` up: distinct URLs of nearly the same work (all of them keep the
    12 MP photo's JPEG shrink-on-load at the same scale for widths 505-1008)."""
    return list(range(width, width + 128))


def server_rows(args, mogr_bin: Path | None, work: Path) -> tuple[list[pb.Cell], list[str], str]:
    """mogr serve and thumbor on the same photo at each concurrency: (cells, failures, access)."""
    photo = bl.corpus_file(args.photo)
    quality = bl.jpeg_quality(photo) or 75
    job = pb.Job(f"{photo.name} → {args.width} px wide", photo.name,
                 f"imageMogr2/thumbnail/{args.width}x", f"{args.width}x0", "jpeg")
    levels = [int(c) for c in args.concurrency.split(",") if c]
    cells: list[pb.Cell] = []
    failures: list[str] = []
    access = "–"
    started = []
    try:
        # Two pairings in one run: both computing every response (mogr's variant cache off,
        # thumbor without result storage), and both as deployed to serve repeats (mogr's default
        # variant cache, thumbor's file result storage). thumbor is told the source's JPEG
        # quality, which mogr inherits.
        thumbor_bin = pb.ensure_thumbor()
        servers = []
        for name, stores in PEERS:
            server = pb.Thumbor(thumbor_bin, work, args.thumbor_processes, quality,
                                result_storage=stores, name=name)
            started.append(server)
            servers.append((name, server))
        if mogr_bin:
            for i, (name, config) in enumerate(MOGRS):
                mogr = bl.MogrServer(mogr_bin, work, config=config, name=name)
                started.append(mogr)
                mogr.create_bucket("public-read")
                mogr.put(photo.name, photo.read_bytes())
                access = mogr.choose_access(mogr.path(photo.name))
                servers.insert(i, (name, mogr))
        targets, sizes, probe_s = {}, {}, {}
        for name, server in servers:
            # The uncached pair asks for WIDTHS distinct thumbnails at random: with one URL,
            # mogr's single flight would answer concurrent identical requests with one
            # computation, and "every response computed" would not hold.
            widths = [args.width] if name.endswith("-cached") else WIDTHS(args.width)
            targets[name] = [
                server.target("GET", job.source, f"imageMogr2/thumbnail/{w}x")
                if name.startswith("mogr") else f"/unsafe/{w}x0/{job.source}"
                for w in widths
            ]
            sizes[name], probe_s[name], error = probe(server.port, targets[name][0], job.kind)
            if error:
                failures.append(f"- {name} `GET {targets[name][:100]}` -> {error}")
                bl.log(f"server: {name} fails, not measured: {error}")
        for c in levels:
            for name, server in servers:
                if not sizes[name]:
                    continue
                seconds = pb.run_seconds(args, probe_s[name], c)
                bl.log(f"server: {name} -c{c} {seconds} s")
                cells.append(pb.measure(name, server, job, targets[name], c, args, work,
                                        sizes[name], seconds))
    finally:
        for server in started:
            bl.stop(server.proc)
    return cells, failures, access


# ---------------------------------------------------------------- report


def verdict(ok: bool | None, detail: str) -> str:
    """'yes (0.61x)', 'NO (1.30x)' or an en dash."""
    if ok is None:
        return "–"
    return f"{'yes' if ok else 'NO'} ({detail})"


def cli_report(rows: list[Row], results: list[dict[str, Result]], tools: list[str]) -> list[str]:
    """Markdown: per tool, then mogr's ratios and the two targets."""
    f = cb.fmt
    table = []
    for row, res in zip(rows, results):
        for tool in tools:
            r = res[tool]
            table.append([
                row.name, TITLES[tool], r.shape(), f(r.cpu, ".3f"), f(r.rss_mb, ".1f"),
                f(r.wall and r.wall * 1000, ".0f"), f(r.bytes, ",d") if r.bytes else "–",
                f(r.ssim, ".2f"), f(r.ssim_png, ".2f"), r.error or "",
            ])
    parts = ["## Command line, per tool (medians)\n", bl.markdown_table(
        ["row", "tool", "output", "CPU s", "peak RSS MiB", "wall ms", "bytes",
         "SSIMULACRA2", "SSIMULACRA2 as PNG", "error"], table)]
    if "mogr" in tools:
        ratio_rows = []
        for row, res in zip(rows, results):
            mo, vi, ma = res["mogr"], res.get("vips"), res.get("magick")
            cpu_ok = None if mo.cpu is None or vi is None or vi.cpu is None else mo.cpu <= vi.cpu
            delta = None if mo.ssim is None or vi is None or vi.ssim is None else mo.ssim - vi.ssim
            ratio_rows.append([
                row.name,
                bl.ratio(mo.cpu, vi and vi.cpu), bl.ratio(mo.cpu, ma and ma.cpu),
                bl.ratio(mo.rss_mb, vi and vi.rss_mb), bl.ratio(mo.rss_mb, ma and ma.rss_mb),
                bl.ratio(mo.wall, vi and vi.wall), bl.ratio(mo.bytes, vi and vi.bytes),
                verdict(cpu_ok, bl.ratio(mo.cpu, vi and vi.cpu)),
                verdict(None if delta is None else delta >= -SSIM_MARGIN, f"{delta:+.2f}" if delta is not None else ""),
            ])
        parts += [
            "\n## Command line, ratios (below 1.00x: mogr uses less)\n",
            bl.markdown_table(
                ["row", "CPU mogr/vips", "CPU mogr/IM", "RSS mogr/vips", "RSS mogr/IM",
                 "wall mogr/vips", "bytes mogr/vips", "target: CPU ≤ vipsthumbnail",
                 f"target: SSIMULACRA2 ≥ vipsthumbnail − {SSIM_MARGIN:g}"],
                ratio_rows),
        ]
    return parts


def server_report(cells: list[pb.Cell], failures: list[str], access: str, args) -> list[str]:
    """Markdown: per server and concurrency, then mogr/thumbor with the 2x target."""
    parts = [
        f"\n## Server: `GET key?imageMogr2/thumbnail/{args.width}x` vs thumbor "
        f"`/unsafe/{args.width}x0/<file>` ({args.photo})\n",
        f"thumbor {pb.THUMBOR_VERSION} ({args.thumbor_processes} processes, file loader, no "
        f"storage; `thumbor-cached`: file result storage, unsafe URLs stored); `mogr`: variant "
        f"cache off (`[cache] max_bytes = 0`), `mogr-cached`: the default variant cache. "
        f"`mogr` and `thumbor` are asked for 128 widths ({args.width}-{args.width + 127} px) at "
        f"random, so that neither answers concurrent identical requests with one computation; "
        f"the cached pair for the same URL every time; mogr access: {access}. wrk -t{args.threads}, "
        f"{args.duration} s per cell or longer for slow servers (column s).\n",
    ]
    if cells:
        parts.append(bl.markdown_table(
            ["server", "clients", "s", "req/s", "p50 ms", "p99 ms", "server CPU ms/req",
             "peak RSS MiB", "output bytes", "errors"],
            [[c.server, str(c.connections), str(c.seconds), f"{c.rps:.2f}", f"{c.p50:.0f}",
              f"{c.p99:.0f}", f"{c.cpu_ms_per_req:.0f}", f"{c.rss_mb:.1f}", f"{c.out_bytes:,d}",
              c.errors] for c in cells]))
    by = {(c.server, c.connections): c for c in cells}
    ratio_rows = []
    for c in cells:
        pair = next((p for p in PAIRS if p[0] == c.server), None)
        t = pair and by.get((pair[1], c.connections))
        if t is None:
            continue
        clean = max(c.error_share, t.error_share) <= pb.MAX_ERROR_SHARE
        ratio_rows.append([
            pair[2], str(c.connections), bl.ratio(c.rps, t.rps),
            bl.ratio(c.p50, t.p50) if clean else "– (errors)",
            bl.ratio(c.p99, t.p99) if clean else "– (errors)",
            bl.ratio(c.cpu_ms_per_req, t.cpu_ms_per_req), bl.ratio(c.rss_mb, t.rss_mb),
            verdict(c.rps >= RPS_TARGET * t.rps if t.rps else None, bl.ratio(c.rps, t.rps)),
        ])
    if ratio_rows:
        parts += ["\n### Server ratios mogr/thumbor (req/s: above 1.00x is better; the rest: below)\n",
                  bl.markdown_table(["pairing", "clients", "req/s", "p50", "p99", "CPU/req", "peak RSS",
                                     f"target: req/s ≥ {RPS_TARGET:g}x thumbor"], ratio_rows)]
    if failures:
        parts += ["\n### Server requests that failed (not measured)\n", "\n".join(failures)]
    return parts


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=5, help="timed runs per tool and row (default 5)")
    p.add_argument("--warmup", type=int, default=1, help="untimed runs first (default 1)")
    p.add_argument("--only", help="comma list of rows: jpeg,png,gif,server (default all)")
    p.add_argument("--width", type=int, default=512, help="thumbnail width (default 512)")
    p.add_argument("--photo", default="photo_dog_4032x3024_exif-orient6.jpg",
                   help="corpus JPEG of the jpeg and server rows (default the 12 MP photo)")
    p.add_argument("--gif", default="animated_42frames.gif", help="corpus animated GIF")
    p.add_argument("--png", help="RGBA PNG for the png row (default: made once into bench/results/)")
    p.add_argument("--png-webp", choices=("lossless", "lossy"), default="lossless",
                   help="WebP of the png row: lossless for all (default; what mogr writes for a "
                        "lossless source) or lossy at --quality")
    p.add_argument("--quality", type=int, default=85,
                   help="WebP quality with --png-webp lossy, all tools (default 85)")
    p.add_argument("--jpeg-subsampling", choices=tuple(JPEG_SUBSAMPLING), default="420",
                   help="chroma subsampling forced on the peers' JPEG (default 420, as mogr writes)")
    p.add_argument("--concurrency", default="4,16", help="wrk connection counts (default 4,16)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    p.add_argument("--duration", type=int, default=15, help="seconds per wrk run (default 15)")
    p.add_argument("--max-duration", type=int, default=90,
                   help="cap on the longer runs given to slow servers (default 90 s)")
    p.add_argument("--thumbor-processes", type=int, default=2,
                   help="thumbor worker processes (default 2 = cores; it is single-threaded)")
    p.add_argument("--mogr", help="mogr binary (default target/release/mogr, or $MOGR_BIN)")
    p.add_argument("--peers-only", action="store_true", help="vipsthumbnail, ImageMagick and thumbor only")
    p.add_argument("--ssim", help="ssimulacra2 example binary")
    p.add_argument("--no-build", action="store_true", help="never run cargo")
    args = p.parse_args()

    words = {w.strip().lower() for w in (args.only or "").split(",") if w.strip()}
    unknown = words - {"jpeg", "png", "gif", "server"}
    if unknown:
        bl.die(f"--only: unknown rows {', '.join(sorted(unknown))} (jpeg, png, gif, server)")
    bl.ensure_packages({"vipsthumbnail": "libvips-tools", bl.IM_CONVERT: "imagemagick",
                        "identify": "imagemagick", "wrk": "wrk", "gifsicle": "gifsicle"})
    mogr = None if args.peers_only else bl.mogr_binary(args.mogr)
    tools = [t for t in TOOLS if t != "mogr" or mogr is not None]
    rows = build_rows(args, mogr)
    ssim_bin = find_ssim(args) if rows else None

    results: list[dict[str, Result]] = []
    cells: list[pb.Cell] = []
    failures: list[str] = []
    access = "–"
    with tempfile.TemporaryDirectory(prefix="mogr-thumb-") as tmp:
        work = Path(tmp)
        for i, row in enumerate(rows, 1):
            bl.log(f"[{i}/{len(rows)}] {row.name} ({args.runs} runs x {len(tools)} tools)")
            res = measure_row(row, tools, args.runs, args.warmup, work)
            score_row(row, res, ssim_bin, work)
            results.append(res)
        if not words or "server" in words:
            cells, failures, access = server_rows(args, mogr, work)

    header = (
        "# Thumbnails: mogr vs vipsthumbnail vs ImageMagick, and mogr serve vs thumbor\n\n"
        f"{bl.machine_note()}. Command line: {args.runs} runs per tool, interleaved, after "
        f"{args.warmup} warm-up; CPU = median user+sys of the child, peak RSS = median "
        "ru_maxrss, wall = median. SSIMULACRA2 (higher is better) against ImageMagick's Lanczos "
        "resize of the original to the output's size, saved as PNG; 'as PNG' is the same resize "
        "written losslessly (one untimed run), so it scores the resampler without the encoder.\n"
        f"Versions: {cb._versions(mogr)}\n"
    )
    parts = [header]
    if rows:
        parts += cli_report(rows, results, tools)
    if cells or failures:
        parts += server_report(cells, failures, access, args)
    notes = [f"- {row.name}: {row.note}" for row in rows if row.note]
    if notes:
        parts += ["\n## Notes\n", "\n".join(notes)]
    text = "\n".join(parts) + "\n"
    print(text)
    bl.log(f"written {bl.write_report('thumb', text)}")


if __name__ == "__main__":
    main()
