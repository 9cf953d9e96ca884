'use strict';
// The COS object API through the official cos-nodejs-sdk-v5, call by call, the way a user
// writes it. Mirrors tests/sdk/test_objects.py where the Node SDK has the call.

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { Readable } = require('node:stream');
const { describe, it, before, after, afterEach } = require('node:test');

const {
  at,
  client,
  crc64,
  createBucket,
  emptyAndDeleteBucket,
  expectError,
  newBucketName,
  noRetries,
  quotedMd5,
  server,
  skip,
  tempDir,
  SUITE_TIMEOUT_MS,
} = require('../lib/server');
const { send, xmlText } = require('../lib/http');

const MB = 1024 * 1024;
const LONG_AGO = 'Mon, 01 Jan 2001 00:00:00 GMT';

/** An RFC 1123 date within a few minutes of this machine's clock. */
function assertRecentHttpDate(value) {
  assert.match(value, / GMT$/);
  assert.ok(Math.abs(Date.now() - Date.parse(value)) < 10 * 60 * 1000, value);
}

describe('buckets', { skip, timeout: SUITE_TIMEOUT_MS }, () => {
  let cos;
  before(() => {
    cos = client();
  });
  afterEach(noRetries);

  it('putBucket, headBucket, getService, deleteBucket', async () => {
    const name = newBucketName('nodebkt');
    await expectError(cos.headBucket(at(name)), 404, '404');
    const made = await cos.putBucket(at(name));
    assert.equal(made.statusCode, 200);
    assert.match(made.Location, new RegExp(`^${name}\\.cos\\.`));
    try {
      assert.equal((await cos.headBucket(at(name))).statusCode, 200);
      const service = await cos.getService({ Region: server.region });
      assert.ok(
        service.Buckets.some((b) => b.Name === name),
        JSON.stringify(service.Buckets),
      );
      assert.ok(service.Owner.ID);
      await expectError(cos.putBucket(at(name)), 409, ['BucketAlreadyExists', 'BucketAlreadyOwnedByYou']);
      await cos.putObject(at(name, { Key: 'keep.txt', Body: 'x' }));
      await expectError(cos.deleteBucket(at(name)), 409, 'BucketNotEmpty');
      await cos.deleteObject(at(name, { Key: 'keep.txt' }));
      assert.equal((await cos.deleteBucket(at(name))).statusCode, 204);
    } catch (err) {
      await emptyAndDeleteBucket(cos, name).catch(() => {});
      throw err;
    }
    await expectError(cos.headBucket(at(name)), 404, '404');
    await expectError(cos.getBucket(at(name)), 404, 'NoSuchBucket');
    await expectError(cos.putObject(at(name, { Key: 'k', Body: 'x' })), 404, 'NoSuchBucket');
    await expectError(cos.getObject(at(name, { Key: 'k' })), 404, 'NoSuchBucket');
  });

  it('putBucketAcl / getBucketAcl decide what anonymous users may do', async () => {
    const name = await createBucket(cos, 'nodeacl');
    try {
      await cos.putObject(at(name, { Key: 'pub.txt', Body: 'public soon' }));
      const url = `http://${name}.cos.${server.region}.myqcloud.com/pub.txt`;
      const denied = await send(url);
      assert.equal(denied.status, 403);
      assert.equal(xmlText(denied.body, 'Code'), 'AccessDenied');
      assert.equal((await cos.getBucketAcl(at(name))).ACL, 'private');

      await cos.putBucketAcl(at(name, { ACL: 'public-read' }));
      assert.equal((await cos.getBucketAcl(at(name))).ACL, 'public-read');
      const open = await send(url);
      assert.equal(open.status, 200);
      assert.equal(open.body.toString(), 'public soon');
      const write = await send(`http://${name}.cos.${server.region}.myqcloud.com/anon.txt`, {
        method: 'PUT',
        body: 'x',
      });
      assert.equal(write.status, 403);
      assert.equal(xmlText(write.body, 'Code'), 'AccessDenied');

      await cos.putBucketAcl(at(name, { ACL: 'private' }));
      assert.equal((await send(url)).status, 403);
    } finally {
      await emptyAndDeleteBucket(cos, name);
    }
  });

  it('putBucket with ACL public-read', async () => {
    const name = newBucketName('nodepub');
    await cos.putBucket(at(name, { ACL: 'public-read' }));
    try {
      await cos.putObject(at(name, { Key: 'open.txt', Body: 'open' }));
      const got = await send(`http://${name}.cos.${server.region}.myqcloud.com/open.txt`);
      assert.equal(got.status, 200);
      assert.equal(got.body.toString(), 'open');
    } finally {
      await emptyAndDeleteBucket(cos, name);
    }
  });
});

describe('objects', { skip, timeout: SUITE_TIMEOUT_MS }, () => {
  let cos;
  let bucket;
  let dir;
  before(async () => {
    cos = client();
    bucket = await createBucket(cos);
    dir = tempDir();
  });
  after(async () => {
    if (bucket) await emptyAndDeleteBucket(cos, bucket);
  });
  afterEach(noRetries);

  it('putObject, getObject, headObject, deleteObject round trip', async () => {
    const key = 'roundtrip/object.bin';
    const data = crypto.randomBytes(1000);
    const put = await cos.putObject(at(bucket, { Key: key, Body: data }));
    assert.equal(put.statusCode, 200);
    assert.equal(put.ETag, quotedMd5(data));
    assert.equal(put.headers['x-cos-hash-crc64ecma'], crc64(data));
    assert.ok(put.RequestId);
    assert.equal(put.Location, `${bucket}.cos.${server.region}.myqcloud.com/${key}`);

    const got = await cos.getObject(at(bucket, { Key: key }));
    assert.equal(got.statusCode, 200);
    assert.deepEqual(got.Body, data);
    assert.equal(got.headers['content-length'], '1000');
    assert.equal(got.ETag, quotedMd5(data));
    assert.equal(got.headers['x-cos-hash-crc64ecma'], crc64(data));
    assertRecentHttpDate(got.headers['last-modified']);

    const head = await cos.headObject(at(bucket, { Key: key }));
    assert.equal(head.statusCode, 200);
    assert.equal(head.headers['content-length'], '1000');
    assert.equal(head.ETag, got.ETag);
    assert.equal(head.headers['last-modified'], got.headers['last-modified']);

    assert.equal((await cos.deleteObject(at(bucket, { Key: key }))).statusCode, 204);
    await expectError(cos.headObject(at(bucket, { Key: key })), 404, '404');
    await expectError(cos.getObject(at(bucket, { Key: key })), 404, 'NoSuchKey');
    // Deleting what is already gone is not an error for COS clients.
    assert.equal((await cos.deleteObject(at(bucket, { Key: key }))).statusCode, 204);
  });

  it('putObject from a string, a Buffer, a file stream and a stream of unknown length', async () => {
    const text = 'héllo mogr from a string';
    assert.equal((await cos.putObject(at(bucket, { Key: 'body/string.txt', Body: text }))).ETag, quotedMd5(text));
    assert.equal((await cos.getObject(at(bucket, { Key: 'body/string.txt' }))).Body.toString(), text);

    const buf = crypto.randomBytes(2 * MB + 3);
    assert.equal((await cos.putObject(at(bucket, { Key: 'body/buffer.bin', Body: buf }))).ETag, quotedMd5(buf));

    const file = path.join(dir, 'local.dat');
    fs.writeFileSync(file, buf);
    const fromFile = await cos.putObject(
      at(bucket, { Key: 'body/file.bin', Body: fs.createReadStream(file), ContentLength: buf.length }),
    );
    assert.equal(fromFile.ETag, quotedMd5(buf));
    assert.deepEqual((await cos.getObject(at(bucket, { Key: 'body/file.bin' }))).Body, buf);

    // No ContentLength: the body goes out chunked.
    const pieces = Array.from({ length: 20 }, () => crypto.randomBytes(64 * 1024));
    const all = Buffer.concat(pieces);
    const chunked = await cos.putObject(at(bucket, { Key: 'body/chunked.bin', Body: Readable.from(pieces) }));
    assert.equal(chunked.ETag, quotedMd5(all));
    const got = await cos.getObject(at(bucket, { Key: 'body/chunked.bin' }));
    assert.equal(got.headers['content-length'], String(all.length));
    assert.deepEqual(got.Body, all);
  });

  it('an empty object', async () => {
    const put = await cos.putObject(at(bucket, { Key: 'body/empty', Body: '' }));
    assert.equal(put.ETag, '"d41d8cd98f00b204e9800998ecf8427e"');
    const got = await cos.getObject(at(bucket, { Key: 'body/empty' }));
    assert.equal(got.headers['content-length'], '0');
    assert.equal(got.Body.length, 0);
  });

  it('overwriting replaces the content', async () => {
    await cos.putObject(at(bucket, { Key: 'body/overwrite.txt', Body: 'first version' }));
    await cos.putObject(at(bucket, { Key: 'body/overwrite.txt', Body: 'second' }));
    const got = await cos.getObject(at(bucket, { Key: 'body/overwrite.txt' }));
    assert.equal(got.Body.toString(), 'second');
    assert.equal(got.ETag, quotedMd5('second'));
  });

  const specialKeys = [
    'space in name.txt',
    '100%.txt',
    '100%25literal.txt',
    'a+b=c&d.txt',
    '中文/文件名.txt',
    'emoji-😀.bin',
    'question?hash#.txt',
    'tilde~under_score-dash.txt',
    'deep/a/b/c/d/e.txt',
    'semi;colon,comma\'quote"dq.txt',
    'brackets[1]{2}(3)<4>!*.txt',
  ];
  for (const name of specialKeys) {
    it(`special key ${JSON.stringify(name)}`, async () => {
      const key = `keys/${name}`;
      const data = Buffer.from(key);
      assert.equal((await cos.putObject(at(bucket, { Key: key, Body: data }))).ETag, quotedMd5(data));
      assert.equal((await cos.headObject(at(bucket, { Key: key }))).headers['content-length'], String(data.length));
      assert.deepEqual((await cos.getObject(at(bucket, { Key: key }))).Body, data);
      const listed = await cos.getBucket(at(bucket, { Prefix: key }));
      assert.deepEqual(
        listed.Contents.map((c) => c.Key),
        [key],
      );
      await cos.deleteObject(at(bucket, { Key: key }));
      await expectError(cos.headObject(at(bucket, { Key: key })), 404, '404');
    });
  }

  it('stored headers and x-cos-meta-* come back on HEAD and GET', async () => {
    const key = 'meta/page.txt';
    const data = require('node:zlib').gzipSync(Buffer.from('hello mogr '.repeat(200)));
    const expires = 'Wed, 21 Oct 2037 07:28:00 GMT';
    await cos.putObject(
      at(bucket, {
        Key: key,
        Body: data,
        ContentType: 'text/plain; charset=utf-8',
        ContentDisposition: 'attachment; filename="page.txt"',
        ContentEncoding: 'gzip',
        CacheControl: 'max-age=60',
        Expires: expires,
        Headers: { 'x-cos-meta-a': 'b', 'x-cos-meta-author': 'mogr test' },
      }),
    );
    for (const resp of [
      await cos.headObject(at(bucket, { Key: key })),
      await cos.getObject(at(bucket, { Key: key })),
    ]) {
      const h = resp.headers;
      assert.equal(h['content-type'], 'text/plain; charset=utf-8');
      assert.equal(h['content-disposition'], 'attachment; filename="page.txt"');
      assert.equal(h['content-encoding'], 'gzip');
      assert.equal(h['cache-control'], 'max-age=60');
      assert.equal(h['expires'], expires);
      assert.equal(h['x-cos-meta-a'], 'b');
      assert.equal(h['x-cos-meta-author'], 'mogr test');
      assert.equal(h['content-length'], String(data.length));
    }
    // The stored bytes come back as stored: the server must not decode them.
    assert.deepEqual((await cos.getObject(at(bucket, { Key: key }))).Body, data);
  });

  it('putObject without ContentType or CacheControl: no empty header is stored', async () => {
    // The SDK sends `Cache-Control:` empty (and, for a stream, a type from the file name).
    await cos.putObject(at(bucket, { Key: 'meta/untyped', Body: Buffer.from('abc') }));
    const head = await cos.headObject(at(bucket, { Key: 'meta/untyped' }));
    assert.equal(head.headers['content-type'], 'application/octet-stream');
    assert.equal(head.headers['cache-control'], undefined, JSON.stringify(head.headers));
  });

  it('getObject with response-* overrides', async () => {
    const key = 'meta/override.bin';
    await cos.putObject(at(bucket, { Key: key, Body: 'override me', ContentType: 'application/octet-stream' }));
    const got = await cos.getObject(
      at(bucket, {
        Key: key,
        ResponseContentType: 'application/json',
        ResponseContentDisposition: 'inline; filename="o.json"',
        ResponseCacheControl: 'no-cache',
        ResponseContentLanguage: 'fr-FR',
        ResponseExpires: 'Thu, 01 Jan 2037 00:00:00 GMT',
        ResponseContentEncoding: 'identity',
      }),
    );
    assert.equal(got.headers['content-type'], 'application/json');
    assert.equal(got.headers['content-disposition'], 'inline; filename="o.json"');
    assert.equal(got.headers['cache-control'], 'no-cache');
    assert.equal(got.headers['content-language'], 'fr-FR');
    assert.equal(got.headers['expires'], 'Thu, 01 Jan 2037 00:00:00 GMT');
    assert.equal(got.headers['content-encoding'], 'identity');
    assert.equal(got.Body.toString(), 'override me');
    // Overrides apply to that response only.
    const head = await cos.headObject(at(bucket, { Key: key }));
    assert.equal(head.headers['content-type'], 'application/octet-stream');
  });

  it('getObject into a file (Output) and as a stream (getObjectStream)', async () => {
    const key = 'roundtrip/to-file.bin';
    const data = crypto.randomBytes(3 * MB + 17);
    await cos.putObject(at(bucket, { Key: key, Body: data }));
    const dest = path.join(dir, 'out.bin');
    const got = await cos.getObject(at(bucket, { Key: key, Output: dest }));
    assert.equal(got.statusCode, 200);
    assert.deepEqual(fs.readFileSync(dest), data);

    const chunks = [];
    await new Promise((resolve, reject) => {
      const stream = cos.getObjectStream(at(bucket, { Key: key }), (err) => (err ? reject(err) : resolve()));
      stream.on('data', (c) => chunks.push(c));
    });
    assert.deepEqual(Buffer.concat(chunks), data);
  });

  it('Content-MD5: computed by the SDK, a mismatch is BadDigest, a malformed one InvalidDigest', async () => {
    const data = crypto.randomBytes(4096);
    const md5Client = client({ UploadCheckContentMd5: true });
    assert.equal((await md5Client.putObject(at(bucket, { Key: 'md5/good.bin', Body: data }))).ETag, quotedMd5(data));
    noRetries();

    const other = crypto.createHash('md5').update('other').digest('base64');
    await expectError(
      cos.putObject(at(bucket, { Key: 'md5/bad.bin', Body: 'actual', ContentMD5: other })),
      400,
      'BadDigest',
    );
    await expectError(cos.headObject(at(bucket, { Key: 'md5/bad.bin' })), 404, '404');
    await expectError(
      cos.putObject(at(bucket, { Key: 'md5/malformed.bin', Body: 'actual', ContentMD5: 'not-base64!' })),
      400,
      'InvalidDigest',
    );
  });
});

describe('range and conditional GET', { skip, timeout: SUITE_TIMEOUT_MS }, () => {
  const RANGE_DATA = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
  const key = 'range/hundred.bin';
  let cos;
  let bucket;
  let etag;
  let lastModified;
  before(async () => {
    cos = client();
    bucket = await createBucket(cos, 'noderange');
    await cos.putObject(at(bucket, { Key: key, Body: RANGE_DATA }));
    const head = await cos.headObject(at(bucket, { Key: key }));
    etag = head.ETag;
    lastModified = head.headers['last-modified'];
  });
  after(async () => {
    if (bucket) await emptyAndDeleteBucket(cos, bucket);
  });
  afterEach(noRetries);

  for (const [range, first, last] of [
    ['bytes=0-9', 0, 9],
    ['bytes=10-10', 10, 10],
    ['bytes=-10', 90, 99],
    ['bytes=90-', 90, 99],
    ['bytes=95-200', 95, 99],
    ['bytes=0-', 0, 99],
  ]) {
    it(`Range ${range}`, async () => {
      const got = await cos.getObject(at(bucket, { Key: key, Range: range }));
      assert.equal(got.statusCode, 206);
      assert.deepEqual(got.Body, RANGE_DATA.subarray(first, last + 1));
      assert.equal(got.headers['content-range'], `bytes ${first}-${last}/100`);
      assert.equal(got.headers['content-length'], String(last - first + 1));
    });
  }

  it('a whole GET says it accepts ranges', async () => {
    const got = await cos.getObject(at(bucket, { Key: key }));
    assert.equal(got.statusCode, 200);
    assert.equal(got.headers['accept-ranges'], 'bytes');
  });

  for (const range of ['bytes=100-', 'bytes=200-300']) {
    it(`unsatisfiable Range ${range} is 416 InvalidRange`, async () => {
      await expectError(cos.getObject(at(bucket, { Key: key, Range: range })), 416, 'InvalidRange');
    });
  }

  it('If-None-Match and If-Modified-Since give 304; stale validators give the object', async () => {
    const notModified = await cos.headObject(at(bucket, { Key: key, IfModifiedSince: lastModified }));
    assert.equal(notModified.NotModified, true);
    assert.deepEqual(await cos.getObject(at(bucket, { Key: key, IfModifiedSince: lastModified })), {
      NotModified: true,
    });
    const err = await expectError(cos.headObject(at(bucket, { Key: key, IfNoneMatch: etag })), 304, '304');
    assert.equal(err.headers.etag, etag);
    await expectError(cos.getObject(at(bucket, { Key: key, IfNoneMatch: etag })), 304, '304');

    const fresh = await cos.getObject(at(bucket, { Key: key, IfNoneMatch: '"00000000000000000000000000000000"' }));
    assert.deepEqual(fresh.Body, RANGE_DATA);
    const modified = await cos.getObject(at(bucket, { Key: key, IfModifiedSince: LONG_AGO }));
    assert.deepEqual(modified.Body, RANGE_DATA);
  });

  it('If-Match and If-Unmodified-Since: 412 PreconditionFailed when they do not hold', async () => {
    assert.deepEqual((await cos.getObject(at(bucket, { Key: key, IfMatch: etag }))).Body, RANGE_DATA);
    assert.deepEqual(
      (await cos.getObject(at(bucket, { Key: key, IfUnmodifiedSince: lastModified }))).Body,
      RANGE_DATA,
    );
    await expectError(
      cos.getObject(at(bucket, { Key: key, IfMatch: '"00000000000000000000000000000000"' })),
      412,
      'PreconditionFailed',
    );
    await expectError(
      cos.getObject(at(bucket, { Key: key, IfUnmodifiedSince: LONG_AGO })),
      412,
      'PreconditionFailed',
    );
    await expectError(cos.headObject(at(bucket, { Key: key, IfUnmodifiedSince: LONG_AGO })), 412, '412');
  });
});

describe('listing and batch delete', { skip, timeout: SUITE_TIMEOUT_MS }, () => {
  let cos;
  let bucket;
  const keys = ['a.txt', 'b/1.txt', 'b/2.txt', 'b/c/3.txt', 'd e/4.txt', 'z.txt', '中/5.txt'];
  before(async () => {
    cos = client();
    bucket = await createBucket(cos, 'nodelist');
    for (const Key of keys) await cos.putObject(at(bucket, { Key, Body: Key }));
  });
  after(async () => {
    if (bucket) await emptyAndDeleteBucket(cos, bucket);
  });
  afterEach(noRetries);

  it('getBucket lists every key with its size and ETag', async () => {
    const listing = await cos.getBucket(at(bucket));
    assert.equal(listing.Name, bucket);
    assert.equal(listing.IsTruncated, 'false');
    assert.deepEqual(
      listing.Contents.map((c) => c.Key),
      [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
    );
    for (const c of listing.Contents) {
      assert.equal(c.Size, String(Buffer.byteLength(c.Key)));
      assert.equal(c.ETag, quotedMd5(c.Key));
      assert.match(c.LastModified, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    }
  });

  it('getBucket with Prefix and Delimiter gives CommonPrefixes', async () => {
    const root = await cos.getBucket(at(bucket, { Delimiter: '/' }));
    assert.deepEqual(
      root.Contents.map((c) => c.Key),
      ['a.txt', 'z.txt'],
    );
    assert.deepEqual(
      root.CommonPrefixes.map((p) => p.Prefix),
      ['b/', 'd e/', '中/'],
    );
    const inB = await cos.getBucket(at(bucket, { Prefix: 'b/', Delimiter: '/' }));
    assert.equal(inB.Prefix, 'b/');
    assert.deepEqual(
      inB.Contents.map((c) => c.Key),
      ['b/1.txt', 'b/2.txt'],
    );
    assert.deepEqual(
      inB.CommonPrefixes.map((p) => p.Prefix),
      ['b/c/'],
    );
  });

  it('getBucket pages with MaxKeys and Marker', async () => {
    const seen = [];
    let marker = '';
    for (let page = 0; page < 10; page++) {
      const listing = await cos.getBucket(at(bucket, { MaxKeys: 3, Marker: marker }));
      assert.equal(listing.MaxKeys, '3');
      seen.push(...listing.Contents.map((c) => c.Key));
      if (listing.IsTruncated !== 'true') break;
      assert.ok(listing.Contents.length === 3);
      marker = listing.NextMarker;
      assert.equal(marker, seen[seen.length - 1]);
    }
    assert.deepEqual(seen, (await cos.getBucket(at(bucket))).Contents.map((c) => c.Key));
  });

  it('getBucket with EncodingType url encodes keys and prefixes', async () => {
    const listing = await cos.getBucket(at(bucket, { EncodingType: 'url', Delimiter: '/' }));
    assert.equal(listing.EncodingType, 'url');
    assert.deepEqual(
      listing.CommonPrefixes.map((p) => p.Prefix),
      ['b/', 'd%20e/', '%E4%B8%AD/'],
    );
    const deep = await cos.getBucket(at(bucket, { EncodingType: 'url', Prefix: '中/' }));
    assert.deepEqual(
      deep.Contents.map((c) => decodeURIComponent(c.Key)),
      ['中/5.txt'],
    );
    assert.equal(decodeURIComponent(deep.Prefix), '中/');
  });

  it('deleteMultipleObject reports every deleted key, Quiet reports none', async () => {
    const extra = ['del/1', 'del/2', 'del/3 x'];
    for (const Key of extra) await cos.putObject(at(bucket, { Key, Body: 'x' }));
    const loud = await cos.deleteMultipleObject(
      at(bucket, { Objects: [{ Key: extra[0] }, { Key: extra[2] }, { Key: 'del/never-existed' }] }),
    );
    assert.deepEqual(
      loud.Deleted.map((d) => d.Key).sort(),
      [extra[0], extra[2], 'del/never-existed'].sort(),
    );
    assert.deepEqual(loud.Error, []);
    const quiet = await cos.deleteMultipleObject(at(bucket, { Objects: [{ Key: extra[1] }], Quiet: true }));
    assert.deepEqual(quiet.Deleted, []);
    const left = await cos.getBucket(at(bucket, { Prefix: 'del/' }));
    assert.deepEqual(left.Contents, []);
  });
});

describe('presigned URLs and authentication', { skip, timeout: SUITE_TIMEOUT_MS }, () => {
  let cos;
  let bucket;
  before(async () => {
    cos = client();
    bucket = await createBucket(cos, 'nodesign');
  });
  after(async () => {
    if (bucket) await emptyAndDeleteBucket(cos, bucket);
  });
  afterEach(noRetries);

  /** getObjectUrl through its callback, which gives the form with the double-encoded list. */
  function objectUrl(params) {
    return new Promise((resolve, reject) => {
      cos.getObjectUrl(at(bucket, params), (err, data) => (err ? reject(err) : resolve(data.Url)));
    });
  }

  it('getObjectUrl: a presigned GET, sync and async forms', async () => {
    const key = 'presign/get 中.bin';
    const data = crypto.randomBytes(5000);
    await cos.putObject(at(bucket, { Key: key, Body: data }));
    const asyncUrl = await objectUrl({ Key: key });
    const syncUrl = cos.getObjectUrl(at(bucket, { Key: key }));
    for (const url of [asyncUrl, syncUrl]) {
      assert.match(url, /q-sign-algorithm=sha1/);
      const r = await send(url);
      assert.equal(r.status, 200, r.body.toString());
      assert.deepEqual(r.body, data);
      assert.equal(r.headers.etag, quotedMd5(data));
    }
  });

  it('getObjectUrl with a signed response-content-disposition', async () => {
    const key = 'presign/dl.bin';
    await cos.putObject(at(bucket, { Key: key, Body: 'download me' }));
    const url = await objectUrl({
      Key: key,
      Query: { 'response-content-disposition': 'attachment; filename="dl.bin"' },
    });
    const r = await send(url);
    assert.equal(r.status, 200, r.body.toString());
    assert.equal(r.headers['content-disposition'], 'attachment; filename="dl.bin"');
  });

  it('getObjectUrl: a presigned PUT', async () => {
    const key = 'presign/put.bin';
    const data = crypto.randomBytes(7000);
    const url = await objectUrl({ Key: key, Method: 'PUT' });
    const r = await send(url, { method: 'PUT', body: data });
    assert.equal(r.status, 200, r.body.toString());
    assert.equal(r.headers.etag, quotedMd5(data));
    assert.deepEqual((await cos.getObject(at(bucket, { Key: key }))).Body, data);
  });

  it('expired, tampered and wrong-method URLs are refused', async () => {
    const key = 'presign/guarded.bin';
    await cos.putObject(at(bucket, { Key: key, Body: 'guarded' }));
    // Expires is added to "now - 1": -30 gives a window that ended half a minute ago.
    const expired = await send(await objectUrl({ Key: key, Expires: -30 }));
    assert.equal(expired.status, 403);
    assert.equal(xmlText(expired.body, 'Code'), 'AccessDenied');

    const good = await objectUrl({ Key: key });
    const sig = /q-signature=([0-9a-f]{40})/.exec(good)[1];
    const tampered = await send(good.replace(sig, (sig[0] === '0' ? '1' : '0') + sig.slice(1)));
    assert.equal(tampered.status, 403);
    assert.equal(xmlText(tampered.body, 'Code'), 'SignatureDoesNotMatch');

    const put = await send(good, { method: 'PUT', body: 'overwrite' });
    assert.equal(put.status, 403);
    assert.equal(xmlText(put.body, 'Code'), 'SignatureDoesNotMatch');
    assert.equal((await cos.getObject(at(bucket, { Key: key }))).Body.toString(), 'guarded');
  });

  it('a wrong SecretKey is SignatureDoesNotMatch, an unknown SecretId InvalidAccessKeyId', async () => {
    const bad = client({ SecretKey: `${server.secretKey}x` });
    const err = await expectError(
      bad.putObject(at(bucket, { Key: 'auth/bad.txt', Body: 'x' })),
      403,
      'SignatureDoesNotMatch',
    );
    assert.ok(err.error.Resource.includes(bucket), err.error.Resource);
    await expectError(bad.getObject(at(bucket, { Key: 'auth/bad.txt' })), 403, 'SignatureDoesNotMatch');
    await expectError(bad.getBucket(at(bucket)), 403, 'SignatureDoesNotMatch');
    const stranger = client({ SecretId: 'AKIDnobodyknowsthisid0000000000', SecretKey: 'whatever' });
    await expectError(stranger.getObject(at(bucket, { Key: 'auth/x' })), 403, 'InvalidAccessKeyId');
  });

  // Needs a server fix outside tests/node: mogr answers an early error and closes the
  // connection while the client is still sending a large body, so the client often gets EPIPE
  // (and the SDK retries) instead of the 403. Whether the answer or the broken pipe reaches
  // the client first is a race, so the PUT is tried several times, each on a new connection.
  it('a refused PUT with a large body answers its 403, not a broken connection', async () => {
    for (let attempt = 0; attempt < 4; attempt++) {
      const bad = client({ SecretKey: `${server.secretKey}x` });
      await expectError(
        bad.putObject(at(bucket, { Key: 'auth/big.bin', Body: crypto.randomBytes(8 * MB) })),
        403,
        'SignatureDoesNotMatch',
      );
      noRetries();
    }
  });

  it('a request without a signature is AccessDenied on a private bucket', async () => {
    await cos.putObject(at(bucket, { Key: 'auth/private.txt', Body: 'private' }));
    const r = await send(`http://${bucket}.cos.${server.region}.myqcloud.com/auth/private.txt`);
    assert.equal(r.status, 403);
    assert.equal(xmlText(r.body, 'Code'), 'AccessDenied');
  });

  it('the error body matches COS: Code, Message, Resource, RequestId = x-cos-request-id', async () => {
    const err = await expectError(cos.getObject(at(bucket, { Key: 'auth/does-not-exist.txt' })), 404, 'NoSuchKey');
    assert.ok(err.error.Resource.includes('auth/does-not-exist.txt'), err.error.Resource);
    assert.equal(err.headers['content-type'], 'application/xml');
  });
});
