//! A small, fully specified PRNG (SplitMix64 seeding + xoshiro256**) so traces are bit-for-bit
//! reproducible from a seed regardless of `rand` versions or platforms.

use reframer_core::rng::SplitMix64;

/// xoshiro256** seeded through SplitMix64.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator for `seed`; `stream` separates independent sub-streams (segment, flow).
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut x = SplitMix64(seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
        Self {
            s: [x.next_u64(), x.next_u64(), x.next_u64(), x.next_u64()],
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        let r = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        r
    }

    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// Uniform in (0, 1]: never 0, so `ln` and powers are safe.
    pub fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }

    /// Uniform integer in `[lo, hi]`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() <= p
    }

    /// Exponential with the given mean.
    pub fn exp(&mut self, mean: f64) -> f64 {
        -self.unit().ln() * mean
    }

    /// Pareto with scale `xm` and shape `alpha` (heavy tail for alpha < 2).
    pub fn pareto(&mut self, xm: f64, alpha: f64) -> f64 {
        xm / self.unit().powf(1.0 / alpha)
    }

    /// Geometric on {1, 2, ...} with the given mean (>= 1).
    pub fn geometric(&mut self, mean: f64) -> u64 {
        if mean <= 1.0 {
            return 1;
        }
        let p = 1.0 / mean;
        1 + (self.unit().ln() / (1.0 - p).ln()).floor() as u64
    }

    /// Log-uniform in `[lo, hi]`.
    pub fn log_uniform(&mut self, lo: f64, hi: f64) -> f64 {
        (lo.ln() + (1.0 - self.unit()) * (hi.ln() - lo.ln())).exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_streams_differ() {
        let a: Vec<u64> = (0..8)
            .map({
                let mut r = Rng::new(7, 1);
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..8)
            .map({
                let mut r = Rng::new(7, 1);
                move |_| r.next_u64()
            })
            .collect();
        let c: Vec<u64> = (0..8)
            .map({
                let mut r = Rng::new(7, 2);
                move |_| r.next_u64()
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn distributions_have_their_means() {
        let mut r = Rng::new(1, 0);
        let n = 200_000;
        let e: f64 = (0..n).map(|_| r.exp(5.0)).sum::<f64>() / n as f64;
        let g: f64 = (0..n).map(|_| r.geometric(3.0) as f64).sum::<f64>() / n as f64;
        assert!((e - 5.0).abs() < 0.1, "exp mean {e}");
        assert!((g - 3.0).abs() < 0.05, "geometric mean {g}");
        assert!((0..1000).all(|_| (10..=20).contains(&r.range(10, 20))));
    }
}
