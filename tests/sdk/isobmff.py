"""Just enough ISOBMFF (HEIF/AVIF container) reading to check what a server produced:
the `ftyp` brands and the primary image's `ispe` (width, height), without decoding pixels."""

import struct
from dataclasses import dataclass


@dataclass
class HeifSummary:
    """The container facts a test asserts on."""

    major_brand: str
    compatible_brands: list
    primary_size: tuple  # (width, height) of the primary item


def _boxes(data: bytes, start: int = 0, end: int | None = None):
    """Yields (type, payload_start, payload_end) for the boxes between start and end."""
    end = len(data) if end is None else end
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", data[pos + 8 : pos + 16])
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise ValueError(f"truncated box {kind!r} at {pos}")
        yield kind.decode("latin-1"), pos + header, pos + size
        pos += size


def _child(data, start, end, kind):
    for k, s, e in _boxes(data, start, end):
        if k == kind:
            return s, e
    raise ValueError(f"no {kind} box")


def summarize(data: bytes) -> HeifSummary:
    """Reads ftyp and the primary item's ispe; raises ValueError on a malformed file."""
    boxes = list(_boxes(data))
    if not boxes or boxes[0][0] != "ftyp":
        raise ValueError("not ISOBMFF: the first box is not ftyp")
    _, s, e = boxes[0]
    major = data[s : s + 4].decode("latin-1")
    compatible = [data[i : i + 4].decode("latin-1") for i in range(s + 8, e - 3, 4)]

    meta_s, meta_e = _child(data, 0, len(data), "meta")
    meta_s += 4  # FullBox: version + flags
    pitm_s, _ = _child(data, meta_s, meta_e, "pitm")
    if data[pitm_s] == 0:  # version 0: 16-bit item ids
        (primary,) = struct.unpack(">H", data[pitm_s + 4 : pitm_s + 6])
    else:
        (primary,) = struct.unpack(">I", data[pitm_s + 4 : pitm_s + 8])

    iprp_s, iprp_e = _child(data, meta_s, meta_e, "iprp")
    ipco_s, ipco_e = _child(data, iprp_s, iprp_e, "ipco")
    properties = list(_boxes(data, ipco_s, ipco_e))
    ipma_s, _ = _child(data, iprp_s, iprp_e, "ipma")
    version, flags = data[ipma_s], int.from_bytes(data[ipma_s + 1 : ipma_s + 4], "big")
    pos = ipma_s + 4
    (count,) = struct.unpack(">I", data[pos : pos + 4])
    pos += 4
    for _ in range(count):
        if version < 1:
            (item,) = struct.unpack(">H", data[pos : pos + 2])
            pos += 2
        else:
            (item,) = struct.unpack(">I", data[pos : pos + 4])
            pos += 4
        n = data[pos]
        pos += 1
        indices = []
        for _ in range(n):
            if flags & 1:
                indices.append(struct.unpack(">H", data[pos : pos + 2])[0] & 0x7FFF)
                pos += 2
            else:
                indices.append(data[pos] & 0x7F)
                pos += 1
        if item == primary:
            for index in indices:
                kind, ps, _pe = properties[index - 1]  # 1-based; 0 means "no property"
                if index and kind == "ispe":
                    width, height = struct.unpack(">II", data[ps + 4 : ps + 12])
                    return HeifSummary(major, compatible, (width, height))
    raise ValueError("the primary item has no ispe property")
