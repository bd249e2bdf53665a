//! libFuzzer driver of `raqib_fuzz::import::plate_import`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| raqib_fuzz::import::plate_import(data));
