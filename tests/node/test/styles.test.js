'use strict';
// Image styles through the Node SDK, which has no style calls of its own: as in Tencent's CI
// demos they go through the generic `request` with the bucket's `.pic.` URL and Action
// `style` (PUT <AddStyle>, GET with an optional <GetStyle>, DELETE <DeleteStyle>). Then
// `style/<name>` on getObject and in Pic-Operations. Mirrors tests/sdk/test_styles.py.

const assert = require('node:assert/strict');
const { describe, it, before, after } = require('node:test');
const COS = require('cos-nodejs-sdk-v5');

const { at, client, createBucket, emptyAndDeleteBucket, expectError, noRetries, server, skip, SUITE_TIMEOUT_MS } =
  require('../lib/server');
const { send, xmlText } = require('../lib/http');
const { gradientPng, imageInfo } = require('../lib/images');

/** xml2json gives an object for one element and an array for several. */
function asList(value) {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

describe('image styles', { skip, timeout: SUITE_TIMEOUT_MS }, () => {
  let cos;
  let bucket;
  const key = 'styles/src.png';

  /** The generic request against the bucket's image domain, `?style`. */
  function styleRequest(method, body) {
    return cos.request(
      at(bucket, {
        Method: method,
        Url: `http://${bucket}.pic.${server.region}.myqcloud.com/`,
        Action: 'style',
        Body: body === undefined ? undefined : COS.util.json2xml(body),
        Headers: body === undefined ? {} : { 'Content-Type': 'application/xml' },
      }),
    );
  }

  async function listStyles(name) {
    const res = await styleRequest('GET', name ? { GetStyle: { StyleName: name } } : undefined);
    const rules = asList((res.StyleList || {}).StyleRule);
    return Object.fromEntries(rules.map((r) => [r.StyleName, r.StyleBody]));
  }

  before(async () => {
    cos = client();
    bucket = await createBucket(cos, 'nodestyle');
    await cos.putObject(at(bucket, { Key: key, Body: gradientPng(120, 80) }));
  });

  after(async () => {
    await emptyAndDeleteBucket(cos, bucket);
    noRetries();
  });

  it('PUT, GET and DELETE ?style work through request()', async () => {
    await styleRequest('PUT', { AddStyle: { StyleName: 'small', StyleBody: 'imageMogr2/thumbnail/60x' } });
    await styleRequest('PUT', { AddStyle: { StyleName: 'small-webp', StyleBody: 'style/small|imageMogr2/format/webp' } });
    assert.deepEqual(await listStyles(), {
      small: 'imageMogr2/thumbnail/60x',
      'small-webp': 'style/small|imageMogr2/format/webp',
    });
    assert.deepEqual(await listStyles('small'), { small: 'imageMogr2/thumbnail/60x' });
    await styleRequest('PUT', { AddStyle: { StyleName: 'gone', StyleBody: 'imageInfo' } });
    await styleRequest('DELETE', { DeleteStyle: { StyleName: 'gone' } });
    assert.ok(!('gone' in (await listStyles())));
  });

  it('style/<name> runs on download and on upload', async () => {
    const down = await cos.getObject(at(bucket, { Key: key, QueryString: 'style/small-webp' }));
    const info = imageInfo(down.Body);
    assert.deepEqual([info.format, info.width, info.height], ['webp', 60, 40]);

    const ops = { is_pic_info: 0, rules: [{ fileid: 'up.png', rule: 'style/small' }] };
    await cos.putObject(at(bucket, { Key: 'styles/new.png', Body: gradientPng(120, 80), PicOperations: JSON.stringify(ops) }));
    const stored = imageInfo((await cos.getObject(at(bucket, { Key: 'styles/up.png' }))).Body);
    assert.deepEqual([stored.format, stored.width, stored.height], ['png', 60, 40]);
  });

  it('a looping or unknown style is refused', async () => {
    await expectError(
      styleRequest('PUT', { AddStyle: { StyleName: 'small', StyleBody: 'style/small-webp' } }),
      400,
      'InvalidArgument',
    );
    await expectError(cos.getObject(at(bucket, { Key: key, QueryString: 'style/nope' })), 400, 'InvalidArgument');
  });

  it('an anonymous caller cannot write styles', async () => {
    await cos.putBucketAcl(at(bucket, { ACL: 'public-read-write' }));
    const body = COS.util.json2xml({ AddStyle: { StyleName: 'evil', StyleBody: 'imageInfo' } });
    const denied = await send(`http://${bucket}.pic.${server.region}.myqcloud.com/?style`, { method: 'PUT', body });
    assert.equal(denied.status, 403);
    assert.equal(xmlText(denied.body, 'Code'), 'AccessDenied');
    const list = await send(`http://${bucket}.pic.${server.region}.myqcloud.com/?style`);
    assert.equal(list.status, 403);
    await cos.putBucketAcl(at(bucket, { ACL: 'private' }));
    assert.ok(!('evil' in (await listStyles())));
  });
});
