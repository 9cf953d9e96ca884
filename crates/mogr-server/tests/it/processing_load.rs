//! Serving under load: a full image pool answers 503 `SlowDown` at once, as COS XML, and the
//! requests it admitted still succeed.

use std::sync::{Arc, Barrier};

use crate::common::*;
use crate::processing_common::*;

const BUCKET: &str = "load-1250000000";

#[test]
fn a_full_pool_answers_slow_down_and_admitted_work_completes() {
    // One worker and one waiting place: at most two encodes are admitted at a time.
    let srv = Arc::new(TestServer::start_with(|cfg| {
        cfg.image_workers = 1;
        cfg.image_queue = 1;
    }));
    srv.create_bucket(BUCKET);
    srv.put(BUCKET, "big.jpg", &jpeg_of(&noise(1600, 1200)));

    const CLIENTS: usize = 6;
    let start = Arc::new(Barrier::new(CLIENTS));
    let handles: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (srv, start) = (Arc::clone(&srv), Arc::clone(&start));
            std::thread::spawn(move || {
                // Six different variants: identical requests would share one computation.
                let format = if i % 2 == 0 { "avif" } else { "heif" };
                let rule = format!("imageMogr2/format/{format}/quality/{}", 50 + i);
                let req = srv.req("GET", BUCKET, "big.jpg").param(&rule, "");
                start.wait();
                req.send()
            })
        })
        .collect();
    let responses: Vec<Resp> = handles.into_iter().map(|h| h.join().unwrap()).collect();

    let refused: Vec<&Resp> = responses.iter().filter(|r| r.status == 503).collect();
    assert!(
        !refused.is_empty(),
        "six concurrent encodes on a 1+1 pool must refuse some"
    );
    for r in &refused {
        assert_eq!(r.exact("Content-Type"), Some("application/xml"));
        assert_error(r, 503, "SlowDown");
    }
    for r in responses.iter().filter(|r| r.status != 503) {
        assert_eq!(r.status, 200, "{}", r.text());
        let brands = isobmff_brands(&r.body);
        assert!(
            brands
                .iter()
                .any(|b| b == "avif" || b == "heic" || b == "mif1"),
            "{brands:?}"
        );
    }
    assert!(
        responses.iter().any(|r| r.status == 200),
        "admitted work must complete"
    );

    // Places are given back once work ends.
    let r = srv
        .req("GET", BUCKET, "big.jpg")
        .param("imageInfo", "")
        .send();
    assert_eq!(r.status, 200, "{}", r.text());
}
