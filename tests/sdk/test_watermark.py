"""Image and text watermarks through the official Python SDK, in the three modes.

The watermark is located in the decoded output: a pure red logo on a grey image, or white
text on black.
"""

import base64
import io
import json

import pytest
import requests
from PIL import Image
from qcloud_cos.cos_exception import CosServiceError

from conftest import empty_and_delete_bucket, new_bucket_name, read_body, vhost

LOGO = "wm/logo.png"
SOURCE = "wm/source.png"


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def png(size, colour) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, colour).save(out, "PNG")
    return out.getvalue()


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (8, 8), (i * 100, 0, 0)) for i in range(2)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    return out.getvalue()


def logo_url(client, bucket, key=LOGO) -> str:
    """The watermark's URL in CI's documented form: the bucket's COS domain."""
    return f"http://{vhost(client, bucket)}/{key}"


def red_box(data: bytes):
    """The bounding box of the pure-red pixels of an image."""
    im = Image.open(io.BytesIO(data)).convert("RGB")
    mask = Image.eval(im.split()[0], lambda v: 255 if v > 200 else 0)
    green = Image.eval(im.split()[1], lambda v: 255 if v < 60 else 0)
    both = Image.composite(mask, Image.new("L", im.size, 0), green)
    return both.getbbox()


@pytest.fixture(scope="module")
def assets(client, bucket):
    client.put_object(Bucket=bucket, Key=SOURCE, Body=png((200, 100), (100, 100, 100, 255)))
    client.put_object(Bucket=bucket, Key=LOGO, Body=png((20, 10), (255, 0, 0, 255)))
    client.put_object(Bucket=bucket, Key="wm/anim.gif", Body=animated_gif())
    client.put_object(Bucket=bucket, Key="wm/black.png", Body=png((300, 100), (0, 0, 0, 255)))
    return bucket


def image_rule(client, bucket, params="/gravity/northwest/dx/10/dy/5/dissolve/100", key=LOGO):
    return f"watermark/1/image/{b64(logo_url(client, bucket, key))}{params}"


def ci_get(client, bucket, key, rule, tmp_path) -> bytes:
    dest = tmp_path / "wm.out"
    client.ci_get_object(Bucket=bucket, Key=key, DestImagePath=str(dest), Rule=rule)
    return dest.read_bytes()


def expect_error(call, status, code):
    with pytest.raises(CosServiceError) as info:
        call()
    err = info.value
    got = (err.get_status_code(), err.get_error_code())
    assert got == (status, code), f"{got}: {err.get_origin_msg()!r}"
    return err


def test_image_watermark_on_download(client, assets, tmp_path):
    out = ci_get(client, assets, SOURCE, image_rule(client, assets), tmp_path)
    assert Image.open(io.BytesIO(out)).size == (200, 100)
    assert red_box(out) == (10, 5, 30, 15)
    # The default gravity is south-east; the `.pic.` host names the same object.
    pic_url = logo_url(client, assets).replace(".cos.", ".pic.")
    rule = f"watermark/1/image/{b64(pic_url)}/dissolve/100"
    assert red_box(ci_get(client, assets, SOURCE, rule, tmp_path)) == (180, 90, 200, 100)


def test_watermark_after_imagemogr2_and_tiled(client, assets, tmp_path):
    rule = "imageMogr2/thumbnail/100x|" + image_rule(client, assets, "/batch/1/degree/90/dissolve/100")
    im = Image.open(io.BytesIO(ci_get(client, assets, SOURCE, rule, tmp_path))).convert("RGB")
    assert im.size == (100, 50)
    reds = sum(1 for p in im.getdata() if p[0] > 200 and p[1] < 60)
    assert 200 < reds < 100 * 50 // 2, reds


def test_text_watermark_in_chinese(client, assets, tmp_path):
    rule = (f"watermark/2/text/{b64('数据万象')}/fill/{b64('#FFFFFF')}/fontsize/30"
            f"/font/{b64('simhei.ttf')}/gravity/center/dissolve/100")
    im = Image.open(io.BytesIO(ci_get(client, assets, "wm/black.png", rule, tmp_path))).convert("L")
    box = Image.eval(im, lambda v: 255 if v > 128 else 0).getbbox()
    assert box is not None, "no text drawn"
    left, top, right, bottom = box
    # Four 30 px characters, centred.
    assert 90 <= right - left <= 130 and 20 <= bottom - top <= 36, box
    assert abs((left + right) / 2 - 150) <= 4 and abs((top + bottom) / 2 - 50) <= 6, box


def test_watermark_on_upload(client, assets):
    src = png((200, 100), (100, 100, 100, 255))
    ops = {"rules": [{"fileid": "wm-up-out.png", "rule": image_rule(client, assets)}]}
    _, result = client.ci_put_object(Bucket=assets, Key="wm/up.png", Body=src, PicOperations=json.dumps(ops))
    obj = result["ProcessResults"]["Object"]
    assert obj["Key"] == "wm/wm-up-out.png"
    stored = read_body(client.get_object(Bucket=assets, Key="wm/wm-up-out.png"))
    assert red_box(stored) == (10, 5, 30, 15)
    assert red_box(read_body(client.get_object(Bucket=assets, Key="wm/up.png"))) is None


def test_watermark_in_cloud(client, assets):
    rule = image_rule(client, assets) + f"|watermark/2/text/{b64('mogr')}"
    ops = {"rules": [{"fileid": "/wm/cloud-out.png", "rule": rule}]}
    client.ci_image_process(Bucket=assets, Key=SOURCE, PicOperations=json.dumps(ops))
    stored = read_body(client.get_object(Bucket=assets, Key="wm/cloud-out.png"))
    assert red_box(stored) == (10, 5, 30, 15)


def test_watermark_urls_elsewhere_are_refused(client, assets, tmp_path):
    other = new_bucket_name("wmother")
    client.create_bucket(Bucket=other)
    try:
        client.put_object(Bucket=other, Key=LOGO, Body=png((20, 10), (255, 0, 0, 255)))
        for url in (
            "http://example.com/wm/logo.png",
            "http://169.254.169.254/latest/meta-data/",
            logo_url(client, other),  # a bucket other than the image's
            f"ftp://{vhost(client, assets)}/{LOGO}",
        ):
            rule = f"watermark/1/image/{b64(url)}"
            err = expect_error(lambda: ci_get(client, assets, SOURCE, rule, tmp_path), 400, "InvalidArgument")
            assert "watermark" in err.get_error_msg(), err.get_origin_msg()
    finally:
        empty_and_delete_bucket(client, other)


def test_missing_and_animated_watermarks(client, assets, tmp_path):
    missing = image_rule(client, assets, key="wm/none.png")
    err = expect_error(lambda: ci_get(client, assets, SOURCE, missing, tmp_path), 404, "NoSuchKey")
    assert "wm/none.png" in err.get_error_msg(), err.get_origin_msg()
    anim = image_rule(client, assets, key="wm/anim.gif")
    err = expect_error(lambda: ci_get(client, assets, SOURCE, anim, tmp_path), 400, "InvalidArgument")
    assert "animated" in err.get_error_msg(), err.get_origin_msg()
    font = f"watermark/2/text/{b64('a')}/font/{b64('comic.ttf')}"
    err = expect_error(lambda: ci_get(client, assets, SOURCE, font, tmp_path), 400, "InvalidArgument")
    assert "comic.ttf" in err.get_error_msg(), err.get_origin_msg()


def test_anonymous_caller_uses_only_what_it_may_read(server, client):
    """An anonymous caller of a public-read bucket may draw that bucket's images; a private
    bucket's watermark is refused (and its pixels never reach the response)."""
    public, private = new_bucket_name("wmpub"), new_bucket_name("wmpriv")
    client.create_bucket(Bucket=public, ACL="public-read")
    client.create_bucket(Bucket=private)
    try:
        client.put_object(Bucket=public, Key=SOURCE, Body=png((200, 100), (100, 100, 100, 255)))
        client.put_object(Bucket=public, Key=LOGO, Body=png((20, 10), (255, 0, 0, 255)))
        client.put_object(Bucket=private, Key=LOGO, Body=png((20, 10), (255, 0, 0, 255)))
        client.put_object(Bucket=private, Key=SOURCE, Body=png((200, 100), (100, 100, 100, 255)))

        def anonymous_get(bucket, rule):
            return requests.get(f"http://{server.host}:{server.port}/{SOURCE}?{rule}",
                                headers={"Host": vhost(client, bucket)}, timeout=60)

        ok = anonymous_get(public, image_rule(client, public))
        assert ok.status_code == 200, ok.text
        assert red_box(ok.content) == (10, 5, 30, 15)
        refused = anonymous_get(public, image_rule(client, private))
        assert refused.status_code in (400, 403), refused.text
        assert "<Error>" in refused.text
        # The private bucket's own image with its own watermark: the source is already refused.
        assert anonymous_get(private, image_rule(client, private)).status_code == 403
    finally:
        empty_and_delete_bucket(client, public)
        empty_and_delete_bucket(client, private)
