'use strict';
// Plain HTTP to the server, for URLs the SDK only builds (getObjectUrl) and for requests the
// SDK cannot send (no signature at all).

const http = require('node:http');
const { server } = require('./server');

/**
 * Sends `method url` to mogr's address whatever host the URL names, with that host as `Host`
 * (as DNS would route it). The request target is the URL's path and query, byte for byte.
 * Resolves to { status, headers, body }.
 */
function send(url, { method = 'GET', headers = {}, body } = {}) {
  const m = /^https?:\/\/([^/]+)(\/.*)?$/.exec(url);
  if (!m) throw new Error(`not an http URL: ${url}`);
  const [, host, target = '/'] = m;
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: server.host,
        port: server.port,
        method,
        path: target,
        headers: { Host: host, ...headers },
        agent: false,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.setTimeout(120000, () => req.destroy(new Error(`timeout: ${method} ${url}`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The first `<tag>` text of an XML body, entities decoded (enough for COS error bodies). */
function xmlText(body, tag) {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(body.toString());
  return m ? m[1].replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&') : null;
}

module.exports = { send, xmlText };
