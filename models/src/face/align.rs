//! Face alignment: five points from the 68 landmarks, and the similarity transform (rotation,
//! uniform scale, translation; least squares, Umeyama 1991) that maps them onto the standard
//! 112 × 112 ArcFace template.

/// The 112 × 112 template: left eye, right eye, nose tip, left and right mouth corner.
pub const TEMPLATE_112: [[f32; 2]; 5] =
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]];

/// Five points from 68 (iBUG order): eye centres (mean of four eye-contour points), nose tip,
/// mouth corners (mean of outer and inner corner).
pub fn five_points(l68: &[[f32; 2]]) -> [[f32; 2]; 5] {
    let mean = |idx: &[usize]| {
        let n = idx.len() as f32;
        [idx.iter().map(|i| l68[*i][0]).sum::<f32>() / n, idx.iter().map(|i| l68[*i][1]).sum::<f32>() / n]
    };
    [mean(&[37, 38, 40, 41]), mean(&[43, 44, 46, 47]), l68[30], mean(&[48, 60]), mean(&[54, 64])]
}

/// A 2-D similarity transform `p' = s·R·p + t`, stored as `[a, -b, tx; b, a, ty]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    a: f32,
    b: f32,
    tx: f32,
    ty: f32,
}

impl Similarity {
    /// Least-squares similarity mapping `src` points onto `dst`.
    pub fn estimate(src: &[[f32; 2]], dst: &[[f32; 2]]) -> Self {
        let n = src.len() as f32;
        let mean = |p: &[[f32; 2]]| [p.iter().map(|q| q[0]).sum::<f32>() / n, p.iter().map(|q| q[1]).sum::<f32>() / n];
        let (ms, md) = (mean(src), mean(dst));
        let (mut sxx, mut sxy, mut var) = (0f32, 0f32, 0f32);
        for (p, q) in src.iter().zip(dst) {
            let (x, y) = (p[0] - ms[0], p[1] - ms[1]);
            let (u, v) = (q[0] - md[0], q[1] - md[1]);
            sxx += x * u + y * v;
            sxy += x * v - y * u;
            var += x * x + y * y;
        }
        let (a, b) = if var > 0.0 { (sxx / var, sxy / var) } else { (1.0, 0.0) };
        Similarity { a, b, tx: md[0] - (a * ms[0] - b * ms[1]), ty: md[1] - (b * ms[0] + a * ms[1]) }
    }

    /// Applies the transform.
    pub fn apply(&self, p: [f32; 2]) -> [f32; 2] {
        [self.a * p[0] - self.b * p[1] + self.tx, self.b * p[0] + self.a * p[1] + self.ty]
    }

    /// The inverse transform.
    pub fn inverse(&self) -> Self {
        let d = self.a * self.a + self.b * self.b;
        let (a, b) = (self.a / d, -self.b / d);
        Similarity { a, b, tx: -(a * self.tx - b * self.ty), ty: -(b * self.tx + a * self.ty) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_known_transform() {
        let truth = Similarity { a: 0.8, b: 0.3, tx: 5.0, ty: -2.0 };
        let src: Vec<[f32; 2]> = TEMPLATE_112.to_vec();
        let dst: Vec<[f32; 2]> = src.iter().map(|p| truth.apply(*p)).collect();
        let est = Similarity::estimate(&src, &dst);
        for (p, q) in src.iter().zip(&dst) {
            let r = est.apply(*p);
            assert!((r[0] - q[0]).abs() < 1e-3 && (r[1] - q[1]).abs() < 1e-3);
        }
        let back = est.inverse().apply(dst[2]);
        assert!((back[0] - src[2][0]).abs() < 1e-3 && (back[1] - src[2][1]).abs() < 1e-3);
    }

    #[test]
    fn five_points_average_the_right_landmarks() {
        let mut l = vec![[0.0f32, 0.0]; 68];
        for i in [37, 38, 40, 41] {
            l[i] = [10.0, 20.0];
        }
        l[30] = [5.0, 6.0];
        l[48] = [1.0, 1.0];
        l[60] = [3.0, 3.0];
        let f = five_points(&l);
        assert_eq!(f[0], [10.0, 20.0]);
        assert_eq!(f[2], [5.0, 6.0]);
        assert_eq!(f[3], [2.0, 2.0]);
    }
}
