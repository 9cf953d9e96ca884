//! The grammar as a client sees it: rule strings in, pipelines or named errors out.

use mogr_rule::{
    is_processing_key, parse, Axis, Gravity, Mark, MogrStage, Op, OutputFormat, OutputSpec,
    Pipeline, QualitySpec, Rgb, RuleError, Stage, ThumbSize, MAX_STAGES,
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

fn output(rule: &str) -> OutputSpec {
    mogr(rule).output
}

fn absolute(value: u8, force: bool) -> Option<QualitySpec> {
    Some(QualitySpec::Absolute { value, force })
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
            output(&format!("imageMogr2/format/{name}")).format,
            Some(format)
        );
        let upper = name.to_ascii_uppercase();
        assert_eq!(
            output(&format!("imageMogr2/format/{upper}")).format,
            Some(format)
        );
    }
    assert_eq!(
        output("imageMogr2/format/WebP").format,
        Some(OutputFormat::Webp)
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
    assert!(output("imageMogr2/interlace/1").interlace);
    assert!(!output("imageMogr2/interlace/0").interlace);
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
        assert_eq!(stage.output.format, Some(OutputFormat::Png));
    }
    assert!(mogr("imageMogr2/ignore-error/1/ignore-error/0").ignore_error);
}

#[test]
fn the_three_quality_forms() {
    let quality = |rule: &str| output(rule).quality;
    assert_eq!(quality("imageMogr2/quality/80"), absolute(80, false));
    assert_eq!(quality("imageMogr2/quality/80!"), absolute(80, true));
    assert_eq!(quality("imageMogr2/quality/0"), absolute(0, false));
    assert_eq!(quality("imageMogr2/quality/100!"), absolute(100, true));
    assert_eq!(
        quality("imageMogr2/rquality/1"),
        Some(QualitySpec::Relative(1))
    );
    assert_eq!(
        quality("imageMogr2/rquality/100"),
        Some(QualitySpec::Relative(100))
    );
    assert_eq!(
        quality("imageMogr2/lquality/0"),
        Some(QualitySpec::Floor(0))
    );
    assert_eq!(
        quality("imageMogr2/lquality/100"),
        Some(QualitySpec::Floor(100))
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
    assert!(output("imageMogr2/strip").strip);
    assert_eq!(ops("imageMogr2/auto-orient"), [Op::AutoOrient]);
    let stage = mogr("imageMogr2/auto-orient/strip/format/png");
    assert_eq!(stage.ops, [Op::AutoOrient]);
    assert!(stage.output.strip);
    assert_eq!(stage.output.format, Some(OutputFormat::Png));
    // A value after a flag is read as the next operation, and it is not one.
    assert_eq!(
        parse("imageMogr2/strip/1"),
        Err(RuleError::UnknownOperation("1".into()))
    );
}

#[test]
fn transforms_keep_url_order_and_output_settings_are_collected() {
    let stage = mogr(
        "imageMogr2/auto-orient/thumbnail/!256x256r/gravity/center/crop/256x256/blur/3x9/quality/80/rotate/45",
    );
    assert_eq!(
        stage.ops,
        [
            Op::AutoOrient,
            Op::Thumbnail {
                size: ThumbSize::Cover {
                    width: 256,
                    height: 256
                },
                pad: None
            },
            Op::Crop {
                width: Some(256),
                height: Some(256),
                gravity: Gravity::Center,
                dx: 0,
                dy: 0
            },
            Op::Blur {
                radius: 3,
                sigma: 9
            },
            Op::Rotate(45),
        ]
    );
    assert_eq!(stage.output.quality, absolute(80, false));

    let stage = mogr(
        "imageMogr2/quality/70/format/webp/flip/vertical/interlace/1/cgif/20/strip/size-limit/15k!/grayscale/1",
    );
    assert_eq!(
        stage.ops,
        [Op::Flip(Axis::Vertical), Op::Cgif(20), Op::Grayscale(true)]
    );
    assert_eq!(
        stage.output,
        OutputSpec {
            format: Some(OutputFormat::Webp),
            quality: absolute(70, false),
            interlace: true,
            strip: true,
            size_limit: Some(mogr_rule::SizeLimit {
                bytes: 15 * 1024,
                original_if_larger: true
            }),
        }
    );
}

#[test]
fn the_last_output_setting_wins() {
    let stage = mogr(
        "imageMogr2/format/png/quality/50/interlace/1/cgif/3/format/jpg/rquality/80/interlace/0/cgif/9",
    );
    assert_eq!(stage.output.format, Some(OutputFormat::Jpeg));
    assert_eq!(stage.output.quality, Some(QualitySpec::Relative(80)));
    assert!(!stage.output.interlace);
    assert_eq!(stage.cgif(), Some(9));
    assert!(!stage.output.strip);

    let bare = mogr("imageMogr2");
    assert!(bare.ops.is_empty());
    assert_eq!(bare.output, OutputSpec::default());
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
                output: OutputSpec {
                    format: Some(OutputFormat::Png),
                    ..OutputSpec::default()
                },
                ..MogrStage::default()
            }),
            Stage::Mogr(MogrStage {
                output: OutputSpec {
                    quality: absolute(80, false),
                    ..OutputSpec::default()
                },
                ..MogrStage::default()
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
        output("imageMogr2/format/png/").format,
        Some(OutputFormat::Png)
    );
    assert!(output("imageMogr2/strip//").strip);
    assert_eq!(mogr("imageMogr2/"), MogrStage::default());
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
        output("imageMogr2%2Fformat%2Fpng").format,
        Some(OutputFormat::Png)
    );
    assert_eq!(
        output("imageMogr2%2fformat%2fpng%2F").format,
        Some(OutputFormat::Png)
    );
    assert_eq!(
        output("imageMogr2%2Fquality%2F90%21").quality,
        absolute(90, true)
    );
    let stages = parse("imageMogr2%2Fstrip%7CimageInfo").unwrap().stages;
    assert_eq!(stages.len(), 2);
    assert!(matches!(&stages[0], Stage::Mogr(m) if m.output.strip));
    assert_eq!(stages[1], Stage::ImageInfo);
    // `>` / `<` arrive encoded from strict clients.
    assert_eq!(
        ops("imageMogr2%2Fthumbnail%2F200x200%3E"),
        [Op::Thumbnail {
            size: ThumbSize::Shrink {
                width: 200,
                height: 200
            },
            pad: None
        }]
    );
    assert_eq!(
        ops("imageMogr2/thumbnail/200x200%3c"),
        ops("imageMogr2/thumbnail/200x200<")
    );
    // The decoded token is what gets reported.
    assert_eq!(
        parse("imageMogr2/%3Cx%3E"),
        Err(RuleError::UnknownOperation("<x>".into()))
    );
    assert_eq!(
        parse("imageMogr2/thumbnail/200x200%3E%3E"),
        Err(invalid("thumbnail", "200x200>>"))
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
    let piped = parse(
        "imageMogr2/format/png|watermark/2/text/5pWw5o2u5LiH6LGh/fill/I0ZGRkZGRg==/fontsize/30",
    )
    .unwrap();
    let Stage::Watermark(w) = &piped.stages[1] else {
        panic!("{piped:?}")
    };
    let Mark::Text(text) = &w.mark else {
        panic!("{w:?}")
    };
    assert_eq!((text.text.as_str(), text.fill), ("数据万象", Rgb::WHITE));
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
    assert_eq!(
        parse("watermark/3/image/aHR0cDovL2V4YW1wbGUuY29t"),
        Err(RuleError::Unsupported("watermark/3".into()))
    );
    for rule in ["style/thumb", "ci-process/QRcode", "imageSlim"] {
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
    for rule in ["rcrop/1x2", "minisize/1", "egif/1", "tint/IzNEM0QzRA"] {
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
fn every_documented_transform_parses() {
    for rule in [
        "thumbnail/!50p",
        "thumbnail/!50px",
        "thumbnail/!x50p",
        "thumbnail/200x",
        "thumbnail/x200",
        "thumbnail/200x100",
        "thumbnail/200x100>",
        "thumbnail/200x100<",
        "thumbnail/!200x100r",
        "thumbnail/200x100!",
        "thumbnail/40000@",
        "thumbnail/200x100/pad/1/color/IzNEM0QzRA",
        "crop/256x256",
        "crop/256x",
        "crop/x256",
        "gravity/southeast/crop/256x256",
        "crop/300x400/gravity/center",
        "gravity/northwest/dx/10/dy/20/crop/100x100",
        "cut/600x600x100x10",
        "iradius/200",
        "rradius/20",
        "scrop/100x100",
        "rotate/90",
        "flip/vertical",
        "flip/horizontal",
        "blur/3x9",
        "bright/10",
        "contrast/-10",
        "sharpen/70",
        "grayscale/1",
        "size-limit/15k!",
        "size-limit/2m",
    ] {
        let stage = mogr(&format!("imageMogr2/{rule}/ignore-error/1"));
        assert!(stage.ignore_error, "{rule}");
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
        "thumbnail",
        "crop",
        "cut",
        "iradius",
        "rradius",
        "scrop",
        "rotate",
        "flip",
        "blur",
        "sharpen",
        "bright",
        "contrast",
        "grayscale",
        "size-limit",
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
        parse("imageMogr2/bogus/thumbnail/0x1"),
        Err(RuleError::UnknownOperation("bogus".into()))
    );
    assert_eq!(
        parse("imageMogr2/thumbnail/0x1/bogus"),
        Err(invalid("thumbnail", "0x1"))
    );
    assert_eq!(
        parse("imageMogr2/rotate/400/rcrop/1x2"),
        Err(invalid("rotate", "400"))
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
        ("imageMogr2/rcrop/1x2", "rcrop"),
        ("imageMogr2/rotate/361", "361"),
        ("imageMogr2/gravity/middle/crop/5x5", "middle"),
        ("imageMogr2/thumbnail/300x300/color/Zm9v/pad/1", "Zm9v"),
        ("imageMogr2/dx/5", "dx"),
        ("imageMogr2/thumbnail/!50p/pad/1", "pad"),
        ("imageView2/9/w/5", "9"),
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
        "imageView2/1/w/100/h/100",
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

#[test]
fn imageview2_rewrites_into_imagemogr2() {
    let view = mogr("imageView2/1/w/200/h/100/format/webp/q/75/ignore-error/1");
    let same = mogr(
        "imageMogr2/thumbnail/!200x100r/gravity/center/crop/200x100/format/webp/quality/75/ignore-error/1",
    );
    assert_eq!(view, same);
    assert_eq!(
        mogr("imageView2/2/w/200/h/100").ops,
        ops("imageMogr2/thumbnail/200x100")
    );
    assert_eq!(mogr("imageView2/format/png"), mogr("imageMogr2/format/png"));
    assert_eq!(
        ops("imageView2/4/w/300/h/200"),
        [Op::Thumbnail {
            size: ThumbSize::EdgeCover {
                long: 300,
                short: 200
            },
            pad: None
        }]
    );
    assert_eq!(parse("imageView2/6/w/100"), Err(invalid("imageView2", "6")));
    assert_eq!(
        parse("imageView2/2/w/100|imageInfo").unwrap().stages.len(),
        2
    );
}
