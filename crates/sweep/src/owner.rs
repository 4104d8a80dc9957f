//! Which process holds something: its pid and host, and whether it still exists. A seed
//! under way records its owner in its `.partial` folder; `compare` names the files a run
//! holds while it runs (`run.json`'s reserve) by theirs, so that what a killed process left
//! can be told from what a live one is writing.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A process, by its pid and the host it runs on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub pid: u32,
    pub host: String,
}

/// Whether an owner's process still runs, as far as this machine can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    Alive,
    /// On this host, and no process has its pid.
    Gone,
    /// On another host: this machine cannot tell.
    Unknown,
}

impl Owner {
    /// This process.
    pub fn this_process() -> Owner {
        Owner {
            pid: std::process::id(),
            host: this_host(),
        }
    }

    /// Whether its process still runs. A pid reused by another process reads as alive: the
    /// safe side, as what is alive is left alone.
    pub fn liveness(&self) -> Liveness {
        if self.host != this_host() {
            Liveness::Unknown
        } else if std::path::Path::new(&format!("/proc/{}", self.pid)).exists() {
            Liveness::Alive
        } else {
            Liveness::Gone
        }
    }

    /// As a file name carries it: `PID@HOST`.
    fn tag(&self) -> String {
        format!("{}@{}", self.pid, self.host)
    }

    /// The name of a file or folder of `kind` (`reserve`, `part`, `partial`…) this owner
    /// holds while it runs: `BASE.PID@HOST.KIND`, which [`owned_name`] reads back.
    pub fn name(&self, base: &str, kind: &str) -> String {
        format!("{base}.{}.{kind}", self.tag())
    }
}

/// The owner and the kind of a name [`Owner::name`] made; `None` for any other name.
pub fn owned_name(name: &str) -> Option<(Owner, &str)> {
    let (rest, kind) = name.rsplit_once('.')?;
    let (left, host) = rest.split_once('@')?;
    let (_, pid) = left.rsplit_once('.')?;
    let owner = format!("{pid}@{host}").parse().ok()?;
    Some((owner, kind))
}

/// Parses `PID@HOST`, the owner's part of a name [`Owner::name`] makes.
impl FromStr for Owner {
    type Err = ();

    fn from_str(tag: &str) -> Result<Self, ()> {
        let (pid, host) = tag.split_once('@').ok_or(())?;
        let digits = !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit());
        match (digits, pid.parse()) {
            (true, Ok(pid)) if !host.is_empty() => Ok(Owner {
                pid,
                host: host.to_owned(),
            }),
            _ => Err(()),
        }
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pid {} on {}", self.pid, self.host)
    }
}

/// This machine's host name.
pub fn this_host() -> String {
    gethostname::gethostname().to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_pid_past_the_kernels_limit_is_gone() {
        let me = Owner::this_process();
        assert_eq!(me.liveness(), Liveness::Alive);
        // Linux pids stay below 2^22 (pid_max's ceiling).
        let gone = Owner {
            pid: 1 << 23,
            ..me.clone()
        };
        assert_eq!(gone.liveness(), Liveness::Gone);
        let elsewhere = Owner {
            host: format!("not-{}", me.host),
            ..me
        };
        assert_eq!(elsewhere.liveness(), Liveness::Unknown);
    }

    #[test]
    fn a_tag_reads_back_as_its_owner() {
        let owner = Owner {
            pid: 4242,
            host: "node-7.cluster".into(),
        };
        assert_eq!(owner.tag(), "4242@node-7.cluster");
        assert_eq!(owner.tag().parse(), Ok(owner));
        for bad in ["4242", "@h", "42@", "x@h", "+1@h", "99999999999@h"] {
            assert_eq!(bad.parse::<Owner>(), Err(()), "{bad}");
        }
    }

    #[test]
    fn an_owned_name_reads_back_as_its_owner_and_kind() {
        let owner = Owner {
            pid: 17,
            host: "node-7.cluster".into(),
        };
        let name = owner.name(".run.json", "reserve");
        assert_eq!(name, ".run.json.17@node-7.cluster.reserve");
        assert_eq!(owned_name(&name), Some((owner.clone(), "reserve")));
        let staged = owner.name(".2026-12-08T01-37-25Z", "partial");
        assert_eq!(owned_name(&staged), Some((owner, "partial")));
        for other in [
            "run.json",
            ".run.json.reserve",
            "seed-3.partial",
            "a.x@h.part",
        ] {
            assert_eq!(owned_name(other), None, "{other}");
        }
    }
}
