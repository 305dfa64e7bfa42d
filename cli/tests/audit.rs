//! `koosign simulate --audit` over real loopback HTTP: against `koosign
//! serve` and against a correct reference merchant it reports no fail and
//! no warn; against merchants with exactly one weakness (tests/common/
//! merchant.rs) it reports exactly that weakness and nothing else. Every
//! JSON report is validated against cli/audit-report.schema.json.

mod common;
#[path = "common/merchant.rs"]
mod merchant;

use common::*;
use merchant::{start, Weakness};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/audit-report.schema.json");
        let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        jsonschema::draft202012::new(&schema).expect("a valid JSON Schema")
    })
}

fn assert_schema(report: &Value) {
    let errors: Vec<String> = validator().iter_errors(report).map(|e| format!("{} at {}", e, e.instance_path)).collect();
    assert!(errors.is_empty(), "the report does not follow cli/audit-report.schema.json:\n{}", errors.join("\n"));
}

/// Runs `koosign simulate --audit --json` (and `extra`), validates the
/// report against the schema, returns (exit code, report).
fn audit(url: &str, protocol: &str, extra: &[&str]) -> (i32, Value, Run) {
    let mut c = bin();
    c.args(["simulate", "--url", url, "--protocol", protocol, "--audit", "--json"]).args(extra).env("KOOSIGN_ACCESS_KEY", KEY);
    let r = run(c);
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("simulate --audit --json: {e}\n{}\n{}", r.stdout, r.stderr));
    assert_schema(&v);
    assert_no_secret(&r, KEY);
    (r.code, v, r)
}

fn probes(report: &Value) -> &Vec<Value> {
    report["audit"]["probes"].as_array().unwrap()
}

/// id -> result of every probe whose result is warn or fail.
fn findings(report: &Value) -> BTreeMap<String, String> {
    probes(report)
        .iter()
        .filter(|p| p["result"] == "warn" || p["result"] == "fail")
        .map(|p| (p["id"].as_str().unwrap().to_string(), p["result"].as_str().unwrap().to_string()))
        .collect()
}

fn skipped(report: &Value) -> BTreeSet<String> {
    probes(report).iter().filter(|p| p["result"] == "skip").map(|p| p["id"].as_str().unwrap().to_string()).collect()
}

fn probe<'a>(report: &'a Value, id: &str) -> &'a Value {
    probes(report).iter().find(|p| p["id"] == id).unwrap_or_else(|| panic!("no probe {id}"))
}

fn expect(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

/// Every probe of the table ran for `--protocol all`.
fn assert_all_probes_ran(report: &Value) {
    let ids: BTreeSet<&str> = probes(report).iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 12 * 2 + 6 + 1 + 6, "{ids:?}");
    for id in ["v2.replay", "kit.digit-shift", "v1.stale", "s1b.unsigned-members", "response.signed-answers"] {
        assert!(ids.contains(id), "{id} missing");
    }
}

#[test]
fn audit_of_serve_reports_no_fail_and_no_warn() {
    let s = serve(&["--key", KEY], None);
    let (code, report, _) = audit(&s.url(), "all", &["--strict"]);
    assert_eq!(findings(&report), BTreeMap::new(), "{report:#}");
    // serve verifies through the core's context, which takes S1b too: every
    // probe applies (none skipped), the S1b one included, and passes.
    assert_eq!(skipped(&report), BTreeSet::new(), "{report:#}");
    assert_eq!(probe(&report, "s1b.unsigned-members")["result"], "pass", "{report:#}");
    assert_all_probes_ran(&report);
    assert_eq!((code, report["audit"]["verdict"].as_str()), (0, Some("pass")));
    assert!(report.get("checks").is_none(), "--audit alone does not run the lifecycle");
    let answers = probe(&report, "response.signed-answers")["detail"].as_str().unwrap().to_string();
    let n: usize = answers.split(' ').next().unwrap().parse().unwrap();
    assert!(n > 50 && n as u64 == report["audit"]["requests"].as_u64().unwrap(), "every answer checked: {answers}");

    // Combined with the lifecycle: one report, both parts, both clean.
    let (code, report, _) = audit(&s.url(), "all", &["--lifecycle", "--strict"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["failed"], 0);
    assert!(report["passed"].as_u64().unwrap() > 200);
    assert_eq!(findings(&report), BTreeMap::new());

    // The text report.
    let mut c = bin();
    c.args(["simulate", "--url", &s.url(), "--protocol", "v2", "--audit", "--key", KEY]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.all());
    let last = r.stdout.lines().last().unwrap();
    assert!(last.starts_with("audit: ") && last.contains(" 0 warn, 0 fail,") && last.ends_with("verdict pass"), "{last}");
    assert!(!r.stdout.contains("findings:"));
}

#[test]
fn audit_of_the_reference_merchant_passes_every_probe_s1b_included() {
    let m = start(KEY, Weakness::None, true);
    let (code, report, _) = audit(&m.url(), "all", &["--strict"]);
    assert_eq!(findings(&report), BTreeMap::new(), "{report:#}");
    assert_eq!(skipped(&report), BTreeSet::new(), "{report:#}");
    assert_all_probes_ran(&report);
    assert_eq!(code, 0);
}

/// A refusal sent before the body is read (and the connection closed on
/// the rest) is the answer the audit reads. (On loopback the kernel's
/// buffers usually take the whole 1 MiB first; the client's unit test
/// `an_answer_before_the_body_is_read_is_still_read` makes the write fail.)
#[test]
fn a_merchant_that_refuses_a_large_body_before_reading_it() {
    let m = start(KEY, Weakness::EarlyRefusal, false);
    let (code, report, _) = audit(&m.url(), "v2", &["--strict"]);
    assert_eq!(findings(&report), BTreeMap::new(), "{report:#}");
    assert_eq!(probe(&report, "v2.over-1mib")["exchanges"][0]["result_code"], "000002");
    assert_eq!(code, 0);
}

#[test]
fn a_merchant_that_accepts_replays() {
    let m = start(KEY, Weakness::AcceptsReplays, false);
    let (code, report, _) = audit(&m.url(), "all", &[]);
    assert_eq!(findings(&report), expect(&[("kit.replay", "warn"), ("v1.replay", "warn"), ("v2.replay", "warn")]), "{report:#}");
    let p = probe(&report, "v2.replay");
    assert!(p["detail"].as_str().unwrap().contains("accepted"), "{p:#}");
    assert_eq!(p["exchanges"].as_array().unwrap().len(), 2);
    assert_eq!(p["exchanges"][1]["result_code"], "000000", "the replay was acted on: {p:#}");
    // Warnings alone: verdict warn, exit 0; with --strict they fail.
    assert_eq!((code, report["audit"]["verdict"].as_str()), (0, Some("warn")));
    let (code, report, _) = audit(&m.url(), "v2", &["--strict"]);
    assert_eq!(findings(&report), expect(&[("v2.replay", "warn")]));
    assert_eq!((code, report["audit"]["verdict"].as_str(), report["audit"]["strict"].as_bool()), (1, Some("fail"), Some(true)));
    // The text report names it with what was sent, why and the fix.
    let mut c = bin();
    c.args(["simulate", "--url", &m.url(), "--protocol", "v2", "--audit", "--key", KEY]);
    let r = run(c);
    assert_eq!(r.code, 0);
    for want in ["v2.replay [warn]:", "sent: a genuine request, then the same request again", "fix: record each nonce", "verdict warn"] {
        assert!(r.stdout.contains(want), "{want:?} not in\n{}", r.stdout);
    }
}

#[test]
fn a_merchant_that_accepts_stale_v1() {
    let m = start(KEY, Weakness::StaleV1, false);
    let (code, report, _) = audit(&m.url(), "all", &[]);
    assert_eq!(findings(&report), expect(&[("v1.stale", "warn")]), "{report:#}");
    let d = probe(&report, "v1.stale")["detail"].as_str().unwrap().to_string();
    assert!(d.contains("1 hour old: accepted") && d.contains("1 day old: accepted"), "{d}");
    assert_eq!(code, 0);
}

#[test]
fn a_merchant_that_keeps_the_last_value_of_a_repeated_parameter() {
    let m = start(KEY, Weakness::LastValue, false);
    let (_, report, _) = audit(&m.url(), "all", &[]);
    assert_eq!(findings(&report), expect(&[("v1.repeated-parameter", "warn")]), "{report:#}");
    assert!(probe(&report, "v1.repeated-parameter")["detail"].as_str().unwrap().contains("read the last, unsigned instanceId"));
}

#[test]
fn a_merchant_that_answers_a_hostile_body_with_an_unsigned_500() {
    let m = start(KEY, Weakness::Unsigned500, false);
    let (code, report, _) = audit(&m.url(), "all", &[]);
    assert_eq!(findings(&report), expect(&[("response.signed-answers", "fail")]), "{report:#}");
    let p = probe(&report, "response.signed-answers");
    let d = p["detail"].as_str().unwrap();
    for id in ["v2.not-utf8", "v2.duplicate-activity", "v2.nested-5000", "v2.over-1mib", "kit.not-utf8", "kit.over-1mib"] {
        assert!(d.contains(id), "{id} not named in {d}");
    }
    assert!(d.contains("HTTP 500"), "{d}");
    let ex = p["exchanges"].as_array().unwrap();
    assert_eq!(ex.len(), 8, "the eight hostile bodies (four per V2 protocol): {p:#}");
    assert!(ex.iter().all(|e| e["status"] == 500 && e["problem"].as_str().unwrap().contains("no Body-Sign header")), "{p:#}");
    // The hostile-body probes themselves pass: the body was refused.
    assert_eq!(probe(&report, "v2.nested-5000")["result"], "pass");
    assert_eq!(code, 1);
}

#[test]
fn a_merchant_that_is_slow_under_concurrency() {
    let m = start(KEY, Weakness::SlowUnderConcurrency, false);
    let (code, report, _) = audit(&m.url(), "all", &[]);
    assert_eq!(findings(&report), expect(&[("response.concurrency", "fail")]), "{report:#}");
    let p = probe(&report, "response.concurrency");
    assert!(p["detail"].as_str().unwrap().contains("not answered within 5 s"), "{p:#}");
    assert_eq!(p["exchanges"].as_array().unwrap().len(), 20);
    assert!(report["audit"]["elapsed_ms"].as_u64().unwrap() < 30_000, "bounded");
    assert_eq!(code, 1);
}

#[test]
fn a_merchant_whose_s1b_ignores_unsigned_members() {
    let m = start(KEY, Weakness::LooseS1b, true);
    let (_, report, _) = audit(&m.url(), "all", &[]);
    assert_eq!(findings(&report), expect(&[("s1b.unsigned-members", "warn")]), "{report:#}");
    let d = probe(&report, "s1b.unsigned-members")["detail"].as_str().unwrap().to_string();
    assert!(d.contains("a number member appended: accepted"), "{d}");
}

#[test]
fn usage_and_an_unreachable_endpoint() {
    // --strict and --lifecycle belong to --audit.
    for flag in ["--strict", "--lifecycle"] {
        let mut c = bin();
        c.args(["simulate", "--url", "http://127.0.0.1:9/produce", flag, "--key", KEY]);
        assert_eq!(run(c).code, 2, "{flag} without --audit");
    }
    // Nothing listens: one failure, every request probe skipped, quickly.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let t = std::time::Instant::now();
    let (code, report, _) = audit(&format!("http://127.0.0.1:{port}/produce"), "all", &[]);
    assert_eq!(code, 1);
    assert!(t.elapsed() < std::time::Duration::from_secs(20));
    let f = findings(&report);
    assert_eq!(f.get("response.signed-answers").map(String::as_str), Some("fail"), "{report:#}");
    assert!(report["audit"]["requests"].as_u64().unwrap() <= 3, "stopped sending: {}", report["audit"]["requests"]);
}

#[test]
fn the_schema_rejects_what_the_report_never_is() {
    let m = start(KEY, Weakness::None, false);
    let (_, report, _) = audit(&m.url(), "v2", &[]);
    for (pointer, bad) in [
        ("/audit/verdict", Value::from("skip")),
        ("/audit/probes/0/result", Value::from("maybe")),
        ("/audit/probes/0/id", Value::from("v3.replay")),
        ("/audit/counts/pass", Value::from(-1)),
    ] {
        let mut r = report.clone();
        *r.pointer_mut(pointer).unwrap() = bad;
        assert!(!validator().is_valid(&r), "{pointer} accepted");
    }
    let mut r = report.clone();
    r["audit"].as_object_mut().unwrap().insert("extra".into(), Value::Null);
    assert!(!validator().is_valid(&r));
}
