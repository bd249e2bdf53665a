//! Face embeddings, unit length by construction.

use serde::{Deserialize, Serialize};

/// Why a vector cannot be an embedding.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EmbeddingError {
    /// Empty, all zero, or containing NaN/infinity.
    #[error("embedding is empty, zero or not finite")]
    Degenerate,
    /// Not the dimension expected.
    #[error("embedding has {actual} values, expected {expected}")]
    WrongDimension {
        /// Expected length.
        expected: usize,
        /// Actual length.
        actual: usize,
    },
}

/// An L2-normalised face embedding; cosine similarity is a plain dot product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<f32>", into = "Vec<f32>")]
pub struct Embedding(Vec<f32>);

impl Embedding {
    /// Normalises `v` to unit length; fails on empty, zero or non-finite input.
    pub fn new(mut v: Vec<f32>) -> Result<Self, EmbeddingError> {
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if v.is_empty() || !norm.is_finite() || norm == 0.0 {
            return Err(EmbeddingError::Degenerate);
        }
        v.iter_mut().for_each(|x| *x /= norm);
        Ok(Embedding(v))
    }

    /// The unit-length values.
    pub fn as_slice(&self) -> &[f32] {
        &self.0
    }

    /// Number of dimensions.
    pub fn dim(&self) -> usize {
        self.0.len()
    }

    /// Cosine similarity in [-1, 1]. Different dimensions give `None`.
    pub fn cosine(&self, other: &Embedding) -> Option<f32> {
        (self.dim() == other.dim()).then(|| self.0.iter().zip(&other.0).map(|(a, b)| a * b).sum())
    }

    /// Little-endian f32 bytes, for storage.
    pub fn to_le_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    /// Reads little-endian f32 bytes written by [`Embedding::to_le_bytes`]. Values already of
    /// unit length are kept bit for bit; others are normalised.
    pub fn from_le_bytes(bytes: &[u8]) -> Result<Self, EmbeddingError> {
        if !bytes.len().is_multiple_of(4) {
            return Err(EmbeddingError::Degenerate);
        }
        Self::from_stored(bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
    }

    /// Values read back from storage or JSON: kept bit for bit when already of unit length (so
    /// a round trip is exact), normalised otherwise.
    fn from_stored(v: Vec<f32>) -> Result<Self, EmbeddingError> {
        let norm2: f32 = v.iter().map(|x| x * x).sum();
        if !v.is_empty() && v.iter().all(|x| x.is_finite()) && (norm2 - 1.0).abs() < 1e-5 {
            Ok(Embedding(v))
        } else {
            Self::new(v)
        }
    }
}

impl TryFrom<Vec<f32>> for Embedding {
    type Error = EmbeddingError;
    fn try_from(v: Vec<f32>) -> Result<Self, Self::Error> {
        Embedding::from_stored(v)
    }
}

impl From<Embedding> for Vec<f32> {
    fn from(e: Embedding) -> Self {
        e.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalised_by_construction() {
        let e = Embedding::new(vec![3.0, 4.0]).unwrap();
        assert_eq!(e.as_slice(), &[0.6, 0.8]);
        assert!((e.cosine(&e).unwrap() - 1.0).abs() < 1e-6);
        assert_eq!(Embedding::new(vec![0.0, 0.0]), Err(EmbeddingError::Degenerate));
        assert_eq!(Embedding::new(vec![f32::NAN]), Err(EmbeddingError::Degenerate));
    }

    #[test]
    fn json_round_trip_is_exact_and_normalises_foreign_vectors() {
        let e = Embedding::new(vec![1.0, 2.0, 2.5]).unwrap();
        let back: Embedding = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
        assert_eq!(back, e);
        let foreign: Embedding = serde_json::from_str("[3.0, 4.0]").unwrap();
        assert_eq!(foreign.as_slice(), &[0.6, 0.8]);
        assert!(serde_json::from_str::<Embedding>("[0.0, 0.0]").is_err());
    }

    #[test]
    fn bytes_round_trip() {
        let e = Embedding::new(vec![1.0, -2.0, 0.5]).unwrap();
        assert_eq!(Embedding::from_le_bytes(&e.to_le_bytes()).unwrap(), e);
        assert!(Embedding::from_le_bytes(&[1, 2, 3]).is_err());
    }
}
