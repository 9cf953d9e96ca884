'use strict';
// The processed-variant cache through the Node SDK: the second identical getObject with a rule
// is served from the cache (the `x-mogr-cache` header), with the same bytes and ETag, and an
// overwrite of the source invalidates it. Mirrors the main cases of tests/sdk/test_cache.py.

const assert = require('node:assert/strict');
const { describe, it, before, after, afterEach } = require('node:test');

const { at, client, createBucket, emptyAndDeleteBucket, noRetries, skip: serverSkip, SUITE_TIMEOUT_MS } =
  require('../lib/server');
const { gradientPng, imageInfo } = require('../lib/images');

const skip = serverSkip || (process.env.MOGR_CI_TESTS === '0' && 'image processing tests are off (MOGR_CI_TESTS=0)');
const RULE = 'imageMogr2/thumbnail/100x/format/png';

describe('variant cache', { skip, timeout: SUITE_TIMEOUT_MS }, () => {
  let cos;
  let bucket;

  before(async () => {
    cos = client();
    bucket = await createBucket(cos, 'nodecache');
  });
  after(async () => {
    if (bucket) await emptyAndDeleteBucket(cos, bucket);
  });
  afterEach(noRetries);

  function processed(key) {
    return cos.getObject(at(bucket, { Key: key, QueryString: RULE }));
  }

  it('serves a second identical request from the cache and recomputes after an overwrite', async () => {
    const key = 'cache/photo.png';
    await cos.putObject(at(bucket, { Key: key, Body: gradientPng(200, 100) }));
    const first = await processed(key);
    assert.equal(first.headers['x-mogr-cache'], 'miss');
    const info = imageInfo(first.Body);
    assert.equal(info.format, 'png');
    assert.deepEqual([info.width, info.height], [100, 50]);

    const second = await processed(key);
    assert.equal(second.headers['x-mogr-cache'], 'hit');
    assert.deepEqual(second.Body, first.Body);
    assert.equal(second.ETag, first.ETag);

    await cos.putObject(at(bucket, { Key: key, Body: gradientPng(200, 200) }));
    const third = await processed(key);
    assert.equal(third.headers['x-mogr-cache'], 'miss');
    const resized = imageInfo(third.Body);
    assert.deepEqual([resized.width, resized.height], [100, 100]);
    assert.notEqual(third.ETag, first.ETag);
  });
});
