//! libFuzzer driver of `raqib_fuzz::config::config`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| raqib_fuzz::config::config(data));
