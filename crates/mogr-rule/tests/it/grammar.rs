//! The grammar as a client sees it: rule strings in, pipelines or named errors out.

use mogr_rule::{
    is_processing_key, parse, MogrStage, Op, OutputFormat, Pipeline, QualitySpec, RuleError, Stage,
    MAX_STAGES,
};

/// Parse a rule that must be a single imageMogr2 stage.
fn mogr(rule: &str) -> MogrStage {
    match parse(rule) {
        Ok(Pipeline { mut stages }) if stages.len() == 1 => match stages.remove(0) {
            Stage::Mogr(stage) => stage,
            other => panic!("{rule}: expected an imageMogr2 stage, got {other:?}"),
        },
        other => panic!("{rule}: expected one stage, got {other:?}"),
    }
}

fn ops(rule: &str) -> Vec<Op> {
    mogr(rule).ops
}

fn invalid(op: &str, arg: &str) -> RuleError {
    RuleError::InvalidArgument {
        op: op.to_owned(),
        arg: arg.to_owned(),
    }
}

#[test]
fn every_format_name_case_insensitively() {
    let cases = [
        ("jpg", OutputFormat::Jpeg),
        ("jpeg", OutputFormat::Jpeg),
        ("png", OutputFormat::Png),
        ("bmp", OutputFormat::Bmp),
        ("gif", OutputFormat::Gif),
        ("webp", OutputFormat::Webp),
        ("yjpeg", OutputFormat::Yjpeg),
        ("heif", OutputFormat::Heif),
        ("heic", OutputFormat::Heic),
        ("avif", OutputFormat::Avif),
        ("tpg", OutputFormat::Tpg),
    ];
    for (name, format) in cases {
        assert_eq!(
            ops(&format!("imageMogr2/format/{name}")),
            [Op::Format(format)]
        );
        let upper = name.to_ascii_uppercase();
        assert_eq!(
            ops(&format!("imageMogr2/format/{upper}")),
            [Op::Format(format)]
        );
    }
    assert_eq!(
        ops("imageMogr2/format/WebP"),
        [Op::Format(OutputFormat::Webp)]
    );
    for bad in ["jxl", "tiff", "pn", "png ", ""] {
        assert_eq!(
            parse(&format!("imageMogr2/format/{bad}/strip")),
            Err(invalid("format", bad)),
            "{bad:?}"
        );
    }
}

#[test]
fn cgif_accepts_1_to_100() {
    assert_eq!(ops("imageMogr2/cgif/1"), [Op::Cgif(1)]);
    assert_eq!(ops("imageMogr2/cgif/100"), [Op::Cgif(100)]);
    assert_eq!(ops("imageMogr2/cgif/007"), [Op::Cgif(7)]);
    for bad in ["0", "101", "256", "-1", "+5", "5x", "99999999999999999999"] {
        assert_eq!(
            parse(&format!("imageMogr2/cgif/{bad}")),
            Err(invalid("cgif", bad))
        );
    }
}

#[test]
fn interlace_and_ignore_error_take_0_or_1() {
    assert_eq!(ops("imageMogr2/interlace/1"), [Op::Interlace(true)]);
    assert_eq!(ops("imageMogr2/interlace/0"), [Op::Interlace(false)]);
    assert_eq!(
        parse("imageMogr2/interlace/2"),
        Err(invalid("interlace", "2"))
    );
    assert_eq!(
        parse("imageMogr2/interlace/true"),
        Err(invalid("interlace", "true"))
    );

    let on = mogr("imageMogr2/ignore-error/1");
    assert!(on.ignore_error);
    assert!(on.ops.is_empty(), "ignore-error is a stage flag, not an op");
    assert!(!mogr("imageMogr2/ignore-error/0").ignore_error);
    assert!(!mogr("imageMogr2/format/png").ignore_error);
    assert_eq!(
        parse("imageMogr2/ignore-error/2"),
        Err(invalid("ignore-error", "2"))
    );
}

#[test]
fn ignore_error_counts_anywhere_in_the_stage() {
    let first = mogr("imageMogr2/ignore-error/1/format/png/quality/80");
    let middle = mogr("imageMogr2/format/png/ignore-error/1/quality/80");
    let last = mogr("imageMogr2/format/png/quality/80/ignore-error/1");
    for stage in [&first, &middle, &last] {
        assert!(stage.ignore_error);
        assert_eq!(stage.format(), Some(OutputFormat::Png));
    }
    assert!(mogr("imageMogr2/ignore-error/1/ignore-error/0").ignore_error);
}

#[test]
fn the_three_quality_forms() {
    assert_eq!(
        ops("imageMogr2/quality/80"),
        [Op::Quality(QualitySpec::Absolute {
            value: 80,
            force: false
        })]
    );
    assert_eq!(
        ops("imageMogr2/quality/80!"),
        [Op::Quality(QualitySpec::Absolute {
            value: 80,
            force: true
        })]
    );
    assert_eq!(
        ops("imageMogr2/quality/0"),
        [Op::Quality(QualitySpec::Absolute {
            value: 0,
            force: false
        })]
    );
    assert_eq!(
        ops("imageMogr2/quality/100!"),
        [Op::Quality(QualitySpec::Absolute {
            value: 100,
            force: true
        })]
    );
    assert_eq!(
        ops("imageMogr2/rquality/1"),
        [Op::Quality(QualitySpec::Relative(1))]
    );
    assert_eq!(
        ops("imageMogr2/rquality/100"),
        [Op::Quality(QualitySpec::Relative(100))]
    );
    assert_eq!(
        ops("imageMogr2/lquality/0"),
        [Op::Quality(QualitySpec::Floor(0))]
    );
    assert_eq!(
        ops("imageMogr2/lquality/100"),
        [Op::Quality(QualitySpec::Floor(100))]
    );

    for bad in ["101", "101!", "!", "80!!", "!80", "-1", " 80", "8.5", "x"] {
        assert_eq!(
            parse(&format!("imageMogr2/quality/{bad}")),
            Err(invalid("quality", bad))
        );
    }
    assert_eq!(
        parse("imageMogr2/rquality/0"),
        Err(invalid("rquality", "0"))
    );
    assert_eq!(
        parse("imageMogr2/rquality/80!"),
        Err(invalid("rquality", "80!"))
    );
    assert_eq!(
        parse("imageMogr2/lquality/101"),
        Err(invalid("lquality", "101"))
    );
}

#[test]
fn flags_take_no_argument() {
    assert_eq!(ops("imageMogr2/strip"), [Op::Strip]);
    assert_eq!(ops("imageMogr2/auto-orient"), [Op::AutoOrient]);
    assert_eq!(
        ops("imageMogr2/auto-orient/strip/format/png"),
        [Op::AutoOrient, Op::Strip, Op::Format(OutputFormat::Png)]
    );
    // A value after a flag is read as the next operation, and it is not one.
    assert_eq!(
        parse("imageMogr2/strip/1"),
        Err(RuleError::UnknownOperation("1".into()))
    );
}

#[test]
fn ops_keep_url_order() {
    assert_eq!(
        ops("imageMogr2/quality/70/format/webp/interlace/1/cgif/20/strip/auto-orient"),
        [
            Op::Quality(QualitySpec::Absolute {
                value: 70,
                force: false
            }),
            Op::Format(OutputFormat::Webp),
            Op::Interlace(true),
            Op::Cgif(20),
            Op::Strip,
            Op::AutoOrient,
        ]
    );
}

#[test]
fn accessors_report_the_last_setting() {
    let stage = mogr(
        "imageMogr2/format/png/quality/50/interlace/1/cgif/3/format/jpg/rquality/80/interlace/0/cgif/9",
    );
    assert_eq!(stage.format(), Some(OutputFormat::Jpeg));
    assert_eq!(stage.quality(), Some(QualitySpec::Relative(80)));
    assert!(!stage.interlace());
    assert_eq!(stage.cgif(), Some(9));
    assert!(!stage.strip());
    assert!(!stage.auto_orient());

    let stage = mogr("imageMogr2/strip/lquality/60/auto-orient/interlace/1");
    assert_eq!(stage.format(), None);
    assert_eq!(stage.quality(), Some(QualitySpec::Floor(60)));
    assert!(stage.interlace());
    assert_eq!(stage.cgif(), None);
    assert!(stage.strip());
    assert!(stage.auto_orient());

    let bare = mogr("imageMogr2");
    assert!(bare.ops.is_empty());
    assert_eq!(
        (bare.format(), bare.quality(), bare.interlace()),
        (None, None, false)
    );
}

#[test]
fn info_processors_take_no_arguments() {
    assert_eq!(parse("imageInfo").unwrap().stages, [Stage::ImageInfo]);
    assert_eq!(parse("imageAve").unwrap().stages, [Stage::ImageAve]);
    assert_eq!(parse("exif").unwrap().stages, [Stage::Exif]);
    assert_eq!(parse("imageInfo/").unwrap().stages, [Stage::ImageInfo]);
    assert_eq!(parse("exif//").unwrap().stages, [Stage::Exif]);
    assert_eq!(parse("imageAve/x"), Err(invalid("imageAve", "x")));
    assert_eq!(parse("exif/format/png"), Err(invalid("exif", "format")));
}

#[test]
fn pipes_chain_stages_left_to_right() {
    let pipeline = parse("imageMogr2/format/png|imageMogr2/quality/80|imageInfo").unwrap();
    assert_eq!(
        pipeline.stages,
        [
            Stage::Mogr(MogrStage {
                ops: vec![Op::Format(OutputFormat::Png)],
                ignore_error: false,
            }),
            Stage::Mogr(MogrStage {
                ops: vec![Op::Quality(QualitySpec::Absolute {
                    value: 80,
                    force: false
                })],
                ignore_error: false,
            }),
            Stage::ImageInfo,
        ]
    );
}

#[test]
fn at_most_ten_stages() {
    let ten = ["imageMogr2/strip"; MAX_STAGES].join("|");
    assert_eq!(parse(&ten).unwrap().stages.len(), 10);
    let eleven = ["imageMogr2/strip"; MAX_STAGES + 1].join("|");
    assert_eq!(parse(&eleven), Err(RuleError::TooManyStages(11)));
    let encoded = ["imageMogr2%2Fstrip"; 12].join("%7C");
    assert_eq!(parse(&encoded), Err(RuleError::TooManyStages(12)));
}

#[test]
fn trailing_slashes_are_tolerated() {
    assert_eq!(
        ops("imageMogr2/format/png/"),
        [Op::Format(OutputFormat::Png)]
    );
    assert_eq!(ops("imageMogr2/strip//"), [Op::Strip]);
    assert_eq!(ops("imageMogr2/"), []);
    assert_eq!(
        parse("imageMogr2/format/png/|imageInfo/")
            .unwrap()
            .stages
            .len(),
        2
    );
    // The slash before a missing argument does not count as an (empty) argument.
    assert_eq!(
        parse("imageMogr2/format/"),
        Err(RuleError::MissingArgument("format".into()))
    );
}

#[test]
fn an_empty_segment_mid_rule_is_an_error() {
    assert_eq!(
        parse("imageMogr2//strip"),
        Err(RuleError::UnknownOperation(String::new()))
    );
    assert_eq!(
        parse("imageMogr2/format//strip"),
        Err(invalid("format", ""))
    );
    assert_eq!(
        parse("/imageMogr2/strip"),
        Err(RuleError::UnknownProcessor(String::new()))
    );
}

#[test]
fn percent_encoded_rules_decode_before_splitting() {
    assert_eq!(
        ops("imageMogr2%2Fformat%2Fpng"),
        [Op::Format(OutputFormat::Png)]
    );
    assert_eq!(
        ops("imageMogr2%2fformat%2fpng%2F"),
        [Op::Format(OutputFormat::Png)]
    );
    assert_eq!(
        ops("imageMogr2%2Fquality%2F90%21"),
        [Op::Quality(QualitySpec::Absolute {
            value: 90,
            force: true
        })]
    );
    assert_eq!(
        parse("imageMogr2%2Fstrip%7CimageInfo").unwrap().stages,
        [
            Stage::Mogr(MogrStage {
                ops: vec![Op::Strip],
                ignore_error: false
            }),
            Stage::ImageInfo
        ]
    );
    // `>` / `<` arrive encoded from strict clients; the decoded token is what gets reported.
    assert_eq!(
        parse("imageMogr2/%3Cx%3E"),
        Err(RuleError::UnknownOperation("<x>".into()))
    );
    assert_eq!(
        parse("imageMogr2%2Fthumbnail%2F200x200%3E"),
        Err(RuleError::Unsupported("thumbnail".into()))
    );
    // Escapes that are not `%XX` stay literal.
    assert_eq!(
        parse("imageMogr2/%zz"),
        Err(RuleError::UnknownOperation("%zz".into()))
    );
}

#[test]
fn plus_is_not_a_space_here() {
    assert_eq!(
        parse("imageMogr2/format/png+"),
        Err(invalid("format", "png+"))
    );
    assert_eq!(
        parse("imageMogr2/format/%2Bpng"),
        Err(invalid("format", "+png"))
    );
    assert_eq!(
        parse("imageMogr2/quality/+80"),
        Err(invalid("quality", "+80"))
    );
}

#[test]
fn base64_padding_survives() {
    assert_eq!(
        parse("imageMogr2/I0ZGRkZGRg=="),
        Err(RuleError::UnknownOperation("I0ZGRkZGRg==".into()))
    );
    assert_eq!(
        parse("imageMogr2/format/png="),
        Err(invalid("format", "png="))
    );
    assert_eq!(
        parse(
            "imageMogr2/format/png|watermark/2/text/5pWw5o2u5LiH6LGh/fill/I0ZGRkZGRg==/fontsize/30"
        ),
        Err(RuleError::Unsupported("watermark".into()))
    );
}

#[test]
fn undecodable_input_is_invalid_encoding() {
    for rule in [
        "%FF",
        "imageMogr2/format/%C3%28",
        "imageMogr2%2F%E2%82",
        "imageInfo%80",
    ] {
        assert_eq!(parse(rule), Err(RuleError::InvalidEncoding), "{rule}");
    }
    // Raw (already decoded) non-ASCII is valid UTF-8 and is judged by the grammar.
    assert_eq!(
        parse("imageMogr2/é"),
        Err(RuleError::UnknownOperation("é".into()))
    );
}

#[test]
fn empty_rules_and_stages() {
    for rule in [
        "",
        "|",
        "/",
        "%7C",
        "imageMogr2/strip||imageInfo",
        "imageMogr2/strip|",
        "|imageInfo",
    ] {
        assert_eq!(parse(rule), Err(RuleError::Empty), "{rule:?}");
    }
}

#[test]
fn processor_names_are_exact() {
    for name in [
        "imagemogr2",
        "ImageMogr2",
        "imageMogr",
        "imageinfo",
        "EXIF",
        "foo",
        " imageMogr2",
    ] {
        assert_eq!(
            parse(&format!("{name}/strip")),
            Err(RuleError::UnknownProcessor(name.to_owned()))
        );
    }
}

#[test]
fn op_names_are_exact() {
    for name in ["Format", "STRIP", "autoorient", "auto_orient", "bogus"] {
        assert_eq!(
            parse(&format!("imageMogr2/{name}/png")),
            Err(RuleError::UnknownOperation(name.to_owned()))
        );
    }
}

#[test]
fn known_but_unexecuted_processors_are_unsupported() {
    for rule in [
        "imageView2/1/w/200/h/200",
        "imageView2/format/png",
        "watermark/1/image/aHR0cDovL2V4YW1wbGUuY29t",
        "style/thumb",
        "ci-process/QRcode",
        "imageSlim",
    ] {
        let name = rule.split('/').next().unwrap();
        assert_eq!(
            parse(rule),
            Err(RuleError::Unsupported(name.to_owned())),
            "{rule}"
        );
    }
}

#[test]
fn known_but_unexecuted_ops_are_unsupported() {
    for rule in [
        "thumbnail/!50p",
        "thumbnail/200x",
        "crop/256x256",
        "cut/10x10x0x0",
        "gravity/center",
        "iradius/20",
        "rradius/20",
        "scrop/100x100",
        "rcrop/1x2",
        "rotate/90",
        "flip/vertical",
        "blur/3x9",
        "bright/10",
        "contrast/-10",
        "sharpen/70",
        "grayscale/1",
        "size-limit/15k!",
        "pad/1",
        "color/IzNEM0QzRA",
        "minisize/1",
        "egif/1",
        "dx/10",
        "dy/10",
        "tint/IzNEM0QzRA",
    ] {
        let name = rule.split('/').next().unwrap();
        assert_eq!(
            parse(&format!("imageMogr2/format/png/{rule}")),
            Err(RuleError::Unsupported(name.to_owned())),
            "{rule}"
        );
        // Refused even with no argument and even under ignore-error: never silently skipped.
        assert_eq!(
            parse(&format!("imageMogr2/ignore-error/1/{name}")),
            Err(RuleError::Unsupported(name.to_owned()))
        );
    }
}

#[test]
fn missing_arguments_name_the_op() {
    for op in [
        "format",
        "cgif",
        "interlace",
        "quality",
        "rquality",
        "lquality",
        "ignore-error",
    ] {
        assert_eq!(
            parse(&format!("imageMogr2/strip/{op}")),
            Err(RuleError::MissingArgument(op.to_owned())),
            "{op}"
        );
        assert_eq!(
            parse(&format!("imageMogr2/{op}/|imageInfo")),
            Err(RuleError::MissingArgument(op.to_owned()))
        );
    }
}

#[test]
fn the_first_error_in_rule_order_is_reported() {
    assert_eq!(
        parse("imageMogr2/bogus/thumbnail/1x1"),
        Err(RuleError::UnknownOperation("bogus".into()))
    );
    assert_eq!(
        parse("imageMogr2/thumbnail/1x1/bogus"),
        Err(RuleError::Unsupported("thumbnail".into()))
    );
    assert_eq!(
        parse("imageMogr2/quality/101|foo"),
        Err(invalid("quality", "101"))
    );
}

#[test]
fn error_messages_name_the_offending_token() {
    let cases = [
        ("nope/x", "nope"),
        ("imageMogr2/wat", "wat"),
        ("imageMogr2/rotate/90", "rotate"),
        ("imageMogr2/cgif", "cgif"),
        ("imageMogr2/quality/300", "300"),
    ];
    for (rule, token) in cases {
        let message = parse(rule).unwrap_err().to_string();
        assert!(message.contains(&format!("`{token}`")), "{rule}: {message}");
    }
}

#[test]
fn processing_keys_per_spec() {
    for key in [
        "imageMogr2/thumbnail/!50p",
        "imageMogr2",
        "imageView2/format/png",
        "watermark/2/text/abc",
        "imageInfo",
        "imageAve",
        "exif",
        "style/thumb",
        "ci-process=QRcode",
    ] {
        assert!(is_processing_key(key), "{key}");
    }
    for key in [
        "q-sign-algorithm",
        "x-cos-security-token",
        "sign",
        "response-content-type",
        "versionId",
        "image_process",
        "watermark",
        "style",
        "imagemogr2/strip",
        "",
    ] {
        assert!(!is_processing_key(key), "{key}");
    }
}
