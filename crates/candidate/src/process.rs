//! The candidate's process: started once, in a process group of its own ([`Group`]), its
//! stdin fed by a writer thread, its stdout read frame by frame by a reader thread, its stderr
//! passed through line by line (and its last lines kept for the error). Every wait has a
//! deadline, after which the group is killed, so a candidate that hangs or never reads cannot
//! hang the harness, and nothing it started outlives the check.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crate::frame::{self, Incoming};
use crate::group::Group;
use crate::Fault;

/// Lines of the candidate's stderr kept for an error message.
const STDERR_LINES: usize = 20;

/// How long the rest of a line of stray stdout text, or an exit status, is waited for.
const GRACE: Duration = Duration::from_millis(500);

/// A running candidate.
pub struct Process {
    group: Group,
    to_stdin: Option<Sender<Vec<u8>>>,
    from_stdout: Receiver<Incoming>,
    stderr: Arc<Mutex<VecDeque<String>>>,
}

impl Process {
    /// Starts `command` with piped stdin and stdout; its stderr is echoed to ours when `echo`.
    pub fn start(mut command: Command, echo: bool) -> Result<Self, Fault> {
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut group = Group::spawn(&mut command).map_err(|e| Fault::Spawn {
            command: format!("{command:?}"),
            reason: e.to_string(),
        })?;
        let child = group.leader();
        let (stdin, stdout, stderr) =
            match (child.stdin.take(), child.stdout.take(), child.stderr.take()) {
                (Some(i), Some(o), Some(e)) => (i, o, e),
                _ => unreachable!("all three streams were piped"),
            };

        let (to_stdin, requests) = mpsc::channel::<Vec<u8>>();
        thread::spawn(move || {
            let mut stdin = stdin;
            // A candidate that stops reading ends the loop (broken pipe); its fault is seen on
            // the reading side.
            for request in requests {
                if frame::write_frame(&mut stdin, &request).is_err() {
                    break;
                }
            }
        });

        let (answers, from_stdout) = mpsc::channel();
        thread::spawn(move || {
            let mut stdout = BufReader::new(stdout);
            loop {
                let incoming = frame::read_frame(&mut stdout);
                let last = !matches!(incoming, Incoming::Frame(_));
                let text = matches!(incoming, Incoming::Text(_));
                if answers.send(incoming).is_err() || last && !text {
                    break;
                }
                if text {
                    // The rest of the line, for the message (it may never come).
                    let mut line = Vec::new();
                    let _ = (&mut stdout).take(200).read_until(b'\n', &mut line);
                    let _ = answers.send(Incoming::Text(line));
                    break;
                }
            }
        });

        let kept = Arc::new(Mutex::new(VecDeque::with_capacity(STDERR_LINES)));
        let tail = Arc::clone(&kept);
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if echo {
                    eprintln!("candidate: {line}");
                }
                let mut tail = tail.lock().unwrap_or_else(PoisonError::into_inner);
                if tail.len() == STDERR_LINES {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
        });

        Ok(Process {
            group,
            to_stdin: Some(to_stdin),
            from_stdout,
            stderr: kept,
        })
    }

    /// Sends one frame and waits up to `timeout` for the answer's header.
    pub fn exchange(&mut self, request: Vec<u8>, timeout: Duration) -> Result<Vec<u8>, Fault> {
        if let Some(stdin) = &self.to_stdin {
            // A closed channel means the writer met a closed pipe: the read below says why.
            let _ = stdin.send(request);
        }
        let fault = match self.from_stdout.recv_timeout(timeout) {
            Ok(Incoming::Frame(header)) => return Ok(header),
            Ok(Incoming::End) | Err(RecvTimeoutError::Disconnected) => self.ended(),
            Ok(Incoming::Text(mut text)) => {
                if let Ok(Incoming::Text(rest)) = self.from_stdout.recv_timeout(GRACE) {
                    text.extend(rest);
                }
                Fault::TextOnStdout {
                    text: String::from_utf8_lossy(&text).trim_end().to_owned(),
                }
            }
            Ok(Incoming::Broken(what)) => Fault::Malformed(what),
            Err(RecvTimeoutError::Timeout) => Fault::Timeout(timeout),
        };
        self.stop();
        Err(fault)
    }

    /// The candidate's stdout ended: how its process ended.
    fn ended(&mut self) -> Fault {
        let deadline = Instant::now() + GRACE;
        loop {
            match self.group.leader().try_wait() {
                Ok(Some(status)) if status.success() => return Fault::ExitedEarly,
                Ok(Some(status)) => {
                    return Fault::Crashed {
                        status: status.to_string(),
                    }
                }
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
                Ok(None) => {
                    return Fault::Crashed {
                        status: "it closed its stdout and was stopped".to_owned(),
                    }
                }
                Err(e) => {
                    return Fault::Crashed {
                        status: format!("its status cannot be read: {e}"),
                    }
                }
            }
        }
    }

    /// The last lines of the candidate's stderr, once it has had a moment to write them.
    pub fn stderr_tail(&self) -> Vec<String> {
        thread::sleep(Duration::from_millis(50));
        let tail = self.stderr.lock().unwrap_or_else(PoisonError::into_inner);
        tail.iter().cloned().collect()
    }

    /// Sends `bye` (already encoded), closes stdin and waits briefly for the exit, then stops
    /// the group (what the candidate started may still run).
    pub fn close(&mut self, bye: Vec<u8>) {
        if let Some(stdin) = self.to_stdin.take() {
            let _ = stdin.send(bye);
        }
        let deadline = Instant::now() + GRACE;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.group.leader().try_wait() {
                break;
            }
            thread::sleep(Duration::from_millis(10));
        }
        self.stop();
    }

    /// Kills the candidate's process group and waits for it ([`Group::stop`]).
    pub fn stop(&mut self) {
        self.to_stdin = None;
        self.group.stop();
    }
}
