//! Firewall: first-match over an ordered rule list (the paper's IPFilter with fw-rules: generic
//! rules plus ~11.7k `allow dst x/32` rules), with a last-match cache (IPFilter CACHING).
//!
//! Evaluation is exactly first-match over the list; the long run of /32 destination rules is
//! searched in a sorted index instead of one by one, which is what keeps a 11.7k-rule set usable.

use crate::trace::Tuple;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Allow,
    Deny,
}

/// One rule; a mask of 0 matches any address, `proto` None any protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub src: u32,
    pub src_mask: u32,
    pub dst: u32,
    pub dst_mask: u32,
    pub proto: Option<u8>,
    pub dport: (u16, u16),
    pub action: Action,
}

impl Rule {
    pub fn any(action: Action) -> Self {
        Self {
            src: 0,
            src_mask: 0,
            dst: 0,
            dst_mask: 0,
            proto: None,
            dport: (0, u16::MAX),
            action,
        }
    }

    pub fn matches(&self, k: &Tuple) -> bool {
        k.src & self.src_mask == self.src & self.src_mask
            && k.dst & self.dst_mask == self.dst & self.dst_mask
            && self.proto.is_none_or(|p| p == k.proto)
            && (self.dport.0..=self.dport.1).contains(&k.dport)
    }

    fn is_dst_host(&self) -> bool {
        self.dst_mask == u32::MAX
            && self.src_mask == 0
            && self.proto.is_none()
            && self.dport == (0, u16::MAX)
    }
}

/// Rule list split into segments: linear segments of generic rules and indexed runs of /32
/// destination rules, in list order.
#[derive(Debug)]
enum Segment {
    Linear {
        first: u32,
        rules: Vec<Rule>,
    },
    DstHosts {
        first: u32,
        index: Vec<(u32, u32)>,
        actions: Vec<Action>,
    },
}

#[derive(Debug)]
pub struct Firewall {
    segments: Vec<Segment>,
    rules: usize,
    last: Option<(Tuple, Action)>,
    pub cache_hits: u64,
    pub lookups: u64,
}

impl Firewall {
    /// Builds the classifier for `rules`; a packet no rule matches is denied.
    pub fn new(rules: &[Rule]) -> Self {
        let mut segments = Vec::new();
        let mut i = 0;
        while i < rules.len() {
            let start = i;
            if rules[i].is_dst_host() {
                while i < rules.len() && rules[i].is_dst_host() {
                    i += 1;
                }
                // First-match: of duplicate addresses only the earliest rule counts.
                let mut index: Vec<(u32, u32)> =
                    (start..i).map(|j| (rules[j].dst, j as u32)).collect();
                index.sort_unstable();
                index.dedup_by_key(|e| e.0);
                let actions = rules[start..i].iter().map(|r| r.action).collect();
                segments.push(Segment::DstHosts {
                    first: start as u32,
                    index,
                    actions,
                });
            } else {
                while i < rules.len() && !rules[i].is_dst_host() {
                    i += 1;
                }
                segments.push(Segment::Linear {
                    first: start as u32,
                    rules: rules[start..i].to_vec(),
                });
            }
        }
        Self {
            segments,
            rules: rules.len(),
            last: None,
            cache_hits: 0,
            lookups: 0,
        }
    }

    /// Index of the first matching rule, without the cache. Never inlined: the rule walk is
    /// the ACL chain's per-flow work, and one copy of it serves every E3 variant, so where
    /// its loop lands in a build moves all of them alike (a walk loop straddling a cache
    /// line ran the chain ~17% slower, `eval one-run e3 --variant baseline`: 665 against
    /// 780 ns per packet; `.cargo/config.toml` now aligns loops).
    #[inline(never)]
    pub fn classify(&self, k: &Tuple) -> Option<(u32, Action)> {
        for s in &self.segments {
            match s {
                Segment::Linear { first, rules } => {
                    if let Some(j) = rules.iter().position(|r| r.matches(k)) {
                        return Some((first + j as u32, rules[j].action));
                    }
                }
                Segment::DstHosts {
                    first,
                    index,
                    actions,
                } => {
                    if let Ok(p) = index.binary_search_by_key(&k.dst, |e| e.0) {
                        let idx = index[p].1;
                        return Some((idx, actions[(idx - first) as usize]));
                    }
                }
            }
        }
        None
    }

    /// The verdict for a packet, using the last-match cache for back-to-back packets of a flow.
    pub fn filter(&mut self, k: &Tuple) -> Action {
        if let Some((lk, a)) = self.last {
            if lk == *k {
                self.cache_hits += 1;
                return a;
            }
        }
        self.lookups += 1;
        let a = self.classify(k).map_or(Action::Deny, |(_, a)| a);
        self.last = Some((*k, a));
        a
    }

    /// The verdict for `n` back-to-back packets of one flow: one rule walk at most, counted as
    /// `n` calls of [`Self::filter`] would be.
    pub fn filter_burst(&mut self, k: &Tuple, n: u64) -> Action {
        let a = self.filter(k);
        self.cache_hits += n.saturating_sub(1);
        a
    }

    pub fn rule_count(&self) -> usize {
        self.rules
    }

    /// A threat blocklist of `n` deny rules, as an operator feeds an iptables chain (no ipset)
    /// or an IPFilter: mostly destination networks (/16 to /32), some of them for one protocol
    /// and port range, and a tenth source networks of a guest range (172.16/12). No rule covers
    /// an address of `servers` or a campus client (10/8), so the verdicts stay those of the
    /// rules behind them; every packet that misses the last-match cache walks all `n` rules,
    /// which is what makes the walk the chain's per-flow work. Deterministic.
    pub fn blocklist_rules(n: usize, servers: &[u32]) -> Vec<Rule> {
        let mut sorted = servers.to_vec();
        sorted.sort_unstable();
        let covers_server = |net: u32, mask: u32| {
            let lo = sorted.partition_point(|&a| a < net & mask);
            sorted.get(lo).is_some_and(|&a| a & mask == net & mask)
        };
        let mut r = crate::rng::Rng::new(0xB10C_0115_7000, n as u64);
        let mut v = Vec::with_capacity(n);
        while v.len() < n {
            let bits = r.range(16, 32) as u32;
            let mask = u32::MAX << (32 - bits);
            let kind = r.range(0, 9);
            if kind == 0 {
                let src = 0xAC10_0000 | (r.next_u32() & 0x000F_FFFF);
                v.push(Rule {
                    src,
                    src_mask: mask,
                    ..Rule::any(Action::Deny)
                });
                continue;
            }
            let dst = r.next_u32() & mask;
            let first = dst >> 24;
            if first == 0 || first == 10 || first == 127 || first >= 224 || covers_server(dst, mask)
            {
                continue;
            }
            let mut rule = Rule {
                dst,
                dst_mask: mask,
                ..Rule::any(Action::Deny)
            };
            if kind <= 2 {
                let lo = r.range(1, 60_000) as u16;
                rule.proto = Some(if kind == 1 { 6 } else { 17 });
                rule.dport = (lo, lo.saturating_add(r.range(0, 1000) as u16));
            }
            v.push(rule);
        }
        v
    }

    /// The chain's rule set: 30 generic rules, one `allow dst x/32` per host in `hosts`, 15
    /// more generic rules, then `allow all` (the paper's fw-rules ends in `1 all`).
    pub fn paper_rules(hosts: &[u32]) -> Vec<Rule> {
        let mut v = Vec::new();
        let deny = Action::Deny;
        // Quarantined campus subnets and blocked service ports.
        for i in 0..10u32 {
            v.push(Rule {
                src: 0x0A40_0000 | (i << 12),
                src_mask: 0xFFFF_F000,
                ..Rule::any(deny)
            });
        }
        for port in [23u16, 135, 137, 138, 139, 445, 1433, 3389, 5900, 6667] {
            v.push(Rule {
                proto: Some(6),
                dport: (port, port),
                ..Rule::any(deny)
            });
        }
        for i in 0..10u32 {
            v.push(Rule {
                dst: 0xC633_6400 | (i << 4),
                dst_mask: 0xFFFF_FFF0,
                ..Rule::any(deny)
            });
        }
        for &h in hosts {
            v.push(Rule {
                dst: h,
                dst_mask: u32::MAX,
                ..Rule::any(Action::Allow)
            });
        }
        for i in 0..15u16 {
            v.push(Rule {
                proto: Some(17),
                dport: (5000 + i * 10, 5000 + i * 10 + 9),
                ..Rule::any(Action::Allow)
            });
        }
        v.push(Rule::any(Action::Allow));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn naive(rules: &[Rule], k: &Tuple) -> Option<u32> {
        rules.iter().position(|r| r.matches(k)).map(|i| i as u32)
    }

    /// The indexed classifier returns exactly the first matching rule of the linear list.
    #[test]
    fn first_match_equals_linear_scan() {
        let hosts: Vec<u32> = crate::trace::hosts::server_pool()[..11_700].to_vec();
        let mut rules = Firewall::paper_rules(&hosts);
        // A deny for one listed host placed after its allow: the allow must win.
        rules.insert(
            40,
            Rule {
                dst: hosts[5],
                dst_mask: u32::MAX,
                ..Rule::any(Action::Deny)
            },
        );
        let fw = Firewall::new(&rules);
        assert_eq!(fw.rule_count(), rules.len());
        let mut r = Rng::new(3, 3);
        for i in 0..20_000 {
            let k = Tuple {
                src: if i % 7 == 0 {
                    0x0A40_1000 | (r.next_u32() & 0xFFF)
                } else {
                    0x0A00_0000 | (r.next_u32() & 0xFF_FFFF)
                },
                dst: if i % 2 == 0 {
                    hosts[(r.next_u32() as usize) % hosts.len()]
                } else {
                    r.next_u32()
                },
                sport: r.next_u32() as u16,
                dport: [23u16, 443, 5003, 5149, 80][(i % 5) as usize],
                proto: if i % 3 == 0 { 17 } else { 6 },
            };
            assert_eq!(fw.classify(&k).map(|x| x.0), naive(&rules, &k), "{k:?}");
        }
    }

    /// The blocklist has the asked size, is the same every time, and matches neither a
    /// server of the pool nor a campus client, whatever the protocol and port: the chain's
    /// verdicts do not change, only its rule walk grows.
    #[test]
    fn blocklist_matches_no_traced_host() {
        let servers = crate::trace::hosts::server_pool();
        let rules = Firewall::blocklist_rules(3000, &servers);
        assert_eq!(rules.len(), 3000);
        assert_eq!(rules, Firewall::blocklist_rules(3000, &servers));
        assert!(rules.iter().all(|r| r.action == Action::Deny));
        let fw = Firewall::new(&rules);
        let mut r = Rng::new(5, 5);
        for (i, &dst) in servers.iter().enumerate() {
            let k = Tuple {
                src: crate::trace::hosts::client_addr(&mut r),
                dst,
                sport: r.next_u32() as u16,
                dport: r.next_u32() as u16,
                proto: if i % 2 == 0 { 6 } else { 17 },
            };
            assert_eq!(fw.classify(&k), None, "{k:?}");
        }
        // It does match what it lists: a guest source, and a listed destination network.
        let guest = rules
            .iter()
            .find(|r| r.src_mask != 0)
            .expect("source rules");
        let k = Tuple {
            src: guest.src,
            dst: servers[0],
            sport: 1,
            dport: 2,
            proto: 6,
        };
        assert_eq!(fw.classify(&k).map(|x| x.1), Some(Action::Deny));
    }

    #[test]
    fn verdicts_and_cache() {
        let hosts = [0x0808_0808u32, 0x0101_0101];
        let mut fw = Firewall::new(&Firewall::paper_rules(&hosts));
        let telnet = Tuple {
            src: 0x0A00_0001,
            dst: 0x0808_0808,
            sport: 1,
            dport: 23,
            proto: 6,
        };
        let web = Tuple {
            dport: 443,
            ..telnet
        };
        let quarantined = Tuple {
            src: 0x0A40_2001,
            ..web
        };
        assert_eq!(fw.filter(&telnet), Action::Deny);
        assert_eq!(fw.filter(&web), Action::Allow);
        assert_eq!(fw.filter(&web), Action::Allow);
        assert_eq!(fw.cache_hits, 1);
        assert_eq!(fw.filter(&quarantined), Action::Deny);
        assert_eq!(
            fw.classify(&web).unwrap().0,
            30,
            "the /32 rule right after 30 generic rules"
        );
        let empty = Firewall::new(&[]);
        assert_eq!(empty.classify(&web), None);
    }
}
