//! `koosign simulate --audit`: probe a merchant endpoint as an attacker
//! would, not only as the marketplace's dial test does.
//!
//! Every probe is one row of [`PROBES`]: its name, what it sends, what a
//! correct endpoint does, its severity, why it matters, the fix, and the
//! function that runs it. The text and JSON reports, the tests and the
//! table in cli/README.md ([`probes_markdown`]) all read that one table.
//!
//! **Severity.** `fail`: the marketplace would count it against the
//! endpoint (an answer that is not HTTP 200 within 5 s, unsigned, or signed
//! outside the strict `Body-Sign` grammar; a genuine request refused; an
//! inconsistent `encryptType`; a ciphertext over 128 characters), or the
//! endpoint does not authenticate at all (a tampered body, a wrong key, the
//! access key or a computed signature in an answer). `warn`: the endpoint
//! authenticates, but a captured genuine request can be replayed or
//! reinterpreted, or a refusal has the wrong code — weaknesses the dial test
//! never sees. `--strict` makes warnings fail.
//!
//! **Judging.** A request probe judges only what the endpoint did with the
//! request: accepted (the probe's severity), refused with the code the
//! SCHEMES.md table gives (pass), or refused with another refusal code
//! (`000001`, `000002`, `000005`: warn). How each answer is formed (HTTP
//! 200, JSON, `Body-Sign`) is judged once, for every answer of the audit, by
//! `response.signed-answers`, with the same function as the lifecycle run
//! ([`contract::answer`]); so one weakness is reported once.
//!
//! **Safety.** Each request has the marketplace's 5 s deadline; after three
//! requests in a row without an answer nothing more is sent; 20 concurrent
//! requests is the largest burst; the largest body is 1 MiB + 1 KiB. The
//! audit creates one test instance per protocol (`testFlag=1`) and releases
//! it at the end. A probe that is refused leaves no trace but a replay-store
//! entry; a vulnerable endpoint may act on an accepted one (it reads test
//! instances only), and the 5,000-deep body may crash an endpoint whose JSON
//! parser recurses.
//!
//! All signing is the core's (`sign_v2`, `build_v1_query`,
//! `v1_auth_token`); every answer is checked by [`contract`].

use crate::client::{self, Exchange, Request, Target};
use crate::contract::{self, meaning, Finding, C_APPINFO, C_CIPHERLEN, C_ETYPE, LIMIT, REFUSAL_CODES};
use crate::simulate::{expire_time, Proto};
use crate::util::{clip, now_ms, random_text, Secret, HEX_LOWER, HEX_UPPER};
use koosign::{build_v1_query, format_unix_ms, format_v1_timestamp, sign_v2, v1_auth_token, FieldCipher, V2Scheme};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Instant;

/// How much a weakness counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The marketplace would count it against the endpoint, or the endpoint
    /// does not authenticate at all.
    Fail,
    /// A security weakness the dial test does not see.
    Warn,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Fail => "fail",
            Severity::Warn => "warn",
        }
    }
}

/// Which requests a probe is about; the probe's id is `<protocol>.<name>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// V2 basic (S2, `v2.*`) and kit (S2b, `kit.*`): run once for each
    /// selected.
    V2Kit,
    /// V1 GET with `authToken` (S1, `v1.*`).
    V1,
    /// S1b: `authToken` header over a flat JSON body (`s1b.*`); runs with
    /// V1, only when the endpoint takes S1b.
    S1b,
    /// The answers themselves (`response.*`), once per audit.
    Response,
}

#[cfg_attr(not(test), allow(dead_code))]
impl Family {
    fn prefixes(self) -> &'static [&'static str] {
        match self {
            Family::V2Kit => &["v2", "kit"],
            Family::V1 => &["v1"],
            Family::S1b => &["s1b"],
            Family::Response => &["response"],
        }
    }
}

/// One probe: a row of [`PROBES`].
pub struct Probe {
    /// Unique within its family; reported as `<protocol>.<name>`.
    pub name: &'static str,
    pub family: Family,
    /// What is sent.
    pub sends: &'static str,
    /// What a correct endpoint does.
    pub expects: &'static str,
    pub severity: Severity,
    /// Why it matters.
    pub why: &'static str,
    /// The fix a merchant should make.
    pub fix: &'static str,
    run: fn(&mut Auditor<'_>, Proto) -> Verdict,
}

#[cfg_attr(not(test), allow(dead_code))]
impl Probe {
    /// The ids this row is reported under (`v2.replay`, `kit.replay`, …).
    pub fn ids(&self) -> Vec<String> {
        self.family.prefixes().iter().map(|p| format!("{p}.{}", self.name)).collect()
    }
}

/// Every probe of the audit, in the order run.
pub static PROBES: &[Probe] = &[
    // ------------------------------------------------------------ V2 / kit
    Probe {
        name: "hex-case",
        family: Family::V2Kit,
        sends: "two genuine requests, the signature in lower-case hex and in upper-case hex",
        expects: "accepts both (anything but 000001)",
        severity: Severity::Fail,
        why: "the marketplace sends upper case for SaaS and lower case for licences (SCHEMES.md S2)",
        fix: "compare the hex signature case-insensitively, in constant time (or decode it and compare the bytes)",
        run: |a, p| a.v2_hex_case(p),
    },
    Probe {
        name: "replay",
        family: Family::V2Kit,
        sends: "a genuine request, then the same request again, byte for byte",
        expects: "accepts the first, refuses the second with 000001",
        severity: Severity::Warn,
        why: "anyone who captures one notification can repeat it within the 60 s window",
        fix: "record each nonce in a replay store until timestamp + window and refuse a nonce seen before",
        run: |a, p| a.v2_replay(p),
    },
    Probe {
        name: "digit-shift",
        family: Family::V2Kit,
        sends: "a genuine request whose nonce ends in 0, then the same signature with that 0 moved to the front of the timestamp",
        expects: "refuses the second with 000001 (a timestamp is exactly 13 digits, no leading zero)",
        severity: Severity::Warn,
        why: "key+nonce+timestamp has no separator: the shifted request has the same signature and a \"new\" nonce, so a replay store alone does not stop it",
        fix: "accept only a timestamp of exactly 13 digits with no leading zero, before consulting the replay store",
        run: |a, p| a.v2_digit_shift(p),
    },
    Probe {
        name: "timestamp-window",
        family: Family::V2Kit,
        sends: "requests validly signed with a timestamp 10 min old and 10 min in the future (fresh nonces)",
        expects: "refuses both with 000001",
        severity: Severity::Warn,
        why: "without a window a captured request stays valid forever, and a replay store cannot hold every nonce ever seen",
        fix: "refuse a timestamp further than 60 s from now (SCHEMES.md S2)",
        run: |a, p| a.v2_window(p),
    },
    Probe {
        name: "leading-zero",
        family: Family::V2Kit,
        sends: "a request validly signed with a 14-digit timestamp: a leading 0, then now",
        expects: "refuses it with 000001",
        severity: Severity::Warn,
        why: "a timestamp that may carry leading zeros lets digits move between nonce and timestamp (see digit-shift)",
        fix: "accept only a timestamp of exactly 13 digits with no leading zero",
        run: |a, p| a.v2_leading_zero(p),
    },
    Probe {
        name: "tampered-body",
        family: Family::V2Kit,
        sends: "a genuine signature with a different body (instanceId changed)",
        expects: "refuses it with 000001",
        severity: Severity::Fail,
        why: "an endpoint that accepts it does not verify the body it acts on: anyone can forge notifications",
        fix: "verify the signature over the exact raw body bytes received, before parsing them",
        run: |a, p| a.v2_tampered(p),
    },
    Probe {
        name: "wrong-key",
        family: Family::V2Kit,
        sends: "a request signed with another access key",
        expects: "refuses it with 000001",
        severity: Severity::Fail,
        why: "an endpoint that accepts it does not check signatures at all",
        fix: "verify the signature with your access key and refuse a mismatch",
        run: |a, p| a.v2_wrong_key(p),
    },
    Probe {
        name: "non-hex-signature",
        family: Family::V2Kit,
        sends: "the genuine signature followed by `zz`, and the genuine signature with a space in the middle",
        expects: "refuses both with 000001",
        severity: Severity::Warn,
        why: "lenient hex decoders (Buffer.from(s, 'hex') stops at the first bad digit, bytes.fromhex skips spaces) accept text that is not the signature",
        fix: "accept exactly 64 hex digits, nothing else, before comparing",
        run: |a, p| a.v2_non_hex(p),
    },
    Probe {
        name: "not-utf8",
        family: Family::V2Kit,
        sends: "a validly signed body with bytes that are not UTF-8",
        expects: "refuses it with 000002 (authenticated, body unusable)",
        severity: Severity::Warn,
        why: "decoders that replace or drop bad bytes act on text that was not signed",
        fix: "decode the verified body strictly as UTF-8 and answer 000002 when it is not",
        run: |a, p| a.v2_not_utf8(p),
    },
    Probe {
        name: "duplicate-activity",
        family: Family::V2Kit,
        sends: "a validly signed body with the key `activity` twice (queryInstance, then refreshInstance)",
        expects: "refuses it with 000002",
        severity: Severity::Warn,
        why: "JSON parsers disagree on which duplicate wins, so what was checked and what is acted on can differ",
        fix: "parse with duplicate names refused (koosign's notification parser does) and answer 000002",
        run: |a, p| a.v2_duplicate(p),
    },
    Probe {
        name: "nested-5000",
        family: Family::V2Kit,
        sends: "a validly signed body with a member nested 5,000 arrays deep",
        expects: "refuses it with 000002, signed, without crashing",
        severity: Severity::Warn,
        why: "recursive parsers overflow the stack or hit a recursion limit: a crash or an unsigned 500 for anyone holding one signed request",
        fix: "parse with a nesting limit (koosign's: 64) and answer 000002 beyond it",
        run: |a, p| a.v2_nested(p),
    },
    Probe {
        name: "over-1mib",
        family: Family::V2Kit,
        sends: "a validly signed body of 1 MiB + 1 KiB",
        expects: "refuses it with 000002",
        severity: Severity::Warn,
        why: "no notification is that large; reading and hashing unbounded bodies lets anyone tie the endpoint up",
        fix: "cap the request body (1 MiB is plenty) and answer 000002, signed, beyond it",
        run: |a, p| a.v2_large(p),
    },
    // ------------------------------------------------------------ V1
    Probe {
        name: "plus-and-space",
        family: Family::V1,
        sends: "genuine requests: a value with `+` and a space (sent `%2B` and `+`), and an authToken containing `+` sent unencoded",
        expects: "accepts both (anything but 000001)",
        severity: Severity::Fail,
        why: "the marketplace form-encodes values (space as `+`), and a raw `+` in the token arrives as a space (SCHEMES.md S1.9)",
        fix: "form-decode the query (`+` is a space, `%2B` a plus), and read a space in the received authToken as `+`",
        run: |a, p| a.v1_plus_space(p),
    },
    Probe {
        name: "replay",
        family: Family::V1,
        sends: "a genuine request, then the same query again, byte for byte",
        expects: "accepts the first, refuses the second with 000001",
        severity: Severity::Warn,
        why: "V1 carries no nonce: without a replay store one captured URL can be sent again and again",
        fix: "record each authToken (after the space-as-plus repair) in a replay store until timeStamp + window (SCHEMES.md S1.8)",
        run: |a, p| a.v1_replay(p),
    },
    Probe {
        name: "stale",
        family: Family::V1,
        sends: "the request re-signed with a timeStamp 1 hour old, and 1 day old",
        expects: "refuses both with 000001",
        severity: Severity::Warn,
        why: "V1 documents no window: a notification of any age verifies, so a captured URL never expires",
        fix: "refuse a timeStamp further than 5 min from now (SCHEMES.md S1.8)",
        run: |a, p| a.v1_stale(p),
    },
    Probe {
        name: "merged-parameters",
        family: Family::V1,
        sends: "`instanceId=X%26testFlag%3D1` with the authToken of `instanceId=X&testFlag=1`",
        expects: "refuses it with 000001 (ambiguous)",
        severity: Severity::Warn,
        why: "the canonical string does not delimit values: two parameters merged into one verify, and the endpoint sees parameters that were never signed",
        fix: "refuse a decoded name with `&` or `=`, or a decoded value with `&…=` (SCHEMES.md S1.10)",
        run: |a, p| a.v1_merged(p),
    },
    Probe {
        name: "repeated-parameter",
        family: Family::V1,
        sends: "a genuine query for the audit's instance with a second, unsigned `instanceId` appended",
        expects: "reads the first value, as the Java reference does (000000), or refuses the request",
        severity: Severity::Warn,
        why: "the token covers the first value only; an endpoint that reads the last acts on a value nobody signed",
        fix: "read every parameter from the verified view (the first occurrence), never from the raw query",
        run: |a, p| a.v1_repeated(p),
    },
    Probe {
        name: "tampered-parameter",
        family: Family::V1,
        sends: "a genuine query with the expireTime changed after signing",
        expects: "refuses it with 000001",
        severity: Severity::Fail,
        why: "an endpoint that accepts it does not verify the parameters it acts on",
        fix: "verify the authToken over every parameter but authToken, decoded, sorted, with key = access key + timeStamp",
        run: |a, p| a.v1_tampered(p),
    },
    // ------------------------------------------------------------ S1b
    Probe {
        name: "unsigned-members",
        family: Family::S1b,
        sends: "only if a genuine S1b POST (authToken header, flat JSON body) is accepted: the same body with a duplicate instanceId, a number member, a nested object appended",
        expects: "refuses each with 000001 or 000002",
        severity: Severity::Warn,
        why: "only top-level string members are signed: an application that parses the raw body sees data nobody signed",
        fix: "accept only a flat JSON object of string members, each name once (SCHEMES.md S1b)",
        run: |a, p| a.s1b_unsigned(p),
    },
    // ------------------------------------------------------------ responses
    Probe {
        name: "concurrency",
        family: Family::Response,
        sends: "20 genuine requests at once (the first protocol selected), each with a 5 s deadline",
        expects: "answers every one within 5 s",
        severity: Severity::Fail,
        why: "the marketplace gives up after 5 s and counts a late answer as a failure; an endpoint that serialises requests falls behind under a burst",
        fix: "do not hold a global lock around verification or slow work; keep the handler fast",
        run: |a, p| a.concurrency(p),
    },
    Probe {
        name: "encrypt-type",
        family: Family::Response,
        sends: "the audit's newInstance (testFlag=1) for each protocol selected",
        expects: "encryptType is \"1\" (AES-256) or \"2\" (AES-128) and matches the ciphertexts",
        severity: Severity::Fail,
        why: "the marketplace decrypts userName and password with the size encryptType names (SCHEMES.md S4)",
        fix: "label the key size actually used",
        run: |a, p| a.encrypt_type(p),
    },
    Probe {
        name: "ciphertext-length",
        family: Family::Response,
        sends: "the audit's newInstance (testFlag=1) for each protocol selected",
        expects: "each appInfo ciphertext, IV included, is at most 128 characters",
        severity: Severity::Fail,
        why: "the marketplace refuses longer credentials (SCHEMES.md S4)",
        fix: "keep userName and password short enough (at most 80 bytes of plaintext fit)",
        run: |a, p| a.cipher_length(p),
    },
    Probe {
        name: "no-key-echo",
        family: Family::Response,
        sends: "nothing more: every answer of the audit is searched",
        expects: "no answer contains the access key, or the signature or token the endpoint computed for a refused request",
        severity: Severity::Fail,
        why: "either one in an answer lets anyone who can reach the endpoint forge notifications",
        fix: "never put keys or expected signatures in answers or error messages",
        run: |a, p| a.no_key_echo(p),
    },
    Probe {
        name: "no-auth-echo",
        family: Family::Response,
        sends: "nothing more: every answer of the audit is searched",
        expects: "no answer echoes a signature, x-sign or authToken it received",
        severity: Severity::Warn,
        why: "authentication material copied into answers ends up in logs and caches",
        fix: "answer with resultCode and a short resultMsg only",
        run: |a, p| a.no_auth_echo(p),
    },
    Probe {
        name: "signed-answers",
        family: Family::Response,
        sends: "nothing more: every answer of the audit (refusals included) is checked",
        expects: "each is HTTP 200 within 5 s, a JSON object, with one header named exactly Body-Sign, in the strict grammar, over the exact bytes",
        severity: Severity::Fail,
        why: "the marketplace counts an unsigned or non-200 answer as a failed call (SCHEMES.md S3, \"Which code a refusal gets\")",
        fix: "sign every answer, refusals and errors included; catch every exception and answer it HTTP 200 with 000001/000002/000005",
        run: |a, p| a.signed_answers(p),
    },
];

// ---------------------------------------------------------------- report

/// What a probe found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Warn,
    Fail,
    /// Not applicable or inconclusive (the detail says why).
    Skip,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Warn => "warn",
            Outcome::Fail => "fail",
            Outcome::Skip => "skip",
        }
    }
}

/// One request of a probe and what came back.
#[derive(Clone, Debug, Serialize)]
pub struct ExchangeRecord {
    /// What the request is, in words.
    pub sent: String,
    /// The request line (signatures clipped), and the body size.
    pub request: String,
    /// HTTP status, when an answer came.
    pub status: Option<u16>,
    /// The answer's resultCode, when it has one.
    pub result_code: Option<String>,
    pub latency_ms: u64,
    /// Why there was no usable answer, or what was wrong with it.
    pub problem: Option<String>,
}

/// One probe's result.
#[derive(Clone, Debug, Serialize)]
pub struct ProbeResult {
    /// `<protocol>.<name>`.
    pub id: String,
    pub probe: &'static str,
    pub protocol: &'static str,
    pub severity: Severity,
    pub result: Outcome,
    /// What happened.
    pub detail: String,
    pub sends: &'static str,
    pub expects: &'static str,
    pub why: &'static str,
    pub fix: &'static str,
    pub exchanges: Vec<ExchangeRecord>,
}

/// Counts of results.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Counts {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub skip: usize,
}

/// The audit's report (the `audit` member of `simulate --json`; its schema
/// is cli/audit-report.schema.json).
#[derive(Debug, Serialize)]
pub struct AuditReport {
    pub url: String,
    pub protocols: Vec<&'static str>,
    /// `--strict`: warnings fail.
    pub strict: bool,
    /// `fail` when a probe failed (or warned, with `--strict`), `warn` when
    /// a probe warned, else `pass`.
    pub verdict: Outcome,
    pub counts: Counts,
    /// Requests sent.
    pub requests: usize,
    pub elapsed_ms: u64,
    pub probes: Vec<ProbeResult>,
}

impl AuditReport {
    pub fn exit_code(&self) -> i32 {
        if self.verdict == Outcome::Fail {
            crate::util::EXIT_FAIL
        } else {
            crate::util::EXIT_OK
        }
    }

    pub fn print_table(&self) {
        // What the endpoint answered is shown, never interpreted by the terminal.
        crate::util::print_safe(|buf| self.write_table(buf));
    }

    fn write_table(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        let w_id = self.probes.iter().map(|p| p.id.len()).max().unwrap_or(5).max(5);
        writeln!(out, "koosign simulate --audit: hostile requests against {}", self.url)?;
        writeln!(out, "{:<w_id$} {:<4} {:<6} DETAIL", "PROBE", "SEV", "RESULT")?;
        for p in &self.probes {
            let r = match p.result {
                Outcome::Pass => "pass",
                Outcome::Warn => "WARN",
                Outcome::Fail => "FAIL",
                Outcome::Skip => "skip",
            };
            writeln!(out, "{:<w_id$} {:<4} {:<6} {}", p.id, p.severity.as_str(), r, clip(&p.detail, 160))?;
        }
        let bad: Vec<&ProbeResult> = self.probes.iter().filter(|p| matches!(p.result, Outcome::Warn | Outcome::Fail)).collect();
        if !bad.is_empty() {
            writeln!(out)?;
            writeln!(out, "findings:")?;
            for p in bad {
                writeln!(out, "  {} [{}]: {}", p.id, p.result.as_str(), p.detail)?;
                writeln!(out, "    sent: {}", p.sends)?;
                for e in p.exchanges.iter().take(4) {
                    let back = match (&e.status, &e.result_code, &e.problem) {
                        (_, _, Some(pr)) => clip(pr, 140),
                        (Some(s), Some(c), None) => format!("HTTP {s}, {c}"),
                        (Some(s), None, None) => format!("HTTP {s}"),
                        _ => "no answer".into(),
                    };
                    writeln!(out, "      {} -> {}", clip(&e.sent, 70), back)?;
                }
                writeln!(out, "    expected: {}", p.expects)?;
                writeln!(out, "    why: {}", p.why)?;
                writeln!(out, "    fix: {}", p.fix)?;
            }
        }
        writeln!(out)?;
        let c = &self.counts;
        writeln!(
            out,
            "audit: {} pass, {} warn, {} fail, {} skip; {} requests in {} ms; verdict {}{}",
            c.pass,
            c.warn,
            c.fail,
            c.skip,
            self.requests,
            self.elapsed_ms,
            self.verdict.as_str(),
            if self.strict { " (--strict: warnings fail)" } else { "" }
        )?;
        Ok(())
    }
}

/// The README table of the probes, generated from [`PROBES`]
/// (cli/README.md holds it between `<!-- audit-probes:begin -->` and
/// `<!-- audit-probes:end -->`; a test keeps the two equal).
#[cfg_attr(not(test), allow(dead_code))]
pub fn probes_markdown() -> String {
    let mut s = String::from("| probe | sends | a correct endpoint | severity | why | fix |\n|---|---|---|---|---|---|\n");
    let cell = |t: &str| t.replace('|', "\\|");
    for p in PROBES {
        let ids: Vec<String> = p.ids().iter().map(|i| format!("`{i}`")).collect();
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            ids.join(" "),
            cell(p.sends),
            cell(p.expects),
            p.severity.as_str(),
            cell(p.why),
            cell(p.fix)
        ));
    }
    s
}

// ---------------------------------------------------------------- running

/// A probe's finding before the table's severity is applied.
enum Verdict {
    Pass(String),
    /// The weakness the probe looks for: reported with the probe's severity.
    Weak(String),
    /// Refused, but with another refusal code than the table's: a warning.
    WrongCode(String),
    Skip(String),
}

/// A request as built, and what it carries that an answer must not echo.
#[derive(Clone)]
struct Sent {
    what: String,
    method: &'static str,
    query: Option<String>,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    timestamp: String,
    /// Authentication values sent (signature, x-sign, authToken).
    auth_sent: Vec<String>,
    /// What a verifying endpoint computes for this request where that
    /// differs from what was sent: shown in an answer, a signing oracle.
    oracle: Vec<String>,
}

/// What came back, as the probes read it.
struct Answer {
    what: String,
    status: Option<u16>,
    code: Option<String>,
    json: Option<Value>,
}

impl Answer {
    /// Authenticated: an HTTP 200 JSON answer with a resultCode other than 000001.
    fn accepted(&self) -> bool {
        self.status == Some(200) && self.code.as_deref().is_some_and(|c| c != "000001")
    }
    fn code_text(&self) -> String {
        match (&self.status, &self.code) {
            (Some(200), Some(c)) => format!("{c} ({})", meaning(c)),
            (Some(s), Some(c)) => format!("HTTP {s}, {c}"),
            (Some(s), None) => format!("HTTP {s} without a resultCode"),
            (None, _) => "no answer".into(),
        }
    }
}

/// Nothing more is sent after this many requests in a row without an answer.
const DEAD_AFTER: usize = 3;
/// The burst of the concurrency probe.
const BURST: usize = 20;
/// An id no endpoint has.
const NO_INSTANCE: &str = "koosign-audit-no-such-instance";
const WRONG_KEY: &str = "koosign-audit-wrong-access-key";

struct Auditor<'a> {
    target: &'a Target,
    key: &'a Secret,
    cipher: FieldCipher,
    /// The audit's test instance per protocol.
    instances: BTreeMap<&'static str, (String, String)>,
    /// contract::app_info findings of the setup answers, per protocol.
    app_info: Vec<(&'static str, Vec<Finding>)>,
    /// (probe id, exchange, what is wrong) for every answer off the contract.
    contract_problems: Vec<(String, ExchangeRecord)>,
    answers_checked: usize,
    /// (probe id, what was echoed) — the key or an oracle value / a received value.
    key_echo: Vec<String>,
    auth_echo: Vec<String>,
    current_id: String,
    current: Vec<ExchangeRecord>,
    requests: usize,
    no_answer_streak: usize,
    last_v1_ms: u64,
    rng_failed: bool,
    protocols: Vec<Proto>,
}

/// Runs the audit against `target` for `protocols`.
pub fn run(target: &Target, key: &Secret, protocols: &[Proto], strict: bool) -> AuditReport {
    let start = Instant::now();
    let mut a = Auditor {
        target,
        key,
        cipher: FieldCipher::new(key.expose()),
        instances: BTreeMap::new(),
        app_info: Vec::new(),
        contract_problems: Vec::new(),
        answers_checked: 0,
        key_echo: Vec::new(),
        auth_echo: Vec::new(),
        current_id: String::new(),
        current: Vec::new(),
        requests: 0,
        no_answer_streak: 0,
        last_v1_ms: 0,
        rng_failed: random_text(1, HEX_LOWER).is_err(),
        protocols: protocols.to_vec(),
    };
    let mut results = Vec::new();
    if !a.rng_failed {
        a.current_id = "(setup)".into();
        for &p in protocols {
            a.setup(p);
        }
    }
    let mut cleaned = false;
    for probe in PROBES {
        let scopes: Vec<(Proto, &'static str)> = match probe.family {
            Family::V2Kit => protocols
                .iter()
                .filter_map(|&p| match p {
                    Proto::V2 => Some((p, "v2")),
                    Proto::Kit => Some((p, "kit")),
                    Proto::V1 => None,
                })
                .collect(),
            Family::V1 => protocols.iter().filter(|&&p| p == Proto::V1).map(|&p| (p, "v1")).collect(),
            Family::S1b => protocols.iter().filter(|&&p| p == Proto::V1).map(|&p| (p, "s1b")).collect(),
            Family::Response => vec![(protocols.first().copied().unwrap_or(Proto::V2), "response")],
        };
        for (proto, prefix) in scopes {
            // The test instances are released before the response probes:
            // the concurrency burst is the last thing sent.
            if probe.family == Family::Response && !cleaned {
                a.current_id = "(cleanup)".into();
                a.cleanup();
                cleaned = true;
            }
            let id = format!("{prefix}.{}", probe.name);
            a.current_id = id.clone();
            a.current.clear();
            let verdict = if a.rng_failed {
                Verdict::Skip("not run: the operating system's random source failed (nonces would repeat)".into())
            } else if a.dead() && !matches!(probe.name, "signed-answers" | "no-key-echo" | "no-auth-echo" | "encrypt-type" | "ciphertext-length") {
                Verdict::Skip(format!("not run: the endpoint stopped answering ({DEAD_AFTER} requests in a row without an answer)"))
            } else {
                (probe.run)(&mut a, proto)
            };
            let (result, detail) = match verdict {
                Verdict::Pass(d) => (Outcome::Pass, d),
                Verdict::Weak(d) => (if probe.severity == Severity::Fail { Outcome::Fail } else { Outcome::Warn }, d),
                Verdict::WrongCode(d) => (Outcome::Warn, d),
                Verdict::Skip(d) => (Outcome::Skip, d),
            };
            results.push(ProbeResult {
                id,
                probe: probe.name,
                protocol: prefix,
                severity: probe.severity,
                result,
                detail,
                sends: probe.sends,
                expects: probe.expects,
                why: probe.why,
                fix: probe.fix,
                exchanges: std::mem::take(&mut a.current),
            });
        }
    }
    if a.rng_failed {
        if let Some(r) = results.iter_mut().find(|r| r.probe == "signed-answers") {
            r.result = Outcome::Fail;
            r.detail = "the operating system's random source failed: no probe was run".into();
        }
    }
    let mut counts = Counts::default();
    for r in &results {
        match r.result {
            Outcome::Pass => counts.pass += 1,
            Outcome::Warn => counts.warn += 1,
            Outcome::Fail => counts.fail += 1,
            Outcome::Skip => counts.skip += 1,
        }
    }
    let verdict = if counts.fail > 0 || (strict && counts.warn > 0) {
        Outcome::Fail
    } else if counts.warn > 0 {
        Outcome::Warn
    } else {
        Outcome::Pass
    };
    AuditReport {
        url: target.url.clone(),
        protocols: protocols.iter().map(|p| p.name()).collect(),
        strict,
        verdict,
        counts,
        requests: a.requests,
        elapsed_ms: start.elapsed().as_millis() as u64,
        probes: results,
    }
}

/// Form-encodes `s` for a query (the characters left as they are by Java's
/// URLEncoder stay; space is `+`).
fn form(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Does `hay` contain `needle`, ignoring ASCII case (hex signatures may be
/// echoed in either case), also with `/` escaped as JSON may write it?
fn contains(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    let h = hay.to_ascii_lowercase();
    let n = needle.to_ascii_lowercase();
    h.contains(&n) || (n.contains('/') && h.contains(&n.replace('/', "\\/")))
}

impl<'a> Auditor<'a> {
    // ------------------------------------------------------------ plumbing

    fn dead(&self) -> bool {
        self.no_answer_streak >= DEAD_AFTER
    }

    fn rand(&mut self, n: usize, alphabet: &[u8]) -> String {
        random_text(n, alphabet).unwrap_or_else(|_| {
            self.rng_failed = true;
            "0".repeat(n)
        })
    }

    fn request_line(&self, s: &Sent) -> String {
        let target = self.target.with_query(s.query.as_deref());
        let mut line = format!("{} {}", s.method, clip(&target, 150));
        let hs: Vec<String> = s
            .headers
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("content-type"))
            .map(|(n, v)| format!("{n}: {}", clip(v, 24)))
            .collect();
        if !hs.is_empty() {
            line.push_str(&format!(" [{}]", hs.join(", ")));
        }
        if let Some(b) = &s.body {
            line.push_str(&format!(" ({}-byte body)", b.len()));
        }
        line
    }

    fn request<'s>(s: &'s Sent) -> Request<'s> {
        Request { method: s.method, query: s.query.as_deref(), headers: &s.headers, body: s.body.as_deref() }
    }

    /// Sends one request and checks the answer (see [`Self::observe`]).
    fn exchange(&mut self, s: &Sent) -> Answer {
        if self.dead() {
            let ex = Exchange {
                response: Err(format!("not sent: the endpoint stopped answering ({DEAD_AFTER} requests in a row without an answer)")),
                elapsed: std::time::Duration::ZERO,
            };
            return self.observe(s, &ex, false);
        }
        self.requests += 1;
        let ex = client::send(self.target, &Self::request(s), LIMIT);
        self.observe(s, &ex, true)
    }

    /// Checks an answer against the response contract (for
    /// `response.signed-answers`), searches it for echoes, records it for
    /// the current probe, and returns what the probes read. `timing_here`:
    /// false for the concurrency burst, whose lateness that probe judges.
    fn observe(&mut self, s: &Sent, ex: &Exchange, timing_here: bool) -> Answer {
        let ts = [s.timestamp.as_str()];
        let ctx = contract::Context { timestamps: &ts, request_body: s.body.as_deref() };
        let (findings, json) = contract::answer(ex, self.key.expose(), ctx);
        let resp = ex.response.as_ref().ok();
        if resp.is_some() {
            self.no_answer_streak = 0;
        } else {
            self.no_answer_streak += 1;
        }
        let code = json.as_ref().and_then(|v| v.get("resultCode")).and_then(Value::as_str).map(String::from);
        let bad: Vec<String> = findings.iter().filter(|f| !f.ok).map(|f| format!("{}: {}", f.check, f.detail)).collect();
        let record = ExchangeRecord {
            sent: s.what.clone(),
            request: self.request_line(s),
            status: resp.map(|r| r.status),
            result_code: code.clone(),
            latency_ms: ex.elapsed.as_millis() as u64,
            problem: if bad.is_empty() { None } else { Some(bad.join("; ")) },
        };
        let not_sent = ex.response.as_ref().is_err_and(|e| e.starts_with("not sent"));
        // In the burst, an answer that came late or not at all is the
        // concurrency probe's finding; any other deviation is this one's.
        let judged_here = timing_here || (resp.is_some() && ex.elapsed < LIMIT);
        if !bad.is_empty() && !not_sent && judged_here {
            self.contract_problems.push((self.current_id.clone(), record.clone()));
        }
        if resp.is_some() {
            self.answers_checked += 1;
        }
        if let Some(r) = resp {
            self.scan_echo(s, r);
        }
        self.current.push(record);
        Answer { what: s.what.clone(), status: resp.map(|r| r.status), code, json }
    }

    fn scan_echo(&mut self, s: &Sent, r: &client::Response) {
        let mut hay = String::from_utf8_lossy(&r.body).into_owned();
        for (n, v) in &r.headers {
            if !n.eq_ignore_ascii_case("Body-Sign") {
                hay.push('\n');
                hay.push_str(v);
            }
        }
        let key = self.key.expose();
        let id = self.current_id.clone();
        // A key shorter than 8 characters would "occur" by chance.
        if key.len() >= 8 && (hay.contains(key) || serde_json::to_string(key).is_ok_and(|j| hay.contains(j.trim_matches('"')))) {
            self.key_echo.push(format!("{id} ({}): the access key", clip(&s.what, 50)));
        }
        if s.oracle.iter().any(|o| contains(&hay, o)) {
            self.key_echo.push(format!("{id} ({}): the signature the endpoint expected", clip(&s.what, 50)));
        }
        if s.auth_sent.iter().any(|v| v.len() >= 16 && contains(&hay, v)) {
            self.auth_echo.push(format!("{id} ({})", clip(&s.what, 50)));
        }
    }

    // ------------------------------------------------------------ building requests

    fn scheme(proto: Proto) -> V2Scheme {
        if proto == Proto::Kit {
            V2Scheme::Headers
        } else {
            V2Scheme::Query
        }
    }

    fn nonce(&mut self, proto: Proto) -> String {
        if proto == Proto::Kit {
            self.rand(32, HEX_LOWER)
        } else {
            self.rand(64, HEX_UPPER)
        }
    }

    /// `sign_v2`, upper-case hex; empty when the core refuses the inputs.
    fn sign(&self, proto: Proto, body: &[u8], key: &str, nonce: &str, ts: &str) -> String {
        sign_v2(Self::scheme(proto), body, key, nonce, ts).map(|s| s.as_str().to_string()).unwrap_or_default()
    }

    /// A V2 / kit request with the given parts as sent. `expected`: what a
    /// verifying endpoint computes for it, when that differs from `sig`.
    #[allow(clippy::too_many_arguments)]
    fn v2_sent(&self, proto: Proto, what: &str, body: &[u8], nonce: &str, ts: &str, sig: &str, expected: Option<String>) -> Sent {
        let mut headers = vec![("Content-Type".to_string(), "application/json;charset=UTF-8".to_string())];
        let query = if proto == Proto::Kit {
            headers.push(("x-sign".into(), sig.to_string()));
            headers.push(("x-timestamp".into(), ts.to_string()));
            headers.push(("x-nonce".into(), nonce.to_string()));
            None
        } else {
            Some(format!("signature={}&timestamp={ts}&nonce={nonce}", form(sig)))
        };
        let oracle = expected.filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case(sig)).into_iter().collect();
        Sent {
            what: what.to_string(),
            method: "POST",
            query,
            headers,
            body: Some(body.to_vec()),
            timestamp: ts.to_string(),
            auth_sent: vec![sig.to_string()],
            oracle,
        }
    }

    /// A genuine V2 / kit request for `body`, signed now with a fresh nonce.
    fn v2_genuine(&mut self, proto: Proto, what: &str, body: &[u8]) -> Sent {
        let nonce = self.nonce(proto);
        let ts = format_unix_ms(now_ms()).as_str().to_string();
        let sig = self.sign(proto, body, self.key.expose(), &nonce, &ts);
        self.v2_sent(proto, what, body, &nonce, &ts, &sig, None)
    }

    /// The instance the probes of `proto` read (the audit's, or one that
    /// does not exist when the setup failed).
    fn instance(&self, proto: Proto) -> String {
        self.instances.get(proto.name()).map(|(i, _)| i.clone()).unwrap_or_else(|| NO_INSTANCE.to_string())
    }

    fn query_body(&self, proto: Proto) -> Vec<u8> {
        serde_json::to_vec(&json!({ "activity": "queryInstance", "instanceId": self.instance(proto), "testFlag": "1" })).unwrap_or_default()
    }

    /// A V1 query for `params` (timeStamp appended) signed at `ms`, or now
    /// (each "now" strictly later than the last, so no two are equal).
    fn v1_query_at(&mut self, params: &[(&str, &str)], ms: Option<u64>) -> (String, String) {
        let ms = ms.unwrap_or_else(|| {
            let m = now_ms().max(self.last_v1_ms.saturating_add(1));
            self.last_v1_ms = m;
            m
        });
        let ts = format_v1_timestamp(ms).as_str().to_string();
        let mut all: Vec<(&str, &str)> = params.to_vec();
        all.push(("timeStamp", &ts));
        let mut out = vec![0u8; 8192];
        let q = build_v1_query(&all, self.key.expose(), &mut out).map(String::from).unwrap_or_default();
        (q, ts)
    }

    fn v1_sent(what: &str, query: String, ts: String, oracle: Vec<String>) -> Sent {
        let token = token_of(&query);
        Sent {
            what: what.to_string(),
            method: "GET",
            query: Some(query),
            headers: Vec::new(),
            body: None,
            timestamp: ts,
            auth_sent: vec![token],
            oracle,
        }
    }

    /// The genuine V1 parameters of the probes: a refreshInstance of the
    /// audit's V1 instance.
    fn v1_params<'x>(expire: &'x str, instance: &'x str) -> Vec<(&'x str, &'x str)> {
        vec![("activity", "refreshInstance"), ("expireTime", expire), ("instanceId", instance), ("testFlag", "1")]
    }

    // ------------------------------------------------------------ setup, cleanup

    fn setup(&mut self, proto: Proto) {
        let order = format!("CSAUDIT{}", self.rand(10, b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"));
        let line = format!("{order}-000001");
        let business = self.rand(32, HEX_LOWER);
        let customer = self.rand(32, HEX_LOWER);
        let expire = expire_time(30);
        let answer = match proto {
            Proto::V2 | Proto::Kit => {
                let body = json!({
                    "activity": "newInstance",
                    "businessId": business,
                    "customerId": customer,
                    "expireTime": expire,
                    "orderId": order,
                    "orderLineId": line,
                    "productId": "00301-666666-0--0",
                    "testFlag": "1",
                });
                let bytes = serde_json::to_vec(&body).unwrap_or_default();
                let s = self.v2_genuine(proto, "the audit's newInstance (testFlag=1)", &bytes);
                self.exchange(&s)
            }
            Proto::V1 => {
                let params = [
                    ("activity", "newInstance"),
                    ("businessId", business.as_str()),
                    ("customerId", customer.as_str()),
                    ("expireTime", expire.as_str()),
                    ("orderId", order.as_str()),
                    ("productId", "00301-666666-0--0"),
                    ("testFlag", "1"),
                ];
                let (q, ts) = self.v1_query_at(&params, None);
                let s = Self::v1_sent("the audit's newInstance (testFlag=1)", q, ts, Vec::new());
                self.exchange(&s)
            }
        };
        let Some(json) = answer.json.filter(|_| answer.code.as_deref() == Some("000000")) else { return };
        if let Some(id) = json.get("instanceId").and_then(Value::as_str).filter(|i| !i.is_empty()) {
            self.instances.insert(proto.name(), (id.to_string(), order));
        }
        let et = json.get("encryptType").and_then(Value::as_str);
        self.app_info.push((proto.name(), contract::app_info(&self.cipher, et, json.get("appInfo"))));
    }

    fn cleanup(&mut self) {
        let instances: Vec<(&'static str, (String, String))> = self.instances.iter().map(|(k, v)| (*k, v.clone())).collect();
        for (name, (id, order)) in instances {
            let proto = self.protocols.iter().copied().find(|p| p.name() == name).unwrap_or(Proto::V2);
            match proto {
                Proto::V2 | Proto::Kit => {
                    let body = json!({ "activity": "releaseInstance", "instanceId": id, "orderId": order, "orderLineId": format!("{order}-000001"), "testFlag": "1" });
                    let bytes = serde_json::to_vec(&body).unwrap_or_default();
                    let s = self.v2_genuine(proto, "releaseInstance of the audit's instance", &bytes);
                    self.exchange(&s);
                }
                Proto::V1 => {
                    let (q, ts) = self.v1_query_at(&[("activity", "releaseInstance"), ("instanceId", &id), ("testFlag", "1")], None);
                    let s = Self::v1_sent("releaseInstance of the audit's instance", q, ts, Vec::new());
                    self.exchange(&s);
                }
            }
        }
    }

    // ------------------------------------------------------------ judging

    /// Each answer must be a refusal with one of `expect`.
    fn refused(answers: &[Answer], expect: &[&str]) -> Verdict {
        let mut accepted = Vec::new();
        let mut wrong = Vec::new();
        let mut ok = Vec::new();
        let mut none = 0;
        for a in answers {
            match (a.status, a.code.as_deref()) {
                (None, _) => none += 1,
                (Some(200), Some(c)) if expect.contains(&c) => ok.push(format!("{}: {c}", a.what)),
                (Some(200), Some(c)) if REFUSAL_CODES.contains(&c) => {
                    wrong.push(format!("{}: refused with {c} ({}), SCHEMES.md gives {}", a.what, meaning(c), expect.join(" or ")))
                }
                (Some(200), Some(c)) => accepted.push(format!("{}: accepted, answered {c} ({})", a.what, meaning(c))),
                (Some(200), None) => ok.push(format!("{}: refused without a resultCode (see response.signed-answers)", a.what)),
                (Some(s), _) => ok.push(format!("{}: refused with HTTP {s} (the answer's form: see response.signed-answers)", a.what)),
            }
        }
        if !accepted.is_empty() {
            Verdict::Weak(accepted.join("; "))
        } else if !wrong.is_empty() {
            Verdict::WrongCode(wrong.join("; "))
        } else if ok.is_empty() {
            Verdict::Skip(format!("inconclusive: {none} request(s) without an answer (see response.signed-answers)"))
        } else {
            Verdict::Pass(ok.join("; "))
        }
    }

    /// Each answer must show the (genuine) request was accepted.
    fn must_accept(answers: &[Answer]) -> Verdict {
        let mut refused = Vec::new();
        let mut ok = Vec::new();
        let mut none = 0;
        for a in answers {
            if a.status.is_none() {
                none += 1;
            } else if a.accepted() {
                ok.push(format!("{}: {}", a.what, a.code_text()));
            } else {
                refused.push(format!("{}: refused, {}", a.what, a.code_text()));
            }
        }
        if !refused.is_empty() {
            Verdict::Weak(refused.join("; "))
        } else if ok.is_empty() {
            Verdict::Skip(format!("inconclusive: {none} request(s) without an answer (see response.signed-answers)"))
        } else {
            Verdict::Pass(format!("accepted: {}", ok.join("; ")))
        }
    }

    /// Sends a genuine request the probe needs accepted; `Err` is the skip.
    fn baseline(&mut self, s: &Sent) -> Result<(), Verdict> {
        let a = self.exchange(s);
        if a.accepted() {
            Ok(())
        } else {
            Err(Verdict::Skip(format!("inconclusive: the genuine request was not accepted ({}); the lifecycle run checks why", a.code_text())))
        }
    }

    // ------------------------------------------------------------ V2 / kit probes

    fn v2_hex_case(&mut self, proto: Proto) -> Verdict {
        let body = self.query_body(proto);
        let mut answers = Vec::new();
        for (what, lower) in [("signature in lower-case hex", true), ("signature in upper-case hex", false)] {
            let nonce = self.nonce(proto);
            let ts = format_unix_ms(now_ms()).as_str().to_string();
            let sig = self.sign(proto, &body, self.key.expose(), &nonce, &ts);
            let sig = if lower { sig.to_ascii_lowercase() } else { sig.to_ascii_uppercase() };
            let s = self.v2_sent(proto, what, &body, &nonce, &ts, &sig, None);
            answers.push(self.exchange(&s));
        }
        Self::must_accept(&answers)
    }

    fn v2_replay(&mut self, proto: Proto) -> Verdict {
        let body = self.query_body(proto);
        let s = self.v2_genuine(proto, "the genuine request", &body);
        if let Err(v) = self.baseline(&s) {
            return v;
        }
        let mut again = s.clone();
        again.what = "the same request again, byte for byte".into();
        let a = self.exchange(&again);
        Self::refused(&[a], &["000001"])
    }

    fn v2_digit_shift(&mut self, proto: Proto) -> Verdict {
        let body = self.query_body(proto);
        let nonce = format!("{}0", self.nonce(proto));
        let ts = format_unix_ms(now_ms()).as_str().to_string();
        let sig = self.sign(proto, &body, self.key.expose(), &nonce, &ts);
        let s = self.v2_sent(proto, "the genuine request (nonce ending in 0)", &body, &nonce, &ts, &sig, None);
        if let Err(v) = self.baseline(&s) {
            return v;
        }
        let shifted_nonce = &nonce[..nonce.len() - 1];
        let shifted_ts = format!("0{ts}");
        let s = self.v2_sent(proto, "nonce without its last 0, timestamp 0 + the original, same signature", &body, shifted_nonce, &shifted_ts, &sig, None);
        let a = self.exchange(&s);
        Self::refused(&[a], &["000001"])
    }

    fn v2_window(&mut self, proto: Proto) -> Verdict {
        let body = self.query_body(proto);
        let mut answers = Vec::new();
        for (what, ms) in [("timestamp 10 min old", now_ms() - 600_000), ("timestamp 10 min in the future", now_ms() + 600_000)] {
            let nonce = self.nonce(proto);
            let ts = format_unix_ms(ms).as_str().to_string();
            let sig = self.sign(proto, &body, self.key.expose(), &nonce, &ts);
            let s = self.v2_sent(proto, what, &body, &nonce, &ts, &sig, None);
            answers.push(self.exchange(&s));
        }
        Self::refused(&answers, &["000001"])
    }

    fn v2_leading_zero(&mut self, proto: Proto) -> Verdict {
        let body = self.query_body(proto);
        let nonce = self.nonce(proto);
        let ts = format_unix_ms(now_ms()).as_str().to_string();
        // key + nonce + "0" + ts is key + (nonce + "0") + ts: the core signs
        // only 13-digit timestamps, and this is the same string.
        let sig = self.sign(proto, &body, self.key.expose(), &format!("{nonce}0"), &ts);
        let s = self.v2_sent(proto, "timestamp with a leading 0 (14 digits), validly signed", &body, &nonce, &format!("0{ts}"), &sig, None);
        let a = self.exchange(&s);
        Self::refused(&[a], &["000001"])
    }

    fn v2_tampered(&mut self, proto: Proto) -> Verdict {
        let body = self.query_body(proto);
        let other = serde_json::to_vec(&json!({ "activity": "queryInstance", "instanceId": NO_INSTANCE, "testFlag": "1" })).unwrap_or_default();
        let nonce = self.nonce(proto);
        let ts = format_unix_ms(now_ms()).as_str().to_string();
        let sig = self.sign(proto, &body, self.key.expose(), &nonce, &ts);
        let expected = self.sign(proto, &other, self.key.expose(), &nonce, &ts);
        let s = self.v2_sent(proto, "the signature of one body with another body", &other, &nonce, &ts, &sig, Some(expected));
        let a = self.exchange(&s);
        Self::refused(&[a], &["000001"])
    }

    fn v2_wrong_key(&mut self, proto: Proto) -> Verdict {
        let body = self.query_body(proto);
        let nonce = self.nonce(proto);
        let ts = format_unix_ms(now_ms()).as_str().to_string();
        let sig = self.sign(proto, &body, WRONG_KEY, &nonce, &ts);
        let expected = self.sign(proto, &body, self.key.expose(), &nonce, &ts);
        let s = self.v2_sent(proto, "signed with another access key", &body, &nonce, &ts, &sig, Some(expected));
        let a = self.exchange(&s);
        Self::refused(&[a], &["000001"])
    }

    fn v2_non_hex(&mut self, proto: Proto) -> Verdict {
        let body = self.query_body(proto);
        let mut answers = Vec::new();
        for (what, spaced) in [("the genuine signature + `zz`", false), ("the genuine signature with a space in the middle", true)] {
            let nonce = self.nonce(proto);
            let ts = format_unix_ms(now_ms()).as_str().to_string();
            let sig = self.sign(proto, &body, self.key.expose(), &nonce, &ts);
            let bad = if spaced { format!("{} {}", &sig[..32.min(sig.len())], &sig[32.min(sig.len())..]) } else { format!("{sig}zz") };
            let s = self.v2_sent(proto, what, &body, &nonce, &ts, &bad, None);
            answers.push(self.exchange(&s));
        }
        Self::refused(&answers, &["000001"])
    }

    fn v2_hostile_body(&mut self, proto: Proto, what: &str, body: &[u8]) -> Verdict {
        let s = self.v2_genuine(proto, what, body);
        let a = self.exchange(&s);
        Self::refused(&[a], &["000002"])
    }

    fn v2_not_utf8(&mut self, proto: Proto) -> Verdict {
        let mut body = format!(r#"{{"activity":"queryInstance","instanceId":"{}","testFlag":"1","note":""#, self.instance(proto)).into_bytes();
        body.extend_from_slice(b"\xff\xfe\xc3(");
        body.extend_from_slice(b"\"}");
        self.v2_hostile_body(proto, "a signed body with bytes that are not UTF-8", &body)
    }

    fn v2_duplicate(&mut self, proto: Proto) -> Verdict {
        let body = format!(
            r#"{{"activity":"queryInstance","instanceId":"{}","testFlag":"1","activity":"refreshInstance"}}"#,
            self.instance(proto)
        );
        self.v2_hostile_body(proto, "a signed body with `activity` twice", body.as_bytes())
    }

    fn v2_nested(&mut self, proto: Proto) -> Verdict {
        let mut body = format!(r#"{{"activity":"queryInstance","instanceId":"{}","testFlag":"1","note":"#, self.instance(proto));
        body.push_str(&"[".repeat(5000));
        body.push_str(&"]".repeat(5000));
        body.push('}');
        self.v2_hostile_body(proto, "a signed body nested 5,000 deep", body.as_bytes())
    }

    fn v2_large(&mut self, proto: Proto) -> Verdict {
        let head = format!(r#"{{"activity":"queryInstance","instanceId":"{}","testFlag":"1","note":""#, self.instance(proto));
        let size = (1 << 20) + 1024;
        let mut body = head.into_bytes();
        body.resize(size - 2, b'x');
        body.extend_from_slice(b"\"}");
        self.v2_hostile_body(proto, "a signed body of 1 MiB + 1 KiB", &body)
    }

    // ------------------------------------------------------------ V1 probes

    /// The audit's V1 instance, or a skip.
    fn v1_instance(&self) -> Result<String, Verdict> {
        self.instances
            .get("v1")
            .map(|(i, _)| i.clone())
            .ok_or_else(|| Verdict::Skip("inconclusive: the audit's V1 newInstance was not answered 000000 with an instanceId".into()))
    }

    fn v1_plus_space(&mut self, _: Proto) -> Verdict {
        let id = self.instance(Proto::V1);
        let expire = expire_time(365);
        let mut answers = Vec::new();
        // A value with `+` and a space, as the marketplace encodes it (`%2B`, `+`).
        let mut params = Self::v1_params(&expire, &id);
        params.push(("customerName", "koosign audit+test user"));
        let (q, ts) = self.v1_query_at(&params, None);
        let s = Self::v1_sent("a value with `+` and a space (sent `%2B` and `+`)", q, ts, Vec::new());
        answers.push(self.exchange(&s));
        // A token with a `+`, sent unencoded: it arrives as a space.
        let params = Self::v1_params(&expire, &id);
        let mut found = None;
        for _ in 0..256 {
            let (q, ts) = self.v1_query_at(&params, None);
            if let Some((head, tok)) = q.split_once("&authToken=") {
                if tok.contains("%2B") {
                    found = Some((format!("{head}&authToken={}", tok.replace("%2B", "+")), ts));
                    break;
                }
            }
        }
        match found {
            Some((q, ts)) => {
                let s = Self::v1_sent("an authToken with `+` sent unencoded (arrives as a space)", q, ts, Vec::new());
                answers.push(self.exchange(&s));
            }
            None => return Verdict::Skip("no token with `+` found in 256 tries".into()),
        }
        Self::must_accept(&answers)
    }

    fn v1_replay(&mut self, _: Proto) -> Verdict {
        let id = self.instance(Proto::V1);
        let expire = expire_time(365);
        let params = Self::v1_params(&expire, &id);
        let (q, ts) = self.v1_query_at(&params, None);
        let s = Self::v1_sent("the genuine request", q, ts, Vec::new());
        if let Err(v) = self.baseline(&s) {
            return v;
        }
        let mut again = s.clone();
        again.what = "the same query again, byte for byte".into();
        let a = self.exchange(&again);
        Self::refused(&[a], &["000001"])
    }

    fn v1_stale(&mut self, _: Proto) -> Verdict {
        let id = self.instance(Proto::V1);
        let expire = expire_time(365);
        let params = Self::v1_params(&expire, &id);
        let mut answers = Vec::new();
        for (what, age) in [("re-signed with a timeStamp 1 hour old", 3_600_000), ("re-signed with a timeStamp 1 day old", 86_400_000)] {
            let (q, ts) = self.v1_query_at(&params, Some(now_ms() - age));
            let s = Self::v1_sent(what, q, ts, Vec::new());
            answers.push(self.exchange(&s));
        }
        Self::refused(&answers, &["000001"])
    }

    fn v1_merged(&mut self, _: Proto) -> Verdict {
        // instanceId and testFlag are neighbours in the sorted canonical
        // string, so `instanceId=X&testFlag=1` and `instanceId=X%26testFlag%3D1`
        // sign the same text.
        let expire = expire_time(365);
        let params = Self::v1_params(&expire, NO_INSTANCE);
        let (q, ts) = self.v1_query_at(&params, None);
        let plain = format!("instanceId={}&testFlag=1", form(NO_INSTANCE));
        let merged = format!("instanceId={}%26testFlag%3D1", form(NO_INSTANCE));
        if !q.contains(&plain) {
            return Verdict::Skip("could not build the merged query".into());
        }
        let s = Self::v1_sent("instanceId=X%26testFlag%3D1 with the token of instanceId=X&testFlag=1", q.replace(&plain, &merged), ts, Vec::new());
        let a = self.exchange(&s);
        Self::refused(&[a], &["000001"])
    }

    fn v1_repeated(&mut self, _: Proto) -> Verdict {
        let id = match self.v1_instance() {
            Ok(i) => i,
            Err(v) => return v,
        };
        let expire = expire_time(365);
        let params = Self::v1_params(&expire, &id);
        let (q, ts) = self.v1_query_at(&params, None);
        let q = format!("{q}&instanceId={}", form(NO_INSTANCE));
        let s = Self::v1_sent("the audit's instance signed, a second instanceId (unknown) appended unsigned", q, ts, Vec::new());
        let a = self.exchange(&s);
        match (a.status, a.code.as_deref()) {
            (None, _) => Verdict::Skip("inconclusive: no answer (see response.signed-answers)".into()),
            (Some(200), Some("000000")) => Verdict::Pass("000000: read the first (signed) instanceId".into()),
            (Some(200), Some(c @ ("000001" | "000002"))) => Verdict::Pass(format!("refused the repeated parameter ({c})")),
            (Some(200), Some("000003")) => {
                Verdict::Weak("000003 (instance not found): read the last, unsigned instanceId instead of the first, signed one".into())
            }
            (Some(200), Some(c)) => Verdict::Weak(format!("answered {c} ({}): not the answer for the signed, first instanceId", meaning(c))),
            (Some(s), _) => Verdict::Pass(format!("refused with HTTP {s} (the answer's form: see response.signed-answers)")),
        }
    }

    fn v1_tampered(&mut self, _: Proto) -> Verdict {
        let id = self.instance(Proto::V1);
        let expire = expire_time(365);
        let other = expire_time(3650);
        let params = Self::v1_params(&expire, &id);
        let (q, ts) = self.v1_query_at(&params, None);
        if !q.contains(&format!("expireTime={expire}")) {
            return Verdict::Skip("could not build the tampered query".into());
        };
        let tampered = q.replace(&format!("expireTime={expire}"), &format!("expireTime={other}"));
        // What a verifying endpoint computes for the tampered parameters.
        let mut changed = Self::v1_params(&other, &id);
        changed.push(("timeStamp", &ts));
        let oracle = v1_auth_token(&changed, self.key.expose()).map(|t| t.as_str().to_string()).into_iter().collect();
        let s = Self::v1_sent("expireTime changed after signing", tampered, ts.clone(), oracle);
        let a = self.exchange(&s);
        Self::refused(&[a], &["000001"])
    }

    // ------------------------------------------------------------ S1b

    fn s1b_sent(&mut self, what: &str, fields: &[(&str, &str)], appended: &str) -> Sent {
        let m = now_ms().max(self.last_v1_ms.saturating_add(1));
        self.last_v1_ms = m;
        let ts = format_v1_timestamp(m).as_str().to_string();
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("timeStamp", &ts));
        let token = v1_auth_token(&all, self.key.expose()).map(|t| t.as_str().to_string()).unwrap_or_default();
        let mut obj = serde_json::Map::new();
        for (n, v) in &all {
            obj.insert((*n).to_string(), Value::String((*v).to_string()));
        }
        let mut body = serde_json::to_string(&Value::Object(obj)).unwrap_or_default();
        if !appended.is_empty() {
            body.pop();
            body.push_str(appended);
            body.push('}');
        }
        Sent {
            what: what.to_string(),
            method: "POST",
            query: None,
            headers: vec![
                ("Content-Type".into(), "application/json;charset=UTF-8".into()),
                ("authToken".into(), token.clone()),
            ],
            body: Some(body.into_bytes()),
            timestamp: ts,
            auth_sent: vec![token],
            oracle: Vec::new(),
        }
    }

    fn s1b_unsigned(&mut self, _: Proto) -> Verdict {
        let id = self.instance(Proto::V1);
        let fields = [("activity", "refreshInstance"), ("instanceId", id.as_str()), ("testFlag", "1")];
        let s = self.s1b_sent("a genuine S1b POST (authToken header, flat JSON body)", &fields, "");
        let a = self.exchange(&s);
        if !a.accepted() {
            return Verdict::Skip(format!(
                "the endpoint does not take S1b: a genuine S1b POST was answered {} (only an answer other than 000001 shows it authenticated one)",
                a.code_text()
            ));
        }
        let mut answers = Vec::new();
        for (what, extra) in [
            ("a duplicate instanceId appended", format!(r#","instanceId":"{NO_INSTANCE}""#)),
            ("a number member appended", r#","koosignAudit":1"#.to_string()),
            ("a nested object appended", format!(r#","koosignAudit":{{"instanceId":"{NO_INSTANCE}"}}"#)),
        ] {
            let s = self.s1b_sent(what, &fields, &extra);
            answers.push(self.exchange(&s));
        }
        Self::refused(&answers, &["000001", "000002"])
    }

    // ------------------------------------------------------------ responses

    fn concurrency(&mut self, proto: Proto) -> Verdict {
        let mut sents = Vec::with_capacity(BURST);
        let expire = expire_time(365);
        for i in 0..BURST {
            let what = format!("concurrent request {}/{BURST}", i + 1);
            let s = match proto {
                Proto::V2 | Proto::Kit => {
                    let body = serde_json::to_vec(&json!({ "activity": "queryInstance", "instanceId": NO_INSTANCE, "testFlag": "1" })).unwrap_or_default();
                    self.v2_genuine(proto, &what, &body)
                }
                Proto::V1 => {
                    let params = Self::v1_params(&expire, NO_INSTANCE);
                    let (q, ts) = self.v1_query_at(&params, None);
                    Self::v1_sent(&what, q, ts, Vec::new())
                }
            };
            sents.push(s);
        }
        let start = Instant::now();
        let barrier = std::sync::Barrier::new(BURST);
        let target = self.target;
        let exchanges: Vec<Exchange> = std::thread::scope(|sc| {
            let handles: Vec<_> = sents
                .iter()
                .map(|s| {
                    let b = &barrier;
                    sc.spawn(move || {
                        b.wait();
                        client::send(target, &Self::request(s), LIMIT)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or(Exchange { response: Err("client thread failed".into()), elapsed: LIMIT }))
                .collect()
        });
        let total = start.elapsed().as_millis();
        self.requests += BURST;
        let mut late = Vec::new();
        let mut slowest = 0u128;
        for (s, ex) in sents.iter().zip(&exchanges) {
            let ms = ex.elapsed.as_millis();
            slowest = slowest.max(ms);
            match &ex.response {
                Ok(_) if ex.elapsed <= LIMIT => {}
                Ok(_) => late.push(format!("{}: answered in {ms} ms", s.what)),
                Err(e) => late.push(format!("{}: {e}", s.what)),
            }
            self.observe(s, ex, false);
        }
        if late.is_empty() {
            Verdict::Pass(format!("{BURST} answers, the slowest in {slowest} ms; all within {total} ms"))
        } else {
            Verdict::Weak(format!(
                "{} of {BURST} not answered within 5 s (the burst took {total} ms): {}",
                late.len(),
                clip(&late.join("; "), 300)
            ))
        }
    }

    fn app_info_findings(&self, check: &str) -> Result<Vec<(&'static str, Finding)>, Verdict> {
        if self.app_info.is_empty() {
            return Err(Verdict::Skip("inconclusive: no newInstance of the audit was answered 000000 (the lifecycle run checks why)".into()));
        }
        let found: Vec<(&'static str, Finding)> =
            self.app_info.iter().flat_map(|(p, fs)| fs.iter().filter(|f| f.check == check).map(move |f| (*p, f.clone()))).collect();
        Ok(found)
    }

    fn app_info_verdict(&self, check: &str) -> Verdict {
        let found = match self.app_info_findings(check) {
            Ok(f) => f,
            Err(v) => return v,
        };
        if found.is_empty() {
            // No appInfo object: reported by the appInfo finding.
            let why: Vec<String> = self
                .app_info
                .iter()
                .flat_map(|(p, fs)| fs.iter().filter(|f| f.check == C_APPINFO && !f.ok).map(move |f| format!("{p}: {}", f.detail)))
                .collect();
            return Verdict::Weak(format!("nothing to check: {}", why.join("; ")));
        }
        let bad: Vec<String> = found.iter().filter(|(_, f)| !f.ok).map(|(p, f)| format!("{p}: {}", f.detail)).collect();
        if bad.is_empty() {
            Verdict::Pass(found.iter().map(|(p, f)| format!("{p}: {}", f.detail)).collect::<Vec<_>>().join("; "))
        } else {
            Verdict::Weak(bad.join("; "))
        }
    }

    fn encrypt_type(&mut self, _: Proto) -> Verdict {
        self.app_info_verdict(C_ETYPE)
    }

    fn cipher_length(&mut self, _: Proto) -> Verdict {
        self.app_info_verdict(C_CIPHERLEN)
    }

    fn no_key_echo(&mut self, _: Proto) -> Verdict {
        if self.key_echo.is_empty() {
            let note = if self.key.expose().len() < 8 { " (the access key is shorter than 8 characters: not searched)" } else { "" };
            Verdict::Pass(format!("{} answers searched{note}", self.answers_checked))
        } else {
            Verdict::Weak(format!("{}: {}", self.key_echo.len(), clip(&self.key_echo.join("; "), 400)))
        }
    }

    fn no_auth_echo(&mut self, _: Proto) -> Verdict {
        if self.auth_echo.is_empty() {
            Verdict::Pass(format!("{} answers searched", self.answers_checked))
        } else {
            Verdict::Weak(format!("{} answer(s) echo what was sent: {}", self.auth_echo.len(), clip(&self.auth_echo.join("; "), 400)))
        }
    }

    fn signed_answers(&mut self, _: Proto) -> Verdict {
        if self.contract_problems.is_empty() {
            return Verdict::Pass(format!(
                "{} answers: each HTTP 200 within 5 s, a JSON object, Body-Sign exact, strict and valid",
                self.answers_checked
            ));
        }
        let n = self.contract_problems.len();
        let mut by_probe: Vec<String> = Vec::new();
        for (id, _) in &self.contract_problems {
            if !by_probe.contains(id) {
                by_probe.push(id.clone());
            }
        }
        let first = &self.contract_problems[0].1;
        let detail = format!(
            "{n} answer(s) off the contract, in {}; first: {} -> {}",
            by_probe.join(", "),
            first.sent,
            first.problem.as_deref().unwrap_or("")
        );
        self.current = self
            .contract_problems
            .iter()
            .take(20)
            .map(|(id, r)| ExchangeRecord { sent: format!("{id}: {}", r.sent), ..r.clone() })
            .collect();
        Verdict::Weak(detail)
    }
}

/// The authToken of a built V1 query (as sent, still encoded), for the
/// echo search: decoded with the core's form parser.
fn token_of(query: &str) -> String {
    let tok = query.rsplit_once("authToken=").map(|(_, t)| t).unwrap_or("");
    let mut scratch = vec![0u8; tok.len() + 8];
    koosign::parse_form(&format!("t={}", tok.replace('+', "%2B")), &mut scratch)
        .ok()
        .and_then(|p| p.get("t").map(String::from))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn probe_ids_are_unique_and_every_row_is_complete() {
        let mut seen = BTreeSet::new();
        for p in PROBES {
            for id in p.ids() {
                assert!(seen.insert(id.clone()), "duplicate probe id {id}");
            }
            for (what, text) in [("sends", p.sends), ("expects", p.expects), ("why", p.why), ("fix", p.fix)] {
                assert!(!text.trim().is_empty(), "{} has no `{what}`", p.name);
                assert!(!text.contains('\n'), "{}: `{what}` must be one line", p.name);
            }
        }
        // The issue's list: every probe it names is in the table.
        for id in [
            "v2.replay", "v2.digit-shift", "v2.timestamp-window", "v2.leading-zero", "v2.tampered-body", "v2.wrong-key",
            "v2.non-hex-signature", "v2.hex-case", "v2.not-utf8", "v2.duplicate-activity", "v2.nested-5000", "v2.over-1mib",
            "kit.replay", "v1.replay", "v1.stale", "v1.merged-parameters", "v1.repeated-parameter", "v1.plus-and-space",
            "v1.tampered-parameter", "s1b.unsigned-members", "response.signed-answers", "response.concurrency",
            "response.encrypt-type", "response.ciphertext-length", "response.no-key-echo", "response.no-auth-echo",
        ] {
            assert!(seen.contains(id), "no probe {id}");
        }
    }

    /// cli/README.md carries the table generated from PROBES. To refresh it:
    /// `KOOSIGN_BLESS=1 cargo test -p koosign-cli --bin koosign readme`.
    #[test]
    fn readme_probe_table_is_generated_from_the_table() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
        let readme = std::fs::read_to_string(&path).unwrap();
        let (begin, end) = ("<!-- audit-probes:begin -->\n", "<!-- audit-probes:end -->");
        let b = readme.find(begin).expect("README has the audit-probes:begin marker") + begin.len();
        let e = readme.find(end).expect("README has the audit-probes:end marker");
        let want = probes_markdown();
        if readme[b..e] != want {
            if std::env::var_os("KOOSIGN_BLESS").is_some() {
                let new = format!("{}{}{}", &readme[..b], want, &readme[e..]);
                std::fs::write(&path, new).unwrap();
            } else {
                panic!("cli/README.md's probe table differs from audit::PROBES; run with KOOSIGN_BLESS=1 to regenerate");
            }
        }
    }

    /// cli/audit-report.schema.json names every probe of the table, and no other.
    #[test]
    fn schema_lists_the_probe_table() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("audit-report.schema.json");
        let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let names: BTreeSet<&str> =
            schema["$defs"]["probe"]["properties"]["probe"]["enum"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        let table: BTreeSet<&str> = PROBES.iter().map(|p| p.name).collect();
        assert_eq!(names, table);
    }

    #[test]
    fn form_encoding_and_echo_search() {
        assert_eq!(form("a+b c&d=é"), "a%2Bb+c%26d%3D%C3%A9");
        assert!(contains("{\"msg\":\"expected ab/cd\"}", "AB/CD"));
        assert!(contains("{\"msg\":\"expected ab\\/cd\"}", "ab/cd"));
        assert!(!contains("abc", ""));
        assert_eq!(token_of("a=1&authToken=x%2By%3D"), "x+y=");
    }
}
