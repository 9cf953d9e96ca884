'use strict';
// How the Node SDK names the bucket, beyond the default client of the other files:
// a custom `Domain` whose Host carries the port (signed with it), `ServiceDomain`, and
// `Domain` without a bucket at all. cos-nodejs-sdk-v5 3.x refuses `ForcePathStyle` (it throws
// in the constructor), so path-style addressing is exercised by the Python suite only.

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { describe, it, before, after, afterEach } = require('node:test');

const {
  at,
  client,
  createBucket,
  emptyAndDeleteBucket,
  expectError,
  noRetries,
  portDomainClient,
  quotedMd5,
  server,
  skip,
  SUITE_TIMEOUT_MS,
} = require('../lib/server');
const { send, xmlText } = require('../lib/http');

const MB = 1024 * 1024;

describe('addressing', { skip, timeout: SUITE_TIMEOUT_MS }, () => {
  let cos;
  let bucket;
  before(async () => {
    cos = client();
    bucket = await createBucket(cos, 'nodeaddr');
  });
  after(async () => {
    if (bucket) await emptyAndDeleteBucket(cos, bucket);
  });
  afterEach(noRetries);

  it('Domain template with a port: Host `<bucket>.cos.<region>.localhost:<port>`, signed with it', async () => {
    const ported = portDomainClient();
    const hosts = [];
    const record = (opt) => hosts.push(opt.headers.Host);
    ported.on('before-send', record);
    const data = crypto.randomBytes(3000);
    const put = await ported.putObject(at(bucket, { Key: 'ported/a b.bin', Body: data }));
    assert.equal(put.ETag, quotedMd5(data));
    assert.deepEqual((await ported.getObject(at(bucket, { Key: 'ported/a b.bin' }))).Body, data);
    assert.equal((await ported.headObject(at(bucket, { Key: 'ported/a b.bin' }))).headers['content-length'], '3000');
    const listing = await ported.getBucket(at(bucket, { Prefix: 'ported/' }));
    assert.deepEqual(
      listing.Contents.map((c) => c.Key),
      ['ported/a b.bin'],
    );
    await ported.deleteObject(at(bucket, { Key: 'ported/a b.bin' }));
    ported.off('before-send', record);
    assert.ok(hosts.length >= 5);
    for (const host of hosts) assert.equal(host, `${bucket}.cos.${server.region}.localhost:${server.port}`);
  });

  it('Domain template with a port: multipart and a presigned URL', async () => {
    const ported = portDomainClient();
    const key = 'ported/multi.bin';
    const parts = [crypto.randomBytes(MB), crypto.randomBytes(1000)];
    const { UploadId } = await ported.multipartInit(at(bucket, { Key: key }));
    const etags = [];
    for (const [i, Body] of parts.entries()) {
      etags.push((await ported.multipartUpload(at(bucket, { Key: key, UploadId, PartNumber: i + 1, Body }))).ETag);
    }
    await ported.multipartComplete(
      at(bucket, { Key: key, UploadId, Parts: etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })) }),
    );
    const url = await new Promise((resolve, reject) => {
      ported.getObjectUrl(at(bucket, { Key: key }), (err, d) => (err ? reject(err) : resolve(d.Url)));
    });
    assert.ok(url.startsWith(`http://${bucket}.cos.${server.region}.localhost:${server.port}/`), url);
    const r = await send(url);
    assert.equal(r.status, 200, r.body.toString());
    assert.deepEqual(r.body, Buffer.concat(parts));
  });

  it('ServiceDomain: getService on the bare address', async () => {
    const direct = client({ ServiceDomain: server.address });
    const service = await direct.getService({});
    assert.ok(
      service.Buckets.some((b) => b.Name === bucket),
      JSON.stringify(service.Buckets),
    );
  });

  // Without a bucket named anywhere, the answer must be an error, never the bucket list.
  it('Domain without a bucket and no default bucket: a clear 4xx, not the bucket list', async () => {
    const bare = client({ Domain: server.address });
    await cos.putObject(at(bucket, { Key: 'a.txt', Body: 'in the bucket' }));
    const outcome = await bare.getObject(at(bucket, { Key: 'a.txt' })).then(
      (got) => ({ got }),
      (err) => ({ err }),
    );
    assert.ok(!outcome.got, `answered ${outcome.got && outcome.got.statusCode}: ${outcome.got && outcome.got.Body}`);
    const { err } = outcome;
    assert.ok(err.statusCode >= 400 && err.statusCode < 500, `status ${err.statusCode}: ${err.message}`);
    assert.ok(err.error && err.error.Code && /^[A-Z][A-Za-z]+$/.test(err.error.Code), JSON.stringify(err.error));
    assert.ok(err.error.RequestId, JSON.stringify(err.error));
    assert.doesNotMatch(JSON.stringify(err.error), /ListAllMyBucketsResult/);

    // The same request unsigned, as a browser would send it.
    const raw = await send(`http://${server.address}/a.txt`);
    assert.ok(raw.status >= 400 && raw.status < 500, `status ${raw.status}: ${raw.body}`);
    assert.ok(xmlText(raw.body, 'Code'), raw.body.toString());
  });

  it('a bucket that does not exist, in a valid Host, is NoSuchBucket', async () => {
    await expectError(cos.getObject(at(`nodenone${Date.now()}-1250000000`, { Key: 'x' })), 404, 'NoSuchBucket');
  });
});
