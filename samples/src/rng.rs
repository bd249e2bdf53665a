//! The scenes' deterministic generator: `raqib_core::rng::Rng` (SplitMix64), kept at this path
//! for the scene code.

pub use raqib_core::rng::Rng;
