//! libFuzzer driver of `raqib_fuzz::api::api`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| raqib_fuzz::api::api(data));
