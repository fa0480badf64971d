//! A Latin hypercube sample from a small seeded PRNG (SplitMix64): `n` points in the
//! unit cube of `dims` axes, each axis cut into `n` equal strata with exactly one point
//! in each.

/// SplitMix64 (Steele, Lea and Flood 2014): tiny, seedable, and good enough to place
/// points in strata.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in 0..n (n > 0), by rejection so no value is favoured.
    pub fn below(&mut self, n: u64) -> u64 {
        let zone = u64::MAX - u64::MAX % n;
        loop {
            let v = self.next_u64();
            if v < zone {
                return v % n;
            }
        }
    }
}

/// `n` points of `dims` coordinates in [0, 1): `points[i][d]`. Axis `d` of point `i`
/// lies in stratum `perm_d[i]`, `perm_d` a random permutation of 0..n.
pub fn latin_hypercube(n: usize, dims: usize, seed: u64) -> Vec<Vec<f64>> {
    let mut rng = SplitMix64::new(seed);
    let mut points = vec![vec![0.0; dims]; n];
    for d in 0..dims {
        let mut perm: Vec<usize> = (0..n).collect();
        // Fisher-Yates.
        for i in (1..n).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            perm.swap(i, j);
        }
        for (p, stratum) in points.iter_mut().zip(perm) {
            p[d] = (stratum as f64 + rng.next_f64()) / n as f64;
        }
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_point_per_stratum_on_every_axis() {
        let n = 17;
        let pts = latin_hypercube(n, 3, 42);
        for d in 0..3 {
            let mut seen = vec![false; n];
            for p in &pts {
                assert!((0.0..1.0).contains(&p[d]));
                let s = (p[d] * n as f64) as usize;
                assert!(!seen[s], "stratum {s} of axis {d} twice");
                seen[s] = true;
            }
        }
    }

    #[test]
    fn the_seed_decides_the_sample() {
        assert_eq!(latin_hypercube(8, 2, 7), latin_hypercube(8, 2, 7));
        assert_ne!(latin_hypercube(8, 2, 7), latin_hypercube(8, 2, 8));
    }
}
