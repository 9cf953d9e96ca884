#!/usr/bin/env bash
# Fuzzes mogr's parsers and decoders with cargo-fuzz (libFuzzer + AddressSanitizer) and prints
# executions, coverage and findings per target. See docs/robustness.md.
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#   SECONDS_PER_TARGET  default 60; `scripts/fuzz.sh 600` runs every target for 10 minutes
#   TARGET              default: every target in fuzz/Cargo.toml (`cargo fuzz list`)
# Environment:
#   MOGR_FUZZ_JOBS        targets run at once (default 2)
#   MOGR_FUZZ_NICE        niceness of the fuzzers (default 15)
#   MOGR_FUZZ_EXTRA_SEEDS folders whose small images (<= 64 KiB) join the decoder corpora
#   MOGR_FUZZ_TARGET_DIR  cargo target dir of the fuzz build (default $CARGO_TARGET_DIR/fuzz,
#                         or target/fuzz), kept apart from the main build's
#   MOGR_FUZZ_SANITIZER   cargo-fuzz sanitizer: address (default) or none (builds and runs
#                         several times faster; see docs/robustness.md for what it gives up)
# Needs the nightly toolchain and cargo-fuzz (`rustup toolchain install nightly`,
# `cargo install cargo-fuzz`). Corpora grow in fuzz/corpus/<target>, findings land in
# fuzz/artifacts/<target>, logs in fuzz/logs; none of them is committed. Reproduce a finding with
# `cargo +nightly fuzz run <target> fuzz/artifacts/<target>/<file>`.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)

seconds=${1:-60}
shift $(($# > 0 ? 1 : 0))
[[ $seconds =~ ^[0-9]+$ ]] || { sed -n '2,19p' "$0"; exit 2; }
jobs=${MOGR_FUZZ_JOBS:-2}
niceness=${MOGR_FUZZ_NICE:-15}
fuzz_target_dir=${MOGR_FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:-$ROOT/target}/fuzz}
sanitizer=${MOGR_FUZZ_SANITIZER:-address}

if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "fuzz: needs the nightly toolchain and cargo-fuzz:" >&2
    echo "  rustup toolchain install nightly && cargo install cargo-fuzz" >&2
    exit 1
fi

if (($#)); then
    targets=("$@")
else
    mapfile -t targets < <(cd fuzz && cargo +nightly fuzz list)
fi

# Seeds: images from our own encoders for the decoders, hand-written samples for the parsers.
# Existing corpus files stay, so a second run continues where the first one stopped.
write_text_seeds() {
    local dir=fuzz/corpus/$1
    shift
    mkdir -p "$dir"
    local i=0 seed
    for seed in "$@"; do
        printf '%s' "$seed" >"$dir/seed-$i"
        i=$((i + 1))
    done
}

echo "==> seed corpora"
# shellcheck disable=SC2086 # MOGR_FUZZ_EXTRA_SEEDS is a list of folders
cargo run -q -p mogr-image --example fuzz_seeds -- fuzz/corpus ${MOGR_FUZZ_EXTRA_SEEDS:-} || exit 1
write_text_seeds rule \
    'imageMogr2/thumbnail/!50p/format/webp/quality/80' \
    'imageMogr2/crop/300x400/gravity/center/rotate/90/blur/8x5' \
    'imageMogr2/cut/100x100x10x10|imageMogr2/format/png|imageInfo' \
    'imageMogr2/scrop/200x200/iradius/30/rradius/20/sharpen/1' \
    'imageView2/1/w/200/h/100/format/jpg/q/75' \
    'imageMogr2/auto-orient/strip/interlace/1/format/jpg/size-limit/15k!' \
    'imageMogr2/thumbnail/300x300>/bright/20/contrast/-10/grayscale/1' \
    'imageMogr2/format/gif/cgif/32/ignore-error/1' \
    'imageMogr2%2Fthumbnail%2F100x%7CimageInfo' \
    'imageMogr2/pad/1/thumbnail/200x200/color/I0ZGMDAwMA==' \
    'imageAve' 'exif' 'imageMogr2/flip/vertical/rquality/60'
write_text_seeds presigned_query \
    'q-sign-algorithm=sha1&q-ak=AKIDtest&q-sign-time=1700000000%3B1700003600&q-key-time=1700000000%3B1700003600&q-header-list=host&q-url-param-list=imagemogr2%252fthumbnail%252f100x&q-signature=0123456789abcdef0123456789abcdef01234567&imageMogr2/thumbnail/100x' \
    'sign=q-sign-algorithm%3Dsha1%26q-ak%3DAKIDtest%26q-sign-time%3D1700000000%3B1700003600%26q-key-time%3D1700000000%3B1700003600%26q-header-list%3D%26q-url-param-list%3D%26q-signature%3Dab' \
    'response-content-type=text%2Fplain&versionId=1&x-cos-security-token=t&imageMogr2%2Fformat%2Fpng=' \
    'fill%2FI0ZGRkZGRg%3D%3D=&watermark/2/text/aGk=&acl&uploads&partNumber=1&uploadId=abc' \
    'imageInfo&q-ak=x&q-signature=&q-sign-time=1%3B2'
write_text_seeds cos_auth \
    'q-sign-algorithm=sha1&q-ak=AKIDtest&q-sign-time=1700000000;1700003600&q-key-time=1700000000;1700003600&q-header-list=content-type;host&q-url-param-list=acl;imagemogr2%2fthumbnail%2f10x;versionid&q-signature=0123456789abcdef0123456789abcdef01234567' \
    'q-sign-algorithm=sha1&q-ak=AKIDtest&q-sign-time=1700000000%3B1700003600&q-header-list=x-cos-meta-a&q-url-param-list=&q-signature=ab' \
    'Q-Sign-Algorithm=SHA1 & q-ak = k & q-key-time=1700000000;1700003600 & q-signature=AB' \
    'q-sign-algorithm=hmac-sha256&q-ak=k'
write_text_seeds pic_operations \
    '{"is_pic_info":1,"rules":[{"fileid":"out/a.webp","rule":"imageMogr2/format/webp"}]}' \
    '{"is_pic_info":"0","rules":[{"fileid":"/abs/b.png","rule":"imageMogr2/thumbnail/100x/format/png","bucket":"other-1250000000"},{"fileid":"../c.jpg","rule":"imageView2/2/w/50"}]}' \
    '{"is_pic_info":true,"rules":[{"fileid":"./x/../y.gif","rule":"imageMogr2/format/gif/cgif/8"}]}' \
    '{"rules":null}'
write_text_seeds xml_bodies \
    '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"d41d8cd98f00b204e9800998ecf8427e"</ETag></Part><Part><PartNumber>2</PartNumber><ETag>abc</ETag></Part></CompleteMultipartUpload>' \
    '<?xml version="1.0" encoding="UTF-8"?><Delete><Quiet>true</Quiet><Object><Key>a.jpg</Key></Object><Object><Key>dir/&amp;b</Key></Object></Delete>' \
    '<AccessControlPolicy><Owner><ID>qcs::cam::uin/1:uin/1</ID></Owner><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>http://cam.qcloud.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>' \
    '<Delete><Object><Key><![CDATA[x]]></Key></Object></Delete>'
# The sniffer sees every format.
mkdir -p fuzz/corpus/sniff
for dir in fuzz/corpus/decode_*; do
    [[ -d $dir ]] && cp -n "$dir"/* fuzz/corpus/sniff/ 2>/dev/null
done

echo "==> build ($fuzz_target_dir)"
(cd fuzz && nice -n "$niceness" cargo +nightly fuzz build --codegen-units 16 \
    --sanitizer "$sanitizer" --target-dir "$fuzz_target_dir") || exit 1

# Bigger inputs for the image decoders, a few KiB for the text parsers.
max_len() {
    case $1 in
    decode_* | sniff) echo 65536 ;;
    *) echo 8192 ;;
    esac
}

# One target for `seconds`; libFuzzer's fork mode keeps going after a finding, so one crash
# does not end the run. Findings are counted as the artifact files the run adds.
run_target() {
    local t=$1 log=fuzz/logs/$1.log artifacts=fuzz/artifacts/$1
    mkdir -p fuzz/corpus/"$t" "$artifacts"
    local before
    before=$(find "$artifacts" -type f | wc -l)
    nice -n "$niceness" cargo +nightly fuzz run --codegen-units 16 --sanitizer "$sanitizer" \
        --target-dir "$fuzz_target_dir" \
        --fuzz-dir fuzz "$t" "fuzz/corpus/$t" -- \
        -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=20 -rss_limit_mb=2048 \
        -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
        -artifact_prefix="$artifacts/" >"$log" 2>&1
    local after
    after=$(find "$artifacts" -type f | wc -l)
    echo "$((after - before))" >"fuzz/logs/$t.findings"
    echo "    done: $t"
}

mkdir -p fuzz/logs
echo "==> fuzzing ${#targets[@]} targets, ${seconds}s each, $jobs at a time"
running=0
for t in "${targets[@]}"; do
    if ((running >= jobs)); then
        wait -n
        running=$((running - 1))
    fi
    run_target "$t" &
    running=$((running + 1))
done
wait

echo
printf '%-16s %12s %8s %8s %8s  %s\n' target executions cov ft corpus findings
for t in "${targets[@]}"; do
    # libFuzzer's status lines: `#<execs>[: ]... cov: N ft: N corp: N/...`; the last one counts.
    line=$(grep -aE '^#[0-9]+.*cov: [0-9]+ ft: [0-9]+' "fuzz/logs/$t.log" | tail -n 1)
    execs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$line")
    cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$line")
    ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$line")
    corp=$(find "fuzz/corpus/$t" -type f | wc -l)
    findings=$(cat "fuzz/logs/$t.findings" 2>/dev/null || echo '?')
    list=$(ls "fuzz/artifacts/$t" 2>/dev/null | head -n 3 | tr '\n' ' ')
    printf '%-16s %12s %8s %8s %8s  %s %s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$corp" \
        "$findings" "$list"
done
