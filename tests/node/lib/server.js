'use strict';
// The server under test and clients of the official cos-nodejs-sdk-v5 pointed at it.
//
// scripts/test.sh starts `mogr serve` and exports MOGR_ENDPOINT_HOST (default 127.0.0.1),
// MOGR_ENDPOINT_PORT, MOGR_SECRET_ID, MOGR_SECRET_KEY and MOGR_REGION (default ap-guangzhou).
// Without them every test is skipped with a message saying how to run the suite.

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const COS = require('cos-nodejs-sdk-v5');

const APPID = '1250000000';
const env = process.env;
const missing = ['MOGR_ENDPOINT_PORT', 'MOGR_SECRET_ID', 'MOGR_SECRET_KEY'].filter((n) => !env[n]);

/** A skip reason when the server is not configured, else false (for `describe(name, { skip })`). */
const skip = missing.length
  ? `${missing.join(', ')} not set: run scripts/test.sh, or start \`mogr serve\` and export ` +
    'MOGR_ENDPOINT_PORT, MOGR_SECRET_ID and MOGR_SECRET_KEY'
  : false;

/** Upper bound of one `describe` block, so a hung request fails the suite instead of CI. */
const SUITE_TIMEOUT_MS = 10 * 60 * 1000;

/** Where the server listens and the credentials it accepts. */
const server = {
  host: env.MOGR_ENDPOINT_HOST || '127.0.0.1',
  port: Number(env.MOGR_ENDPOINT_PORT || 0),
  secretId: env.MOGR_SECRET_ID || '',
  secretKey: env.MOGR_SECRET_KEY || '',
  region: env.MOGR_REGION || 'ap-guangzhou',
};
server.address = `${server.host}:${server.port}`;

// The SDK keeps resumable-upload ids in a JSON file; keep it out of the user's home.
const confDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mogr-node-sdk-'));
process.on('exit', () => fs.rmSync(confDir, { recursive: true, force: true }));

// Requests the SDK re-sent: it retries 5xx and network errors silently, which would hide a
// server error, so every test checks this list stays empty (see `noRetries`).
const retried = [];

function watchRetries(cos) {
  cos.on('before-send', (opt) => {
    if (opt.headers && opt.headers['x-cos-sdk-retry']) retried.push(`${opt.method} ${opt.url}`);
  });
  return cos;
}

/**
 * An SDK client in `Ip` mode: the SDK builds the real COS URL
 * (`http://<bucket>.cos.<region>.myqcloud.com/<key>`), sends it to mogr's address and keeps
 * the virtual-host name in `Host` (signed without a port), as a user behind a load balancer.
 */
function client(overrides = {}) {
  return watchRetries(
    new COS({
      SecretId: server.secretId,
      SecretKey: server.secretKey,
      Protocol: 'http:',
      Ip: server.address,
      Timeout: 300000,
      ConfCwd: confDir,
      ...overrides,
    }),
  );
}

/**
 * An SDK client with a custom `Domain` template that carries the port: Host becomes
 * `<bucket>.cos.<region>.localhost:<port>` and is signed with the port, as the JS SDKs do.
 * `Ip` still routes the connection to mogr, so no name resolution is needed.
 */
function portDomainClient(overrides = {}) {
  return client({ Domain: `{Bucket}.cos.{Region}.localhost:${server.port}`, ...overrides });
}

/** Fails when the SDK retried a request since the last call (a 5xx or a dropped connection). */
function noRetries() {
  const seen = retried.splice(0);
  assert.deepEqual(seen, [], 'the SDK retried these requests (a 5xx or a broken connection)');
}

/** A bucket name in COS's `name-appid` form that no other test uses. */
function newBucketName(prefix = 'nodesdk') {
  return `${prefix}${crypto.randomBytes(5).toString('hex')}-${APPID}`;
}

/** Bucket + Region, the two parameters of every SDK call. */
function at(bucket, extra = {}) {
  return { Bucket: bucket, Region: server.region, ...extra };
}

/** Removes every object and pending upload, then the bucket (teardown helper). */
async function emptyAndDeleteBucket(cos, bucket) {
  const uploads = await cos.multipartList(at(bucket)).catch(() => ({ Upload: [] }));
  for (const up of uploads.Upload || []) {
    await cos.multipartAbort(at(bucket, { Key: up.Key, UploadId: up.UploadId }));
  }
  let marker = '';
  for (;;) {
    const listing = await cos.getBucket(at(bucket, { Marker: marker, MaxKeys: 1000 }));
    const keys = listing.Contents.map((c) => c.Key);
    if (keys.length) {
      await cos.deleteMultipleObject(at(bucket, { Objects: keys.map((Key) => ({ Key })), Quiet: true }));
    }
    if (listing.IsTruncated !== 'true') break;
    marker = listing.NextMarker || keys[keys.length - 1];
  }
  await cos.deleteBucket(at(bucket));
}

/** Creates a fresh private bucket; returns its name. Pair with `emptyAndDeleteBucket`. */
async function createBucket(cos, prefix) {
  const name = newBucketName(prefix);
  await cos.putBucket(at(name));
  return name;
}

/**
 * Awaits an SDK call that must fail; checks the HTTP status, the COS error code and (for
 * responses with a body) the fields of the COS error XML. Returns the error.
 */
async function expectError(promise, status, code) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected ${status} ${code}, the call succeeded`);
  const detail = JSON.stringify(err.error || err.message);
  assert.equal(err.statusCode, status, `status ${err.statusCode}: ${detail}`);
  const codes = Array.isArray(code) ? code : [code];
  assert.ok(codes.includes(err.code), `code ${err.code}: ${detail}`);
  if (err.error && typeof err.error === 'object' && err.error.Code) {
    for (const field of ['Message', 'Resource', 'RequestId']) {
      assert.ok(err.error[field], `error body without ${field}: ${detail}`);
    }
    assert.equal(err.error.RequestId, err.headers['x-cos-request-id']);
  }
  return err;
}

/** The ETag COS gives a single-PUT object: the MD5 hex in double quotes. */
function quotedMd5(data) {
  return `"${crypto.createHash('md5').update(data).digest('hex')}"`;
}

function md5Hex(data) {
  return crypto.createHash('md5').update(data).digest('hex');
}

function sha256File(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

// CRC-64/XZ (reflected ECMA-182 polynomial, init and xorout all ones), as COS prints it in
// x-cos-hash-crc64ecma.
const CRC64_TABLE = (() => {
  const poly = 0xc96c5795d7870f42n;
  const table = new Array(256);
  for (let i = 0n; i < 256n; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
    table[Number(i)] = c;
  }
  return table;
})();

/** `x-cos-hash-crc64ecma` of `data` (decimal string). */
function crc64(data) {
  let crc = 0xffffffffffffffffn;
  for (const byte of data) crc = CRC64_TABLE[Number((crc ^ BigInt(byte)) & 0xffn)] ^ (crc >> 8n);
  return (crc ^ 0xffffffffffffffffn).toString();
}

/** A temporary folder removed when the process exits. */
function tempDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mogr-node-test-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `size` pseudo-random bytes written to `file` in 1 MiB pieces. */
function writeRandomFile(file, size) {
  const fd = fs.openSync(file, 'w');
  try {
    for (let left = size; left > 0; ) {
      const n = Math.min(left, 1 << 20);
      fs.writeSync(fd, crypto.randomBytes(n));
      left -= n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

/** The shared corpus beside the repository (`../shared/corpus`), or null when absent. */
function corpusFile(name) {
  const file = path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'corpus', name);
  return fs.existsSync(file) ? file : null;
}

module.exports = {
  APPID,
  SUITE_TIMEOUT_MS,
  at,
  client,
  corpusFile,
  crc64,
  createBucket,
  emptyAndDeleteBucket,
  expectError,
  md5Hex,
  newBucketName,
  noRetries,
  portDomainClient,
  quotedMd5,
  server,
  sha256File,
  skip,
  tempDir,
  watchRetries,
  writeRandomFile,
};
