//! Deterministic model inputs shared with the Python reference (`benches/baseline/models.py`), so
//! outputs and timings can be compared with a plain `onnxruntime` program on identical tensors.

use ndarray::Array4;

/// `((7x + 13y + 29c + 31n) mod 256 − 127) / 128`: exact in `f32`, same formula in Python.
pub fn pattern(shape: [usize; 4]) -> Array4<f32> {
    Array4::from_shape_fn(shape, |(n, c, y, x)| {
        ((x * 7 + y * 13 + c * 29 + n * 31) % 256) as f32 / 128.0 - 127.0 / 128.0
    })
}

/// The input shape each manifest model is benchmarked and checked with (dynamic models get a
/// small fixed size), in the same order as the Python reference.
pub fn input_shape(spec: &crate::ModelSpec) -> [usize; 4] {
    let channels = if spec.input.colour == "GRAY" { 1 } else { 3 };
    match spec.task {
        crate::Task::TextRegionProposal => [1, channels, 64, 128],
        // A 720p frame scaled to the detector's longest side.
        crate::Task::PlateDetection => [1, channels, 288, 512],
        _ => [1, channels, spec.input.height as usize, spec.input.width as usize],
    }
}

/// Batch sizes a model is benchmarked at: 1, 16 for the plate recogniser (crops of many plates
/// are read in one call) and 4 for the plate checker (a frame's candidates are checked in one call).
pub fn bench_batches(spec: &crate::ModelSpec) -> &'static [usize] {
    match spec.task {
        crate::Task::PlateRecognition => &[1, 16],
        crate::Task::PlateCheck => &[1, 4],
        _ => &[1],
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn pattern_values() {
        let p = super::pattern([1, 3, 2, 2]);
        assert_eq!(p[[0, 0, 0, 0]], -127.0 / 128.0);
        assert_eq!(p[[0, 1, 1, 1]], (7 + 13 + 29) as f32 / 128.0 - 127.0 / 128.0);
    }
}
