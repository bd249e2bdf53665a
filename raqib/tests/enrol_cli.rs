//! Enrolment needs a face the detector finds (#28): a photo with no face (a grey square) is
//! refused by `watchlist enroll` and by `import-persons`, while a portrait and a tight face crop
//! of the same person are enrolled.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    missing_docs,
    reason = "test and bench code: a failure panics by design, a scenario reads top to bottom"
)]

mod common;

use common::{ok, raqib, text};

use std::path::PathBuf;

#[test]
fn a_photo_without_a_detected_face_is_never_enrolled() {
    let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let Some(cache) = raqib_models::runtime::installed_cache_or_skip(&workspace) else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    image::RgbImage::from_pixel(400, 400, image::Rgb([128, 128, 128])).save(d.join("grey.png")).unwrap();
    let portrait = workspace.join("samples/faces/astronaut.jpg");
    // A tight crop around the face: the detector sees it again inside a grey border.
    let img = image::open(&portrait).unwrap().to_rgb8();
    let (w, h) = img.dimensions();
    image::imageops::crop_imm(&img, w / 4, h / 8, w / 2, h / 2).to_image().save(d.join("tight.png")).unwrap();
    let out = ok(raqib(
        d,
        &cache,
        &["watchlist", "--reason", "t", "add-person", "--name", "Sam", "--category", "wanted_person"],
    ));
    let id = out.split_whitespace().nth(1).unwrap().trim_end_matches(':').to_owned();

    let grey = raqib(d, &cache, &["watchlist", "--reason", "t", "enroll", "--person", &id, "grey.png"]);
    assert!(!grey.status.success(), "{}", text(&grey));
    assert!(text(&grey).contains("no face found"), "{}", text(&grey));
    let good = raqib(
        d,
        &cache,
        &["watchlist", "--reason", "t", "enroll", "--person", &id, portrait.to_str().unwrap(), "tight.png", "grey.png"],
    );
    let t = text(&good);
    assert!(good.status.success(), "{t}");
    assert!(t.contains("2 of 3 photo(s) enrolled") && t.contains("grey.png: skipped"), "{t}");

    std::fs::write(d.join("p.json"), r#"[{"name": "Grey", "category": "bolo", "photos": ["grey.png"]}]"#).unwrap();
    let import = raqib(d, &cache, &["watchlist", "--reason", "t", "import-persons", "p.json"]);
    assert!(!import.status.success() && text(&import).contains("row 1") && text(&import).contains("no face found"));
}
