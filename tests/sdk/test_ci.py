"""Cloud Infinite image processing through the official SDK: the three modes
(download with a rule, upload with Pic-Operations, in-cloud `image_process`), imageInfo,
imageAve, exif and presigned URLs carrying a rule. Outputs are checked by decoding them with
Pillow, or for HEIF by reading the ISOBMFF container.

This release executes `format`, `cgif`, `interlace`, `quality`/`rquality`/`lquality`, `strip`,
`auto-orient` and `ignore-error/1` (plus imageInfo, imageAve and exif); the other documented
operations (thumbnail, crop, rotate, ...) must be refused with 400 "unsupported operation",
never silently skipped.

Runs by default; MOGR_CI_TESTS=0 turns it off.
"""

import io
import json
import os
import re

import pytest
import requests
from PIL import Image, ImageChops, ImageOps, ImageStat
from qcloud_cos.cos_exception import CosServiceError

import isobmff
from conftest import corpus_file, md5_hex, quoted_md5, read_body, vhost

if os.environ.get("MOGR_CI_TESTS", "1") == "0":
    pytest.skip("image processing tests are off (MOGR_CI_TESTS=0)", allow_module_level=True)

JPEG_SIZE = (640, 427)
JPEG_QUALITY = 90  # what gradient_jpeg is saved with; the engine reads it back from the tables
GIF_FRAMES, GIF_DELAY_MS = 10, 100
ORIENTED_SIZE = (160, 90)  # stored size of oriented_jpeg; EXIF orientation 6 shows it as 90x160
EXIF_MAKE = "mogr-test"
ORIENTATION_TAG, MAKE_TAG = 0x0112, 0x010F
SOLID_RGB = (0x12, 0x34, 0x56)


# ---------------------------------------------------------------------------------------------
# Inputs made here with Pillow


def gradient_jpeg() -> bytes:
    """A colour gradient with some texture (so quality changes show in the byte size)."""
    w, h = JPEG_SIZE
    im = Image.new("RGB", JPEG_SIZE)
    im.putdata([
        (x * 255 // w, y * 255 // h, ((x + y) * 255 // (w + h) + (x * y) % 23 * 4) % 256)
        for y in range(h) for x in range(w)
    ])
    out = io.BytesIO()
    im.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def rgba_png() -> bytes:
    """Alpha 0 on the top row rising to 255 on the bottom row."""
    w, h = 300, 200
    im = Image.new("RGBA", (w, h))
    im.putdata([(200, x * 255 // w, 60, y * 255 // (h - 1)) for y in range(h) for x in range(w)])
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def animated_gif(frames=GIF_FRAMES, size=(120, 80), delay=GIF_DELAY_MS) -> bytes:
    """A square moving right over a changing background; every frame differs."""
    ims = []
    for i in range(frames):
        im = Image.new("RGB", size, (i * 20 % 256, (255 - i * 20) % 256, i // 12 * 40 % 256))
        im.paste((255, 255, 255), (10 * i % size[0], 10, 10 * i % size[0] + 20, 30))
        ims.append(im)
    out = io.BytesIO()
    ims[0].save(out, "GIF", save_all=True, append_images=ims[1:], duration=delay, loop=0)
    return out.getvalue()


def oriented_jpeg() -> bytes:
    """Left half red, right half blue, stored 160x90 with EXIF Orientation 6 (rotate 90 CW)."""
    im = Image.new("RGB", ORIENTED_SIZE, (220, 30, 30))
    im.paste((30, 30, 220), (80, 0, 160, 90))
    exif = Image.Exif()
    exif[ORIENTATION_TAG] = 6
    exif[MAKE_TAG] = EXIF_MAKE
    out = io.BytesIO()
    im.save(out, "JPEG", quality=JPEG_QUALITY, exif=exif)
    return out.getvalue()


def solid_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), SOLID_RGB).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def sources(client, bucket):
    """Uploads the generated images once; returns {name: (key, bytes)}."""
    made = {
        "jpeg": ("ci/src/photo.jpg", gradient_jpeg()),
        "png": ("ci/src/alpha.png", rgba_png()),
        "gif": ("ci/src/anim.gif", animated_gif()),
        "oriented": ("ci/src/oriented.jpg", oriented_jpeg()),
        "solid": ("ci/src/solid.png", solid_png()),
        "text": ("ci/src/notes.txt", b"this is not an image\n" * 10),
    }
    for key, data in made.values():
        client.put_object(Bucket=bucket, Key=key, Body=data)
    return made


# ---------------------------------------------------------------------------------------------
# Checks


def decode(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def frame_count(im: Image.Image) -> int:
    return getattr(im, "n_frames", 1)


def frame_delays(data: bytes) -> list:
    im = Image.open(io.BytesIO(data))
    delays = []
    for i in range(frame_count(im)):
        im.seek(i)
        im.load()  # WebP only knows a frame's duration once the frame is decoded
        delays.append(im.info.get("duration"))
    return delays


def is_progressive(im: Image.Image) -> bool:
    return bool(im.info.get("progressive") or im.info.get("progression"))


def pillow_quantization(quality: int) -> dict:
    """The quantisation tables libjpeg (through Pillow) writes at `quality`."""
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (128, 64, 32)).save(out, "JPEG", quality=quality)
    return decode(out.getvalue()).quantization


def picture_distance(a: Image.Image, b: Image.Image) -> float:
    """Mean grey-level difference of two pictures scaled to the same small size (0..255)."""
    size = (64, 64)
    a = a.convert("L").resize(size, Image.Resampling.BOX)
    b = b.convert("L").resize(size, Image.Resampling.BOX)
    return ImageStat.Stat(ImageChops.difference(a, b)).mean[0]


CONTAINER_FORMATS = {"heif", "heic", "avif"}
PILLOW_FORMAT = {"jpg": "JPEG", "yjpeg": "JPEG", "png": "PNG", "webp": "WEBP", "gif": "GIF", "bmp": "BMP"}


def check_output(data: bytes, fmt: str, size=None, progressive=None):
    """Asserts what a user would check on a produced image; returns (width, height)."""
    if fmt in CONTAINER_FORMATS:
        box = isobmff.summarize(data)
        brands = [box.major_brand] + box.compatible_brands
        assert ("avif" if fmt == "avif" else "heic") in brands, brands
        got = box.primary_size
        if fmt == "avif":  # Pillow 13 decodes AVIF: the pixels must be real, not only the box
            assert decode(data).size == got
    else:
        im = decode(data)
        assert im.format == PILLOW_FORMAT[fmt]
        got = im.size
        if progressive is not None:
            assert is_progressive(im) is progressive, im.info
    if size is not None:
        assert tuple(got) == tuple(size), f"{fmt} is {got}, expected {size}"
    return got


MIME = {
    "jpg": {"image/jpeg"},
    "yjpeg": {"image/jpeg"},
    "png": {"image/png"},
    "bmp": {"image/bmp"},
    "webp": {"image/webp"},
    "gif": {"image/gif"},
    "avif": {"image/avif"},
    "heif": {"image/heif", "image/heic"},
    "heic": {"image/heic", "image/heif"},
}


def as_list(value):
    """xml_to_dict gives a dict for one <Object> and a list for several."""
    return value if isinstance(value, list) else [value]


def ci_get(client, bucket, key, rule, tmp_path):
    """ci_get_object into a file; returns (headers, bytes)."""
    dest = tmp_path / "ci-get.out"
    headers = client.ci_get_object(Bucket=bucket, Key=key, DestImagePath=str(dest), Rule=rule)
    return headers, dest.read_bytes()


def expect_error(call, status, code):
    """Runs an SDK call that must fail; checks status and code; returns the exception."""
    with pytest.raises(CosServiceError) as info:
        call()
    err = info.value
    got = (err.get_status_code(), err.get_error_code())
    assert got == (status, code), f"{got}: {err.get_origin_msg()!r}"
    return err


def upload_corpus(client, bucket, name) -> str:
    key = f"ci/corpus/{name}"
    if not client.object_exists(Bucket=bucket, Key=key):
        with open(corpus_file(name), "rb") as fp:
            client.put_object(Bucket=bucket, Key=key, Body=fp)
    return key


# ---------------------------------------------------------------------------------------------
# Upload with Pic-Operations


def test_ci_put_object_upload_result(client, bucket, tmp_path):
    src = gradient_jpeg()
    key = "ci/up/photo.jpg"
    rules = [
        ("out/photo.png", "imageMogr2/format/png", "png", None),
        ("out/photo.webp", "imageMogr2/format/webp", "webp", None),
        ("/ci-abs/photo-progressive.jpg", "imageMogr2/format/jpg/interlace/1", "jpg", True),
        ("out/photo.heif", "imageMogr2/format/heif", "heif", None),
        ("out/photo.avif", "imageMogr2/format/avif", "avif", None),
    ]
    ops = {"is_pic_info": 1, "rules": [{"fileid": f, "rule": r} for f, r, _, _ in rules]}
    headers, result = client.ci_put_object(Bucket=bucket, Body=src, Key=key, PicOperations=json.dumps(ops))

    # The header ETag stays the original's MD5 (Java/C++ SDKs compare it with the local MD5).
    assert headers["ETag"] == quoted_md5(src)
    assert read_body(client.get_object(Bucket=bucket, Key=key)) == src

    original = result["OriginalInfo"]
    assert original["Key"] == key
    assert original["Location"].endswith("/" + key)
    assert original["ETag"] == quoted_md5(src)
    info = original["ImageInfo"]
    assert info["Format"].lower() in ("jpeg", "jpg")
    assert (int(info["Width"]), int(info["Height"])) == JPEG_SIZE
    assert int(info["Quality"]) == JPEG_QUALITY
    assert re.fullmatch(r"0x[0-9a-fA-F]{6}", info["Ave"]), info["Ave"]
    assert int(info["Orientation"]) in (0, 1)  # none in the file

    objects = as_list(result["ProcessResults"]["Object"])
    expected_keys = ["ci/up/out/photo.png", "ci/up/out/photo.webp", "ci-abs/photo-progressive.jpg",
                     "ci/up/out/photo.heif", "ci/up/out/photo.avif"]
    assert [o["Key"] for o in objects] == expected_keys
    for obj, (_, _, fmt, progressive) in zip(objects, rules):
        head = client.head_object(Bucket=bucket, Key=obj["Key"])
        assert obj["Size"] == head["Content-Length"]
        assert obj["ETag"] == head["ETag"]
        assert obj["Location"].endswith("/" + obj["Key"])
        assert obj["Format"].lower() in ({fmt, "jpeg"} if fmt == "jpg" else {fmt, "heic"} if fmt == "heif" else {fmt})
        assert (int(obj["Width"]), int(obj["Height"])) == JPEG_SIZE
        stored = read_body(client.get_object(Bucket=bucket, Key=obj["Key"]))
        assert len(stored) == int(obj["Size"])
        assert check_output(stored, fmt, JPEG_SIZE, progressive) == JPEG_SIZE
        assert head["Content-Type"] in MIME[fmt]


def test_ci_put_object_without_pic_info(client, bucket):
    ops = {"is_pic_info": 0, "rules": [{"fileid": "p.png", "rule": "imageMogr2/format/png"}]}
    _, result = client.ci_put_object(Bucket=bucket, Body=gradient_jpeg(), Key="ci/noinfo/p.jpg",
                                     PicOperations=json.dumps(ops))
    assert "ImageInfo" not in (result.get("OriginalInfo") or {})
    obj = as_list(result["ProcessResults"]["Object"])[0]
    assert obj["Key"] == "ci/noinfo/p.png"
    assert (obj["Width"], obj["Height"]) == ("640", "427")
    stored = read_body(client.get_object(Bucket=bucket, Key=obj["Key"]))
    assert check_output(stored, "png") == JPEG_SIZE


def test_ci_put_object_orientation_and_metadata(client, bucket):
    """UploadResult reports what was stored: the upright size after auto-orient, the quality a
    quality rule set, and strip really drops EXIF."""
    src = oriented_jpeg()
    ops = {"is_pic_info": 1, "rules": [
        {"fileid": "upright.jpg", "rule": "imageMogr2/auto-orient"},
        {"fileid": "stripped.jpg", "rule": "imageMogr2/strip"},
        {"fileid": "q40.jpg", "rule": "imageMogr2/quality/40"},
    ]}
    _, result = client.ci_put_object(Bucket=bucket, Body=src, Key="ci/orient/o.jpg",
                                     PicOperations=json.dumps(ops))
    info = result["OriginalInfo"]["ImageInfo"]
    assert int(info["Orientation"]) == 6
    assert (int(info["Width"]), int(info["Height"])) == ORIENTED_SIZE

    upright, stripped, q40 = as_list(result["ProcessResults"]["Object"])
    stored = {o["Key"]: decode(read_body(client.get_object(Bucket=bucket, Key=o["Key"])))
              for o in (upright, stripped, q40)}
    for obj in (upright, stripped, q40):
        assert (int(obj["Width"]), int(obj["Height"])) == stored[obj["Key"]].size
    assert stored[upright["Key"]].size == ORIENTED_SIZE[::-1]
    assert stored[upright["Key"]].getexif().get(ORIENTATION_TAG, 1) == 1  # no second rotation
    assert stored[stripped["Key"]].size == ORIENTED_SIZE
    assert not stored[stripped["Key"]].getexif() and "exif" not in stored[stripped["Key"]].info
    assert int(q40["Quality"]) == 40
    assert stored[q40["Key"]].quantization == pillow_quantization(40)
    assert stored[q40["Key"]].getexif().get(MAKE_TAG) == EXIF_MAKE  # kept unless stripped


def test_ci_put_object_frame_counts(client, bucket):
    src = animated_gif()
    ops = {"is_pic_info": 1, "rules": [
        {"fileid": "anim-5.gif", "rule": "imageMogr2/cgif/5"},
        {"fileid": "anim.webp", "rule": "imageMogr2/format/webp"},
    ]}
    _, result = client.ci_put_object(Bucket=bucket, Body=src, Key="ci/frames/anim.gif",
                                     PicOperations=json.dumps(ops))
    assert result["OriginalInfo"]["ImageInfo"].get("FrameCount", str(GIF_FRAMES)) == str(GIF_FRAMES)
    five, webp = as_list(result["ProcessResults"]["Object"])
    for obj, frames in ((five, 5), (webp, GIF_FRAMES)):
        im = decode(read_body(client.get_object(Bucket=bucket, Key=obj["Key"])))
        assert frame_count(im) == frames
        assert obj["FrameCount"] == str(frames)
        assert (int(obj["Width"]), int(obj["Height"])) == im.size == (120, 80)


def test_put_object_with_pic_operations(client, bucket):
    """put_object(PicOperations=...) discards the UploadResult; the outputs must still exist."""
    src = animated_gif()
    ops = {"rules": [
        {"fileid": "anim-first.png", "rule": "imageMogr2/format/png"},
        {"fileid": "anim.webp", "rule": "imageMogr2/format/webp"},
        {"fileid": "anim-5.gif", "rule": "imageMogr2/cgif/5"},
    ]}
    headers = client.put_object(Bucket=bucket, Body=src, Key="ci/put/anim.gif", PicOperations=json.dumps(ops))
    assert headers["ETag"] == quoted_md5(src)

    first = decode(read_body(client.get_object(Bucket=bucket, Key="ci/put/anim-first.png")))
    assert (first.format, first.size, frame_count(first)) == ("PNG", (120, 80), 1)

    webp_bytes = read_body(client.get_object(Bucket=bucket, Key="ci/put/anim.webp"))
    webp = decode(webp_bytes)
    assert webp.format == "WEBP" and frame_count(webp) == GIF_FRAMES
    assert frame_delays(webp_bytes) == [GIF_DELAY_MS] * GIF_FRAMES

    five_bytes = read_body(client.get_object(Bucket=bucket, Key="ci/put/anim-5.gif"))
    five = decode(five_bytes)
    assert five.format == "GIF" and frame_count(five) == 5
    assert sum(frame_delays(five_bytes)) == GIF_FRAMES * GIF_DELAY_MS  # same running time


def test_pic_operations_errors(client, bucket):
    def put(ops):
        return client.ci_put_object(Bucket=bucket, Body=gradient_jpeg(), Key="ci/bad/p.jpg", PicOperations=ops)

    for bad in ("not json", json.dumps({"rules": [{"rule": "imageMogr2/format/png"}]}),
                json.dumps({"rules": [{"fileid": f"{i}.png", "rule": "imageMogr2/format/png"} for i in range(6)]})):
        with pytest.raises(CosServiceError) as info:
            put(bad)
        assert info.value.get_status_code() == 400, bad
        assert info.value.get_error_code() in ("InvalidPicOperations", "InvalidArgument"), bad


# ---------------------------------------------------------------------------------------------
# In-cloud processing


def test_ci_image_process(client, bucket, sources):
    key, src = sources["jpeg"]
    ops = {"is_pic_info": 1, "rules": [{"fileid": "thumbs/q40.jpg", "rule": "imageMogr2/quality/40"}]}
    _, result = client.ci_image_process(Bucket=bucket, Key=key, PicOperations=json.dumps(ops))
    obj = as_list(result["ProcessResults"]["Object"])[0]
    assert obj["Key"] == "ci/src/thumbs/q40.jpg"
    assert (int(obj["Width"]), int(obj["Height"])) == JPEG_SIZE
    assert int(obj["Quality"]) == 40
    stored = read_body(client.get_object(Bucket=bucket, Key=obj["Key"]))
    assert len(stored) == int(obj["Size"])
    assert check_output(stored, "jpg") == JPEG_SIZE
    assert decode(stored).quantization == pillow_quantization(40)
    assert read_body(client.get_object(Bucket=bucket, Key=key)) == src


def test_ci_image_process_missing_source(client, bucket):
    ops = {"rules": [{"fileid": "x.png", "rule": "imageMogr2/format/png"}]}
    with pytest.raises(CosServiceError) as info:
        client.ci_image_process(Bucket=bucket, Key="ci/none/missing.jpg", PicOperations=json.dumps(ops))
    assert (info.value.get_status_code(), info.value.get_error_code()) == (404, "NoSuchKey")


# ---------------------------------------------------------------------------------------------
# Download with a rule


@pytest.mark.parametrize(
    "rule, fmt, progressive",
    [
        ("imageMogr2/format/png", "png", None),
        ("imageMogr2/format/webp", "webp", None),
        ("imageMogr2/format/bmp", "bmp", None),
        ("imageMogr2/format/gif", "gif", None),
        ("imageMogr2/format/jpeg", "jpg", False),
        ("imageMogr2/format/yjpeg", "yjpeg", None),
        ("imageMogr2/format/jpg/interlace/1", "jpg", True),
        ("imageMogr2/interlace/1", "jpg", True),  # no format: the source's (jpg) is kept
        ("imageMogr2/interlace/1/format/jpg/interlace/0", "jpg", False),  # the last one wins
        ("imageMogr2/strip/format/png/", "png", None),  # trailing slash, as in the JS demos
        ("imageMogr2/format/png|imageMogr2/format/webp", "webp", None),  # a pipe: last stage's format
        ("imageMogr2/format/avif", "avif", None),
        ("imageMogr2/format/heif", "heif", None),
        ("imageMogr2/format/heic", "heic", None),
    ],
)
def test_ci_get_object(client, bucket, sources, tmp_path, rule, fmt, progressive):
    key, src = sources["jpeg"]
    headers, data = ci_get(client, bucket, key, rule, tmp_path)
    check_output(data, fmt, JPEG_SIZE, progressive)
    assert headers["Content-Type"] in MIME[fmt]
    # Never the source's MD5 as ETag for processed bytes (docs/cos-protocol.md).
    assert headers.get("ETag") != quoted_md5(src)
    assert read_body(client.get_object(Bucket=bucket, Key=key)) == src


@pytest.mark.parametrize(
    "rule, quality",
    [
        ("imageMogr2/format/jpg", JPEG_QUALITY),  # no quality rule: the source's is kept
        ("imageMogr2/quality/30", 30),
        ("imageMogr2/quality/95", JPEG_QUALITY),  # min(source, q)
        ("imageMogr2/quality/95!", 95),  # forced
        ("imageMogr2/rquality/50", JPEG_QUALITY // 2),  # source x 50 %
        ("imageMogr2/lquality/95", 95),  # max(source, q)
        ("imageMogr2/lquality/50", JPEG_QUALITY),
        ("imageMogr2/format/png|imageMogr2/format/jpg/quality/60!", 60),
    ],
)
def test_quality_rules_set_the_jpeg_tables(client, bucket, sources, tmp_path, rule, quality):
    """The quality a rule asks for is the one in the output's quantisation tables."""
    key, _ = sources["jpeg"]
    _, data = ci_get(client, bucket, key, rule, tmp_path)
    im = decode(data)
    assert (im.format, im.size) == ("JPEG", JPEG_SIZE)
    assert im.quantization == pillow_quantization(quality)


def test_lower_quality_gives_smaller_files(client, bucket, sources, tmp_path):
    key, _ = sources["jpeg"]
    sizes = {}
    for rule in ("imageMogr2/quality/30", "imageMogr2/quality/90!",
                 "imageMogr2/format/webp/quality/20!", "imageMogr2/format/webp/quality/95!"):
        _, data = ci_get(client, bucket, key, rule, tmp_path)
        sizes[rule] = len(data)
    assert sizes["imageMogr2/quality/30"] < 0.6 * sizes["imageMogr2/quality/90!"], sizes
    assert sizes["imageMogr2/format/webp/quality/20!"] < 0.6 * sizes["imageMogr2/format/webp/quality/95!"], sizes


@pytest.mark.parametrize("compress", ["avif", "heif", "webp"])
def test_ci_download_compress_image(client, bucket, sources, tmp_path, compress):
    key, _ = sources["jpeg"]
    dest = tmp_path / f"compressed.{compress}"
    headers = client.ci_download_compress_image(Bucket=bucket, Key=key, DestImagePath=str(dest),
                                                CompressType=compress)
    check_output(dest.read_bytes(), compress, JPEG_SIZE)
    assert headers["Content-Type"] in MIME[compress]


def test_auto_orient(client, bucket, sources, tmp_path):
    key, _ = sources["oriented"]
    _, data = ci_get(client, bucket, key, "imageMogr2/auto-orient", tmp_path)
    out = decode(data)
    assert (out.format, out.size) == ("JPEG", ORIENTED_SIZE[::-1])
    im = out.convert("RGB")
    # Rotated 90 degrees clockwise: the stored left half (red) is now on top.
    top, bottom = im.getpixel((45, 20)), im.getpixel((45, 140))
    assert top[0] > 150 and top[2] < 100, top
    assert bottom[2] > 150 and bottom[0] < 100, bottom
    assert out.getexif().get(ORIENTATION_TAG, 1) == 1
    # Without auto-orient the pixels stay as stored and the orientation tag travels on.
    _, data = ci_get(client, bucket, key, "imageMogr2/format/jpg", tmp_path)
    im = decode(data)
    assert im.size == ORIENTED_SIZE
    assert im.getexif().get(ORIENTATION_TAG) == 6


def test_strip_removes_exif(client, bucket, sources, tmp_path):
    key, _ = sources["oriented"]
    _, data = ci_get(client, bucket, key, "imageMogr2/quality/80", tmp_path)
    assert decode(data).getexif().get(MAKE_TAG) == EXIF_MAKE  # kept when not stripped
    for rule in ("imageMogr2/strip", "imageMogr2/strip/format/webp", "imageMogr2/quality/80/strip"):
        _, data = ci_get(client, bucket, key, rule, tmp_path)
        im = decode(data)
        assert "exif" not in im.info and not im.getexif(), (rule, dict(im.getexif()))
        assert im.size == ORIENTED_SIZE


def test_alpha_kept_where_the_format_has_it(client, bucket, sources, tmp_path):
    key, src = sources["png"]
    src_alpha = decode(src).getchannel("A")
    for rule, fmt, tolerance in (("imageMogr2/strip", "PNG", 0), ("imageMogr2/format/webp", "WEBP", 16),
                                 ("imageMogr2/format/avif", "AVIF", 16), ("imageMogr2/format/gif", "GIF", None)):
        _, data = ci_get(client, bucket, key, rule, tmp_path)
        im = decode(data)
        assert (im.format, im.size) == (fmt, (300, 200)), rule
        alpha = im.convert("RGBA").getchannel("A")
        if tolerance is None:  # GIF: one transparent palette entry; alpha below 128 is a hole
            assert alpha.getpixel((150, 0)) == 0 and alpha.getpixel((150, 199)) == 255, rule
        else:
            worst = ImageChops.difference(alpha, src_alpha).getextrema()[1]
            assert worst <= tolerance, (rule, worst)
    _, data = ci_get(client, bucket, key, "imageMogr2/format/jpg", tmp_path)
    im = decode(data)
    assert (im.format, im.mode, im.size) == ("JPEG", "RGB", (300, 200))


def test_animated_gif_on_download(client, bucket, sources, tmp_path):
    key, _ = sources["gif"]
    _, data = ci_get(client, bucket, key, "imageMogr2/strip", tmp_path)
    im = decode(data)
    assert (im.format, im.size, frame_count(im)) == ("GIF", (120, 80), GIF_FRAMES)
    assert frame_delays(data) == [GIF_DELAY_MS] * GIF_FRAMES

    _, data = ci_get(client, bucket, key, "imageMogr2/format/webp", tmp_path)
    im = decode(data)
    assert (im.format, frame_count(im)) == ("WEBP", GIF_FRAMES)

    _, data = ci_get(client, bucket, key, "imageMogr2/cgif/4", tmp_path)
    im = decode(data)
    assert (im.format, im.size, frame_count(im)) == ("GIF", (120, 80), 4)
    assert sum(frame_delays(data)) == GIF_FRAMES * GIF_DELAY_MS
    # The kept frames are different moments of the clip, not one frame repeated.
    firsts = []
    for i in range(4):
        im.seek(i)
        firsts.append(im.convert("RGB").getpixel((0, 79)))
    assert len(set(firsts)) == 4, firsts

    _, data = ci_get(client, bucket, key, "imageMogr2/cgif/20", tmp_path)  # fewer frames than n
    assert frame_count(decode(data)) == GIF_FRAMES

    _, data = ci_get(client, bucket, key, "imageMogr2/format/png", tmp_path)
    im = decode(data)
    assert (im.format, im.size, frame_count(im)) == ("PNG", (120, 80), 1)


def test_ignore_error_returns_the_original_on_a_limit(client, bucket, tmp_path):
    """301 frames is over CI's 300-frame limit: an error, unless ignore-error/1 asks for the
    original back."""
    src = animated_gif(frames=301, size=(8, 8), delay=20)
    assert frame_count(decode(src)) == 301
    key = "ci/limits/301.gif"
    client.put_object(Bucket=bucket, Key=key, Body=src)
    expect_error(lambda: ci_get(client, bucket, key, "imageMogr2/format/png", tmp_path),
                 400, "ImageResolutionExceed")
    headers, data = ci_get(client, bucket, key, "imageMogr2/ignore-error/1/format/png", tmp_path)
    assert data == src
    assert headers["Content-Type"] == "image/gif"


def test_rule_errors(client, bucket, sources, tmp_path):
    key, _ = sources["jpeg"]
    for rule in ("imageMogr2/quality/abc", "imageMogr2/cgif/0", "imageMogr2/interlace/2",
                 "imageMogr2/format/xyz", "imageMogr2/format"):
        expect_error(lambda: ci_get(client, bucket, key, rule, tmp_path), 400, "InvalidArgument")
    text_key, _ = sources["text"]
    expect_error(lambda: ci_get(client, bucket, text_key, "imageMogr2/format/png", tmp_path),
                 400, "InvalidImageFormat")
    expect_error(lambda: ci_get(client, bucket, "ci/src/missing.jpg", "imageMogr2/format/png", tmp_path),
                 404, "NoSuchKey")


@pytest.mark.parametrize("rule", [
    "imageMogr2/rcrop/1x2",
    "imageMogr2/format/png/rcrop/1x2",  # after an executed op: still refused, not skipped
])
def test_operations_mogr_does_not_execute_are_refused(client, bucket, sources, tmp_path, rule):
    key, _ = sources["jpeg"]
    err = expect_error(lambda: ci_get(client, bucket, key, rule, tmp_path), 400, "InvalidArgument")
    assert "unsupported operation" in err.get_error_msg(), err.get_origin_msg()


def test_tpg_is_refused_with_the_open_alternatives(client, bucket, sources, tmp_path):
    key, _ = sources["jpeg"]
    calls = [
        lambda: ci_get(client, bucket, key, "imageMogr2/format/tpg", tmp_path),
        lambda: client.ci_download_compress_image(Bucket=bucket, Key=key, CompressType="tpg",
                                                  DestImagePath=str(tmp_path / "c.tpg")),
    ]
    for call in calls:
        err = expect_error(call, 400, "InvalidArgument")
        msg = err.get_error_msg().lower()
        assert "avif" in msg and "heif" in msg, err.get_origin_msg()


# ---------------------------------------------------------------------------------------------
# imageInfo, imageAve, exif


def test_ci_get_image_info(client, bucket, sources):
    key, src = sources["jpeg"]
    _, raw = client.ci_get_image_info(Bucket=bucket, Key=key)
    info = json.loads(raw)
    assert info["format"] in ("jpg", "jpeg")
    assert (info["width"], info["height"]) == ("640", "427")  # CI gives every value as a string
    assert info["size"] == str(len(src))
    assert info["md5"] == md5_hex(src)
    key, _ = sources["gif"]
    _, raw = client.ci_get_image_info(Bucket=bucket, Key=key)
    info = json.loads(raw)
    assert (info["format"], info["width"], info["height"]) == ("gif", "120", "80")
    assert info.get("frame_count", str(GIF_FRAMES)) == str(GIF_FRAMES)


def test_ci_get_image_ave_info(client, bucket, sources):
    key, _ = sources["solid"]
    _, raw = client.ci_get_image_ave_info(Bucket=bucket, Key=key)
    rgb = json.loads(raw)["RGB"]
    assert re.fullmatch(r"0x[0-9a-fA-F]{6}", rgb), rgb
    assert int(rgb, 16) == (SOLID_RGB[0] << 16) | (SOLID_RGB[1] << 8) | SOLID_RGB[2]


def test_ci_get_image_exif_info(client, bucket, sources, tmp_path):
    key, _ = sources["oriented"]
    _, raw = client.ci_get_image_exif_info(Bucket=bucket, Key=key)
    tags = json.loads(raw)
    assert tags["Make"]["val"] == EXIF_MAKE, tags
    assert "Orientation" in tags, tags
    # Piped after strip, exif sees nothing; a file without EXIF answers CI's "no exif data".
    _, data = ci_get(client, bucket, key, "imageMogr2/strip|exif", tmp_path)
    assert json.loads(data) == {"error": "no exif data"}
    key, _ = sources["solid"]
    _, raw = client.ci_get_image_exif_info(Bucket=bucket, Key=key)
    assert json.loads(raw) == {"error": "no exif data"}


# ---------------------------------------------------------------------------------------------
# Presigned URLs with a rule


def test_presigned_url_with_signed_rule(client, bucket, sources):
    """`!` is %21 in the signed parameter list: a mismatch there is a 403, not a processed image."""
    key, _ = sources["jpeg"]
    host = vhost(client, bucket)
    url = client.get_presigned_url(Bucket=bucket, Key=key, Method="GET", Headers={"Host": host},
                                   Params={"imageMogr2/format/jpg/quality/95!/interlace/1": ""})
    r = requests.get(url, headers={"Host": host}, timeout=120)
    assert r.status_code == 200, r.text
    check_output(r.content, "jpg", JPEG_SIZE, progressive=True)
    assert decode(r.content).quantization == pillow_quantization(95)
    assert r.headers["Content-Type"] == "image/jpeg"


def test_presigned_url_with_unsigned_rule_appended(client, bucket, sources):
    """The docs' form: a signed URL with `&imageMogr2/...` appended raw (not in the param list)."""
    key, _ = sources["jpeg"]
    host = vhost(client, bucket)
    url = client.get_presigned_url(Bucket=bucket, Key=key, Method="GET", Headers={"Host": host})
    r = requests.get(url + "&imageMogr2/format/webp/quality/50!", headers={"Host": host}, timeout=120)
    assert r.status_code == 200, r.text
    check_output(r.content, "webp", JPEG_SIZE)
    assert r.headers["Content-Type"] == "image/webp"


# ---------------------------------------------------------------------------------------------
# Real images from the shared corpus (skipped when absent)

CORPUS_CASES = [
    # file, rule, output format, expected size, frames
    ("photo_autumn_progressive_2560x1600.jpg", "imageMogr2/interlace/0", "jpg", (2560, 1600), 1),
    ("photo_path_2560x1600.jpg", "imageMogr2/format/jpg/interlace/1", "jpg", (2560, 1600), 1),
    ("cmyk.jpg", "imageMogr2/format/png", "png", (100, 100), 1),
    ("grayscale_2560x1600.jpg", "imageMogr2/format/webp", "webp", (2560, 1600), 1),
    ("rgb16_weld.png", "imageMogr2/format/jpg", "jpg", (1024, 684), 1),
    ("palette_exoplanet_3840x2160.png", "imageMogr2/format/webp", "webp", (3840, 2160), 1),
    ("palette_pngsuite_basn3p08.png", "imageMogr2/format/gif", "gif", (32, 32), 1),
    ("rgba16_pngsuite_basn6a16.png", "imageMogr2/format/webp", "webp", (32, 32), 1),
    ("astronaut_rgb.png", "imageMogr2/format/avif", "avif", (512, 512), 1),
    ("pal8.bmp", "imageMogr2/format/png", "png", (127, 64), 1),
    ("rgb24.bmp", "imageMogr2/format/bmp", "bmp", (127, 64), 1),
    ("static_lossless.webp", "imageMogr2/format/png", "png", (1000, 307), 1),
    ("static_lossy_800x534.webp", "imageMogr2/format/jpg", "jpg", (800, 534), 1),
    ("example.heic", "imageMogr2/format/jpg", "jpg", (1280, 854), 1),
    ("example.avif", "imageMogr2/format/png", "png", (800, 533), 1),
    ("photo_rocket.jpg", "imageMogr2/format/heif", "heif", (640, 427), 1),  # has an ICC profile
    ("animated_42frames.webp", "imageMogr2/format/gif", "gif", (245, 245), 42),
    ("animated_42frames.gif", "imageMogr2/format/webp", "webp", (245, 245), 42),
]


@pytest.mark.parametrize("name, rule, fmt, size, frames", CORPUS_CASES,
                         ids=[f"{c[0]}:{c[1]}" for c in CORPUS_CASES])
def test_corpus(client, bucket, tmp_path, name, rule, fmt, size, frames):
    key = upload_corpus(client, bucket, name)
    _, data = ci_get(client, bucket, key, rule, tmp_path)
    progressive = None
    if "interlace/" in rule:
        progressive = rule.endswith("interlace/1")
    check_output(data, fmt, size, progressive)
    if fmt not in CONTAINER_FORMATS:
        assert frame_count(decode(data)) == frames


@pytest.mark.parametrize("name, upright", [
    ("photo_dog_4032x3024_exif-orient6.jpg", (3024, 4032)),
    ("paris_exif-orient5.jpg", (302, 403)),
])
def test_corpus_auto_orient(client, bucket, tmp_path, name, upright):
    """The output looks like what Pillow's exif_transpose shows, and is not tagged again."""
    key = upload_corpus(client, bucket, name)
    _, data = ci_get(client, bucket, key, "imageMogr2/auto-orient", tmp_path)
    out = decode(data)
    assert (out.format, out.size) == ("JPEG", upright)
    assert out.getexif().get(ORIENTATION_TAG, 1) == 1
    expected = ImageOps.exif_transpose(Image.open(corpus_file(name)))
    distance = picture_distance(out, expected)
    # Any other of the 8 orientations of the same picture is far off (checked: > 20).
    wrong = min(picture_distance(out, expected.transpose(t)) for t in Image.Transpose
                if expected.transpose(t).size == expected.size)
    assert distance < 6 < wrong, (distance, wrong)


def gif_running_time(data: bytes, frames=None) -> int:
    delays = frame_delays(data)
    return sum(d or 0 for d in delays[:frames])


@pytest.mark.parametrize("n, frames, source_frames", [(20, 20, 42), (1, 30, 30)])
def test_corpus_cgif(client, bucket, tmp_path, n, frames, source_frames):
    """cgif/n (n>1) keeps n frames over the same running time; cgif/1 keeps the first 30."""
    name = "animated_42frames.gif"
    key = upload_corpus(client, bucket, name)
    _, data = ci_get(client, bucket, key, f"imageMogr2/cgif/{n}", tmp_path)
    im = decode(data)
    assert (im.format, im.size, frame_count(im)) == ("GIF", (245, 245), frames)
    expected = gif_running_time(corpus_file(name).read_bytes(), source_frames)
    # GIF delays are centiseconds: each frame may round by half of one.
    assert abs(gif_running_time(data) - expected) <= 5 * frames, (gif_running_time(data), expected)
