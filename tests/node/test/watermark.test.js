'use strict';
// Image and text watermarks through the Node SDK: on download (getObject with the rule),
// on upload (putObject with PicOperations) and in the cloud (POST ?image_process). Outputs are
// asked for as BMP (`|imageMogr2/format/bmp`), which is simple enough to read pixel by pixel
// here, and the mark is located in them. Mirrors tests/sdk/test_watermark.py.

const assert = require('node:assert/strict');
const { describe, it, before, after, afterEach } = require('node:test');

const { at, client, createBucket, emptyAndDeleteBucket, expectError, noRetries, server, skip: serverSkip, SUITE_TIMEOUT_MS } =
  require('../lib/server');
const { png } = require('../lib/images');

const skip = serverSkip || (process.env.MOGR_CI_TESTS === '0' && 'image processing tests are off (MOGR_CI_TESTS=0)');

const b64 = (text) => Buffer.from(text, 'utf8').toString('base64url');

/** Pixels of an uncompressed 24- or 32-bit BMP as { width, height, at(x, y) -> [r, g, b] }. */
function readBmp(b) {
  assert.equal(b.toString('latin1', 0, 2), 'BM');
  const offset = b.readUInt32LE(10);
  const width = b.readInt32LE(18);
  const rawHeight = b.readInt32LE(22);
  const bpp = b.readUInt16LE(28);
  assert.ok(bpp === 24 || bpp === 32, `bpp ${bpp}`);
  const height = Math.abs(rawHeight);
  const stride = Math.ceil((width * bpp) / 32) * 4;
  const bytes = bpp / 8;
  return {
    width,
    height,
    at(x, y) {
      const row = rawHeight > 0 ? height - 1 - y : y;
      const o = offset + row * stride + x * bytes;
      return [b[o + 2], b[o + 1], b[o]];
    },
  };
}

/** Bounding box [x0, y0, x1, y1) of the pixels `hit` accepts, or null. */
function bbox(img, hit) {
  let box = null;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      if (!hit(img.at(x, y))) continue;
      box = box ? [Math.min(box[0], x), Math.min(box[1], y), Math.max(box[2], x + 1), Math.max(box[3], y + 1)] : [x, y, x + 1, y + 1];
    }
  }
  return box;
}

const red = ([r, g, b]) => r > 200 && g < 60 && b < 60;

describe('watermarks', { skip, timeout: SUITE_TIMEOUT_MS }, () => {
  let cos;
  let bucket;
  const source = 'wm/source.png';
  const logo = 'wm/logo.png';
  const logoUrl = () => `http://${bucket}.cos.${server.region}.myqcloud.com/${logo}`;
  const imageRule = (params = '/gravity/northwest/dx/10/dy/5/dissolve/100') =>
    `watermark/1/image/${b64(logoUrl())}${params}`;

  before(async () => {
    cos = client();
    bucket = await createBucket(cos, 'nodewm');
    await cos.putObject(at(bucket, { Key: source, Body: png(200, 100, () => [100, 100, 100]) }));
    await cos.putObject(at(bucket, { Key: logo, Body: png(20, 10, () => [255, 0, 0]) }));
  });
  after(async () => {
    if (bucket) await emptyAndDeleteBucket(cos, bucket);
  });
  afterEach(noRetries);

  it('getObject draws an image watermark at its gravity and offsets', async () => {
    const got = await cos.getObject(at(bucket, { Key: source, QueryString: `${imageRule()}|imageMogr2/format/bmp` }));
    const img = readBmp(got.Body);
    assert.deepEqual([img.width, img.height], [200, 100]);
    assert.deepEqual(bbox(img, red), [10, 5, 30, 15]);
  });

  it('getObject draws Chinese text', async () => {
    const rule = `watermark/2/text/${b64('水印')}/fill/${b64('#FFFFFF')}/fontsize/40/gravity/northwest/dx/4/dy/4/dissolve/100`;
    const got = await cos.getObject(at(bucket, { Key: source, QueryString: `${rule}|imageMogr2/format/bmp` }));
    const box = bbox(readBmp(got.Body), ([r, g, b]) => r > 200 && g > 200 && b > 200);
    assert.ok(box, 'no text drawn');
    assert.ok(box[0] >= 4 && box[1] >= 4 && box[2] - box[0] >= 60 && box[2] <= 100, JSON.stringify(box));
  });

  it('putObject with PicOperations stores a watermarked output', async () => {
    const ops = { rules: [{ fileid: 'up-out.bmp', rule: `${imageRule()}|imageMogr2/format/bmp` }] };
    const put = await cos.putObject(
      at(bucket, { Key: 'wm/up.png', Body: png(200, 100, () => [100, 100, 100]), PicOperations: JSON.stringify(ops) }),
    );
    assert.equal(put.statusCode, 200);
    const stored = (await cos.getObject(at(bucket, { Key: 'wm/up-out.bmp' }))).Body;
    assert.deepEqual(bbox(readBmp(stored), red), [10, 5, 30, 15]);
  });

  it('image_process stores a tiled watermark', async () => {
    const ops = { rules: [{ fileid: 'cloud-out.bmp', rule: `${imageRule('/batch/1/dissolve/100')}|imageMogr2/format/bmp` }] };
    await cos.request(
      at(bucket, { Method: 'POST', Key: source, Action: 'image_process', Headers: { 'Pic-Operations': JSON.stringify(ops) } }),
    );
    const img = readBmp((await cos.getObject(at(bucket, { Key: 'wm/cloud-out.bmp' }))).Body);
    let reds = 0;
    for (let y = 0; y < img.height; y++) for (let x = 0; x < img.width; x++) if (red(img.at(x, y))) reds++;
    assert.ok(reds > 20 * 10 * 10 && reds < 200 * 100 / 2, `${reds}`);
  });

  it('a watermark URL on another host is refused', async () => {
    const rule = `watermark/1/image/${b64('http://169.254.169.254/latest/meta-data/')}`;
    await expectError(cos.getObject(at(bucket, { Key: source, QueryString: rule })), 400, 'InvalidArgument');
  });

  it('a missing watermark is 404 NoSuchKey', async () => {
    const rule = `watermark/1/image/${b64(logoUrl().replace('logo.png', 'none.png'))}`;
    await expectError(cos.getObject(at(bucket, { Key: source, QueryString: rule })), 404, 'NoSuchKey');
  });
});
