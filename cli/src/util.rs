//! Small shared pieces: the CLI error type and exit codes, secrets that are
//! never printed, input files, the clock and random identifiers.

use clap::Args;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Exit status: success / everything valid.
pub const EXIT_OK: i32 = 0;
/// Exit status: a check failed (signature mismatch, simulate failure, …).
pub const EXIT_FAIL: i32 = 1;
/// Exit status: bad usage or bad input (also clap's own usage errors).
pub const EXIT_USAGE: i32 = 2;

/// An error that ends the command: a message for the user and an exit code.
/// Messages never contain a key.
#[derive(Debug)]
pub struct CliError {
    pub code: i32,
    pub msg: String,
}

impl CliError {
    pub fn usage(msg: impl Into<String>) -> Self {
        CliError { code: EXIT_USAGE, msg: msg.into() }
    }
    pub fn fail(msg: impl Into<String>) -> Self {
        CliError { code: EXIT_FAIL, msg: msg.into() }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.msg)
    }
}

pub type CliResult<T> = Result<T, CliError>;

/// A secret string (access key, APIG secret key): zeroized on drop, shown
/// only as `<what, N chars>`.
pub struct Secret {
    what: &'static str,
    value: Zeroizing<String>,
}

impl Secret {
    pub fn new(what: &'static str, value: String) -> CliResult<Self> {
        if value.is_empty() {
            return Err(CliError::usage(format!("the {what} is empty")));
        }
        Ok(Secret { what, value: Zeroizing::new(value) })
    }

    /// The secret itself, for the core only.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// What may be printed instead of the secret.
    pub fn masked(&self) -> String {
        format!("<{}, {} chars>", self.what, self.value.chars().count())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Environment variable read when neither `--key` nor `--key-file` is given.
pub const KEY_ENV: &str = "KOOSIGN_ACCESS_KEY";

/// Where the access key comes from.
#[derive(Args, Debug, Clone, Default)]
pub struct KeyArgs {
    /// The access key (seller console → key management). Prefer --key-file or
    /// the KOOSIGN_ACCESS_KEY environment variable: command lines are visible
    /// to other users of the machine. Never printed.
    #[arg(long, value_name = "KEY", allow_hyphen_values = true, conflicts_with = "key_file")]
    pub key: Option<String>,
    /// Read the access key from a file (one trailing newline is ignored).
    #[arg(long, value_name = "PATH")]
    pub key_file: Option<PathBuf>,
}

impl KeyArgs {
    pub fn resolve(&self) -> CliResult<Secret> {
        resolve_secret("access key", self.key.as_deref(), self.key_file.as_deref(), KEY_ENV, "--key", "--key-file")
    }
}

/// `value`, else the file's content (one trailing newline stripped), else
/// the environment variable.
pub fn resolve_secret(
    what: &'static str,
    value: Option<&str>,
    file: Option<&Path>,
    env: &str,
    flag: &str,
    file_flag: &str,
) -> CliResult<Secret> {
    if let Some(v) = value {
        return Secret::new(what, v.to_string());
    }
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::usage(format!("cannot read {what} file {}: {e}", path.display())))?;
        let text = text.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)).unwrap_or(&text).to_string();
        return Secret::new(what, text);
    }
    match std::env::var(env) {
        Ok(v) if !v.is_empty() => Secret::new(what, v),
        _ => Err(CliError::usage(format!("no {what}: pass {flag}, {file_flag} or set {env}"))),
    }
}

/// Reads a body argument: a path, or `-` for standard input. The bytes are
/// kept exactly (a trailing newline is part of the body).
pub fn read_body(arg: &str) -> CliResult<Vec<u8>> {
    if arg == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf).map_err(|e| CliError::usage(format!("cannot read standard input: {e}")))?;
        Ok(buf)
    } else {
        std::fs::read(arg).map_err(|e| CliError::usage(format!("cannot read body file {arg}: {e}")))
    }
}

/// Unix time in milliseconds.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// `yyyy-MM-ddTHH:mm:ss.SSSZ` for log lines (via the core's V1 formatter).
pub fn iso_now() -> String {
    iso(now_ms())
}

/// Unix milliseconds as `yyyy-MM-ddTHH:mm:ss.SSSZ`.
pub fn iso(unix_ms: u64) -> String {
    let t = koosign::format_v1_timestamp(unix_ms);
    let s = t.as_str();
    format!("{}-{}-{}T{}:{}:{}.{}Z", &s[0..4], &s[4..6], &s[6..8], &s[8..10], &s[10..12], &s[12..14], &s[14..17])
}

/// The OS random source failed. There is deliberately no fallback (issue 11
/// finding 9: a clock-derived pool made guessable instance passwords).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoRandomness;

impl fmt::Display for NoRandomness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the operating system's random source failed")
    }
}

/// A source of random bytes: fills the buffer or fails.
pub type FillRandom = fn(&mut [u8]) -> Result<(), NoRandomness>;

/// The operating system's random source (`getrandom`).
pub fn os_random(buf: &mut [u8]) -> Result<(), NoRandomness> {
    getrandom::fill(buf).map_err(|_| NoRandomness)
}

/// `n` random characters from `alphabet` (uniform, rejection sampling),
/// from the OS random source; [`NoRandomness`] if it fails.
pub fn random_text(n: usize, alphabet: &[u8]) -> Result<String, NoRandomness> {
    random_text_with(os_random, n, alphabet)
}

/// [`random_text`] from the given source. `alphabet` has 1 to 256 symbols.
pub fn random_text_with(fill: FillRandom, n: usize, alphabet: &[u8]) -> Result<String, NoRandomness> {
    if alphabet.is_empty() || alphabet.len() > 256 {
        return Err(NoRandomness);
    }
    let limit = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(n);
    let mut pool = Zeroizing::new([0u8; 64]);
    while out.len() < n {
        fill(&mut pool[..])?;
        for &b in pool.iter() {
            if (b as usize) < limit && out.len() < n {
                out.push(alphabet[b as usize % alphabet.len()] as char);
            }
        }
    }
    Ok(out)
}

pub const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub const HEX_UPPER: &[u8] = b"0123456789ABCDEF";
pub const HEX_LOWER: &[u8] = b"0123456789abcdef";

/// A header argument `Name: value`.
pub fn parse_header_arg(h: &str) -> CliResult<(String, String)> {
    let (n, v) = h
        .split_once(':')
        .ok_or_else(|| CliError::usage(format!("header `{h}` is not of the form `Name: value`")))?;
    let n = n.trim();
    if n.is_empty() || n.contains(char::is_whitespace) {
        return Err(CliError::usage(format!("header `{h}` has an empty or invalid name")));
    }
    Ok((n.to_string(), v.trim().to_string()))
}

/// Describes a core error for a user, with what to do about it.
pub fn describe(e: &koosign::Error) -> String {
    format!("{e} [{}]", e.code())
}

/// Text for a terminal: the table reports print what a (possibly hostile)
/// endpoint answered, so every control character but the line feed (C0,
/// DEL, C1: ESC/CSI/OSC sequences, CR, BEL) is shown escaped (`\u{1b}`), and
/// each line is cut at `max_line` characters.
pub fn terminal_safe(text: &str, max_line: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let mut n = 0;
        for c in line.chars() {
            if c == '\n' {
                out.push(c);
                continue;
            }
            if n >= max_line {
                continue;
            }
            n += 1;
            if c.is_control() {
                out.extend(c.escape_unicode());
            } else {
                out.push(c);
            }
        }
        if n >= max_line && !line.is_empty() {
            out.insert(out.len() - usize::from(line.ends_with('\n')), '…');
        }
    }
    out
}

/// Writes a report's table to stdout through [`terminal_safe`]; a write
/// error (a closed pipe, e.g. `| head`) ends the output quietly.
pub fn print_safe(write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) {
    use std::io::Write;
    let mut buf = Vec::new();
    let _ = write(&mut buf);
    let _ = std::io::stdout().lock().write_all(terminal_safe(&String::from_utf8_lossy(&buf), 400).as_bytes());
}

/// Shortens a long text for a table cell.
pub fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_safe_escapes_controls_and_cuts_lines() {
        let hostile = "ok\u{1b}[2K\r99 passed\u{7}\u{9b}x\n\u{1b}]0;title\u{7}\nplain";
        let t = terminal_safe(hostile, 400);
        assert!(!t.chars().any(|c| c.is_control() && c != '\n'), "{t:?}");
        assert_eq!(t.lines().count(), 3);
        assert!(t.starts_with("ok\\u{1b}[2K\\u{d}99 passed"), "{t}");
        let long = "x".repeat(1000);
        assert_eq!(terminal_safe(&long, 10).chars().count(), 11);
        assert_eq!(terminal_safe("a\nb\n", 10), "a\nb\n");
    }

    #[test]
    fn random_text_has_no_fallback() {
        fn broken(_: &mut [u8]) -> Result<(), NoRandomness> {
            Err(NoRandomness)
        }
        assert_eq!(random_text_with(broken, 16, ALNUM), Err(NoRandomness));
        let t = random_text(40, HEX_LOWER).unwrap();
        assert_eq!(t.len(), 40);
        assert!(t.bytes().all(|b| HEX_LOWER.contains(&b)));
        assert_eq!(random_text_with(os_random, 0, ALNUM).unwrap(), "");
        assert_eq!(random_text_with(os_random, 4, b""), Err(NoRandomness));
    }
}
