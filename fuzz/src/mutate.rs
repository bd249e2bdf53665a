//! The stable driver's input maker: deterministic perturbations of corpus inputs (byte flips,
//! interesting values, insertions, deletions, duplicated runs, splices of two inputs), the
//! classic operations of libFuzzer's and AFL's mutators without their coverage feedback. Used only
//! so `make test` exercises the neighbourhood of every corpus input on stable Rust; the real,
//! coverage-guided search is `make fuzz`.

pub use raqib_core::rng::Rng;

const INTERESTING: &[&[u8]] = &[
    b"\0",
    b"\xff",
    b"-1",
    b"0",
    b"18446744073709551615",
    b"9999999999999999999999",
    b"NaN",
    b"1e308",
    b"\"",
    b"'",
    b",",
    b"\n",
    b"\r\n",
    b"[",
    b"{",
    b"}",
    b"]",
    b"=",
    b"|",
    b"\xd8\xa8",
    b"\xe2\x80\x8f",
    b"%00",
    b"*",
];

/// `input` changed by one to four random operations; `other` is a second corpus input to splice.
pub fn mutate(rng: &mut Rng, input: &[u8], other: &[u8], max_len: usize) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(7) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] = rng.next_u64() as u8;
            }
            2 => {
                let v = INTERESTING[rng.below(INTERESTING.len())];
                out.splice(at..at, v.iter().copied());
            }
            3 if !out.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(out.len());
                out.drain(at.min(end)..end);
            }
            4 if !out.is_empty() => {
                let start = rng.below(out.len());
                let end = (start + 1 + rng.below(32)).min(out.len());
                let run: Vec<u8> = out[start..end].to_vec();
                out.splice(at..at, run);
            }
            5 if !other.is_empty() => {
                let start = rng.below(other.len());
                let end = (start + 1 + rng.below(64)).min(other.len());
                out.splice(at..at, other[start..end].iter().copied());
            }
            _ => {
                let v = rng.next_u64().to_le_bytes();
                out.splice(at..at, v[..1 + rng.below(8)].iter().copied());
            }
        }
    }
    out.truncate(max_len);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_are_deterministic_and_bounded() {
        let a = mutate(&mut Rng::new(7), b"12345|B|6", b"AB-123-CD", 64);
        let b = mutate(&mut Rng::new(7), b"12345|B|6", b"AB-123-CD", 64);
        assert_eq!(a, b);
        let mut rng = Rng::new(1);
        for _ in 0..1000 {
            assert!(mutate(&mut rng, &[7; 100], b"", 80).len() <= 80);
        }
    }
}
