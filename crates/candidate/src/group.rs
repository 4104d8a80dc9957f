//! The candidate's processes, as one process group of their own: the command (`sh -c`, a
//! script, an interpreter) and whatever it starts, so that stopping the candidate stops all of
//! them, however the check ends.
//!
//! - **Stopped as a whole**: [`Group::stop`] sends SIGKILL to the group, then reaps every
//!   process of it that is this process's child until the group is empty. This process is a
//!   child subreaper (Linux's `PR_SET_CHILD_SUBREAPER`), so the candidate's own children,
//!   orphaned as the group dies, are reparented here and reaped too rather than left to an
//!   init that may never reap them (no zombies).
//! - **Even if this process is SIGKILLed**: a watchdog (`sh`, in the group) blocks reading a
//!   pipe whose other end only this process holds. When this process ends, however it ends,
//!   the pipe closes, and the watchdog kills its group, itself included.
//! - **No signal to a stranger**: the group's id is the leader's pid, which the kernel does
//!   not reuse while a process of the group is unreaped. The watchdog is reaped only by
//!   [`Group::stop`], after its one SIGKILL, so until then the id names this group.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Once;
use std::thread;
use std::time::{Duration, Instant};

use rustix::io::Errno;
use rustix::process::{
    kill_process_group, set_child_subreaper, test_kill_process_group, waitpgid, Pid, Signal,
    WaitOptions,
};

/// The longest wait for the group to be empty after its SIGKILL: a killed process ends at
/// once unless it is in an uninterruptible wait (a hung disk), which no signal ends.
const EMPTIED: Duration = Duration::from_secs(2);

/// What the watchdog runs: `read` returns at the end of its stdin, which this process holds
/// the only writing end of, and `kill -KILL 0` kills the watchdog's process group.
const WATCHDOG: &str = "read _; kill -KILL 0";

/// A running candidate's process group.
pub struct Group {
    /// The command, the group's leader.
    leader: Child,
    /// The watchdog's stdin, never written: it closes when this process ends, and the
    /// watchdog then kills the group. (The watchdog itself is reaped with the group.)
    _watchdog: ChildStdin,
    id: Pid,
    stopped: bool,
}

impl Group {
    /// Starts `command` as the leader of a new process group, and the watchdog in it.
    pub fn spawn(command: &mut Command) -> io::Result<Group> {
        become_subreaper();
        let mut leader = command.process_group(0).spawn()?;
        let id = Pid::from_child(&leader);
        let watchdog = Command::new("sh")
            .args(["-c", WATCHDOG])
            .process_group(id.as_raw_pid())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let mut watchdog = match watchdog {
            Ok(watchdog) => watchdog,
            Err(e) => {
                // The leader is not reaped yet: the id is still the group's.
                let _ = kill_process_group(id, Signal::KILL);
                let _ = leader.wait();
                return Err(e);
            }
        };
        let watchdog = watchdog
            .stdin
            .take()
            .expect("the watchdog's stdin was piped");
        Ok(Group {
            leader,
            _watchdog: watchdog,
            id,
            stopped: false,
        })
    }

    /// The command's process (its streams, its exit status).
    pub fn leader(&mut self) -> &mut Child {
        &mut self.leader
    }

    /// Kills every process of the group and reaps those that are this process's children,
    /// until the group is empty (or [`EMPTIED`] has passed). Once only: after it, the id
    /// may name another group.
    pub fn stop(&mut self) {
        if std::mem::replace(&mut self.stopped, true) {
            return;
        }
        // The watchdog is not reaped yet, so the id is still this group's.
        let _ = kill_process_group(self.id, Signal::KILL);
        let deadline = Instant::now() + EMPTIED;
        loop {
            match waitpgid(self.id, WaitOptions::NOHANG) {
                Ok(Some(_)) | Err(Errno::INTR) => continue,
                // Children of the group left, none ended yet.
                Ok(None) => {}
                // None left that is this process's child: done once the group is empty (a
                // process orphaned just now may still be on its way here).
                Err(_) if test_kill_process_group(self.id) == Err(Errno::SRCH) => break,
                Err(_) => {}
            }
            if Instant::now() >= deadline {
                break;
            }
            thread::sleep(Duration::from_millis(1));
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Makes this process the child subreaper of its descendants, once (Linux; elsewhere, or if
/// refused, orphans go to init as before).
fn become_subreaper() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = set_child_subreaper(Some(rustix::process::getpid()));
    });
}
