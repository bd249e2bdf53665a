//! Small measuring helpers for the benches: percentiles, this process's CPU time and peak
//! memory (from `/proc/self`, Linux).

use serde::Serialize;

/// Mean and percentiles of a stage's per-frame durations, milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct StageStat {
    /// Stage name.
    pub stage: String,
    /// Samples.
    pub n: usize,
    /// Mean, ms.
    pub mean_ms: f64,
    /// Median, ms.
    pub p50_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
}

impl StageStat {
    /// Summarises `ms` (any order).
    pub fn of(stage: &str, ms: &[f64]) -> Self {
        let mut v = ms.to_vec();
        v.sort_by(f64::total_cmp);
        let pct = |p: f64| if v.is_empty() { 0.0 } else { v[((v.len() - 1) as f64 * p).round() as usize] };
        let mean = if v.is_empty() { 0.0 } else { v.iter().sum::<f64>() / v.len() as f64 };
        StageStat { stage: stage.to_owned(), n: v.len(), mean_ms: mean, p50_ms: pct(0.5), p99_ms: pct(0.99) }
    }
}

/// User + system CPU seconds this process has used so far (`/proc/self/stat`); 0 elsewhere.
pub fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else { return 0.0 };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12th and 13th after ')'.
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / clock_ticks()
}

fn clock_ticks() -> f64 {
    // USER_HZ is 100 on every Linux architecture raqib targets.
    100.0
}

/// Peak resident memory of this process, MiB (`VmHWM`); 0 elsewhere.
pub fn peak_rss_mib() -> f64 {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else { return 0.0 };
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// CPU model, core count and memory of this machine, for labelling figures.
pub fn machine_summary() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned()))
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().find_map(|l| l.strip_prefix("MemTotal:").map(|v| v.trim().to_owned())))
        .unwrap_or_default();
    format!("{cpu}, {cores} cores, {mem}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_process_figures() {
        let ms: Vec<f64> = (1..=100).map(f64::from).collect();
        let s = StageStat::of("x", &ms);
        assert_eq!((s.n, s.p50_ms, s.p99_ms), (100, 51.0, 99.0));
        assert!((s.mean_ms - 50.5).abs() < 1e-9);
        assert_eq!(StageStat::of("empty", &[]).p99_ms, 0.0);
        let before = cpu_seconds();
        let mut x = 0u64;
        for i in 0..30_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        assert!(x != 1);
        assert!(cpu_seconds() >= before);
        assert!(peak_rss_mib() > 1.0);
    }
}
