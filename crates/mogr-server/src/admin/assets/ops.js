// The imageMogr2 operations the playground's form offers, in the order their parts are
// written into the rule: pixel operations first (they run in URL order), then the output
// settings. To offer a new operation, add an entry here: the form is built from this list.
//
// An entry: { id, label, help, fields: [{ name, type, ... }], rule(values) -> "part" | "" }
//   type "text"   : { placeholder }
//   type "number" : { min, max, placeholder }
//   type "select" : { options: [[value, label], ...] }  (the first is the default)
//   type "check"  : a checkbox; its value is true or false
//   type "colour" : a colour picker; its value is "#rrggbb"
// rule() gets the field values by name and returns the rule part, or "" when unset.

const GRAVITIES = [
  "northwest", "north", "northeast", "west", "center", "east", "southwest", "south", "southeast",
].map((g) => [g, g]);

/** URL-safe Base64 of the text, as imageMogr2 colours are written. */
function base64Url(text) {
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_");
}

const has = (v) => v !== undefined && v !== null && String(v).trim() !== "";

export const OPERATIONS = [
  {
    id: "auto-orient",
    label: "auto-orient",
    help: "Apply the EXIF orientation.",
    fields: [{ name: "on", type: "check" }],
    rule: (v) => (v.on ? "auto-orient" : ""),
  },
  {
    id: "thumbnail",
    label: "thumbnail",
    help: "!50p, !50px, !x50p, 400x, x300, 400x300, 400x300>, 400x300<, !400x300r, 400x300!, 90000@",
    fields: [
      { name: "size", type: "text", placeholder: "400x300" },
      { name: "pad", type: "check", label: "pad" },
      { name: "color", type: "colour", label: "pad colour" },
    ],
    rule: (v) => {
      if (!has(v.size)) return "";
      let part = `thumbnail/${v.size.trim()}`;
      if (v.pad) {
        part += "/pad/1";
        if (has(v.color) && v.color.toLowerCase() !== "#ffffff") {
          part += `/color/${base64Url(v.color.toUpperCase())}`;
        }
      }
      return part;
    },
  },
  {
    id: "crop",
    label: "crop",
    help: "WxH, Wx or xH, anchored at the gravity, moved inward by dx/dy.",
    fields: [
      { name: "size", type: "text", placeholder: "300x300" },
      { name: "gravity", type: "select", options: [["", "(none: northwest)"], ...GRAVITIES] },
      { name: "dx", type: "number", min: 0, placeholder: "dx" },
      { name: "dy", type: "number", min: 0, placeholder: "dy" },
    ],
    rule: (v) => {
      if (!has(v.size)) return "";
      const parts = [];
      if (has(v.gravity)) parts.push(`gravity/${v.gravity}`);
      parts.push(`crop/${v.size.trim()}`);
      if (has(v.dx)) parts.push(`dx/${v.dx}`);
      if (has(v.dy)) parts.push(`dy/${v.dy}`);
      return parts.join("/");
    },
  },
  {
    id: "cut",
    label: "cut",
    help: "w x h x dx x dy: the rectangle whose top-left corner is (dx, dy).",
    fields: [{ name: "rect", type: "text", placeholder: "200x200x10x10" }],
    rule: (v) => (has(v.rect) ? `cut/${v.rect.trim()}` : ""),
  },
  {
    id: "scrop",
    label: "scrop",
    help: "WxH: scale to cover, keep the most interesting window.",
    fields: [{ name: "size", type: "text", placeholder: "300x300" }],
    rule: (v) => (has(v.size) ? `scrop/${v.size.trim()}` : ""),
  },
  {
    id: "iradius",
    label: "iradius",
    help: "Radius of the inscribed disc kept.",
    fields: [{ name: "r", type: "number", min: 1, placeholder: "r" }],
    rule: (v) => (has(v.r) ? `iradius/${v.r}` : ""),
  },
  {
    id: "rradius",
    label: "rradius",
    help: "Radius of the rounded corners.",
    fields: [{ name: "r", type: "number", min: 1, placeholder: "r" }],
    rule: (v) => (has(v.r) ? `rradius/${v.r}` : ""),
  },
  {
    id: "rotate",
    label: "rotate",
    help: "Degrees clockwise, 0-360.",
    fields: [{ name: "deg", type: "number", min: 0, max: 360, placeholder: "90" }],
    rule: (v) => (has(v.deg) ? `rotate/${v.deg}` : ""),
  },
  {
    id: "flip",
    label: "flip",
    help: "vertical: upside down; horizontal: mirror.",
    fields: [{ name: "axis", type: "select", options: [["", "(none)"], ["vertical", "vertical"], ["horizontal", "horizontal"]] }],
    rule: (v) => (has(v.axis) ? `flip/${v.axis}` : ""),
  },
  {
    id: "blur",
    label: "blur",
    help: "radius x sigma, each 1-50.",
    fields: [
      { name: "radius", type: "number", min: 1, max: 50, placeholder: "radius" },
      { name: "sigma", type: "number", min: 1, max: 50, placeholder: "sigma" },
    ],
    rule: (v) => (has(v.radius) && has(v.sigma) ? `blur/${v.radius}x${v.sigma}` : ""),
  },
  {
    id: "sharpen",
    label: "sharpen",
    help: "10-300 (70 is a good start).",
    fields: [{ name: "v", type: "number", min: 10, max: 300, placeholder: "70" }],
    rule: (v) => (has(v.v) ? `sharpen/${v.v}` : ""),
  },
  {
    id: "bright",
    label: "bright",
    help: "-100..100.",
    fields: [{ name: "v", type: "number", min: -100, max: 100, placeholder: "0" }],
    rule: (v) => (has(v.v) ? `bright/${v.v}` : ""),
  },
  {
    id: "contrast",
    label: "contrast",
    help: "-100..100.",
    fields: [{ name: "v", type: "number", min: -100, max: 100, placeholder: "0" }],
    rule: (v) => (has(v.v) ? `contrast/${v.v}` : ""),
  },
  {
    id: "grayscale",
    label: "grayscale",
    help: "Grey output.",
    fields: [{ name: "on", type: "check" }],
    rule: (v) => (v.on ? "grayscale/1" : ""),
  },
  {
    id: "cgif",
    label: "cgif",
    help: "Keep the first N frames of an animation.",
    fields: [{ name: "frames", type: "number", min: 1, placeholder: "N" }],
    rule: (v) => (has(v.frames) ? `cgif/${v.frames}` : ""),
  },
  {
    id: "format",
    label: "format",
    help: "Output format.",
    fields: [
      {
        name: "format",
        type: "select",
        options: [["", "(as source)"], ...["jpg", "yjpeg", "png", "webp", "gif", "bmp", "heif", "avif"].map((f) => [f, f])],
      },
    ],
    rule: (v) => (has(v.format) ? `format/${v.format}` : ""),
  },
  {
    id: "quality",
    label: "quality",
    help: "quality: absolute; rquality: relative to the source's; lquality: at least.",
    fields: [
      { name: "kind", type: "select", options: [["quality", "quality"], ["rquality", "rquality"], ["lquality", "lquality"]] },
      { name: "q", type: "number", min: 1, max: 100, placeholder: "1-100" },
    ],
    rule: (v) => (has(v.q) ? `${v.kind || "quality"}/${v.q}` : ""),
  },
  {
    id: "interlace",
    label: "interlace",
    help: "Progressive JPEG.",
    fields: [{ name: "on", type: "check" }],
    rule: (v) => (v.on ? "interlace/1" : ""),
  },
  {
    id: "strip",
    label: "strip",
    help: "Drop EXIF and other metadata.",
    fields: [{ name: "on", type: "check" }],
    rule: (v) => (v.on ? "strip" : ""),
  },
  {
    id: "size-limit",
    label: "size-limit",
    help: "Largest output, e.g. 15k or 1m; ! keeps the original when it is smaller.",
    fields: [
      { name: "limit", type: "text", placeholder: "15k" },
      { name: "original", type: "check", label: "!" },
    ],
    rule: (v) => (has(v.limit) ? `size-limit/${v.limit.trim()}${v.original ? "!" : ""}` : ""),
  },
  {
    id: "ignore-error",
    label: "ignore-error",
    help: "Answer the original when the image is over a limit.",
    fields: [{ name: "on", type: "check" }],
    rule: (v) => (v.on ? "ignore-error/1" : ""),
  },
];

/** The imageMogr2 rule for the form's values (operation id -> field values). */
export function buildRule(values) {
  const parts = OPERATIONS.map((op) => op.rule(values[op.id] || {})).filter(Boolean);
  return parts.length ? `imageMogr2/${parts.join("/")}` : "";
}
