//! Router: longest-prefix match over a linear route table with a 2-entry last-address cache,
//! like Click's LinearIPLookup (the paper's router-100.click: 100 /32 routes + two default halves).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub addr: u32,
    pub prefix_len: u8,
    pub port: u16,
}

impl Route {
    fn mask(&self) -> u32 {
        if self.prefix_len == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.prefix_len))
        }
    }
}

#[derive(Debug)]
pub struct Router {
    routes: Vec<(u32, u32, u16, u8)>,
    cache: [(u32, u16); 2],
    cache_valid: [bool; 2],
    pub cache_hits: u64,
    pub lookups: u64,
}

impl Router {
    pub fn new(routes: &[Route]) -> Self {
        Self {
            routes: routes
                .iter()
                .map(|r| (r.addr & r.mask(), r.mask(), r.port, r.prefix_len))
                .collect(),
            cache: [(0, 0); 2],
            cache_valid: [false; 2],
            cache_hits: 0,
            lookups: 0,
        }
    }

    /// The paper's table: `specific` /32 routes to ports 3.., then 0/1 -> 1 and 128/1 -> 2.
    pub fn paper_table(specific: &[u32]) -> Vec<Route> {
        let mut v: Vec<Route> = specific
            .iter()
            .enumerate()
            .map(|(i, &a)| Route {
                addr: a,
                prefix_len: 32,
                port: 3 + (i % 4) as u16,
            })
            .collect();
        v.push(Route {
            addr: 0,
            prefix_len: 1,
            port: 1,
        });
        v.push(Route {
            addr: 0x8000_0000,
            prefix_len: 1,
            port: 2,
        });
        v
    }

    /// Output port for `dst`, or None when no route matches.
    pub fn lookup(&mut self, dst: u32) -> Option<u16> {
        for i in 0..2 {
            if self.cache_valid[i] && self.cache[i].0 == dst {
                self.cache_hits += 1;
                return Some(self.cache[i].1);
            }
        }
        self.lookups += 1;
        let mut best: Option<(u8, u16)> = None;
        for &(a, m, port, len) in &self.routes {
            if dst & m == a && best.is_none_or(|(l, _)| len > l) {
                best = Some((len, port));
            }
        }
        let port = best?.1;
        self.cache[1] = self.cache[0];
        self.cache_valid[1] = self.cache_valid[0];
        self.cache[0] = (dst, port);
        self.cache_valid[0] = true;
        Some(port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins_and_cache_agrees() {
        let routes = [
            Route {
                addr: 0x0A00_0000,
                prefix_len: 8,
                port: 1,
            },
            Route {
                addr: 0x0A01_0000,
                prefix_len: 16,
                port: 2,
            },
            Route {
                addr: 0x0A01_0203,
                prefix_len: 32,
                port: 3,
            },
            Route {
                addr: 0,
                prefix_len: 0,
                port: 9,
            },
        ];
        let mut r = Router::new(&routes);
        assert_eq!(r.lookup(0x0A01_0203), Some(3));
        assert_eq!(r.lookup(0x0A01_0204), Some(2));
        assert_eq!(r.lookup(0x0A02_0000), Some(1));
        assert_eq!(r.lookup(0x0B00_0000), Some(9));
        assert_eq!(r.lookup(0x0A01_0203), Some(3));
        assert_eq!(r.lookup(0x0A01_0203), Some(3));
        assert!(r.cache_hits >= 1);
        let mut none = Router::new(&routes[..1]);
        assert_eq!(none.lookup(0x0B00_0000), None);
    }
}
