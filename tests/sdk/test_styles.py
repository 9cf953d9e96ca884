"""Image styles through the official SDK: ci_put_image_style, ci_get_image_style (all styles
and by name) and ci_delete_image_style unchanged, `style/<name>` rules in the three processing
modes, styles refused when saved (loops, unknown names), unknown styles refused when used, and
an anonymous caller kept out of a public bucket's styles.

Persistence across a restart is tested in the server's own suite (tests/it/styles.rs), which
can restart a server; these fixtures share one running server.
"""

import io
import json

import pytest
import requests
from PIL import Image
from qcloud_cos.cos_exception import CosServiceError

from conftest import empty_and_delete_bucket, new_bucket_name, read_body, vhost


def photo(w=120, h=80) -> bytes:
    im = Image.new("RGB", (w, h))
    im.putdata([(x * 2 % 256, y * 3 % 256, (x + y) % 256) for y in range(h) for x in range(w)])
    out = io.BytesIO()
    im.save(out, "JPEG", quality=90)
    return out.getvalue()


def decoded(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def styles(client, bucket, name=None) -> dict:
    """The bucket's styles as {name: rule}, through ci_get_image_style."""
    request = {"StyleName": name} if name else {}
    _, data = client.ci_get_image_style(Bucket=bucket, Request=request)
    rules = (data or {}).get("StyleRule", [])
    if isinstance(rules, dict):
        rules = [rules]
    return {r["StyleName"]: r["StyleBody"] for r in rules}


def put_style(client, bucket, name, body):
    return client.ci_put_image_style(Bucket=bucket, Request={"StyleName": name, "StyleBody": body})


@pytest.fixture()
def styled(client):
    """A fresh bucket with a photo and two styles (one naming the other)."""
    name = new_bucket_name("styles")
    client.create_bucket(Bucket=name)
    client.put_object(Bucket=name, Key="p/photo.jpg", Body=photo())
    put_style(client, name, "small", "imageMogr2/thumbnail/60x")
    put_style(client, name, "small-png", "style/small|imageMogr2/format/png")
    yield name
    empty_and_delete_bucket(client, name)


def test_the_three_style_calls(client, styled):
    headers = put_style(client, styled, "webp", "imageMogr2/format/webp")
    assert "x-cos-request-id" in headers
    assert styles(client, styled) == {
        "small": "imageMogr2/thumbnail/60x",
        "small-png": "style/small|imageMogr2/format/png",
        "webp": "imageMogr2/format/webp",
    }
    assert styles(client, styled, "webp") == {"webp": "imageMogr2/format/webp"}
    assert styles(client, styled, "absent") == {}
    client.ci_delete_image_style(Bucket=styled, Request={"StyleName": "webp"})
    assert "webp" not in styles(client, styled)


def test_an_empty_bucket_lists_no_styles(client):
    name = new_bucket_name("nostyle")
    client.create_bucket(Bucket=name)
    try:
        assert styles(client, name) == {}
    finally:
        empty_and_delete_bucket(client, name)


def test_style_rule_on_download(client, styled, tmp_path):
    dest = tmp_path / "out"
    client.ci_get_object(Bucket=styled, Key="p/photo.jpg", DestImagePath=str(dest), Rule="style/small-png")
    im = decoded(dest.read_bytes())
    assert (im.format, im.size) == ("PNG", (60, 40))


def test_style_rule_on_upload(client, styled):
    ops = {"is_pic_info": 0, "rules": [{"fileid": "up.png", "rule": "style/small-png"}]}
    _, result = client.ci_put_object(Bucket=styled, Body=photo(), Key="p/new.jpg",
                                     PicOperations=json.dumps(ops))
    assert result["ProcessResults"]["Object"]["Key"] == "p/up.png"
    im = decoded(read_body(client.get_object(Bucket=styled, Key="p/up.png")))
    assert (im.format, im.size) == ("PNG", (60, 40))


def test_style_rule_in_the_cloud(client, styled):
    ops = {"is_pic_info": 0, "rules": [{"fileid": "/cloud.jpg", "rule": "style/small"}]}
    client.ci_image_process(Bucket=styled, Key="p/photo.jpg", PicOperations=json.dumps(ops))
    im = decoded(read_body(client.get_object(Bucket=styled, Key="cloud.jpg")))
    assert (im.format, im.size) == ("JPEG", (60, 40))


@pytest.mark.parametrize("name,body,needle", [
    ("self", "style/self", "loop"),
    ("small", "style/small-png", "small -> small-png -> small"),
    ("other", "style/absent", "does not exist"),
    ("bad/name", "imageInfo", "StyleName"),
    ("broken", "imageMogr2/rotate/abc", "rotate"),
])
def test_bad_styles_are_refused_when_saved(client, styled, name, body, needle):
    with pytest.raises(CosServiceError) as err:
        put_style(client, styled, name, body)
    assert err.value.get_status_code() == 400
    assert err.value.get_error_code() == "InvalidArgument"
    assert needle in err.value.get_error_msg()
    # The refused save changed nothing.
    assert styles(client, styled)["small"] == "imageMogr2/thumbnail/60x"


def test_unknown_styles_are_refused_in_every_mode(client, styled, tmp_path):
    with pytest.raises(CosServiceError) as err:
        client.ci_get_object(Bucket=styled, Key="p/photo.jpg", DestImagePath=str(tmp_path / "x"),
                             Rule="style/nope")
    assert (err.value.get_status_code(), err.value.get_error_code()) == (400, "InvalidArgument")
    assert "nope" in err.value.get_error_msg()
    ops = json.dumps({"is_pic_info": 0, "rules": [{"fileid": "o.jpg", "rule": "style/nope"}]})
    with pytest.raises(CosServiceError) as err:
        client.ci_put_object(Bucket=styled, Body=photo(), Key="p/never.jpg", PicOperations=ops)
    assert err.value.get_status_code() == 400 and "nope" in err.value.get_error_msg()
    with pytest.raises(CosServiceError) as err:
        client.ci_image_process(Bucket=styled, Key="p/photo.jpg", PicOperations=ops)
    assert err.value.get_status_code() == 400 and "nope" in err.value.get_error_msg()


def test_anonymous_callers_cannot_touch_styles(server, client, styled):
    client.put_bucket_acl(Bucket=styled, ACL="public-read-write")
    anon = server.client(Anonymous=True, SecretId=None, SecretKey=None)
    for call in (
        lambda: put_style(anon, styled, "evil", "imageInfo"),
        lambda: anon.ci_get_image_style(Bucket=styled, Request={}),
        lambda: anon.ci_delete_image_style(Bucket=styled, Request={"StyleName": "small"}),
    ):
        with pytest.raises(CosServiceError) as err:
            call()
        assert (err.value.get_status_code(), err.value.get_error_code()) == (403, "AccessDenied")
    assert set(styles(client, styled)) == {"small", "small-png"}
    # Applying a style needs only read access to the object.
    url = client.get_conf().uri(bucket=styled, path="p/photo.jpg") + "?style/small"
    got = requests.get(url, headers={"Host": vhost(client, styled)}, timeout=60)
    assert got.status_code == 200
    assert decoded(got.content).size == (60, 40)


def test_the_image_domain_serves_the_style_api(client, styled):
    """The `.pic.` host the SDK uses outside IP mode names the same bucket."""
    pic_host = f"{styled}.pic.{client.get_conf()._region}.myqcloud.com"
    params = {"style": ""}
    headers = {"Host": pic_host}
    auth = client.get_auth(Method="GET", Bucket=styled, Key="/", Headers=headers, Params=params)
    headers["Authorization"] = auth
    got = requests.get(client.get_conf().uri(bucket=styled), params=params, headers=headers, timeout=60)
    assert got.status_code == 200, got.text
    assert "<StyleName>small</StyleName>" in got.text
