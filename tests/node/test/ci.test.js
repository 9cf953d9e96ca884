'use strict';
// Cloud Infinite image processing through the Node SDK, which has no CI-specific calls: rules
// go on getObject (`QueryString` appends them unsigned, `Query` signs them), Pic-Operations on
// putObject / sliceUploadFile (`PicOperations`), and in-cloud processing through the generic
// `request` with Action `image_process`. Outputs are checked by reading their image headers.
// Mirrors tests/sdk/test_ci.py where the Node SDK has the call. MOGR_CI_TESTS=0 skips it.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { describe, it, before, after, afterEach } = require('node:test');

const {
  at,
  client,
  corpusFile,
  createBucket,
  emptyAndDeleteBucket,
  expectError,
  md5Hex,
  noRetries,
  quotedMd5,
  server,
  skip: serverSkip,
  tempDir,
  SUITE_TIMEOUT_MS,
} = require('../lib/server');
const { send } = require('../lib/http');
const { alphaPng, animatedGif, gradientPng, imageInfo } = require('../lib/images');

const skip = serverSkip || (process.env.MOGR_CI_TESTS === '0' && 'image processing tests are off (MOGR_CI_TESTS=0)');

const SIZE = [640, 427];
const GIF_FRAMES = 10;
const MIME = {
  jpeg: ['image/jpeg'],
  png: ['image/png'],
  bmp: ['image/bmp'],
  webp: ['image/webp'],
  gif: ['image/gif'],
  avif: ['image/avif'],
  heif: ['image/heif', 'image/heic'],
};

/** xml2json gives an object for one <Object> and an array for several. */
function asList(value) {
  return Array.isArray(value) ? value : [value];
}

/** Asserts an output's format and size (and progressiveness for JPEG); returns its info. */
function checkImage(data, format, size, progressive) {
  const info = imageInfo(data);
  assert.equal(info.format, format);
  if (size) assert.deepEqual([info.width, info.height], size);
  if (progressive !== undefined) assert.equal(info.progressive, progressive);
  return info;
}

describe('image processing', { skip, timeout: SUITE_TIMEOUT_MS }, () => {
  let cos;
  let bucket;
  let dir;
  let jpeg; // the JPEG source: the gradient PNG converted by an upload rule
  const keys = {
    png: 'ci/src/gradient.png',
    jpeg: 'ci/src/photo.jpg',
    alpha: 'ci/src/alpha.png',
    gif: 'ci/src/anim.gif',
    text: 'ci/src/notes.txt',
  };

  /** getObject with a rule appended unsigned, as `QueryString` sends it. */
  function processed(key, rule, extra = {}) {
    return cos.getObject(at(bucket, { Key: key, QueryString: rule, ...extra }));
  }

  before(async () => {
    cos = client();
    bucket = await createBucket(cos, 'nodeci');
    dir = tempDir();
    const made = await cos.putObject(
      at(bucket, {
        Key: keys.png,
        Body: gradientPng(...SIZE),
        PicOperations: JSON.stringify({ rules: [{ fileid: 'photo.jpg', rule: 'imageMogr2/format/jpg/quality/90!' }] }),
      }),
    );
    assert.equal(made.statusCode, 200);
    jpeg = (await cos.getObject(at(bucket, { Key: keys.jpeg }))).Body;
    checkImage(jpeg, 'jpeg', SIZE, false);
    await cos.putObject(at(bucket, { Key: keys.alpha, Body: alphaPng(300, 200) }));
    await cos.putObject(at(bucket, { Key: keys.gif, Body: animatedGif(120, 80, GIF_FRAMES, 100) }));
    await cos.putObject(at(bucket, { Key: keys.text, Body: 'this is not an image\n'.repeat(10) }));
  });
  after(async () => {
    if (bucket) await emptyAndDeleteBucket(cos, bucket);
  });
  afterEach(noRetries);

  // -------------------------------------------------------------------------------------------
  // Upload with Pic-Operations

  it('putObject with PicOperations answers an UploadResult that matches what is stored', async () => {
    const key = 'ci/up/photo.jpg';
    const rules = [
      ['out/photo.png', 'imageMogr2/format/png', 'png', undefined],
      ['out/photo.webp', 'imageMogr2/format/webp', 'webp', undefined],
      ['/ci-abs/photo-progressive.jpg', 'imageMogr2/format/jpg/interlace/1', 'jpeg', true],
      ['out/photo.heif', 'imageMogr2/format/heif', 'heif', undefined],
      ['out/photo.avif', 'imageMogr2/format/avif', 'avif', undefined],
    ];
    const ops = { is_pic_info: 1, rules: rules.map(([fileid, rule]) => ({ fileid, rule })) };
    const put = await cos.putObject(at(bucket, { Key: key, Body: jpeg, PicOperations: JSON.stringify(ops) }));
    // The header ETag stays the original's MD5 (the Java and C++ SDKs compare it).
    assert.equal(put.ETag, quotedMd5(jpeg));
    assert.deepEqual((await cos.getObject(at(bucket, { Key: key }))).Body, jpeg);

    const result = put.UploadResult;
    assert.ok(result, JSON.stringify(put));
    const original = result.OriginalInfo;
    assert.equal(original.Key, key);
    assert.ok(original.Location.endsWith(`/${key}`), original.Location);
    assert.equal(original.ETag, quotedMd5(jpeg));
    assert.ok(['jpeg', 'jpg'].includes(original.ImageInfo.Format.toLowerCase()), original.ImageInfo.Format);
    assert.deepEqual([Number(original.ImageInfo.Width), Number(original.ImageInfo.Height)], SIZE);
    assert.match(original.ImageInfo.Ave, /^0x[0-9a-fA-F]{6}$/);

    const objects = asList(result.ProcessResults.Object);
    assert.deepEqual(
      objects.map((o) => o.Key),
      ['ci/up/out/photo.png', 'ci/up/out/photo.webp', 'ci-abs/photo-progressive.jpg', 'ci/up/out/photo.heif',
        'ci/up/out/photo.avif'],
    );
    for (const [i, obj] of objects.entries()) {
      const [, , format, progressive] = rules[i];
      const head = await cos.headObject(at(bucket, { Key: obj.Key }));
      assert.equal(obj.Size, head.headers['content-length']);
      assert.equal(obj.ETag, head.ETag);
      assert.ok(MIME[format].includes(head.headers['content-type']), `${obj.Key}: ${head.headers['content-type']}`);
      assert.deepEqual([Number(obj.Width), Number(obj.Height)], SIZE);
      const stored = (await cos.getObject(at(bucket, { Key: obj.Key }))).Body;
      assert.equal(stored.length, Number(obj.Size));
      checkImage(stored, format, SIZE, progressive);
    }
  });

  it('putObject with PicOperations on an animation: frame counts', async () => {
    const src = animatedGif(120, 80, GIF_FRAMES, 100);
    const ops = {
      is_pic_info: 1,
      rules: [
        { fileid: 'anim-first.png', rule: 'imageMogr2/format/png' },
        { fileid: 'anim.webp', rule: 'imageMogr2/format/webp' },
        { fileid: 'anim-5.gif', rule: 'imageMogr2/cgif/5' },
      ],
    };
    const put = await cos.putObject(
      at(bucket, { Key: 'ci/frames/anim.gif', Body: src, PicOperations: JSON.stringify(ops) }),
    );
    assert.equal(put.ETag, quotedMd5(src));
    const [first, webp, five] = asList(put.UploadResult.ProcessResults.Object);
    for (const [obj, format, frames] of [
      [first, 'png', 1],
      [webp, 'webp', GIF_FRAMES],
      [five, 'gif', 5],
    ]) {
      const info = checkImage((await cos.getObject(at(bucket, { Key: obj.Key }))).Body, format, [120, 80]);
      assert.equal(info.frames, frames, obj.Key);
    }
  });

  it('bad Pic-Operations are a 400', async () => {
    for (const bad of [
      'not json',
      JSON.stringify({ rules: [{ rule: 'imageMogr2/format/png' }] }),
      JSON.stringify({ rules: Array.from({ length: 6 }, (_, i) => ({ fileid: `${i}.png`, rule: 'imageMogr2/format/png' })) }),
    ]) {
      await expectError(
        cos.putObject(at(bucket, { Key: 'ci/bad/p.jpg', Body: jpeg, PicOperations: bad })),
        400,
        ['InvalidPicOperations', 'InvalidArgument'],
      );
    }
    await expectError(cos.headObject(at(bucket, { Key: 'ci/bad/p.jpg' })), 404, '404');
  });

  it('sliceUploadFile with PicOperations: the rules run on Complete', async () => {
    const file = path.join(dir, 'sliced.jpg');
    fs.writeFileSync(file, jpeg);
    const ops = { is_pic_info: 1, rules: [{ fileid: 'sliced.webp', rule: 'imageMogr2/format/webp' }] };
    const done = await cos.sliceUploadFile(
      at(bucket, { Key: 'ci/slice/photo.jpg', FilePath: file, PicOperations: JSON.stringify(ops) }),
    );
    const obj = asList(done.UploadResult.ProcessResults.Object)[0];
    assert.equal(obj.Key, 'ci/slice/sliced.webp');
    checkImage((await cos.getObject(at(bucket, { Key: obj.Key }))).Body, 'webp', SIZE);
    assert.deepEqual((await cos.getObject(at(bucket, { Key: 'ci/slice/photo.jpg' }))).Body, jpeg);
  });

  // -------------------------------------------------------------------------------------------
  // In-cloud processing

  it('request POST ?image_process stores the outputs', async () => {
    const ops = { is_pic_info: 1, rules: [{ fileid: 'thumbs/q40.jpg', rule: 'imageMogr2/quality/40' }] };
    const res = await cos.request(
      at(bucket, { Method: 'POST', Key: keys.jpeg, Action: 'image_process', Headers: { 'Pic-Operations': JSON.stringify(ops) } }),
    );
    const obj = asList(res.UploadResult.ProcessResults.Object)[0];
    assert.equal(obj.Key, 'ci/src/thumbs/q40.jpg');
    assert.equal(obj.Quality, '40');
    const stored = (await cos.getObject(at(bucket, { Key: obj.Key }))).Body;
    assert.equal(stored.length, Number(obj.Size));
    checkImage(stored, 'jpeg', SIZE);
    assert.ok(stored.length < jpeg.length, `${stored.length} >= ${jpeg.length}`);
    assert.deepEqual((await cos.getObject(at(bucket, { Key: keys.jpeg }))).Body, jpeg);
  });

  it('image_process on a missing source is 404 NoSuchKey', async () => {
    const ops = { rules: [{ fileid: 'x.png', rule: 'imageMogr2/format/png' }] };
    await expectError(
      cos.request(
        at(bucket, {
          Method: 'POST',
          Key: 'ci/none/missing.jpg',
          Action: 'image_process',
          Headers: { 'Pic-Operations': JSON.stringify(ops) },
        }),
      ),
      404,
      'NoSuchKey',
    );
  });

  // -------------------------------------------------------------------------------------------
  // Download with a rule

  for (const [rule, format, progressive] of [
    ['imageMogr2/format/png', 'png'],
    ['imageMogr2/format/webp', 'webp'],
    ['imageMogr2/format/bmp', 'bmp'],
    ['imageMogr2/format/gif', 'gif'],
    ['imageMogr2/format/jpeg', 'jpeg', false],
    ['imageMogr2/format/yjpeg', 'jpeg'],
    ['imageMogr2/format/jpg/interlace/1', 'jpeg', true],
    ['imageMogr2/interlace/1', 'jpeg', true],
    ['imageMogr2/strip/format/png/', 'png'],
    ['imageMogr2/format/png|imageMogr2/format/webp', 'webp'],
    ['imageMogr2/format/avif', 'avif'],
    ['imageMogr2/format/heif', 'heif'],
  ]) {
    it(`getObject QueryString ${rule}`, async () => {
      const got = await processed(keys.jpeg, rule);
      assert.equal(got.statusCode, 200);
      checkImage(got.Body, format, SIZE, progressive);
      assert.ok(MIME[format].includes(got.headers['content-type']), got.headers['content-type']);
      // Never the source's MD5 as the ETag of processed bytes.
      assert.notEqual(got.headers.etag, quotedMd5(jpeg));
    });
  }

  it('getObject with the rule in Query (signed)', async () => {
    const got = await cos.getObject(at(bucket, { Key: keys.png, Query: { 'imageMogr2/format/jpg/quality/95!/interlace/1': '' } }));
    checkImage(got.Body, 'jpeg', SIZE, true);
    assert.equal(got.headers['content-type'], 'image/jpeg');
  });

  it('getObject into a file with a rule', async () => {
    const dest = path.join(dir, 'processed.webp');
    await processed(keys.png, 'imageMogr2/format/webp', { Output: dest });
    checkImage(fs.readFileSync(dest), 'webp', SIZE);
  });

  it('lower quality gives smaller files', async () => {
    const size = async (rule) => (await processed(keys.jpeg, rule)).Body.length;
    const [q30, q90] = [await size('imageMogr2/quality/30'), await size('imageMogr2/quality/90!')];
    assert.ok(q30 < 0.6 * q90, `${q30} vs ${q90}`);
    const [w20, w95] = [
      await size('imageMogr2/format/webp/quality/20!'),
      await size('imageMogr2/format/webp/quality/95!'),
    ];
    assert.ok(w20 < 0.6 * w95, `${w20} vs ${w95}`);
  });

  it('animated GIF: kept through strip and WebP, cut by cgif, first frame for PNG', async () => {
    for (const [rule, format, frames] of [
      ['imageMogr2/strip', 'gif', GIF_FRAMES],
      ['imageMogr2/format/webp', 'webp', GIF_FRAMES],
      ['imageMogr2/cgif/4', 'gif', 4],
      ['imageMogr2/cgif/20', 'gif', GIF_FRAMES],
      ['imageMogr2/format/png', 'png', 1],
    ]) {
      const info = checkImage((await processed(keys.gif, rule)).Body, format, [120, 80]);
      assert.equal(info.frames, frames, rule);
    }
  });

  it('alpha is kept by WebP and PNG', async () => {
    assert.equal(checkImage((await processed(keys.alpha, 'imageMogr2/format/webp')).Body, 'webp', [300, 200]).alpha, true);
    const png = (await processed(keys.alpha, 'imageMogr2/strip')).Body;
    checkImage(png, 'png', [300, 200]);
    assert.equal(png[25], 6, 'PNG colour type RGBA');
  });

  it('rule errors: 400 InvalidArgument, InvalidImageFormat; 404 NoSuchKey', async () => {
    for (const rule of ['imageMogr2/quality/abc', 'imageMogr2/cgif/0', 'imageMogr2/format/xyz', 'imageMogr2/format']) {
      await expectError(processed(keys.jpeg, rule), 400, 'InvalidArgument');
    }
    await expectError(processed(keys.text, 'imageMogr2/format/png'), 400, 'InvalidImageFormat');
    await expectError(processed('ci/src/missing.jpg', 'imageMogr2/format/png'), 404, 'NoSuchKey');
    const err = await expectError(processed(keys.jpeg, 'imageMogr2/thumbnail/0x0'), 400, 'InvalidArgument');
    assert.match(err.error.Message, /thumbnail/);
  });

  it('imageInfo and imageAve', async () => {
    const info = JSON.parse((await processed(keys.jpeg, 'imageInfo')).Body.toString());
    assert.ok(['jpg', 'jpeg'].includes(info.format), info.format);
    assert.deepEqual([info.width, info.height], SIZE.map(String));
    assert.equal(info.size, String(jpeg.length));
    assert.equal(info.md5, md5Hex(jpeg));
    const gif = JSON.parse((await processed(keys.gif, 'imageInfo')).Body.toString());
    assert.deepEqual([gif.format, gif.width, gif.height], ['gif', '120', '80']);
    const ave = JSON.parse((await processed(keys.png, 'imageAve')).Body.toString());
    assert.match(ave.RGB, /^0x[0-9a-fA-F]{6}$/);
  });

  it('a processed download honours response-* overrides', async () => {
    const got = await processed(keys.jpeg, 'imageMogr2/format/png', {
      ResponseContentType: 'application/x-mogr-download',
      ResponseContentDisposition: 'attachment; filename="photo.png"',
      ResponseCacheControl: 'no-store',
    });
    checkImage(got.Body, 'png', SIZE);
    assert.equal(got.headers['content-type'], 'application/x-mogr-download');
    assert.equal(got.headers['content-disposition'], 'attachment; filename="photo.png"');
    assert.equal(got.headers['cache-control'], 'no-store');
  });

  // -------------------------------------------------------------------------------------------
  // Presigned URLs with a rule

  function objectUrl(params) {
    return new Promise((resolve, reject) => {
      cos.getObjectUrl(at(bucket, params), (err, data) => (err ? reject(err) : resolve(data.Url)));
    });
  }

  it('getObjectUrl with the rule in Query: signed, double-encoded parameter list', async () => {
    const url = await objectUrl({ Key: keys.jpeg, Query: { 'imageMogr2/format/jpg/quality/95!/interlace/1': '' } });
    assert.match(url, /q-url-param-list=imagemogr2%252fformat/);
    const r = await send(url);
    assert.equal(r.status, 200, r.body.toString());
    checkImage(r.body, 'jpeg', SIZE, true);
    assert.equal(r.headers['content-type'], 'image/jpeg');
  });

  it('getObjectUrl with the rule in QueryString: appended unsigned', async () => {
    const url = await objectUrl({ Key: keys.jpeg, QueryString: 'imageMogr2/format/webp/quality/50!' });
    assert.match(url, /&imageMogr2\/format\/webp/);
    const r = await send(url);
    assert.equal(r.status, 200, r.body.toString());
    checkImage(r.body, 'webp', SIZE);
    assert.equal(r.headers['content-type'], 'image/webp');
  });

  // -------------------------------------------------------------------------------------------
  // Real images from the shared corpus (skipped when absent)

  for (const [name, rule, format, size, frames] of [
    ['photo_rocket.jpg', 'imageMogr2/format/heif', 'heif', [640, 427], 1],
    ['cmyk.jpg', 'imageMogr2/format/png', 'png', [100, 100], 1],
    ['example.heic', 'imageMogr2/format/jpg', 'jpeg', [1280, 854], 1],
    ['example.avif', 'imageMogr2/format/png', 'png', [800, 533], 1],
    ['static_lossless.webp', 'imageMogr2/format/png', 'png', [1000, 307], 1],
    ['pal8.bmp', 'imageMogr2/format/webp', 'webp', [127, 64], 1],
    ['animated_42frames.gif', 'imageMogr2/format/webp', 'webp', [245, 245], 42],
    ['animated_42frames.webp', 'imageMogr2/format/gif', 'gif', [245, 245], 42],
  ]) {
    const file = corpusFile(name);
    it(`corpus ${name}: ${rule}`, { skip: !file && `corpus absent (${name})` }, async () => {
      const key = `ci/corpus/${name}`;
      await cos.putObject(at(bucket, { Key: key, Body: fs.createReadStream(file), ContentLength: fs.statSync(file).size }));
      const info = checkImage((await processed(key, rule)).Body, format, size);
      assert.equal(info.frames, frames);
    });
  }
});
