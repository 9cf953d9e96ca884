"""Cloud Infinite image processing through the official SDK (issue 4): the three modes
(download with a rule, upload with Pic-Operations, in-cloud `image_process`), imageInfo and
presigned URLs carrying a rule. Outputs are checked by decoding them with Pillow, or for
HEIF/AVIF by reading the ISOBMFF container.

Off unless MOGR_CI_TESTS=1 (the processing modes land after the object API).
"""

import io
import json
import os
import re

import pytest
import requests
from PIL import Image
from qcloud_cos.cos_exception import CosServiceError

import isobmff
from conftest import corpus_file, md5_hex, quoted_md5, read_body, vhost

if os.environ.get("MOGR_CI_TESTS") != "1":
    pytest.skip(
        "image processing tests are off: set MOGR_CI_TESTS=1 (scripts/test.sh passes it on)",
        allow_module_level=True,
    )

JPEG_SIZE = (640, 427)
GIF_FRAMES, GIF_DELAY_MS = 10, 100


# ---------------------------------------------------------------------------------------------
# Inputs made here with Pillow


def gradient_jpeg() -> bytes:
    w, h = JPEG_SIZE
    im = Image.new("RGB", JPEG_SIZE)
    im.putdata([(x * 255 // w, y * 255 // h, (x + y) * 255 // (w + h)) for y in range(h) for x in range(w)])
    out = io.BytesIO()
    im.save(out, "JPEG", quality=90)
    return out.getvalue()


def rgba_png() -> bytes:
    w, h = 300, 200
    im = Image.new("RGBA", (w, h))
    im.putdata([(200, x * 255 // w, 60, y * 255 // (h - 1)) for y in range(h) for x in range(w)])
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def animated_gif() -> bytes:
    frames = []
    for i in range(GIF_FRAMES):
        im = Image.new("RGB", (120, 80), (20 * i, 255 - 20 * i, 128))
        im.paste((255, 255, 255), (10 * i, 10, 10 * i + 20, 30))  # a square moving right
        frames.append(im)
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=GIF_DELAY_MS, loop=0)
    return out.getvalue()


@pytest.fixture(scope="module")
def sources(client, bucket):
    """Uploads the generated images once; returns {name: (key, bytes)}."""
    made = {
        "jpeg": ("ci/src/photo.jpg", gradient_jpeg()),
        "png": ("ci/src/alpha.png", rgba_png()),
        "gif": ("ci/src/anim.gif", animated_gif()),
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
        delays.append(im.info.get("duration"))
    return delays


def close_to(actual, expected, slack=1):
    """Sizes from proportional scaling may round either way."""
    return all(abs(a - e) <= slack for a, e in zip(actual, expected))


def check_output(data: bytes, fmt: str, size=None, progressive=None):
    """Asserts what a user would check on a produced image; returns (width, height)."""
    if fmt in ("heif", "avif"):
        box = isobmff.summarize(data)
        brands = [box.major_brand] + box.compatible_brands
        assert ("heic" if fmt == "heif" else "avif") in brands, brands
        got = box.primary_size
        if fmt == "avif":  # Pillow 13 decodes AVIF: the pixels must be real, not only the box
            assert decode(data).size == got
    else:
        im = decode(data)
        assert im.format == {"jpg": "JPEG", "png": "PNG", "webp": "WEBP", "gif": "GIF", "bmp": "BMP"}[fmt]
        got = im.size
        if progressive is not None:
            assert bool(im.info.get("progressive")) is progressive
    if size is not None:
        assert close_to(got, size), f"{fmt} is {got}, expected {size}"
    return got


MIME = {
    "jpg": {"image/jpeg"},
    "png": {"image/png"},
    "webp": {"image/webp"},
    "gif": {"image/gif"},
    "avif": {"image/avif"},
    "heif": {"image/heif", "image/heic"},
}


def as_list(value):
    """xml_to_dict gives a dict for one <Object> and a list for several."""
    return value if isinstance(value, list) else [value]


def ci_get(client, bucket, key, rule, tmp_path):
    """ci_get_object into a file; returns (headers, bytes)."""
    dest = tmp_path / "ci-get.out"
    headers = client.ci_get_object(Bucket=bucket, Key=key, DestImagePath=str(dest), Rule=rule)
    return headers, dest.read_bytes()


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
    assert 0 < int(info["Quality"]) <= 100
    assert re.fullmatch(r"0x[0-9a-fA-F]{6}", info["Ave"]), info["Ave"]
    assert int(info["Orientation"]) in range(0, 9)

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
    ops = {"is_pic_info": 0, "rules": [{"fileid": "small.png", "rule": "imageMogr2/thumbnail/64x/format/png"}]}
    _, result = client.ci_put_object(Bucket=bucket, Body=gradient_jpeg(), Key="ci/noinfo/p.jpg",
                                     PicOperations=json.dumps(ops))
    assert "ImageInfo" not in (result.get("OriginalInfo") or {})
    obj = as_list(result["ProcessResults"]["Object"])[0]
    assert obj["Key"] == "ci/noinfo/small.png"
    assert obj["Width"] == "64"


def test_put_object_with_pic_operations(client, bucket):
    """put_object(PicOperations=...) discards the UploadResult; the outputs must still exist."""
    src = animated_gif()
    ops = {"rules": [
        {"fileid": "anim-small.gif", "rule": "imageMogr2/thumbnail/60x"},
        {"fileid": "anim.webp", "rule": "imageMogr2/format/webp"},
        {"fileid": "anim-5.gif", "rule": "imageMogr2/cgif/5"},
    ]}
    headers = client.put_object(Bucket=bucket, Body=src, Key="ci/put/anim.gif", PicOperations=json.dumps(ops))
    assert headers["ETag"] == quoted_md5(src)

    small = decode(read_body(client.get_object(Bucket=bucket, Key="ci/put/anim-small.gif")))
    assert small.format == "GIF" and small.size == (60, 40)
    assert frame_count(small) == GIF_FRAMES

    webp_bytes = read_body(client.get_object(Bucket=bucket, Key="ci/put/anim.webp"))
    webp = decode(webp_bytes)
    assert webp.format == "WEBP" and frame_count(webp) == GIF_FRAMES
    assert frame_delays(webp_bytes) == [GIF_DELAY_MS] * GIF_FRAMES

    five = decode(read_body(client.get_object(Bucket=bucket, Key="ci/put/anim-5.gif")))
    assert five.format == "GIF" and frame_count(five) == 5


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
    ops = {"is_pic_info": 1, "rules": [{"fileid": "thumbs/p100.jpg", "rule": "imageMogr2/thumbnail/100x"}]}
    _, result = client.ci_image_process(Bucket=bucket, Key=key, PicOperations=json.dumps(ops))
    obj = as_list(result["ProcessResults"]["Object"])[0]
    assert obj["Key"] == "ci/src/thumbs/p100.jpg"
    assert close_to((int(obj["Width"]), int(obj["Height"])), (100, 67))
    stored = read_body(client.get_object(Bucket=bucket, Key=obj["Key"]))
    assert check_output(stored, "jpg") == (int(obj["Width"]), int(obj["Height"]))
    assert read_body(client.get_object(Bucket=bucket, Key=key)) == src


def test_ci_image_process_missing_source(client, bucket):
    ops = {"rules": [{"fileid": "x.png", "rule": "imageMogr2/format/png"}]}
    with pytest.raises(CosServiceError) as info:
        client.ci_image_process(Bucket=bucket, Key="ci/none/missing.jpg", PicOperations=json.dumps(ops))
    assert (info.value.get_status_code(), info.value.get_error_code()) == (404, "NoSuchKey")


# ---------------------------------------------------------------------------------------------
# Download with a rule


@pytest.mark.parametrize(
    "rule, fmt, size, progressive",
    [
        ("imageMogr2/thumbnail/200x/format/png", "png", (200, 133), None),
        ("imageMogr2/format/webp", "webp", JPEG_SIZE, None),
        ("imageMogr2/thumbnail/!50p", "jpg", (320, 214), None),
        ("imageMogr2/crop/100x100/gravity/center", "jpg", (100, 100), None),
        ("imageMogr2/rotate/90", "jpg", (427, 640), None),
        ("imageMogr2/format/jpg/interlace/1", "jpg", JPEG_SIZE, True),
        ("imageMogr2/thumbnail/320x320/format/avif", "avif", (320, 214), None),
        ("imageMogr2/thumbnail/320x320/format/heif", "heif", (320, 214), None),
    ],
)
def test_ci_get_object(client, bucket, sources, tmp_path, rule, fmt, size, progressive):
    key, src = sources["jpeg"]
    headers, data = ci_get(client, bucket, key, rule, tmp_path)
    check_output(data, fmt, size, progressive)
    assert headers["Content-Type"] in MIME[fmt]
    # Never the source's MD5 as ETag for processed bytes (spec §3.1).
    assert headers.get("ETag") != quoted_md5(src)
    assert read_body(client.get_object(Bucket=bucket, Key=key)) == src


@pytest.mark.parametrize("compress", ["avif", "heif", "webp"])
def test_ci_download_compress_image(client, bucket, sources, tmp_path, compress):
    key, _ = sources["jpeg"]
    dest = tmp_path / f"compressed.{compress}"
    headers = client.ci_download_compress_image(Bucket=bucket, Key=key, DestImagePath=str(dest),
                                                CompressType=compress)
    check_output(dest.read_bytes(), compress, JPEG_SIZE)
    assert headers["Content-Type"] in MIME[compress]


def test_alpha_kept_where_the_format_has_it(client, bucket, sources, tmp_path):
    key, _ = sources["png"]
    for rule, fmt in (("imageMogr2/format/webp", "WEBP"), ("imageMogr2/thumbnail/150x", "PNG")):
        _, data = ci_get(client, bucket, key, rule, tmp_path)
        im = decode(data)
        assert im.format == fmt
        assert im.mode in ("RGBA", "LA", "P") and im.convert("RGBA").getextrema()[3][0] < 128, (rule, im.mode)
    _, data = ci_get(client, bucket, key, "imageMogr2/format/jpg", tmp_path)
    im = decode(data)
    assert (im.format, im.mode, im.size) == ("JPEG", "RGB", (300, 200))


def test_animated_gif_on_download(client, bucket, sources, tmp_path):
    key, _ = sources["gif"]
    _, data = ci_get(client, bucket, key, "imageMogr2/thumbnail/60x", tmp_path)
    im = decode(data)
    assert (im.format, im.size, frame_count(im)) == ("GIF", (60, 40), GIF_FRAMES)
    assert frame_delays(data) == [GIF_DELAY_MS] * GIF_FRAMES
    _, data = ci_get(client, bucket, key, "imageMogr2/format/webp", tmp_path)
    im = decode(data)
    assert (im.format, frame_count(im)) == ("WEBP", GIF_FRAMES)


def test_rule_errors(client, bucket, sources, tmp_path):
    key, _ = sources["jpeg"]
    with pytest.raises(CosServiceError) as info:
        ci_get(client, bucket, key, "imageMogr2/thumbnail/abcx", tmp_path)
    assert (info.value.get_status_code(), info.value.get_error_code()) == (400, "InvalidArgument")
    text_key, _ = sources["text"]
    with pytest.raises(CosServiceError) as info:
        ci_get(client, bucket, text_key, "imageMogr2/format/png", tmp_path)
    assert (info.value.get_status_code(), info.value.get_error_code()) == (400, "InvalidImageFormat")
    with pytest.raises(CosServiceError) as info:
        ci_get(client, bucket, "ci/src/missing.jpg", "imageMogr2/format/png", tmp_path)
    assert (info.value.get_status_code(), info.value.get_error_code()) == (404, "NoSuchKey")


# ---------------------------------------------------------------------------------------------
# imageInfo


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


# ---------------------------------------------------------------------------------------------
# Presigned URLs with a rule


def test_presigned_url_with_signed_rule(client, bucket, sources):
    key, _ = sources["jpeg"]
    host = vhost(client, bucket)
    url = client.get_presigned_url(Bucket=bucket, Key=key, Method="GET", Headers={"Host": host},
                                   Params={"imageMogr2/thumbnail/80x/format/png": ""})
    r = requests.get(url, headers={"Host": host}, timeout=120)
    assert r.status_code == 200, r.text
    check_output(r.content, "png", (80, 53))
    assert r.headers["Content-Type"] == "image/png"


def test_presigned_url_with_unsigned_rule_appended(client, bucket, sources):
    """The docs' form: a signed URL with `&imageMogr2/...` appended raw (not in the param list)."""
    key, _ = sources["jpeg"]
    host = vhost(client, bucket)
    url = client.get_presigned_url(Bucket=bucket, Key=key, Method="GET", Headers={"Host": host})
    r = requests.get(url + "&imageMogr2/thumbnail/64x/format/webp", headers={"Host": host}, timeout=120)
    assert r.status_code == 200, r.text
    check_output(r.content, "webp", (64, 43))


# ---------------------------------------------------------------------------------------------
# Real images from the shared corpus (skipped when absent)

CORPUS_CASES = [
    # file, rule, output format, expected size, frames
    ("photo_dog_4032x3024_exif-orient6.jpg", "imageMogr2/auto-orient/thumbnail/400x", "jpg", (400, 533), 1),
    ("paris_exif-orient5.jpg", "imageMogr2/auto-orient", "jpg", (302, 403), 1),
    ("photo_autumn_progressive_2560x1600.jpg", "imageMogr2/thumbnail/640x/format/png", "png", (640, 400), 1),
    ("cmyk.jpg", "imageMogr2/format/png", "png", (100, 100), 1),
    ("grayscale_2560x1600.jpg", "imageMogr2/thumbnail/!25p/format/webp", "webp", (640, 400), 1),
    ("rgb16_weld.png", "imageMogr2/format/jpg", "jpg", (1024, 684), 1),
    ("palette_exoplanet_3840x2160.png", "imageMogr2/thumbnail/960x/format/webp", "webp", (960, 540), 1),
    ("rgba16_pngsuite_basn6a16.png", "imageMogr2/format/webp", "webp", (32, 32), 1),
    ("pal8.bmp", "imageMogr2/format/png", "png", (127, 64), 1),
    ("static_lossless.webp", "imageMogr2/format/png", "png", (1000, 307), 1),
    ("example.heic", "imageMogr2/format/jpg", "jpg", (1280, 854), 1),
    ("example.avif", "imageMogr2/format/png", "png", (800, 533), 1),
    ("photo_rocket.jpg", "imageMogr2/format/heif", "heif", (640, 427), 1),
    ("animated_42frames.webp", "imageMogr2/format/gif", "gif", (245, 245), 42),
    ("animated_42frames.gif", "imageMogr2/thumbnail/100x/format/webp", "webp", (100, 100), 42),
    ("animated_42frames.gif", "imageMogr2/cgif/1", "gif", (245, 245), 30),
]


@pytest.mark.parametrize("name, rule, fmt, size, frames", CORPUS_CASES,
                         ids=[f"{c[0]}:{c[1]}" for c in CORPUS_CASES])
def test_corpus(client, bucket, tmp_path, name, rule, fmt, size, frames):
    path = corpus_file(name)
    key = f"ci/corpus/{name}"
    if not client.object_exists(Bucket=bucket, Key=key):
        with open(path, "rb") as fp:
            client.put_object(Bucket=bucket, Key=key, Body=fp)
    _, data = ci_get(client, bucket, key, rule, tmp_path)
    check_output(data, fmt, size)
    if fmt not in ("heif", "avif"):
        assert frame_count(decode(data)) == frames
