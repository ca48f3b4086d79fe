//! Running a `c:` rule's command on the live system: split into words as a shell would
//! (quotes, backslashes), executed directly without a shell (policies write `sh -c "..."` when
//! they want one), standard input closed, a time limit, output bounded.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Output kept from each stream of a command.
const MAX_OUTPUT: usize = 16 << 20;

#[derive(Debug)]
pub struct CommandOutput {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// The exit code does not decide a rule (Wazuh tests the output whatever the code); kept for messages.
    #[allow(dead_code)]
    pub exit_code: Option<i32>,
}

/// Why a command produced no output to test.
#[derive(Debug)]
pub enum CommandFailure {
    /// The program is not installed (or not executable).
    NotFound(String),
    TimedOut(Duration),
    Other(String),
}

pub fn run(command_line: &str, timeout: Duration) -> Result<CommandOutput, CommandFailure> {
    let words = shlex::split(command_line).ok_or_else(|| CommandFailure::Other(format!("cannot split `{command_line}` into words (unbalanced quotes)")))?;
    let Some((program, arguments)) = words.split_first() else {
        return Err(CommandFailure::Other("empty command".to_string()));
    };
    let mut child =
        Command::new(program).args(arguments).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).env("LC_ALL", "C").spawn().map_err(
            |error| match error.kind() {
                std::io::ErrorKind::NotFound => CommandFailure::NotFound(program.clone()),
                std::io::ErrorKind::PermissionDenied => CommandFailure::Other(format!("`{program}` is not executable: {error}")),
                _ => CommandFailure::Other(format!("cannot run `{program}`: {error}")),
            },
        )?;
    let stdout = child.stdout.take().map(read_bounded);
    let stderr = child.stderr.take().map(read_bounded);
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(CommandFailure::TimedOut(timeout));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(error) => return Err(CommandFailure::Other(format!("waiting for `{program}`: {error}"))),
        }
    };
    let collect = |reader: Option<std::thread::JoinHandle<Vec<u8>>>| reader.and_then(|handle| handle.join().ok()).unwrap_or_default();
    Ok(CommandOutput { stdout: collect(stdout), stderr: collect(stderr), exit_code: status.code() })
}

fn read_bounded<R: Read + Send + 'static>(reader: R) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buffer = Vec::new();
        let _ = reader.take(MAX_OUTPUT as u64).read_to_end(&mut buffer);
        buffer
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_words_and_missing_programs() {
        let output = run(r#"sh -c "echo 'a b'; echo err >&2""#, Duration::from_secs(30)).unwrap();
        assert_eq!(output.stdout, b"a b\n");
        assert_eq!(output.stderr, b"err\n");
        assert!(matches!(run("vigil-no-such-program-x", Duration::from_secs(5)), Err(CommandFailure::NotFound(name)) if name == "vigil-no-such-program-x"));
    }

    #[test]
    fn a_command_past_its_time_limit_is_stopped() {
        assert!(matches!(run("sleep 30", Duration::from_millis(200)), Err(CommandFailure::TimedOut(_))));
    }
}
