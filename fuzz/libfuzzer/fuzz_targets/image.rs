//! libFuzzer driver of `raqib_fuzz::image::image`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| raqib_fuzz::image::image(data));
