// COS request signing (q-sign-algorithm=sha1) in the browser, with WebCrypto.
//
// The SecretKey never leaves this page: it keys an HMAC here, and only the resulting
// signature travels, as presigned query parameters (q-ak, q-sign-time, q-signature, ...).
// Query signatures rather than an Authorization header keep GETs "simple" CORS requests,
// which need no preflight.

const encoder = new TextEncoder();

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function hmacSha1Hex(key, message) {
  const cryptoKey = await crypto.subtle.importKey(
    "raw",
    encoder.encode(key),
    { name: "HMAC", hash: "SHA-1" },
    false,
    ["sign"],
  );
  return hex(await crypto.subtle.sign("HMAC", cryptoKey, encoder.encode(message)));
}

async function sha1Hex(message) {
  return hex(await crypto.subtle.digest("SHA-1", encoder.encode(message)));
}

/** COS's UrlEncode: every byte but A-Z a-z 0-9 - _ . ~ escaped, upper-case hex. */
export function cosEncode(text) {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase(),
  );
}

/** A key as a URL path: each segment encoded, the slashes kept. */
export function encodePath(path) {
  return path.split("/").map(cosEncode).join("/");
}

/** Whether this page can sign (WebCrypto exists only in secure contexts: https or loopback). */
export function canSign() {
  return Boolean(globalThis.crypto && crypto.subtle);
}

/**
 * The presigned query string (without `?`) for `method` on the decoded `path`, valid from a
 * minute ago for `seconds`. `params` are query parameters to cover by the signature
 * (name -> value); the caller still sends them.
 */
export async function presign({ method, path, secretId, secretKey, seconds = 900, params = {} }) {
  const now = Math.floor(Date.now() / 1000);
  const keyTime = `${now - 60};${now + seconds}`;
  const signKey = await hmacSha1Hex(secretKey, keyTime);
  const names = Object.keys(params)
    .map((name) => [cosEncode(name).toLowerCase(), cosEncode(params[name] ?? "")])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const paramString = names.map(([k, v]) => `${k}=${v}`).join("&");
  const paramList = names.map(([k]) => k).join(";");
  const httpString = `${method.toLowerCase()}\n${path}\n${paramString}\n\n`;
  const stringToSign = `sha1\n${keyTime}\n${await sha1Hex(httpString)}\n`;
  const signature = await hmacSha1Hex(signKey, stringToSign);
  const fields = [
    ["q-sign-algorithm", "sha1"],
    ["q-ak", secretId],
    ["q-sign-time", keyTime],
    ["q-key-time", keyTime],
    ["q-header-list", ""],
    ["q-url-param-list", paramList],
    ["q-signature", signature],
  ];
  return fields.map(([k, v]) => `${k}=${cosEncode(v)}`).join("&");
}
