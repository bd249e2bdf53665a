//! The figures of face matching at watchlist scale, the way NIST's face recognition tests report
//! them: TAR at a fixed FAR for 1:1 verification, and for 1:N open-set identification the miss
//! rate of listed persons (FNIR) at a fixed rate of strangers raising an alert (FPIR).
//!
//! Open-set identification is measured by leaving identities out: each identity in turn is the
//! stranger (its photos are non-mated searches against a gallery of every other identity), and
//! each photo of a listed identity is a mated search against the gallery with that photo left
//! out of its own template. A template is the node's: the mean of a person's L2-normalised
//! embeddings with outliers left out (`raqib_watchlist::face_template`).
//! A figure needs enough searches to be measured at all: FPIR 0.003 needs at least 334
//! non-mated searches (one false alarm allowed per 334); where a set has fewer, the figure is
//! reported as not measurable, with the count, rather than extrapolated.

use raqib_core::Embedding;
use serde::Serialize;

/// TAR at one FAR, or why it cannot be measured.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TarAtFar {
    /// The FAR asked.
    pub far: f64,
    /// Genuine pairs accepted (score above the threshold), when measurable.
    pub tar: Option<f64>,
    /// The threshold: the highest impostor score still allowed to be rejected.
    pub threshold: Option<f32>,
    /// Impostor pairs available (FAR needs at least `1 / far`).
    pub impostor_pairs: usize,
}

/// TAR at `far`: the threshold lets through at most `floor(far × impostors)` impostor pairs.
pub fn tar_at_far(genuine: &[f32], impostor: &[f32], far: f64) -> TarAtFar {
    let n = impostor.len();
    let none = TarAtFar { far, tar: None, threshold: None, impostor_pairs: n };
    if genuine.is_empty() || (n as f64) * far < 1.0 {
        return none;
    }
    let mut sorted = impostor.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let allowed = ((n as f64) * far).floor() as usize;
    // Accept scores strictly above the (allowed + 1)-th highest impostor score.
    let threshold = sorted[allowed.min(n - 1)];
    let tar = genuine.iter().filter(|s| **s > threshold).count() as f64 / genuine.len() as f64;
    TarAtFar { far, tar: Some(tar), threshold: Some(threshold), impostor_pairs: n }
}

/// The searches of an open-set identification test.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OpenSet {
    /// Mated searches: (score of the person's own template, whether it was the best match).
    pub mated: Vec<(f32, bool)>,
    /// Non-mated searches: the best score against the gallery.
    pub non_mated: Vec<f32>,
    /// Identities.
    pub identities: usize,
}

/// FNIR at one FPIR, or why it cannot be measured.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FnirAtFpir {
    /// The FPIR asked.
    pub fpir: f64,
    /// Listed persons missed (not the best match, or below the threshold), when measurable.
    pub fnir: Option<f64>,
    /// The threshold giving that FPIR.
    pub threshold: Option<f32>,
    /// Non-mated searches available (FPIR needs at least `1 / fpir`).
    pub non_mated: usize,
}

/// The template of one person's embeddings: the node's own rule
/// ([`raqib_watchlist::face_template::robust_template`]).
fn template(items: &[&Embedding]) -> Option<Embedding> {
    raqib_watchlist::face_template::robust_template(items).map(|t| t.embedding)
}

/// Runs the leave-identities-out test on `(identity, embedding)` pairs. Identities with one
/// photo only serve as strangers (they cannot have a mated search).
pub fn open_set(faces: &[(String, Embedding)]) -> OpenSet {
    let mut ids: Vec<&str> = faces.iter().map(|(i, _)| i.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let of = |id: &str, except: Option<usize>| -> Vec<&Embedding> {
        faces.iter().enumerate().filter(|(j, (i, _))| i == id && Some(*j) != except).map(|(_, (_, e))| e).collect()
    };
    let full: Vec<(&str, Option<Embedding>)> = ids.iter().map(|id| (*id, template(&of(id, None)))).collect();
    let mut out = OpenSet { identities: ids.len(), ..OpenSet::default() };
    for (k, (who, probe)) in faces.iter().enumerate() {
        // Mated: the person enrolled from their other photos, everyone else from all of theirs.
        if let Some(own) = template(&of(who, Some(k))) {
            let own_score = probe.cosine(&own).unwrap_or(-1.0);
            let best_other = full
                .iter()
                .filter(|(id, _)| id != who)
                .filter_map(|(_, t)| t.as_ref().and_then(|t| probe.cosine(t)))
                .fold(f32::MIN, f32::max);
            out.mated.push((own_score, own_score > best_other));
        }
        // Non-mated: the same photo against a gallery without its person.
        let top = full
            .iter()
            .filter(|(id, _)| id != who)
            .filter_map(|(_, t)| t.as_ref().and_then(|t| probe.cosine(t)))
            .fold(f32::MIN, f32::max);
        if top > f32::MIN {
            out.non_mated.push(top);
        }
    }
    out
}

/// How the node's template rule treats a wrong photo slipped into each person's enrolment.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct OutlierCheck {
    /// Persons given a wrong photo (those with at least two of their own).
    pub persons: usize,
    /// Wrong photos left out of the template.
    pub caught: usize,
    /// The persons' own photos.
    pub own_photos: usize,
    /// Own photos wrongly left out.
    pub own_dropped: usize,
    /// Mean cosine of each own photo to its person's template with the wrong photo in it: plain
    /// mean, and the node's rule.
    pub own_score: (f32, f32),
}

/// Each identity with at least two photos is enrolled from its photos plus the first photo of
/// the next identity (in name order): does [`raqib_watchlist::face_template::robust_template`]
/// leave that photo out, and keep the person's own?
pub fn outlier_check(faces: &[(String, Embedding)]) -> OutlierCheck {
    let mut ids: Vec<&str> = faces.iter().map(|(i, _)| i.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut out = OutlierCheck::default();
    let (mut plain_sum, mut robust_sum) = (0f32, 0f32);
    for (k, id) in ids.iter().enumerate() {
        let own: Vec<&Embedding> = faces.iter().filter(|(i, _)| i == id).map(|(_, e)| e).collect();
        let next = ids[(k + 1) % ids.len()];
        let Some(wrong) = faces.iter().find(|(i, _)| i == next && i != id).map(|(_, e)| e) else { continue };
        if own.len() < 2 {
            continue;
        }
        let mut items = own.clone();
        items.push(wrong);
        let (Some(robust), Some(plain)) = (
            raqib_watchlist::face_template::robust_template(&items),
            raqib_watchlist::face_template::mean_template(&items),
        ) else {
            continue;
        };
        out.persons += 1;
        out.own_photos += own.len();
        out.caught += usize::from(robust.dropped.contains(&own.len()));
        out.own_dropped += robust.dropped.iter().filter(|i| **i < own.len()).count();
        for e in &own {
            plain_sum += e.cosine(&plain).unwrap_or(0.0);
            robust_sum += e.cosine(&robust.embedding).unwrap_or(0.0);
        }
    }
    let n = out.own_photos.max(1) as f32;
    out.own_score = (plain_sum / n, robust_sum / n);
    out
}

impl OpenSet {
    /// FNIR at `fpir`: the threshold lets at most `floor(fpir × non-mated)` strangers through.
    pub fn fnir_at_fpir(&self, fpir: f64) -> FnirAtFpir {
        let n = self.non_mated.len();
        let none = FnirAtFpir { fpir, fnir: None, threshold: None, non_mated: n };
        if self.mated.is_empty() || (n as f64) * fpir < 1.0 {
            return none;
        }
        let mut sorted = self.non_mated.clone();
        sorted.sort_by(|a, b| b.total_cmp(a));
        let threshold = sorted[((n as f64) * fpir).floor() as usize].max(f32::MIN);
        FnirAtFpir { fpir, fnir: Some(self.fnir(threshold)), threshold: Some(threshold), non_mated: n }
    }

    /// FNIR at a given threshold (a search is a hit when its score is above it).
    pub fn fnir(&self, threshold: f32) -> f64 {
        let missed = self.mated.iter().filter(|(s, rank1)| !(*rank1 && *s > threshold)).count();
        missed as f64 / self.mated.len().max(1) as f64
    }

    /// FPIR at a given threshold.
    pub fn fpir(&self, threshold: f32) -> f64 {
        self.non_mated.iter().filter(|s| **s > threshold).count() as f64 / self.non_mated.len().max(1) as f64
    }

    /// FNIR with no stranger through at all (the threshold at the highest non-mated score).
    pub fn fnir_at_zero_fpir(&self) -> (f64, f32) {
        let top = self.non_mated.iter().copied().fold(f32::MIN, f32::max);
        (self.fnir(top), top)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tar_at_far_lets_through_the_allowed_impostors_only_and_says_when_it_cannot() {
        let impostor: Vec<f32> = (0..1000).map(|i| i as f32 / 2000.0).collect(); // 0 .. 0.4995
        let genuine = [0.3, 0.4996, 0.6, 0.9];
        let r = tar_at_far(&genuine, &impostor, 1e-3);
        // One impostor allowed: the threshold is the second highest impostor score.
        assert_eq!(r.threshold, Some(0.499));
        assert_eq!(r.tar, Some(0.75));
        let r = tar_at_far(&genuine, &impostor, 1e-4);
        assert_eq!((r.tar, r.impostor_pairs), (None, 1000), "1e-4 needs 10,000 impostor pairs");
    }

    fn e(v: &[f32]) -> Embedding {
        Embedding::new(v.to_vec()).unwrap()
    }

    #[test]
    fn open_set_finds_listed_people_and_strangers_score_against_others_only() {
        let faces = vec![
            ("a".to_owned(), e(&[1.0, 0.0, 0.0])),
            ("a".to_owned(), e(&[0.9, 0.1, 0.0])),
            ("b".to_owned(), e(&[0.0, 1.0, 0.0])),
            ("b".to_owned(), e(&[0.1, 0.9, 0.0])),
            ("c".to_owned(), e(&[0.0, 0.0, 1.0])), // one photo: a stranger only
        ];
        let s = open_set(&faces);
        assert_eq!((s.mated.len(), s.non_mated.len(), s.identities), (4, 5, 3));
        assert!(s.mated.iter().all(|(score, rank1)| *rank1 && *score > 0.9), "{:?}", s.mated);
        assert!(s.non_mated.iter().all(|t| *t < 0.2), "{:?}", s.non_mated);
        let (fnir, top) = s.fnir_at_zero_fpir();
        assert_eq!(fnir, 0.0);
        assert!(s.fpir(top) == 0.0 && s.fpir(top - 0.01) > 0.0);
        assert_eq!(s.fnir_at_fpir(0.003).fnir, None, "5 non-mated searches cannot measure FPIR 0.003");
        assert_eq!(s.fnir_at_fpir(0.2).fnir, Some(0.0));
    }
}
