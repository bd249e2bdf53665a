//! libFuzzer driver of `raqib_fuzz::plate::plate_text`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| raqib_fuzz::plate::plate_text(data));
