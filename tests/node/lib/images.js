'use strict';
// Test images made here (PNG through zlib, GIF through a small LZW encoder) and a reader of
// image headers: format, width, height, frame count and JPEG progressiveness, which is what
// the tests assert about processed outputs.

const zlib = require('node:zlib');

// ---------------------------------------------------------------------------------------------
// PNG

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/**
 * An 8-bit PNG of `width` x `height`; `pixel(x, y)` returns [r, g, b] or [r, g, b, a]
 * (`alpha` chooses RGBA).
 */
function png(width, height, pixel, { alpha = false } = {}) {
  const channels = alpha ? 4 : 3;
  const raw = Buffer.alloc((width * channels + 1) * height);
  let o = 0;
  for (let y = 0; y < height; y++) {
    raw[o++] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      const p = pixel(x, y);
      for (let c = 0; c < channels; c++) raw[o++] = p[c] === undefined ? 255 : p[c];
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = alpha ? 6 : 2; // colour type: RGBA or RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', zlib.deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A colour gradient with some texture, so that quality changes show in the byte size. */
function gradientPng(width, height) {
  return png(width, height, (x, y) => [
    Math.floor((x * 255) / width),
    Math.floor((y * 255) / height),
    (Math.floor(((x + y) * 255) / (width + height)) + ((x * y) % 23) * 4) % 256,
  ]);
}

/** Alpha 0 on the top row rising to 255 on the bottom row. */
function alphaPng(width, height) {
  return png(width, height, (x, y) => [200, Math.floor((x * 255) / width), 60, Math.floor((y * 255) / (height - 1))], {
    alpha: true,
  });
}

// ---------------------------------------------------------------------------------------------
// GIF

/** LZW-compresses palette indices for a GIF image block (variable code size, max 12 bits). */
function lzw(indices, minCodeSize) {
  const clear = 1 << minCodeSize;
  const end = clear + 1;
  const out = [];
  let bitBuf = 0;
  let bitCount = 0;
  let codeSize = minCodeSize + 1;
  const emit = (code) => {
    bitBuf |= code << bitCount;
    bitCount += codeSize;
    while (bitCount >= 8) {
      out.push(bitBuf & 0xff);
      bitBuf >>>= 8;
      bitCount -= 8;
    }
  };
  let dict = new Map();
  let next = end + 1;
  emit(clear);
  let prefix = indices[0];
  for (let i = 1; i < indices.length; i++) {
    const k = indices[i];
    const key = prefix * 4096 + k;
    const found = dict.get(key);
    if (found !== undefined) {
      prefix = found;
      continue;
    }
    emit(prefix);
    if (next < 4096) {
      dict.set(key, next++);
      // The decoder widens its codes one code later than the encoder adds the entry.
      if (next > 1 << codeSize && codeSize < 12) codeSize++;
    } else {
      emit(clear);
      dict = new Map();
      next = end + 1;
      codeSize = minCodeSize + 1;
    }
    prefix = k;
  }
  emit(prefix);
  emit(end);
  if (bitCount > 0) out.push(bitBuf & 0xff);
  return Buffer.from(out);
}

/** Splits image data into GIF sub-blocks of at most 255 bytes, with the terminator. */
function subBlocks(data) {
  const parts = [];
  for (let i = 0; i < data.length; i += 255) {
    const piece = data.subarray(i, i + 255);
    parts.push(Buffer.from([piece.length]), piece);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/**
 * An animated GIF: `frames` frames of `width` x `height`, each with a different background and
 * a white square moving right, `delayMs` per frame, looping forever. Palette of 256 colours.
 */
function animatedGif(width, height, frames, delayMs) {
  const palette = Buffer.alloc(256 * 3);
  for (let i = 0; i < 255; i++) {
    palette[i * 3] = (i * 20) % 256;
    palette[i * 3 + 1] = (255 - i * 20 + 2560) % 256;
    palette[i * 3 + 2] = (i * 40) % 256;
  }
  palette.fill(255, 255 * 3); // index 255: white
  const header = Buffer.alloc(13);
  header.write('GIF89a', 0, 'ascii');
  header.writeUInt16LE(width, 6);
  header.writeUInt16LE(height, 8);
  header[10] = 0xf7; // global colour table of 256 entries
  const loop = Buffer.from([0x21, 0xff, 0x0b, ...Buffer.from('NETSCAPE2.0'), 3, 1, 0, 0, 0]);
  const parts = [header, palette, loop];
  for (let f = 0; f < frames; f++) {
    const gce = Buffer.from([0x21, 0xf9, 4, 0, 0, 0, 0, 0]);
    gce.writeUInt16LE(Math.round(delayMs / 10), 4);
    const desc = Buffer.alloc(10);
    desc[0] = 0x2c;
    desc.writeUInt16LE(width, 5);
    desc.writeUInt16LE(height, 7);
    const indices = new Array(width * height);
    const sx = (10 * f) % width;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const inSquare = x >= sx && x < sx + 20 && y >= 10 && y < 30;
        indices[y * width + x] = inSquare ? 255 : f % 255;
      }
    }
    parts.push(gce, desc, Buffer.from([8]), subBlocks(lzw(indices, 8)));
  }
  parts.push(Buffer.from([0x3b]));
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------
// Reading headers

function pngInfo(b) {
  let frames = 1;
  for (let o = 8; o + 8 <= b.length; ) {
    const len = b.readUInt32BE(o);
    const type = b.toString('ascii', o + 4, o + 8);
    if (type === 'acTL') frames = b.readUInt32BE(o + 8);
    if (type === 'IDAT' || type === 'IEND') break;
    o += 12 + len;
  }
  return { format: 'png', width: b.readUInt32BE(16), height: b.readUInt32BE(20), frames };
}

function jpegInfo(b) {
  for (let o = 2; o + 4 <= b.length; ) {
    if (b[o] !== 0xff) throw new Error(`JPEG: no marker at ${o}`);
    const marker = b[o + 1];
    if (marker === 0xff) {
      o++;
      continue;
    }
    const len = b.readUInt16BE(o + 2);
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return {
        format: 'jpeg',
        height: b.readUInt16BE(o + 5),
        width: b.readUInt16BE(o + 7),
        frames: 1,
        progressive: marker === 0xc2 || marker === 0xc6 || marker === 0xca || marker === 0xce,
      };
    }
    o += 2 + len;
  }
  throw new Error('JPEG: no frame header');
}

function gifInfo(b) {
  let o = 13;
  if (b[10] & 0x80) o += 3 * (1 << ((b[10] & 7) + 1));
  let frames = 0;
  const skipBlocks = () => {
    while (b[o] !== 0) o += b[o] + 1;
    o++;
  };
  while (o < b.length && b[o] !== 0x3b) {
    if (b[o] === 0x21) {
      o += 2;
      skipBlocks();
    } else if (b[o] === 0x2c) {
      frames++;
      const flags = b[o + 9];
      o += 10;
      if (flags & 0x80) o += 3 * (1 << ((flags & 7) + 1));
      o++; // LZW minimum code size
      skipBlocks();
    } else {
      throw new Error(`GIF: unexpected byte ${b[o]} at ${o}`);
    }
  }
  return { format: 'gif', width: b.readUInt16LE(6), height: b.readUInt16LE(8), frames };
}

function webpInfo(b) {
  const first = b.toString('ascii', 12, 16);
  if (first === 'VP8X') {
    let frames = 0;
    for (let o = 12; o + 8 <= b.length; ) {
      const type = b.toString('ascii', o, o + 4);
      const len = b.readUInt32LE(o + 4);
      if (type === 'ANMF') frames++;
      o += 8 + len + (len & 1);
    }
    return {
      format: 'webp',
      width: b.readUIntLE(24, 3) + 1,
      height: b.readUIntLE(27, 3) + 1,
      frames: Math.max(frames, 1),
      alpha: Boolean(b[20] & 0x10),
    };
  }
  if (first === 'VP8L') {
    const bits = b.readUInt32LE(21);
    const [width, height] = [(bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1];
    return { format: 'webp', width, height, frames: 1, alpha: Boolean((bits >>> 28) & 1) };
  }
  if (first === 'VP8 ') {
    const [width, height] = [b.readUInt16LE(26) & 0x3fff, b.readUInt16LE(28) & 0x3fff];
    return { format: 'webp', width, height, frames: 1, alpha: false };
  }
  throw new Error(`WebP: unknown first chunk ${first}`);
}

/** The boxes between `start` and `end`: [{ type, start (payload), end }]. */
function boxes(b, start = 0, end = b.length) {
  const out = [];
  for (let pos = start; pos + 8 <= end; ) {
    let size = b.readUInt32BE(pos);
    let header = 8;
    if (size === 1) {
      size = Number(b.readBigUInt64BE(pos + 8));
      header = 16;
    } else if (size === 0) {
      size = end - pos;
    }
    if (size < header || pos + size > end) throw new Error(`ISOBMFF: truncated box at ${pos}`);
    out.push({ type: b.toString('latin1', pos + 4, pos + 8), start: pos + header, end: pos + size });
    pos += size;
  }
  return out;
}

function child(b, parent, type) {
  const box = boxes(b, parent.start, parent.end).find((x) => x.type === type);
  if (!box) throw new Error(`ISOBMFF: no ${type} box`);
  return box;
}

/**
 * ISOBMFF (HEIF/AVIF): the `ftyp` brands and the primary item's `ispe` (the picture size, not
 * the coded size of its tiles).
 */
function isobmffInfo(b) {
  const top = boxes(b);
  const ftyp = top[0];
  const brands = [b.toString('latin1', ftyp.start, ftyp.start + 4)];
  for (let o = ftyp.start + 8; o + 4 <= ftyp.end; o += 4) brands.push(b.toString('latin1', o, o + 4));
  const metaBox = top.find((x) => x.type === 'meta');
  if (!metaBox) throw new Error('ISOBMFF: no meta box');
  const meta = { start: metaBox.start + 4, end: metaBox.end }; // FullBox: version + flags
  const pitm = child(b, meta, 'pitm');
  const primary = b[pitm.start] === 0 ? b.readUInt16BE(pitm.start + 4) : b.readUInt32BE(pitm.start + 4);
  const iprp = child(b, meta, 'iprp');
  const properties = boxes(b, child(b, iprp, 'ipco').start, child(b, iprp, 'ipco').end);
  const ipma = child(b, iprp, 'ipma');
  const version = b[ipma.start];
  const flags = b.readUIntBE(ipma.start + 1, 3);
  let pos = ipma.start + 4;
  const count = b.readUInt32BE(pos);
  pos += 4;
  for (let i = 0; i < count; i++) {
    const item = version < 1 ? b.readUInt16BE(pos) : b.readUInt32BE(pos);
    pos += version < 1 ? 2 : 4;
    const n = b[pos++];
    for (let j = 0; j < n; j++) {
      const index = flags & 1 ? b.readUInt16BE(pos) & 0x7fff : b[pos] & 0x7f;
      pos += flags & 1 ? 2 : 1;
      const prop = index && properties[index - 1];
      if (item === primary && prop && prop.type === 'ispe') {
        const format = brands.includes('avif') ? 'avif' : 'heif';
        const [width, height] = [b.readUInt32BE(prop.start + 4), b.readUInt32BE(prop.start + 8)];
        return { format, width, height, frames: 1, brands };
      }
    }
  }
  throw new Error('ISOBMFF: the primary item has no ispe property');
}

/** What a user sees of an image: { format, width, height, frames, progressive? }. */
function imageInfo(b) {
  if (b.length >= 24 && b.readUInt32BE(0) === 0x89504e47) return pngInfo(b);
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8) return jpegInfo(b);
  if (b.length >= 13 && b.toString('ascii', 0, 4) === 'GIF8') return gifInfo(b);
  if (b.length >= 30 && b.toString('ascii', 0, 4) === 'RIFF' && b.toString('ascii', 8, 12) === 'WEBP') {
    return webpInfo(b);
  }
  if (b.length >= 26 && b.toString('ascii', 0, 2) === 'BM') {
    return { format: 'bmp', width: b.readInt32LE(18), height: Math.abs(b.readInt32LE(22)), frames: 1 };
  }
  if (b.length >= 16 && b.toString('ascii', 4, 8) === 'ftyp') return isobmffInfo(b);
  throw new Error(`not an image: ${b.subarray(0, 16).toString('hex')}`);
}

module.exports = { alphaPng, animatedGif, gradientPng, imageInfo, png };
