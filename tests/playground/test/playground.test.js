// The web playground in a real browser: headless Chromium (Debian's `chromium`) driven by
// playwright-core. The page creates a bucket, uploads a PNG, builds
// imageMogr2/format/webp/quality/70 with its form, applies it, and the result panel must
// show what the server really returns for the page's own presigned URL. A screenshot is kept.
//
// Needs a running `mogr serve` with its admin listener; scripts/test.sh sets MOGR_ENDPOINT_HOST,
// MOGR_ENDPOINT_PORT, MOGR_ADMIN_URL, MOGR_SECRET_ID and MOGR_SECRET_KEY.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import zlib from "node:zlib";

import { chromium } from "playwright-core";

function env(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through scripts/test.sh`);
  return value;
}

const ENDPOINT = `http://${env("MOGR_ENDPOINT_HOST")}:${env("MOGR_ENDPOINT_PORT")}`;
const ADMIN = env("MOGR_ADMIN_URL").replace(/\/+$/, "");
const SECRET_ID = env("MOGR_SECRET_ID");
const SECRET_KEY = env("MOGR_SECRET_KEY");
const CHROMIUM = process.env.MOGR_CHROMIUM || "/usr/bin/chromium";
const RULE = "imageMogr2/format/webp/quality/70";

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** An RGB PNG of a colour gradient. */
function gradientPng(width, height) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      raw[row + 1 + x * 3] = (x * 255) / width;
      raw[row + 2 + x * 3] = (y * 255) / height;
      raw[row + 3 + x * 3] = 128;
    }
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", zlib.deflateSync(raw)),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** Width and height from a WebP file's first chunk (VP8, VP8L or VP8X). */
function webpSize(buf) {
  assert.equal(buf.toString("ascii", 0, 4), "RIFF");
  assert.equal(buf.toString("ascii", 8, 12), "WEBP");
  const kind = buf.toString("ascii", 12, 16);
  if (kind === "VP8X") return [1 + buf.readUIntLE(24, 3), 1 + buf.readUIntLE(27, 3)];
  if (kind === "VP8 ") return [buf.readUInt16LE(26) & 0x3fff, buf.readUInt16LE(28) & 0x3fff];
  if (kind === "VP8L") {
    const bits = buf.readUInt32LE(21);
    return [(bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1];
  }
  throw new Error(`unknown WebP chunk ${kind}`);
}

let browser;
before(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in CI containers cannot use Chromium's user-namespace sandbox.
    args: ["--no-sandbox"],
  });
});
after(async () => {
  await browser?.close();
});

test("upload, build imageMogr2/format/webp/quality/70, see the real result", async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  const leaks = [];
  page.on("request", (req) => {
    const sent = `${req.url()} ${JSON.stringify(req.headers())}`;
    if (sent.includes(SECRET_KEY)) leaks.push(req.url());
  });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));

  await page.goto(`${ADMIN}/`);
  await page.waitForSelector('body[data-ready="1"]');
  assert.equal(await page.inputValue("#endpoint"), ENDPOINT, "the page finds the public port");

  const bucket = `pg${crypto.randomBytes(4).toString("hex")}-1250000000`;
  await page.fill("#secret-id", SECRET_ID);
  await page.fill("#secret-key", SECRET_KEY);
  await page.fill("#bucket", bucket);
  await page.click("#create-bucket");
  await page.waitForFunction(
    (b) => document.getElementById("status").textContent.includes(`Created bucket ${b}`),
    bucket,
  );

  const png = gradientPng(96, 64);
  await page.fill("#key", "playground/gradient.png");
  await page.setInputFiles("#file", { name: "gradient.png", mimeType: "image/png", buffer: png });
  await page.click("#upload");
  await page.waitForSelector("#original-panel[data-ready]");
  const original = await page.$eval("#original-panel", (p) => ({ ...p.dataset }));
  assert.equal(original.format, "png");
  assert.equal(`${original.width}x${original.height}`, "96x64");
  assert.equal(Number(original.bytes), png.length);

  await page.selectOption("#op-format-format", "webp");
  await page.fill("#op-quality-q", "70");
  assert.equal(await page.inputValue("#rule"), RULE, "the form writes the rule");
  await page.click("#apply");
  await page.waitForSelector("#result-panel[data-ready]");
  const shown = await page.$eval("#result-panel", (p) => ({
    ...p.dataset,
    text: Object.fromEntries(
      [...p.querySelectorAll("dd")].map((dd) => [dd.dataset.field, dd.textContent]),
    ),
  }));

  // What the server returns for the page's own presigned URL.
  const url = await page.inputValue("#presigned-url");
  assert.ok(url.startsWith(`${ENDPOINT}/${bucket}/playground/gradient.png?${RULE}&`), url);
  assert.ok(url.includes("q-signature="), url);
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "image/webp");
  const body = Buffer.from(await res.arrayBuffer());
  const [width, height] = webpSize(body);

  assert.equal(shown.format, "webp");
  assert.equal(shown.text.format, "webp");
  assert.equal(`${shown.width}x${shown.height}`, `${width}x${height}`);
  assert.equal(shown.text.dimensions, `${width} x ${height}`);
  assert.equal(Number(shown.bytes), body.length);
  assert.equal(shown.text.bytes, String(body.length));
  assert.equal(`${width}x${height}`, "96x64");
  assert.match(shown.text.time, /^\d+ ms$/);

  const snippet = await page.textContent("#python-snippet");
  assert.ok(snippet.includes(`Rule="${RULE}"`), snippet);
  assert.ok(snippet.includes(`Bucket="${bucket}"`), snippet);
  assert.ok(!snippet.includes(SECRET_KEY), "the snippet must not show the key");
  assert.deepEqual(leaks, [], "the SecretKey left the page");
  assert.deepEqual(errors, []);

  const dir =
    process.env.MOGR_TEST_ARTEFACTS || fs.mkdtempSync(path.join(os.tmpdir(), "mogr-playground-"));
  fs.mkdirSync(dir, { recursive: true });
  const shot = path.join(dir, "playground.png");
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`playground screenshot: ${shot}`);
  await page.close();
});
