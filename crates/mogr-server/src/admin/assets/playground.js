// The playground: pick or upload an image, build a rule, see original and result side by
// side. Every object request goes to the public endpoint, presigned in this page
// (cos-sign.js); the admin listener only serves these files and /config.json.

import { canSign, cosEncode, encodePath, presign } from "./cos-sign.js";
import { OPERATIONS, buildRule } from "./ops.js";

const $ = (id) => document.getElementById(id);

function setStatus(text, isError = false) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("error", isError);
}

/** The object API's address as this browser reaches it. */
function defaultEndpoint(cfg) {
  let host = cfg.public_host_unspecified ? location.hostname : cfg.public_host;
  if (host.includes(":") && !host.startsWith("[")) host = `[${host}]`;
  return `http://${host}:${cfg.public_port}`;
}

function endpoint() {
  return $("endpoint").value.trim().replace(/\/+$/, "");
}

function credentials() {
  const secretId = $("secret-id").value.trim();
  const secretKey = $("secret-key").value;
  if (!secretId || !secretKey) throw new Error("Type the SecretId and SecretKey first.");
  return { secretId, secretKey };
}

function bucket() {
  const name = $("bucket").value.trim();
  if (!name) throw new Error("Choose a bucket.");
  return name;
}

function objectPath() {
  const key = $("key").value.trim().replace(/^\/+/, "");
  if (!key) throw new Error("Choose an object key.");
  return `/${bucket()}/${key}`;
}

/** A rule as a query parameter name: encoded, with its slashes kept readable. */
function ruleQuery(rule) {
  return cosEncode(rule).replace(/%2F/g, "/");
}

/** A presigned URL for `method` on the decoded `path`, with `query` before the signature. */
async function signedUrl(method, path, query = "") {
  const signature = await presign({ method, path, ...credentials() });
  return `${endpoint()}${encodePath(path)}?${query ? `${query}&` : ""}${signature}`;
}

/** The COS error of a failed answer, as one line. */
function errorText(status, text) {
  const doc = new DOMParser().parseFromString(text, "application/xml");
  const code = doc.querySelector("Error > Code")?.textContent;
  const message = doc.querySelector("Error > Message")?.textContent;
  return code ? `${status} ${code}: ${message ?? ""}` : `HTTP ${status}`;
}

/** Sends a signed request; throws the COS error on a non-2xx answer. */
async function send(method, path, { query = "", body, headers } = {}) {
  const url = await signedUrl(method, path, query);
  const started = performance.now();
  let res;
  try {
    res = await fetch(url, { method, body, headers, cache: "no-store" });
  } catch (e) {
    throw new Error(`Cannot reach ${endpoint()} (${e.message}): check the endpoint.`);
  }
  if (!res.ok) throw new Error(errorText(res.status, await res.text()));
  return { res, url, started };
}

async function listBuckets() {
  const { res } = await send("GET", "/");
  const doc = new DOMParser().parseFromString(await res.text(), "application/xml");
  const names = [...doc.querySelectorAll("Bucket > Name")].map((n) => n.textContent);
  fillList("buckets", names);
  if (!$("bucket").value && names.length) $("bucket").value = names[0];
  setStatus(`${names.length} bucket(s).`);
}

async function createBucket() {
  await send("PUT", `/${bucket()}`);
  setStatus(`Created bucket ${bucket()}.`);
}

async function listObjects() {
  const { res } = await send("GET", `/${bucket()}`, { query: "max-keys=200" });
  const doc = new DOMParser().parseFromString(await res.text(), "application/xml");
  const keys = [...doc.querySelectorAll("Contents > Key")].map((n) => n.textContent);
  fillList("objects", keys);
  if (!$("key").value && keys.length) $("key").value = keys[0];
  setStatus(`${keys.length} object(s) in ${bucket()}.`);
}

function fillList(id, values) {
  const list = $(id);
  list.replaceChildren(...values.map((v) => Object.assign(document.createElement("option"), { value: v })));
}

async function upload() {
  const file = $("file").files[0];
  if (!file) throw new Error("Choose a file to upload.");
  if (!$("key").value.trim()) $("key").value = file.name;
  await send("PUT", objectPath(), {
    body: file,
    headers: { "Content-Type": file.type || "application/octet-stream" },
  });
  setStatus(`Uploaded ${file.name} (${file.size} bytes) as ${objectPath()}.`);
  await loadOriginal();
}

/** `imageInfo` of the object, or of the result of `rule` when given (a `|imageInfo` stage). */
async function imageInfo(rule) {
  const query = ruleQuery(rule ? `${rule}|imageInfo` : "imageInfo");
  const { res } = await send("GET", objectPath(), { query });
  return res.json();
}

async function loadOriginal() {
  const { res, started } = await send("GET", objectPath());
  const blob = await res.blob();
  const elapsed = performance.now() - started;
  let info = null;
  try {
    info = await imageInfo("");
  } catch (e) {
    setStatus(`imageInfo failed: ${e.message}`, true);
  }
  showPanel("original-panel", blob, info, elapsed, res.headers.get("content-type"));
}

async function apply() {
  const rule = $("rule").value.trim();
  if (!rule) throw new Error("Build or type a rule first.");
  const { res, url, started } = await send("GET", objectPath(), { query: ruleQuery(rule) });
  const blob = await res.blob();
  const elapsed = performance.now() - started;
  let info = null;
  try {
    info = await imageInfo(rule);
  } catch {
    // A rule whose output is not an image (imageInfo, exif, ...) has no info of its own.
  }
  showPanel("result-panel", blob, info, elapsed, res.headers.get("content-type"));
  $("presigned-url").value = url;
  $("python-snippet").textContent = pythonSnippet(rule);
  setStatus(`Applied ${rule}.`);
}

/** Fills a panel; the facts are also set as data-* attributes for scripts and tests. */
function showPanel(id, blob, info, elapsedMs, contentType) {
  const panel = $(id);
  const img = panel.querySelector("img");
  if (img.dataset.url) URL.revokeObjectURL(img.dataset.url);
  img.dataset.url = URL.createObjectURL(blob);
  img.src = img.dataset.url;
  const format = info?.format ?? (contentType || "").replace(/^image\//, "");
  const field = (name) => panel.querySelector(`[data-field="${name}"]`);
  field("format").textContent = format || "-";
  field("dimensions").textContent = info ? `${info.width} x ${info.height}` : "-";
  field("bytes").textContent = String(blob.size);
  field("time").textContent = `${elapsedMs.toFixed(0)} ms`;
  Object.assign(panel.dataset, {
    format: format || "",
    width: info?.width ?? "",
    height: info?.height ?? "",
    bytes: String(blob.size),
    timeMs: elapsedMs.toFixed(1),
  });
  panel.dataset.ready = String(Number(panel.dataset.ready || 0) + 1);
}

function pythonSnippet(rule) {
  const py = (s) => JSON.stringify(s);
  let url;
  try {
    url = new URL(endpoint());
  } catch {
    url = new URL("http://127.0.0.1:9000");
  }
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  const key = $("key").value.trim().replace(/^\/+/, "");
  const ext = (rule.match(/format\/(\w+)/) || [, "out"])[1];
  return [
    "import os",
    "from qcloud_cos import CosConfig, CosS3Client",
    "",
    `config = CosConfig(Region=${py($("region").value.trim())}, IP=${py(url.hostname.replace(/^\[|\]$/g, ""))}, Port=${port},`,
    `                   Scheme=${py(url.protocol.replace(":", ""))}, SecretId=${py($("secret-id").value.trim())},`,
    `                   SecretKey=os.environ["COS_SECRET_KEY"])`,
    "client = CosS3Client(config)",
    `client.ci_get_object(Bucket=${py(bucket())}, Key=${py(key)},`,
    `                     DestImagePath=${py(`result.${ext}`)}, Rule=${py(rule)})`,
  ].join("\n");
}

function buildForm() {
  const form = $("ops-form");
  for (const op of OPERATIONS) {
    const set = document.createElement("fieldset");
    set.className = "op";
    set.dataset.op = op.id;
    const legend = document.createElement("legend");
    legend.textContent = op.label;
    set.append(legend);
    for (const f of op.fields) set.append(fieldInput(op, f));
    const help = document.createElement("p");
    help.className = "help";
    help.textContent = op.help;
    set.append(help);
    form.append(set);
  }
  const update = () => {
    $("rule").value = buildRule(formValues());
  };
  form.addEventListener("input", update);
  form.addEventListener("change", update);
}

function fieldInput(op, f) {
  const label = document.createElement("label");
  label.textContent = f.label ?? (f.type === "check" ? "on" : f.name);
  let input;
  if (f.type === "select") {
    input = document.createElement("select");
    for (const [value, text] of f.options) {
      input.append(Object.assign(document.createElement("option"), { value, textContent: text }));
    }
  } else {
    input = document.createElement("input");
    input.type = { check: "checkbox", number: "number", colour: "color" }[f.type] ?? "text";
    if (f.type === "colour") input.value = "#ffffff";
    if (f.placeholder) input.placeholder = f.placeholder;
    if (f.min !== undefined) input.min = f.min;
    if (f.max !== undefined) input.max = f.max;
  }
  input.id = `op-${op.id}-${f.name}`;
  input.dataset.op = op.id;
  input.dataset.field = f.name;
  label.append(input);
  return label;
}

function formValues() {
  const values = {};
  for (const input of $("ops-form").querySelectorAll("[data-op][data-field]")) {
    const op = (values[input.dataset.op] ??= {});
    op[input.dataset.field] = input.type === "checkbox" ? input.checked : input.value;
  }
  return values;
}

/** Runs a button's action with the buttons disabled and errors shown. */
function action(id, run) {
  $(id).addEventListener("click", async () => {
    const buttons = document.querySelectorAll("button");
    buttons.forEach((b) => (b.disabled = true));
    setStatus("Working...");
    try {
      await run();
    } catch (e) {
      setStatus(e.message, true);
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  });
}

async function init() {
  buildForm();
  action("list-buckets", listBuckets);
  action("create-bucket", createBucket);
  action("list-objects", listObjects);
  action("load", loadOriginal);
  action("upload", upload);
  action("apply", apply);
  try {
    const cfg = await (await fetch("/config.json", { cache: "no-store" })).json();
    $("endpoint").value = defaultEndpoint(cfg);
    $("region").value = cfg.region;
  } catch (e) {
    setStatus(`Cannot read /config.json: ${e.message}`, true);
  }
  if (!canSign()) {
    setStatus(
      "This page signs with WebCrypto, which browsers offer only on https:// and loopback " +
        "pages: open it as http://127.0.0.1:<admin port>/ (through an SSH tunnel when remote).",
      true,
    );
  }
  document.body.dataset.ready = "1";
}

init();
