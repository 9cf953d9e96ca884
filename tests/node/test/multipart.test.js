'use strict';
// Multipart uploads through the Node SDK: the low-level calls one by one, then the SDK's own
// sliceUploadFile / uploadFile / downloadFile, which drive them the way most users do.

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { describe, it, before, after, afterEach } = require('node:test');

const {
  at,
  client,
  createBucket,
  emptyAndDeleteBucket,
  expectError,
  noRetries,
  quotedMd5,
  server,
  sha256File,
  skip,
  tempDir,
  writeRandomFile,
  SUITE_TIMEOUT_MS,
} = require('../lib/server');

const MB = 1024 * 1024;

describe('multipart', { skip, timeout: SUITE_TIMEOUT_MS }, () => {
  let cos;
  let bucket;
  let dir;
  before(async () => {
    cos = client();
    bucket = await createBucket(cos, 'nodemp');
    dir = tempDir();
  });
  after(async () => {
    if (bucket) await emptyAndDeleteBucket(cos, bucket);
  });
  afterEach(noRetries);

  it('multipartInit, multipartUpload, multipartListPart, multipartList, multipartComplete', async () => {
    const key = 'multipart/manual.bin';
    const init = await cos.multipartInit(
      at(bucket, { Key: key, ContentType: 'application/x-mogr-test', Headers: { 'x-cos-meta-mp': 'yes' } }),
    );
    const uploadId = init.UploadId;
    assert.ok(uploadId);
    assert.equal(init.Key, key);
    assert.equal(init.Bucket, bucket);

    const parts = { 1: crypto.randomBytes(MB), 2: crypto.randomBytes(MB + 1), 3: Buffer.from('the last part') };
    const etags = {};
    for (const n of [3, 1, 2]) {
      // Parts may arrive in any order.
      const resp = await cos.multipartUpload(at(bucket, { Key: key, UploadId: uploadId, PartNumber: n, Body: parts[n] }));
      assert.equal(resp.ETag, quotedMd5(parts[n]));
      etags[n] = resp.ETag;
    }

    const listing = await cos.multipartListPart(at(bucket, { Key: key, UploadId: uploadId }));
    assert.equal(listing.UploadId, uploadId);
    assert.equal(listing.IsTruncated, 'false');
    assert.deepEqual(
      listing.Part.map((p) => p.PartNumber),
      ['1', '2', '3'],
    );
    assert.deepEqual(
      listing.Part.map((p) => p.Size),
      [1, 2, 3].map((n) => String(parts[n].length)),
    );
    assert.deepEqual(
      listing.Part.map((p) => p.ETag),
      [1, 2, 3].map((n) => etags[n]),
    );

    const uploads = await cos.multipartList(at(bucket, { Prefix: 'multipart/' }));
    assert.ok(uploads.Upload.some((u) => u.Key === key && u.UploadId === uploadId));

    const done = await cos.multipartComplete(
      at(bucket, { Key: key, UploadId: uploadId, Parts: [1, 2, 3].map((n) => ({ PartNumber: n, ETag: etags[n] })) }),
    );
    assert.equal(done.Key, key);
    assert.match(done.ETag, /^"[0-9a-f]{32}-3"$/);
    assert.equal(done.Location, `${bucket}.cos.${server.region}.myqcloud.com/${key}`);

    const got = await cos.getObject(at(bucket, { Key: key }));
    assert.deepEqual(got.Body, Buffer.concat([parts[1], parts[2], parts[3]]));
    assert.equal(got.headers['content-type'], 'application/x-mogr-test');
    assert.equal(got.headers['x-cos-meta-mp'], 'yes');
    assert.equal(got.ETag, done.ETag);
    const after = await cos.multipartList(at(bucket, { Prefix: 'multipart/' }));
    assert.ok(!after.Upload.some((u) => u.UploadId === uploadId));
  });

  it('multipartInit without ContentType: the object gets the default type', async () => {
    // The SDK sends `Content-Type:` and `Cache-Control:` empty on initiate.
    const key = 'multipart/untyped';
    const { UploadId } = await cos.multipartInit(at(bucket, { Key: key }));
    const part = await cos.multipartUpload(at(bucket, { Key: key, UploadId, PartNumber: 1, Body: 'small' }));
    await cos.multipartComplete(at(bucket, { Key: key, UploadId, Parts: [{ PartNumber: 1, ETag: part.ETag }] }));
    const head = await cos.headObject(at(bucket, { Key: key }));
    assert.equal(head.headers['content-type'], 'application/octet-stream');
    assert.equal(head.headers['cache-control'], undefined, JSON.stringify(head.headers));
  });

  it('multipartAbort: the upload is gone', async () => {
    const key = 'multipart/aborted.bin';
    const { UploadId } = await cos.multipartInit(at(bucket, { Key: key }));
    await cos.multipartUpload(at(bucket, { Key: key, UploadId, PartNumber: 1, Body: crypto.randomBytes(1000) }));
    assert.equal((await cos.multipartAbort(at(bucket, { Key: key, UploadId }))).statusCode, 204);
    await expectError(cos.multipartListPart(at(bucket, { Key: key, UploadId })), 404, 'NoSuchUpload');
    await expectError(
      cos.multipartUpload(at(bucket, { Key: key, UploadId, PartNumber: 2, Body: 'x' })),
      404,
      'NoSuchUpload',
    );
    await expectError(cos.headObject(at(bucket, { Key: key })), 404, '404');
  });

  it('multipartComplete refuses parts under 1 MB and unknown parts', async () => {
    const key = 'multipart/rejected.bin';
    const { UploadId } = await cos.multipartInit(at(bucket, { Key: key }));
    const parts = [];
    for (const n of [1, 2]) {
      const { ETag } = await cos.multipartUpload(
        at(bucket, { Key: key, UploadId, PartNumber: n, Body: crypto.randomBytes(100 * 1024) }),
      );
      parts.push({ PartNumber: n, ETag });
    }
    await expectError(cos.multipartComplete(at(bucket, { Key: key, UploadId, Parts: parts })), 400, 'EntityTooSmall');
    await expectError(
      cos.multipartComplete(
        at(bucket, { Key: key, UploadId, Parts: [{ PartNumber: 1, ETag: '"00000000000000000000000000000000"' }] }),
      ),
      400,
      'InvalidPart',
    );
    await cos.multipartAbort(at(bucket, { Key: key, UploadId }));
    await expectError(cos.headObject(at(bucket, { Key: key })), 404, '404');
  });

  it('sliceUploadFile: several parts, then a typed object', async () => {
    const file = writeRandomFile(path.join(dir, 'sliced.txt'), 5 * MB + 123);
    const key = 'multipart/sliced';
    const parts = [];
    const record = (opt) => opt.qs && opt.qs.partNumber && parts.push(opt.qs.partNumber);
    cos.on('before-send', record);
    const done = await cos.sliceUploadFile(at(bucket, { Key: key, FilePath: file, ChunkSize: MB })).finally(() => {
      cos.off('before-send', record);
    });
    assert.equal(done.Key, key);
    assert.match(done.ETag, /^"[0-9a-f]{32}-6"$/);
    assert.equal(new Set(parts).size, 6);

    const head = await cos.headObject(at(bucket, { Key: key }));
    assert.equal(head.headers['content-length'], String(5 * MB + 123));
    // sliceUploadFile initiates with `Content-Type:` and `Cache-Control:` empty.
    assert.equal(head.headers['content-type'], 'application/octet-stream');
    assert.equal(head.headers['cache-control'], undefined, JSON.stringify(head.headers));
    const dest = path.join(dir, 'sliced.out');
    await cos.getObject(at(bucket, { Key: key, Output: dest }));
    assert.equal(sha256File(dest), sha256File(file));
  });

  it('sliceUploadFile keeps ContentType and x-cos-meta-*', async () => {
    const file = writeRandomFile(path.join(dir, 'typed.bin'), 2 * MB + 5);
    const key = 'multipart/typed.bin';
    await cos.sliceUploadFile(
      at(bucket, {
        Key: key,
        FilePath: file,
        ChunkSize: MB,
        ContentType: 'video/x-mogr',
        CacheControl: 'max-age=5',
        Headers: { 'x-cos-meta-origin': 'slice' },
      }),
    );
    const head = await cos.headObject(at(bucket, { Key: key }));
    assert.equal(head.headers['content-type'], 'video/x-mogr');
    assert.equal(head.headers['cache-control'], 'max-age=5');
    assert.equal(head.headers['x-cos-meta-origin'], 'slice');
  });

  it('uploadFile: putObject below SliceSize, multipart above', async () => {
    const small = writeRandomFile(path.join(dir, 'small.txt'), 300 * 1024);
    const big = writeRandomFile(path.join(dir, 'big.bin'), 3 * MB + 7);
    const one = await cos.uploadFile(at(bucket, { Key: 'upload/small.txt', FilePath: small, SliceSize: MB }));
    assert.equal(one.ETag, quotedMd5(fs.readFileSync(small)));
    const many = await cos.uploadFile(
      at(bucket, { Key: 'upload/big.bin', FilePath: big, SliceSize: MB, ChunkSize: MB }),
    );
    assert.match(many.ETag, /^"[0-9a-f]{32}-4"$/);
    // A file stream's type comes from its name.
    const smallHead = await cos.headObject(at(bucket, { Key: 'upload/small.txt' }));
    assert.equal(smallHead.headers['content-type'], 'text/plain');
    for (const [key, file] of [
      ['upload/small.txt', small],
      ['upload/big.bin', big],
    ]) {
      const dest = path.join(dir, 'upload.out');
      await cos.getObject(at(bucket, { Key: key, Output: dest }));
      assert.equal(sha256File(dest), sha256File(file));
    }
  });

  it('downloadFile: parallel Range GETs checked against the CRC-64 of HEAD', async () => {
    const file = writeRandomFile(path.join(dir, 'download-src.bin'), 4 * MB + 99);
    const key = 'download/big.bin';
    await cos.uploadFile(at(bucket, { Key: key, FilePath: file, SliceSize: MB, ChunkSize: MB }));
    const dest = path.join(dir, 'download.out');
    const got = await cos.downloadFile(
      at(bucket, { Key: key, FilePath: dest, ChunkSize: MB, ParallelLimit: 3, RetryTimes: 1 }),
    );
    assert.ok(got);
    assert.equal(sha256File(dest), sha256File(file));
  });
});
