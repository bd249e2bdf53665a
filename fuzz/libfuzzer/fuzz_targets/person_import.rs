//! libFuzzer driver of `raqib_fuzz::import::person_import`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| raqib_fuzz::import::person_import(data));
