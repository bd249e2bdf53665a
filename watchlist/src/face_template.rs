//! A person's face template: their enrolled embeddings combined into one, robustly.
//!
//! Each embedding is L2-normalised; the template is the normalised mean of those kept. With
//! three or more, an embedding is an **outlier** (a wrong photo in the file, another person in
//! the frame, a face the detector misplaced) when its cosine to the mean of the others is below
//! half the median of those cosines; outliers are left out of the template, at most
//! `(n − 1) / 2` of them (the lowest), so that a person's photos can never be outvoted by the
//! odd ones. With one or two photos nothing can be told apart and everything is kept.
//!
//! A mean template is the usual way several photos of one person are compared with a probe
//! (NIST FRVT 1:N "templates"): averaging cancels what differs between photos (light, pose,
//! expression) and keeps what they share, so a probe's similarity to the template is steadier
//! than its best similarity to any one photo, and a gallery of persons is searched once per
//! person rather than once per photo.

use raqib_core::Embedding;

/// A person's template and what went into it.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// Unit-length mean of the kept embeddings.
    pub embedding: Embedding,
    /// Indices (into the input) of the embeddings left out as outliers.
    pub dropped: Vec<usize>,
}

/// The template of `items` (one person's embeddings, one model); `None` when empty or when
/// the embeddings do not have one dimension.
pub fn robust_template(items: &[&Embedding]) -> Option<Template> {
    let dim = items.first()?.dim();
    if items.iter().any(|e| e.dim() != dim) {
        return None;
    }
    let unit: Vec<Vec<f32>> = items.iter().map(|e| unit(e.as_slice())).collect();
    let sum: Vec<f32> = (0..dim).map(|k| unit.iter().map(|v| v[k]).sum()).collect();
    let mut dropped = Vec::new();
    if unit.len() >= 3 {
        // Cosine of each embedding to the mean of the others.
        let scores: Vec<f32> = unit
            .iter()
            .map(|v| {
                let others: Vec<f32> = sum.iter().zip(v).map(|(s, x)| s - x).collect();
                let norm = others.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
                others.iter().zip(v).map(|(o, x)| o * x).sum::<f32>() / norm
            })
            .collect();
        let mut sorted = scores.clone();
        sorted.sort_by(f32::total_cmp);
        let median = sorted[sorted.len() / 2];
        let mut low: Vec<usize> = (0..scores.len()).filter(|i| scores[*i] < median / 2.0).collect();
        low.sort_by(|a, b| scores[*a].total_cmp(&scores[*b]));
        low.truncate((unit.len() - 1) / 2);
        low.sort_unstable();
        dropped = low;
    }
    let kept: Vec<usize> = (0..unit.len()).filter(|i| !dropped.contains(i)).collect();
    mean_of(&unit, &kept, dim).map(|embedding| Template { embedding, dropped })
}

/// The plain mean of L2-normalised `items`, unit length, outliers kept (what a template is
/// without the rule; `raqib eval faces` compares the two).
pub fn mean_template(items: &[&Embedding]) -> Option<Embedding> {
    let dim = items.first()?.dim();
    if items.iter().any(|e| e.dim() != dim) {
        return None;
    }
    let unit: Vec<Vec<f32>> = items.iter().map(|e| unit(e.as_slice())).collect();
    mean_of(&unit, &(0..items.len()).collect::<Vec<_>>(), dim)
}

fn unit(v: &[f32]) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.iter().map(|x| x / norm).collect()
}

/// The unit-length mean of the `kept` rows of `unit`.
fn mean_of(unit: &[Vec<f32>], kept: &[usize], dim: usize) -> Option<Embedding> {
    let mean: Vec<f32> = (0..dim).map(|k| kept.iter().map(|i| unit[*i][k]).sum()).collect();
    let norm = mean.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm.is_nan() || norm <= 1e-9 {
        return None;
    }
    Embedding::new(mean.into_iter().map(|x| x / norm).collect()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A unit vector near axis `axis` (of 8), nudged by `jitter` along axis 7.
    fn near(axis: usize, jitter: f32) -> Embedding {
        let mut v = vec![0.0; 8];
        v[axis] = 1.0;
        v[7] += jitter;
        Embedding::new(v).unwrap()
    }

    #[test]
    fn an_odd_photo_is_left_out_of_the_template() {
        let photos = [near(0, 0.1), near(0, -0.1), near(0, 0.2), near(3, 0.0)];
        let t = robust_template(&photos.iter().collect::<Vec<_>>()).unwrap();
        assert_eq!(t.dropped, vec![3]);
        let probe = near(0, 0.0);
        assert!(t.embedding.cosine(&probe).unwrap() > 0.97);
        // Without the rule, the odd photo would pull the template a quarter of the way off.
        assert!(t.embedding.cosine(&near(3, 0.0)).unwrap() < 0.1);
    }

    #[test]
    fn one_or_two_photos_are_kept_and_the_odd_ones_never_outvote_the_rest() {
        let two = [near(0, 0.0), near(3, 0.0)];
        assert!(robust_template(&two.iter().collect::<Vec<_>>()).unwrap().dropped.is_empty());
        // Three of one face and two of two others: at most (5 − 1) / 2 = 2 dropped.
        let five = [near(0, 0.0), near(0, 0.1), near(0, -0.1), near(3, 0.0), near(5, 0.0)];
        let t = robust_template(&five.iter().collect::<Vec<_>>()).unwrap();
        assert_eq!(t.dropped, vec![3, 4]);
        assert!(robust_template(&[]).is_none());
    }
}
