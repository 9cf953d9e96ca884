"""imageMogr2 transform operations and imageView2 through the official SDK.

Every operation runs in the three CI modes and through a presigned URL:
  get        ci_get_object(Rule=...)                           (download)
  put        ci_put_object(PicOperations=...)                  (upload; UploadResult checked)
  process    ci_image_process(PicOperations=...)               (in the cloud)
  presigned  get_presigned_url(Params={rule: ''}) + requests   (any HTTP client)
and the outputs are checked on decoded pixels: sizes, which corner a crop keeps, rotation
direction, flip axis, pad colour, transparent or white corners, and one pixel property per
effect.

Thumbnail sizes are ImageMagick's: the table below was verified against the real
`convert` (ImageMagick 6.9.11-60, Debian 12) with
`convert -size 640x427 xc:red -resize GEOMETRY -format %wx%h info:`.

Runs by default; MOGR_CI_TESTS=0 turns it off (with the other image-processing tests).
"""

import base64
import io
import json
import os
import uuid

import pytest
import requests
from PIL import Image, ImageChops, ImageDraw, ImageStat

from conftest import read_body, vhost

if os.environ.get("MOGR_CI_TESTS", "1") == "0":
    pytest.skip("image processing tests are off (MOGR_CI_TESTS=0)", allow_module_level=True)

from test_ci import MIME, animated_gif, as_list, decode, expect_error, frame_count, frame_delays, gradient_jpeg  # noqa: E402

MODES = ["get", "put", "process", "presigned"]

SRC_SIZE = (640, 427)
SPLIT = (320, 213)  # where the quadrants meet: x < 320 is left, y < 213 is top
RED, GREEN, BLUE, YELLOW = (230, 30, 30), (30, 200, 30), (30, 30, 230), (230, 230, 30)
WHITE, MAGENTA = (255, 255, 255), (255, 0, 255)
GREY = (128, 128, 128)
GIF_FRAMES, GIF_DELAY_MS = 10, 100  # animated_gif()'s defaults: 120x80

# ---------------------------------------------------------------------------------------------
# Inputs made here with Pillow


def quadrants(mode: str = "RGB") -> Image.Image:
    """640x427: red top-left, green top-right, blue bottom-left, yellow bottom-right."""
    w, h = SRC_SIZE
    sx, sy = SPLIT
    im = Image.new(mode, SRC_SIZE)
    draw = ImageDraw.Draw(im)
    for box, colour in (((0, 0, sx - 1, sy - 1), RED), ((sx, 0, w - 1, sy - 1), GREEN),
                        ((0, sy, sx - 1, h - 1), BLUE), ((sx, sy, w - 1, h - 1), YELLOW)):
        draw.rectangle(box, fill=colour + ((255,) if mode == "RGBA" else ()))
    return im


def encode(im: Image.Image, fmt: str, **kwargs) -> bytes:
    out = io.BytesIO()
    im.save(out, fmt, **kwargs)
    return out.getvalue()


def checker(size=(160, 120), cell=8) -> Image.Image:
    """Two colours of clearly different luminance in 8 px squares, away from 0 and 255 so that
    bright, contrast and sharpen have room on both sides."""
    a, b = (200, 120, 80), (60, 80, 170)
    im = Image.new("RGB", size)
    im.putdata([a if (x // cell + y // cell) % 2 else b for y in range(size[1]) for x in range(size[0])])
    return im


def busy_corner() -> Image.Image:
    """Flat grey 1200x400 with one busy, saturated 150x150 patch near the right end."""
    im = Image.new("RGB", (1200, 400), GREY)
    patch = Image.new("RGB", (150, 150))
    patch.putdata([(250, 220, 40) if (x // 6 + y // 6) % 2 else (200, 40, 160)
                   for y in range(150) for x in range(150)])
    im.paste(patch, (1000, 150))
    return im


def animated_webp(frames=GIF_FRAMES, size=(120, 80), delay=GIF_DELAY_MS) -> bytes:
    """The frames of animated_gif() as a lossless animated WebP."""
    gif = Image.open(io.BytesIO(animated_gif(frames, size, delay)))
    ims = []
    for i in range(frames):
        gif.seek(i)
        ims.append(gif.convert("RGB"))
    return encode(ims[0], "WEBP", save_all=True, append_images=ims[1:], duration=delay, loop=0,
                  lossless=True)


SOURCES = {
    # name: (key, builder)
    "quad.png": ("ops/src/quad.png", lambda: encode(quadrants(), "PNG")),
    "quad-rgba.png": ("ops/src/quad-rgba.png", lambda: encode(quadrants("RGBA"), "PNG")),
    "quad.jpg": ("ops/src/quad.jpg", lambda: encode(quadrants(), "JPEG", quality=95)),
    "photo.jpg": ("ops/src/photo.jpg", gradient_jpeg),
    "checker.png": ("ops/src/checker.png", lambda: encode(checker(), "PNG")),
    "busy.png": ("ops/src/busy.png", lambda: encode(busy_corner(), "PNG")),
    "anim.gif": ("ops/src/anim.gif", animated_gif),
    "anim.webp": ("ops/src/anim.webp", animated_webp),
    "big.png": ("ops/src/big.png", lambda: encode(Image.new("RGB", (2000, 1600), GREY), "PNG")),
}


@pytest.fixture(scope="module")
def sources(client, bucket):
    """Uploads every input once; returns {name: (key, bytes)}."""
    made = {}
    for name, (key, build) in SOURCES.items():
        data = build()
        client.put_object(Bucket=bucket, Key=key, Body=data)
        made[name] = (key, data)
    return made


# ---------------------------------------------------------------------------------------------
# One rule through one mode


class RuleFailed(Exception):
    """A presigned request that did not answer 200 (the SDK modes raise CosServiceError)."""


def run(client, bucket, sources, tmp_path, mode: str, source: str, rule: str, ext: str) -> bytes:
    """Applies `rule` to a source through `mode`; returns the output bytes.

    `ext` names the expected output format; put/process store it under a fileid with that
    extension and the UploadResult entry is checked against what was stored.
    """
    key, data = sources[source]
    if mode == "get":
        dest = tmp_path / f"get-{uuid.uuid4().hex[:8]}.out"
        client.ci_get_object(Bucket=bucket, Key=key, DestImagePath=str(dest), Rule=rule)
        return dest.read_bytes()
    if mode == "presigned":
        host = vhost(client, bucket)
        url = client.get_presigned_url(Bucket=bucket, Key=key, Method="GET", Headers={"Host": host},
                                       Params={rule: ""})
        r = requests.get(url, headers={"Host": host}, timeout=300)
        if r.status_code != 200:
            raise RuleFailed(f"{r.status_code}: {r.text[:300]}")
        return r.content
    fileid = f"out-{uuid.uuid4().hex[:8]}.{ext}"
    ops = json.dumps({"is_pic_info": 1, "rules": [{"fileid": fileid, "rule": rule}]})
    if mode == "put":
        put_key = f"ops/put/{uuid.uuid4().hex[:8]}/{source}"
        _, result = client.ci_put_object(Bucket=bucket, Key=put_key, Body=data, PicOperations=ops)
    else:
        _, result = client.ci_image_process(Bucket=bucket, Key=key, PicOperations=ops)
    obj = as_list(result["ProcessResults"]["Object"])[0]
    assert obj["Key"].endswith("/" + fileid), obj
    stored = read_body(client.get_object(Bucket=bucket, Key=obj["Key"]))
    assert int(obj["Size"]) == len(stored)
    # The UploadResult describes the stored output, not the source.
    assert (int(obj["Width"]), int(obj["Height"])) == decode(stored).size, obj
    return stored


@pytest.fixture
def apply(client, bucket, sources, tmp_path):
    """apply(mode, source, rule, ext='png') -> decoded output image (and .raw bytes)."""

    def _apply(mode, source, rule, ext="png"):
        data = run(client, bucket, sources, tmp_path, mode, source, rule, ext)
        im = decode(data)
        assert im.format == {"png": "PNG", "jpg": "JPEG", "webp": "WEBP", "gif": "GIF"}[ext], (rule, im.format)
        im.raw = data
        return im

    return _apply


# ---------------------------------------------------------------------------------------------
# Pixel checks


def near(pixel, colour, tolerance=40) -> bool:
    return all(abs(int(p) - int(c)) <= tolerance for p, c in zip(pixel, colour))


def assert_colours(im: Image.Image, expected, tolerance=40, what=""):
    """expected: [((x, y), (r, g, b)), ...]; negative coordinates count from the far edge."""
    rgb = im.convert("RGB")
    w, h = rgb.size
    for (x, y), colour in expected:
        px = rgb.getpixel((x % w, y % h))
        assert near(px, colour, tolerance), f"{what}: pixel ({x}, {y}) of {w}x{h} is {px}, expected ~{colour}"


def alpha_at(im: Image.Image, x: int, y: int) -> int:
    w, h = im.size
    return im.convert("RGBA").getpixel((x % w, y % h))[3]


def edge_energy(im: Image.Image) -> float:
    """Mean difference between horizontally adjacent grey levels: falls with blur, rises with sharpen."""
    grey = im.convert("L")
    return ImageStat.Stat(ImageChops.difference(grey, ImageChops.offset(grey, 1, 0))).mean[0]


def luma_stats(im: Image.Image) -> tuple[float, float]:
    stat = ImageStat.Stat(im.convert("L"))
    return stat.mean[0], stat.stddev[0]


def b64_colour(rgb) -> str:
    """`color/` argument: URL-safe Base64 of #RRGGBB, unpadded as in CI's example (IzNEM0QzRA)."""
    text = "#{:02X}{:02X}{:02X}".format(*rgb)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# ---------------------------------------------------------------------------------------------
# thumbnail: every form, sizes as ImageMagick's `convert -resize`

# rule form, the ImageMagick geometry it means, convert's output size for a 640x427 source
THUMBNAILS = [
    ("!50p", "50%", (320, 214)),
    ("!150p", "150%", (960, 641)),
    ("!1p", "1%", (6, 4)),
    ("!50px", "50%x100%", (320, 427)),
    ("!x50p", "100%x50%", (640, 214)),
    ("200x", "200x", (200, 133)),
    ("333x", "333x", (333, 222)),
    ("x100", "x100", (150, 100)),
    ("x333", "x333", (499, 333)),
    ("200x100", "200x100", (150, 100)),
    ("1000x1000", "1000x1000", (1000, 667)),  # the maximum box may enlarge
    ("200x100>", "200x100>", (150, 100)),
    ("1000x1000>", "1000x1000>", (640, 427)),  # shrink only: unchanged
    ("1000x800<", "1000x800<", (1000, 667)),
    ("200x100<", "200x100<", (640, 427)),  # enlarge only: unchanged
    ("!200x100r", "200x100^", (200, 133)),
    ("!100x300r", "100x300^", (450, 300)),
    ("200x100!", "200x100!", (200, 100)),
    ("10000@", "10000@", (122, 81)),  # ImageMagick floors both sides so that w*h <= area
    ("50000@", "50000@", (273, 182)),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("form, geometry, size", THUMBNAILS, ids=[t[0] for t in THUMBNAILS])
def test_thumbnail_size(apply, mode, form, geometry, size):
    im = apply(mode, "quad.png", f"imageMogr2/thumbnail/{form}")
    assert im.size == size, f"thumbnail/{form} (convert -resize {geometry}) gave {im.size}, expected {size}"
    w, h = size
    if min(w, h) >= 20:  # scaled, not cropped, flipped or turned: each corner keeps its colour
        assert_colours(im, [((3, 3), RED), ((-4, 3), GREEN), ((3, -4), BLUE), ((-4, -4), YELLOW)],
                       what=form)


@pytest.mark.parametrize("mode", MODES)
def test_thumbnail_of_a_jpeg_stays_jpeg(apply, mode):
    im = apply(mode, "quad.jpg", "imageMogr2/thumbnail/200x", "jpg")
    assert im.size == (200, 133)
    assert_colours(im, [((5, 5), RED), ((-6, -6), YELLOW)], what="jpeg")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("colour", [None, MAGENTA], ids=["white", "magenta"])
def test_thumbnail_pad(apply, mode, colour):
    """Fit 640x427 into 200x100 (150x100), centred on a 200x100 canvas of the pad colour."""
    rule = "imageMogr2/thumbnail/200x100/pad/1" + (f"/color/{b64_colour(colour)}" if colour else "")
    im = apply(mode, "quad.png", rule)
    assert im.size == (200, 100)
    pad = colour or WHITE
    assert_colours(im, [
        ((2, 50), pad), ((22, 5), pad), ((-3, 50), pad), ((-23, -6), pad),  # 25 px bands
        ((29, 4), RED), ((-30, 4), GREEN), ((29, -5), BLUE), ((-30, -5), YELLOW),
    ], tolerance=30, what=rule)


# ---------------------------------------------------------------------------------------------
# crop, gravity, dx/dy, cut

L, R, T, B = 10, 90, 10, 90  # sample columns and rows in a 100x100 crop
GRAVITIES = {
    "northwest": [((L, T), RED), ((R, B), RED)],
    "north": [((L, 50), RED), ((R, 50), GREEN)],  # x 270..370 straddles the vertical split
    "northeast": [((L, T), GREEN), ((R, B), GREEN)],
    "west": [((50, T), RED), ((50, B), BLUE)],  # y 163..263 straddles the horizontal split
    "center": [((L, T), RED), ((R, T), GREEN), ((L, B), BLUE), ((R, B), YELLOW)],
    "east": [((50, T), GREEN), ((50, B), YELLOW)],
    "southwest": [((L, T), BLUE), ((R, B), BLUE)],
    "south": [((L, 50), BLUE), ((R, 50), YELLOW)],
    "southeast": [((L, T), YELLOW), ((R, B), YELLOW)],
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("gravity", list(GRAVITIES))
def test_crop_gravity(apply, mode, gravity):
    for rule in (f"imageMogr2/gravity/{gravity}/crop/100x100",  # CI's combined example order
                 f"imageMogr2/crop/100x100/gravity/{gravity}"):  # CI's crop page order
        im = apply(mode, "quad.png", rule)
        assert im.size == (100, 100), rule
        assert_colours(im, GRAVITIES[gravity], tolerance=0, what=rule)


CROPS = [
    # rule, output size, colours at sample points
    ("crop/200x", (200, 427), [((5, 5), RED), ((5, -5), BLUE)]),
    ("crop/x100", (640, 100), [((5, 5), RED), ((-5, 5), GREEN)]),
    ("crop/200x100", (200, 100), [((5, 5), RED), ((-5, -5), RED)]),  # no gravity: top-left
    # x 300..400, y 150..250: the splits fall at (20, 63) of the crop
    ("crop/100x100/gravity/northwest/dx/300/dy/150",
     (100, 100), [((10, 30), RED), ((50, 30), GREEN), ((10, 90), BLUE), ((50, 90), YELLOW)]),
    # offsets move inward from the anchored corner: x 240..340, y 177..277, splits at (80, 36)
    ("crop/100x100/gravity/southeast/dx/300/dy/150",
     (100, 100), [((40, 15), RED), ((90, 15), GREEN), ((40, 80), BLUE), ((90, 80), YELLOW)]),
    # center ignores dx and dy
    ("crop/100x100/gravity/center/dx/300/dy/150", (100, 100), GRAVITIES["center"]),
    # south ignores dx: x 270..370; dy 300 lifts it to y 27..127
    ("crop/100x100/gravity/south/dx/200/dy/300", (100, 100), [((L, 50), RED), ((R, 50), GREEN)]),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("rule, size, expected", CROPS, ids=[c[0] for c in CROPS])
def test_crop_forms(apply, mode, rule, size, expected):
    im = apply(mode, "quad.png", f"imageMogr2/{rule}")
    assert im.size == size, rule
    assert_colours(im, expected, tolerance=0, what=rule)


@pytest.mark.parametrize("mode", MODES)
def test_cut(apply, mode):
    """cut/w x h x dx x dy: x 300..400, y 200..300, so the splits fall at (20, 13)."""
    im = apply(mode, "quad.png", "imageMogr2/cut/100x100x300x200")
    assert im.size == (100, 100)
    assert_colours(im, [((5, 5), RED), ((50, 5), GREEN), ((5, 50), BLUE), ((50, 50), YELLOW)],
                   tolerance=0, what="cut")


@pytest.mark.parametrize("mode", MODES)
def test_crop_after_thumbnail(apply, mode):
    """Operations run in URL order: cover 256x256 (384x256), then the centre 256x256."""
    im = apply(mode, "quad.png", "imageMogr2/thumbnail/!256x256r/gravity/center/crop/256x256")
    assert im.size == (256, 256)
    assert_colours(im, [((5, 5), RED), ((-6, 5), GREEN), ((5, -6), BLUE), ((-6, -6), YELLOW)],
                   what="thumbnail then crop")


# ---------------------------------------------------------------------------------------------
# iradius, rradius: transparent outside the shape with alpha, the pad colour (white) otherwise


@pytest.mark.parametrize("mode", MODES)
def test_iradius(apply, mode):
    """The circle of radius 100 around the centre, on its 200x200 square."""
    im = apply(mode, "quad-rgba.png", "imageMogr2/iradius/100")
    assert im.size == (200, 200)
    for corner in ((1, 1), (-2, 1), (1, -2), (-2, -2)):
        assert alpha_at(im, *corner) == 0, corner
    assert alpha_at(im, 100, 100) == 255
    # The centre of the source is where its four quadrants meet.
    assert_colours(im, [((70, 70), RED), ((130, 70), GREEN), ((70, 130), BLUE), ((130, 130), YELLOW)],
                   tolerance=0, what="iradius")
    jpeg = apply(mode, "quad.jpg", "imageMogr2/iradius/100", "jpg")
    assert jpeg.size == (200, 200)
    assert_colours(jpeg, [((2, 2), WHITE), ((-3, -3), WHITE), ((70, 70), RED)], tolerance=30,
                   what="iradius jpeg")


@pytest.mark.parametrize("mode", MODES)
def test_rradius(apply, mode):
    im = apply(mode, "quad-rgba.png", "imageMogr2/rradius/60")
    assert im.size == SRC_SIZE
    for corner in ((1, 1), (-2, 1), (1, -2), (-2, -2)):
        assert alpha_at(im, *corner) == 0, corner
    # Inside the rounding and along the straight edges the picture is untouched.
    for inside in ((60, 60), (-61, -61), (320, 0), (0, 200), (320, 213)):
        assert alpha_at(im, *inside) == 255, inside
    assert_colours(im, [((60, 60), RED), ((-61, -61), YELLOW)], tolerance=0, what="rradius")
    jpeg = apply(mode, "quad.jpg", "imageMogr2/rradius/60", "jpg")
    assert jpeg.size == SRC_SIZE
    assert_colours(jpeg, [((1, 1), WHITE), ((-2, -2), WHITE), ((60, 60), RED), ((-61, -61), YELLOW)],
                   tolerance=30, what="rradius jpeg")


# ---------------------------------------------------------------------------------------------
# rotate, flip


@pytest.mark.parametrize("mode", MODES)
def test_rotate_90_is_clockwise(apply, mode):
    im = apply(mode, "quad.png", "imageMogr2/rotate/90")
    assert im.size == SRC_SIZE[::-1]
    # Clockwise: the top-left (red) corner goes to the top-right.
    assert_colours(im, [((-6, 5), RED), ((-6, -6), GREEN), ((5, 5), BLUE), ((5, -6), YELLOW)],
                   tolerance=0, what="rotate/90")


def rotated_45_samples(size):
    """Where each quadrant's centre lands after 45 degrees clockwise (y grows downwards)."""
    cx, cy = size[0] / 2, size[1] / 2
    # quadrant centres relative to the source centre (+-160, +-107) turned by +45 degrees:
    # (x, y) -> ((x - y) / sqrt 2, (x + y) / sqrt 2)
    return [((int(cx - 38), int(cy - 189)), RED), ((int(cx + 189), int(cy + 38)), GREEN),
            ((int(cx - 189), int(cy - 38)), BLUE), ((int(cx + 38), int(cy + 189)), YELLOW)]


@pytest.mark.parametrize("mode", MODES)
def test_rotate_45(apply, mode):
    """Any angle: the canvas grows to the rotated box, (640 + 427) / sqrt 2 = 754.5 px square;
    the uncovered corners are transparent in PNG and white in JPEG."""
    im = apply(mode, "quad-rgba.png", "imageMogr2/rotate/45")
    w, h = im.size
    assert abs(w - 754.5) <= 3 and abs(h - 754.5) <= 3, im.size
    for corner in ((2, 2), (-3, 2), (2, -3), (-3, -3)):
        assert alpha_at(im, *corner) == 0, corner
    assert alpha_at(im, w // 2, h // 2) == 255
    assert_colours(im, rotated_45_samples(im.size), tolerance=10, what="rotate/45")

    jpeg = apply(mode, "quad.jpg", "imageMogr2/rotate/45", "jpg")
    assert jpeg.size == im.size
    assert_colours(jpeg, [((2, 2), WHITE), ((-3, -3), WHITE)] + rotated_45_samples(jpeg.size),
                   tolerance=30, what="rotate/45 jpeg")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("axis, corners", [
    ("vertical", (BLUE, YELLOW, RED, GREEN)),  # upside down
    ("horizontal", (GREEN, RED, YELLOW, BLUE)),  # left-right mirror
])
def test_flip(apply, mode, axis, corners):
    im = apply(mode, "quad.png", f"imageMogr2/flip/{axis}")
    assert im.size == SRC_SIZE
    tl, tr, bl, br = corners
    assert_colours(im, [((5, 5), tl), ((-6, 5), tr), ((5, -6), bl), ((-6, -6), br)],
                   tolerance=0, what=f"flip/{axis}")


# ---------------------------------------------------------------------------------------------
# blur, sharpen, bright, contrast, grayscale: one pixel property each, against the source


@pytest.fixture(scope="module")
def checker_image():
    return checker()


@pytest.mark.parametrize("mode", MODES)
def test_blur_and_sharpen(apply, mode, checker_image):
    before = edge_energy(checker_image)
    blurred = apply(mode, "checker.png", "imageMogr2/blur/8x4")
    assert blurred.size == checker_image.size
    assert edge_energy(blurred) < 0.6 * before, (edge_energy(blurred), before)
    sharpened = apply(mode, "checker.png", "imageMogr2/sharpen/150")
    assert sharpened.size == checker_image.size
    assert edge_energy(sharpened) > 1.05 * before, (edge_energy(sharpened), before)
    # The mean colour stays: neither blurs nor sharpens the brightness.
    assert abs(luma_stats(blurred)[0] - luma_stats(checker_image)[0]) < 4
    assert abs(luma_stats(sharpened)[0] - luma_stats(checker_image)[0]) < 6


@pytest.mark.parametrize("mode", MODES)
def test_bright_and_contrast(apply, mode, checker_image):
    mean, spread = luma_stats(checker_image)
    brighter = luma_stats(apply(mode, "checker.png", "imageMogr2/bright/50"))
    darker = luma_stats(apply(mode, "checker.png", "imageMogr2/bright/-50"))
    assert brighter[0] > mean + 10 and darker[0] < mean - 10, (darker, mean, brighter)
    stronger = luma_stats(apply(mode, "checker.png", "imageMogr2/contrast/50"))
    weaker = luma_stats(apply(mode, "checker.png", "imageMogr2/contrast/-50"))
    assert stronger[1] > 1.1 * spread and weaker[1] < 0.9 * spread, (weaker, spread, stronger)
    unchanged = luma_stats(apply(mode, "checker.png", "imageMogr2/bright/0/contrast/0"))
    assert abs(unchanged[0] - mean) < 1 and abs(unchanged[1] - spread) < 1


@pytest.mark.parametrize("mode", MODES)
def test_grayscale(apply, mode, checker_image):
    grey = apply(mode, "checker.png", "imageMogr2/grayscale/1").convert("RGB")
    assert grey.size == checker_image.size
    r, g, b = grey.split()
    worst = max(ImageChops.difference(r, g).getextrema()[1], ImageChops.difference(g, b).getextrema()[1])
    assert worst <= 2, worst
    # The two squares keep different grey levels (a luminance conversion, not a flat fill).
    assert luma_stats(grey)[1] > 5
    colour = apply(mode, "checker.png", "imageMogr2/grayscale/0").convert("RGB")
    assert ImageChops.difference(colour, checker_image).getextrema() == ((0, 0), (0, 0), (0, 0))


# ---------------------------------------------------------------------------------------------
# size-limit, scrop


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("rule, ext, limit", [
    ("imageMogr2/size-limit/30k", "jpg", 30 * 1024),
    ("imageMogr2/strip/size-limit/30k", "jpg", 30 * 1024),
    ("imageMogr2/format/webp/size-limit/20k", "webp", 20 * 1024),
])
def test_size_limit(apply, sources, mode, rule, ext, limit):
    """The highest quality under the limit: at most the limit, and not far below it (a search
    over quality lands within a few per cent; the source is 75 kB at quality 90)."""
    _, src = sources["photo.jpg"]
    assert len(src) > 2 * limit
    im = apply(mode, "photo.jpg", rule, ext)
    assert im.size == SRC_SIZE
    assert 0.6 * limit < len(im.raw) <= limit, (len(im.raw), limit)


@pytest.mark.parametrize("mode", MODES)
def test_size_limit_bang_returns_the_smaller_original(apply, sources, mode):
    """Tripled in size, any quality under 5 MB is larger than the 640x427 source: with `!` the
    original comes back; without it, the processed image does."""
    _, src = sources["photo.jpg"]
    processed = apply(mode, "photo.jpg", "imageMogr2/thumbnail/!300p/size-limit/5m", "jpg")
    assert processed.size == (1920, 1281) and len(processed.raw) > len(src)
    original = apply(mode, "photo.jpg", "imageMogr2/thumbnail/!300p/size-limit/5m!", "jpg")
    assert original.raw == src


@pytest.mark.parametrize("mode", MODES)
def test_scrop_keeps_the_interesting_part(apply, mode):
    """No face model ships with mogr: scrop scales the image to cover 200x200 (600x200 here)
    and keeps the 200x200 window of highest interest, which must hold the busy patch (75x75
    once scaled); the centre window would be flat grey."""
    im = apply(mode, "busy.png", "imageMogr2/scrop/200x200")
    assert im.size == (200, 200)
    rgb = im.convert("RGB")
    busy = sum(1 for px in rgb.get_flattened_data() if not near(px, GREY, 30))
    assert busy >= 4000, busy


# ---------------------------------------------------------------------------------------------
# imageView2, rewritten into the same operations

VIEW2 = [
    # rule, output size for the 640x427 source (ImageMagick geometry in the comment)
    ("imageView2/1/w/200/h/100", (200, 100)),  # 200x100^ -> 200x133, centre crop 200x100
    ("imageView2/2/w/200/h/100", (150, 100)),  # 200x100
    ("imageView2/3/w/200/h/100", (200, 133)),  # 200x100^
    ("imageView2/4/w/100/h/300", (300, 200)),  # long edge >= 300, short >= 100: 300x100^
    ("imageView2/5/w/100/h/300", (300, 100)),  # mode 4, then the centre 300x100 (landscape)
    ("imageView2/1/w/200", (200, 200)),  # one side: a square
    ("imageView2/2/w/200", (200, 133)),  # 200x
    ("imageView2/2/h/200", (300, 200)),  # x200
    ("imageView2/3/w/200", (300, 200)),  # 200x200^
    ("imageView2/4/w/200", (300, 200)),  # 200x200^
    ("imageView2/5/w/200", (200, 200)),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("rule, size", VIEW2, ids=[v[0] for v in VIEW2])
def test_image_view2_modes(apply, mode, rule, size):
    im = apply(mode, "quad.png", rule)
    assert im.size == size, rule
    # No mode flips or turns: the corners keep their colours (centre crops included).
    assert_colours(im, [((3, 3), RED), ((-4, 3), GREEN), ((3, -4), BLUE), ((-4, -4), YELLOW)],
                   what=rule)


@pytest.mark.parametrize("mode", MODES)
def test_image_view2_format_without_mode(apply, mode):
    """The SDK samples' `imageView2/format/png`: a conversion, size unchanged."""
    im = apply(mode, "quad.jpg", "imageView2/format/png")
    assert im.size == SRC_SIZE
    im = apply(mode, "photo.jpg", "imageView2/2/w/200/h/100/format/webp/q/80", "webp")
    assert im.size == (150, 100)


# ---------------------------------------------------------------------------------------------
# Output settings wherever they appear, animations


@pytest.mark.parametrize("mode", MODES)
def test_output_settings_anywhere_in_the_stage(apply, mode):
    for rule in ("imageMogr2/format/webp/thumbnail/100x", "imageMogr2/thumbnail/100x/format/webp"):
        im = apply(mode, "quad.png", rule, "webp")
        assert im.size == (100, 67), rule


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("source, ext", [("anim.gif", "gif"), ("anim.webp", "webp")])
@pytest.mark.parametrize("rule, size", [
    ("imageMogr2/thumbnail/!50p", (60, 40)),
    ("imageMogr2/thumbnail/90x", (90, 60)),
    ("imageMogr2/crop/60x40/gravity/center", (60, 40)),
])
def test_animation_keeps_every_frame(apply, mode, source, ext, rule, size):
    im = apply(mode, source, rule, ext)
    assert (im.size, frame_count(im)) == (size, GIF_FRAMES), rule
    delays = frame_delays(im.raw)
    assert sum(delays) == GIF_FRAMES * GIF_DELAY_MS, delays
    # Different moments of the clip, not one frame repeated.
    firsts = set()
    for i in range(GIF_FRAMES):
        im.seek(i)
        firsts.add(im.convert("RGB").getpixel((0, size[1] - 1)))
    assert len(firsts) > GIF_FRAMES // 2, firsts


# ---------------------------------------------------------------------------------------------
# Errors: 400 InvalidArgument naming the token; limits; ignore-error

BAD_RULES = [
    # rule, a token the message must name
    ("imageMogr2/thumbnail/0x100", "0x100"),
    ("imageMogr2/thumbnail/abc", "abc"),
    ("imageMogr2/thumbnail/!0p", "!0p"),
    ("imageMogr2/thumbnail/200x100/pad/1/color/bm90LWEtY29sb3I", "bm90LWEtY29sb3I"),
    ("imageMogr2/pad/1", "pad"),
    ("imageMogr2/crop/0x100", "0x100"),
    ("imageMogr2/crop/100x100/gravity/middle", "middle"),
    ("imageMogr2/gravity/center", "gravity"),
    ("imageMogr2/cut/100x100x700x0", "cut"),  # starts right of the 640 px image
    ("imageMogr2/crop/100x100/dx/700", "crop"),
    ("imageMogr2/rotate/361", "361"),
    ("imageMogr2/rotate/abc", "abc"),
    ("imageMogr2/flip/diagonal", "diagonal"),
    ("imageMogr2/blur/0x2", "0x2"),
    ("imageMogr2/blur/51x2", "51x2"),
    ("imageMogr2/sharpen/5", "5"),
    ("imageMogr2/bright/101", "101"),
    ("imageMogr2/contrast/-101", "-101"),
    ("imageMogr2/grayscale/2", "2"),
    ("imageMogr2/size-limit/10x", "10x"),
    ("imageMogr2/size-limit/0k", "0k"),
    ("imageMogr2/scrop/0x10", "0x10"),
    ("imageMogr2/iradius/0", "0"),
    ("imageMogr2/iradius/300", "iradius"),  # not below half the shorter side (427 / 2)
    ("imageView2/6/w/100", "6"),
    ("imageView2/1/w/0", "0"),
]


@pytest.mark.parametrize("rule, token", BAD_RULES, ids=[b[0] for b in BAD_RULES])
def test_bad_arguments_are_invalid_argument(client, bucket, sources, tmp_path, rule, token):
    err = expect_error(lambda: run(client, bucket, sources, tmp_path, "get", "quad.png", rule, "png"),
                       400, "InvalidArgument")
    assert token in err.get_error_msg(), err.get_origin_msg()


@pytest.mark.parametrize("mode", ["put", "process"])
def test_bad_arguments_in_pic_operations(client, bucket, sources, tmp_path, mode):
    for rule, token in (("imageMogr2/crop/100x100/gravity/middle", "middle"),
                        ("imageMogr2/thumbnail/0x100", "0x100")):
        err = expect_error(lambda: run(client, bucket, sources, tmp_path, mode, "quad.png", rule, "png"),
                           400, "InvalidArgument")
        assert token in err.get_error_msg(), err.get_origin_msg()


def test_bad_argument_on_a_presigned_url(client, bucket, sources, tmp_path):
    with pytest.raises(RuleFailed) as info:
        run(client, bucket, sources, tmp_path, "presigned", "quad.png", "imageMogr2/rotate/361", "png")
    text = str(info.value)
    assert text.startswith("400") and "<Code>InvalidArgument</Code>" in text and "361" in text, text


def test_output_over_the_limits(client, bucket, sources, tmp_path):
    """2000x1600 at 1000 % is 320 Mpx, over the 250 Mpx limit: refused from the sizes alone
    (nothing that large is allocated), unless ignore-error/1 asks for the original."""
    key, src = sources["big.png"]
    expect_error(lambda: run(client, bucket, sources, tmp_path, "get", "big.png",
                             "imageMogr2/thumbnail/!1000p", "png"), 400, "ImageResolutionExceed")
    dest = tmp_path / "original.out"
    headers = client.ci_get_object(Bucket=bucket, Key=key, DestImagePath=str(dest),
                                   Rule="imageMogr2/thumbnail/!1000p/ignore-error/1")
    assert dest.read_bytes() == src
    assert headers["Content-Type"] in MIME["png"]
    # A syntax error stays an error, ignore-error or not.
    expect_error(lambda: run(client, bucket, sources, tmp_path, "get", "big.png",
                             "imageMogr2/thumbnail/0x0/ignore-error/1", "png"), 400, "InvalidArgument")

