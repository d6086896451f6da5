//! Where the CPU reading comes from, as go-zero's `core/stat/internal` finds it:
//! cgroup v2 (`cpu.stat` `usage_usec`, `cpu.max`, `cpuset.cpus.effective`), else cgroup v1
//! (`cpuacct/cpuacct.usage`, `cpu/cpu.cfs_quota_us` and `cpu.cfs_period_us`,
//! `cpuset/cpuset.cpus`), else `/proc/stat` (the whole machine; go-zero reads 0 there).
//!
//! Usage is the CPU time the cgroup used over the wall time times the cores it may use,
//! `min(cpuset cores, quota)`. go-zero divides by the host's total CPU time from
//! `/proc/stat` instead, which is the same when the cpuset is the whole host and reads
//! too low when it is not; wall time is what the quota is measured against.

use std::path::{Path, PathBuf};
use std::time::Instant;

/// The cgroup root on Linux.
pub(super) const CGROUP_ROOT: &str = "/sys/fs/cgroup";
const PROC_STAT: &str = "/proc/stat";

/// A reading source with the previous sample to difference against.
#[derive(Debug)]
pub(super) enum Source {
    /// A cgroup: CPU time used (ns) against wall time times the cores allowed.
    Cgroup {
        group: Cgroup,
        cores: f64,
        last_used: u64,
        last_at: Instant,
    },
    /// `/proc/stat`: busy jiffies against all jiffies, over every core.
    Proc { last_busy: u64, last_total: u64 },
}

/// The cgroup version found, with its root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Cgroup {
    V2(PathBuf),
    V1(PathBuf),
}

// === impl Source ===

impl Source {
    /// The best source under `root` (the cgroup mount), or `/proc/stat`, or none.
    pub(super) fn detect(root: &Path) -> Option<Source> {
        if let Some(group) = Cgroup::detect(root)
            && let Some(used) = group.usage_ns()
        {
            return Some(Source::Cgroup {
                cores: group.cores(),
                group,
                last_used: used,
                last_at: Instant::now(),
            });
        }
        let (busy, total) = parse_proc_stat(&std::fs::read_to_string(PROC_STAT).ok()?)?;
        Some(Source::Proc {
            last_busy: busy,
            last_total: total,
        })
    }

    /// Usage since the last sample, in thousandths of what is available (0..=1000).
    pub(super) fn sample(&mut self) -> Option<f64> {
        match self {
            Source::Cgroup {
                group,
                cores,
                last_used,
                last_at,
            } => {
                let used = group.usage_ns()?;
                let now = Instant::now();
                let wall = now.duration_since(*last_at).as_nanos() as f64 * *cores;
                let usage = used.saturating_sub(*last_used) as f64 / wall.max(1.0);
                (*last_used, *last_at) = (used, now);
                Some((usage * 1000.0).min(1000.0))
            }
            Source::Proc {
                last_busy,
                last_total,
            } => {
                let stat = std::fs::read_to_string(PROC_STAT).ok()?;
                let (busy, total) = parse_proc_stat(&stat)?;
                let d_total = total.saturating_sub(*last_total).max(1) as f64;
                let usage = busy.saturating_sub(*last_busy) as f64 / d_total;
                (*last_busy, *last_total) = (busy, total);
                Some((usage * 1000.0).min(1000.0))
            }
        }
    }
}

// === impl Cgroup ===

impl Cgroup {
    /// v2 when the root is the unified hierarchy (it has `cgroup.controllers`; go-zero
    /// checks the filesystem's magic number, which needs a syscall), else v1 when it has
    /// the `cpuacct` controller.
    pub(super) fn detect(root: &Path) -> Option<Cgroup> {
        if root.join("cgroup.controllers").exists() {
            return Some(Cgroup::V2(root.to_path_buf()));
        }
        if root.join("cpuacct/cpuacct.usage").exists() {
            return Some(Cgroup::V1(root.to_path_buf()));
        }
        None
    }

    /// CPU time used by the cgroup so far, in nanoseconds.
    pub(super) fn usage_ns(&self) -> Option<u64> {
        match self {
            Cgroup::V2(root) => {
                let stat = read(root, "cpu.stat")?;
                let usec: u64 = stat
                    .lines()
                    .find_map(|l| l.strip_prefix("usage_usec "))?
                    .trim()
                    .parse()
                    .ok()?;
                Some(usec.saturating_mul(1000))
            }
            Cgroup::V1(root) => read(root, "cpuacct/cpuacct.usage")?.trim().parse().ok(),
        }
    }

    /// The cores the cgroup may use: its cpuset, capped by its quota (go-zero's `limit`).
    pub(super) fn cores(&self) -> f64 {
        let (cpuset, quota) = match self {
            Cgroup::V2(root) => (
                read(root, "cpuset.cpus.effective").and_then(|s| parse_cpu_list(&s)),
                read(root, "cpu.max").and_then(|s| parse_cpu_max(&s)),
            ),
            Cgroup::V1(root) => (
                read(root, "cpuset/cpuset.cpus").and_then(|s| parse_cpu_list(&s)),
                read(root, "cpu/cpu.cfs_quota_us").and_then(|quota| {
                    let period = read(root, "cpu/cpu.cfs_period_us")?;
                    parse_cfs_quota(&quota, &period)
                }),
            ),
        };
        let cpus = cpuset.map(|n| n as f64).unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1.0, |n| n.get() as f64)
        });
        quota.map_or(cpus, |q| q.min(cpus)).max(0.01)
    }
}

fn read(root: &Path, file: &str) -> Option<String> {
    std::fs::read_to_string(root.join(file)).ok()
}

/// `cpu.max`: `QUOTA PERIOD`, or `max PERIOD` for no quota.
pub(super) fn parse_cpu_max(s: &str) -> Option<f64> {
    let mut parts = s.split_whitespace();
    let quota: f64 = parts.next()?.parse().ok()?;
    let period: f64 = parts.next()?.parse().ok()?;
    (quota > 0.0 && period > 0.0).then_some(quota / period)
}

/// v1 `cpu.cfs_quota_us` (-1 for no quota) over `cpu.cfs_period_us`.
pub(super) fn parse_cfs_quota(quota: &str, period: &str) -> Option<f64> {
    let quota: f64 = quota.trim().parse().ok()?;
    let period: f64 = period.trim().parse().ok()?;
    (quota > 0.0 && period > 0.0).then_some(quota / period)
}

/// How many CPUs a cpuset list names: `0-3,6,8-9` is 7.
pub(super) fn parse_cpu_list(s: &str) -> Option<usize> {
    let mut cpus = std::collections::BTreeSet::new();
    for part in s.trim().split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((lo, hi)) => {
                let (lo, hi): (usize, usize) = (lo.parse().ok()?, hi.parse().ok()?);
                if hi < lo {
                    return None;
                }
                cpus.extend(lo..=hi);
            }
            None => {
                cpus.insert(part.parse::<usize>().ok()?);
            }
        }
    }
    (!cpus.is_empty()).then_some(cpus.len())
}

/// (busy, total) jiffies of the `cpu` line of `/proc/stat`.
pub(super) fn parse_proc_stat(stat: &str) -> Option<(u64, u64)> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    // go-zero sums the first seven fields (user..softirq); steal and guest are left out.
    let total: u64 = v.iter().take(7).sum();
    // idle and iowait are not busy.
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    Some((total.saturating_sub(idle), total))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake cgroup mount in a fresh temporary folder.
    fn fake_root(name: &str, files: &[(&str, &str)]) -> PathBuf {
        let root = std::env::temp_dir().join(format!(
            "rzero-cgroup-{name}-{}-{:?}",
            std::process::id(),
            Instant::now()
        ));
        for (file, content) in files {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, content).expect("write");
        }
        root
    }

    #[test]
    fn reads_cgroup_v2_usage_and_quota() {
        let root = fake_root(
            "v2",
            &[
                ("cgroup.controllers", "cpuset cpu io memory\n"),
                (
                    "cpu.stat",
                    "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n",
                ),
                ("cpu.max", "150000 100000\n"),
                ("cpuset.cpus.effective", "0-3\n"),
            ],
        );
        let group = Cgroup::detect(&root).expect("v2");
        assert_eq!(group, Cgroup::V2(root.clone()));
        assert_eq!(group.usage_ns(), Some(1_500_000));
        assert_eq!(group.cores(), 1.5, "the quota caps the cpuset");
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn reads_cgroup_v1_usage_and_cpuset() {
        let root = fake_root(
            "v1",
            &[
                ("cpuacct/cpuacct.usage", "5484394424625\n"),
                ("cpu/cpu.cfs_quota_us", "-1\n"),
                ("cpu/cpu.cfs_period_us", "100000\n"),
                ("cpuset/cpuset.cpus", "0-1\n"),
            ],
        );
        let group = Cgroup::detect(&root).expect("v1");
        assert_eq!(group, Cgroup::V1(root.clone()));
        assert_eq!(group.usage_ns(), Some(5_484_394_424_625));
        assert_eq!(group.cores(), 2.0, "no quota: the cpuset");
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn no_cgroup_is_none() {
        let root = fake_root("none", &[("unrelated", "")]);
        assert_eq!(Cgroup::detect(&root), None);
        let _ = std::fs::remove_dir_all(root);
    }

    #[test]
    fn parses_the_file_formats() {
        assert_eq!(parse_cpu_max("max 100000\n"), None);
        assert_eq!(parse_cpu_max("50000 100000\n"), Some(0.5));
        assert_eq!(parse_cfs_quota("200000\n", "100000\n"), Some(2.0));
        assert_eq!(parse_cpu_list("0-3,6,8-9\n"), Some(7));
        assert_eq!(parse_cpu_list("0-2,1-3"), Some(4), "overlaps count once");
        assert_eq!(parse_cpu_list("3-1"), None);
        assert_eq!(parse_cpu_list(""), None);
        let stat = "cpu  100 0 50 800 50 0 0 7 0 0\ncpu0 1 2 3 4 5 6 7 0 0 0\n";
        assert_eq!(parse_proc_stat(stat), Some((150, 1000)));
        assert_eq!(parse_proc_stat("intr 1 2 3\n"), None);
    }
}
