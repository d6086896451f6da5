//! The adaptive shedder both servers put in front of their handlers, from `CpuThreshold`.
//!
//! The CPU reading is the server's: a sampler thread is started here and handed to the
//! server's [`Lifecycle`](crate::Lifecycle), which stops it with the server (go-zero starts
//! one per process in an `init()`, which is what we do not copy). Tests give a reading of
//! their own instead.

use std::sync::Arc;

use rzero_resilience::shedder::{AdaptiveShedder, CpuSampler, CpuUsage, ShedderConfig};

/// A shedder and the sampler its reading comes from, when one was started.
#[derive(Debug)]
pub struct Shedding {
    /// Decides per request; cheap to clone.
    pub shedder: AdaptiveShedder,
    /// Give it to the lifecycle: it must stop with the server.
    pub sampler: Option<CpuSampler>,
}

/// Why shedding could not start.
#[derive(Debug, thiserror::Error)]
#[error(
    "CpuThreshold is set but CPU usage cannot be sampled ({0}); set CpuThreshold: 0 to turn shedding off"
)]
pub struct SamplerError(#[source] pub std::io::Error);

/// The shedder for `cpu_threshold` (thousandths; 0 turns shedding off: `None`), reading
/// `cpu` when given, else a sampler of this process's cgroup started now.
pub fn start(
    cpu_threshold: u64,
    cpu: Option<Arc<dyn CpuUsage>>,
) -> Result<Option<Shedding>, SamplerError> {
    if cpu_threshold == 0 {
        return Ok(None);
    }
    let config = ShedderConfig {
        cpu_threshold,
        ..ShedderConfig::default()
    };
    Ok(Some(match cpu {
        Some(cpu) => Shedding {
            shedder: AdaptiveShedder::new(config, cpu),
            sampler: None,
        },
        None => {
            let sampler = CpuSampler::start().map_err(SamplerError)?;
            Shedding {
                shedder: AdaptiveShedder::new(config, sampler.usage()),
                sampler: Some(sampler),
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use rzero_resilience::shedder::FixedCpu;

    use super::*;

    #[test]
    fn zero_threshold_is_off() {
        assert!(start(0, None).expect("starts").is_none());
    }

    #[test]
    fn a_given_reading_starts_no_sampler() {
        let s = start(900, Some(Arc::new(FixedCpu::new(0))))
            .expect("starts")
            .expect("on");
        assert!(s.sampler.is_none());
    }

    #[test]
    fn without_a_reading_the_sampler_is_the_servers() {
        let s = start(900, None).expect("starts").expect("on");
        let sampler = s.sampler.expect("a sampler was started");
        sampler.stop();
    }
}
