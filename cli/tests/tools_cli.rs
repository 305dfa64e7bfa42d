//! Every one-shot subcommand on good and bad input: the output, the exit
//! code (0 valid, 1 invalid, 2 bad input), the explanation, and that no
//! secret is ever printed.

mod common;

use common::*;
use std::process::Command;

const V1_QUERY: &str = "activity=newInstance&businessId=61e834ba-7b97-4418-b8f7-e5345137278c&customerId=68cbc86abc2018ab880d92f36422fa0e&expireTime=20200727153156&orderId=CS1906666666ABCDE&productId=00301-666666-0--0&testFlag=1&timeStamp=20200727073711903&authToken=IzyXxySagieGHt354yIOhnCrv0vphQN0e9NuWT2MKNY%3D";
const V2_BODY: &str = r#"{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}"#;
const V2_NONCE: &str = "50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA";
const V2_SIG: &str = "CD8D59BB7FCF7574752B5EB0ED04B3ACF4A759DA53F24D30A79ABE45C5D1BA25";
const KIT_SIG: &str = "ABB44B4C7A867A9F5EB8D9B7D9DF42E804FF66BC084EE412C49CFAFBFD5D8BE6";
const RESP_BODY: &str = r#"{"resultCode":"000000","resultMsg":"success."}"#;
const RESP_SIG: &str = "CPIAbI6A1/GrF70YmPEaCgm5WaxUkts5hjQRqqpZv3s=";

fn koosign(args: &[&str]) -> Run {
    let mut c = bin();
    c.args(args);
    let r = run(c);
    assert_no_secret(&r, KEY);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    r
}

fn with_env(args: &[&str]) -> Run {
    let mut c: Command = bin();
    c.args(args).env("KOOSIGN_ACCESS_KEY", KEY);
    let r = run(c);
    assert_no_secret(&r, KEY);
    r
}

fn file(dir: &tempfile::TempDir, name: &str, content: &[u8]) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, content).unwrap();
    p.to_str().unwrap().to_string()
}

fn v2_url() -> String {
    format!("https://merchant.example.com/produce?signature={V2_SIG}&timestamp=1680508066618&nonce={V2_NONCE}")
}

// ------------------------------------------------------------------ verify v1

#[test]
fn verify_v1_good_and_explained() {
    let r = koosign(&["verify", "v1", "--key", KEY, V1_QUERY]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("valid") && r.stdout.contains("activity=newInstance"));
    // A full URL, the key from the environment, and --explain.
    let r = with_env(&["verify", "v1", "--explain", &format!("https://m.example.com/produce?{V1_QUERY}")]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("activity=newInstance&businessId=61e834ba-7b97-4418-b8f7-e5345137278c&customerId="), "{}", r.stdout);
    assert!(r.stdout.contains("<access key, 16 chars> + \"20200727073711903\""), "{}", r.stdout);
    assert!(r.stdout.contains("IzyXxySagieGHt354yIOhnCrv0vphQN0e9NuWT2MKNY="));
    // The window, when asked for, refuses the 2020 timestamp.
    let r = koosign(&["verify", "v1", "--key", KEY, "--window", "60", V1_QUERY]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("outside the window"));
}

#[test]
fn verify_v1_plus_turned_into_space_is_repaired() {
    // Find a timeStamp whose token has a `+`, then send the `+` unencoded.
    let mut found = None;
    for ms in 0..500u64 {
        let ts = format!("20200727073711{:03}", ms % 1000);
        let params = [("activity", "newInstance"), ("orderId", "CS1"), ("timeStamp", ts.as_str())];
        let tok = koosign::v1_auth_token(&params, KEY).unwrap();
        if tok.as_str().contains('+') {
            found = Some(format!("activity=newInstance&orderId=CS1&timeStamp={ts}&authToken={}", tok.as_str()));
            break;
        }
    }
    let q = found.expect("a token with +");
    let r = koosign(&["verify", "v1", "--key", KEY, "--explain", &q]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("spaces are read as `+`"), "{}", r.stdout);
}

#[test]
fn verify_v1_mismatches_name_the_step() {
    let bad = V1_QUERY.replace("authToken=Izy", "authToken=Jzy");
    let r = koosign(&["verify", "v1", "--key", KEY, &bad]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("INVALID") && r.stdout.contains("--explain"));
    let r = koosign(&["verify", "v1", "--key", KEY, "--explain", &bad]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("first step that differs"), "{}", r.stdout);

    // A token made with the key alone (no timeStamp).
    let canonical = "activity=newInstance&orderId=CS1&timeStamp=20200727073711903";
    let tok = koosign::body_signature(canonical.as_bytes(), KEY);
    let q = format!("{canonical}&authToken={}", tok.as_str().replace('+', "%2B").replace('/', "%2F").replace('=', "%3D"));
    let r = koosign(&["verify", "v1", "--key", KEY, "--explain", &q]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("first step that differs: HMAC key") && r.stdout.contains("access key alone"), "{}", r.stdout);

    // A token over the still-encoded values.
    let params = [("activity", "newInstance"), ("customerName", "a%20b"), ("timeStamp", "20200727073711903")];
    let tok = koosign::v1_auth_token(&params, KEY).unwrap();
    let q = format!("activity=newInstance&customerName=a%20b&timeStamp=20200727073711903&authToken={}", tok.as_str().replace('+', "%2B").replace('/', "%2F").replace('=', "%3D"));
    let r = koosign(&["verify", "v1", "--key", KEY, "--explain", &q]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("URL-encoded values"), "{}", r.stdout);

    // The wrong key.
    let r = koosign(&["verify", "v1", "--key", "other-key", "--explain", V1_QUERY]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("different access key"), "{}", r.stdout);
}

#[test]
fn verify_v1_bad_input() {
    let r = koosign(&["verify", "v1", "--key", KEY, "activity=x&authToken=abc"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("missing parameter `timeStamp`"), "{}", r.stderr);
    let r = koosign(&["verify", "v1", "--key", KEY, "a=%zz&timeStamp=1&authToken=x"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("percent escape"), "{}", r.stderr);
    let r = koosign(&["verify", "v1", "--key", KEY, "activity=x&timeStamp=2020&authToken=abc"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("timestamp"), "{}", r.stderr);
    let r = koosign(&["verify", "v1", V1_QUERY]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no access key") && r.stderr.contains("KOOSIGN_ACCESS_KEY"));
    // Conflicting key sources; clap's messages must not echo the key.
    let r = koosign(&["verify", "v1", "--key", KEY, "--key-file", "/nonexistent", V1_QUERY]);
    assert_eq!(r.code, 2);
    let r = koosign(&["verify", "v1", "--key", KEY, "--key", KEY, V1_QUERY]);
    assert_eq!(r.code, 2);
    let r = koosign(&["verify", "v1", "--key-file", "/nonexistent/key", V1_QUERY]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cannot read access key file"));
    // A key that starts with a dash is a key, not an option.
    let r = koosign(&["verify", "v1", "--key", "-dashkey", V1_QUERY]);
    assert_eq!(r.code, 1);
    assert!(!r.all().contains("-dashkey"));
}

// ------------------------------------------------------------------ verify v2 / kit

#[test]
fn verify_v2_good_and_bad() {
    let dir = tempfile::tempdir().unwrap();
    let body = file(&dir, "body.json", V2_BODY.as_bytes());
    let r = koosign(&["verify", "v2", "--key", KEY, "--url", &v2_url(), "--body", &body, "--explain"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("9d7fe05c22e8bc1d70841bace6c549b523dcb77a8aa61dc0118708bf14269c0e"), "{}", r.stdout);
    assert!(r.stdout.contains(V2_SIG));
    assert!(r.stdout.contains("<access key, 16 chars> + nonce"));
    // Body from standard input.
    let mut c = bin();
    c.args(["verify", "v2", "--url", &v2_url(), "--body", "-"]).env("KOOSIGN_ACCESS_KEY", KEY);
    let r = run_stdin(c, V2_BODY.as_bytes());
    assert_eq!(r.code, 0, "{}", r.all());
    // The ±60 s window when asked: the documented timestamp is old.
    let r = koosign(&["verify", "v2", "--key", KEY, "--url", &v2_url(), "--body", &body, "--window", "60"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("outside the window"));
    let r = koosign(&["verify", "v2", "--key", KEY, "--url", &v2_url(), "--body", &body, "--window", "60", "--now", "1680508070000"]);
    assert_eq!(r.code, 0, "{}", r.all());

    // An editor's trailing newline.
    let nl = file(&dir, "nl.json", format!("{V2_BODY}\n").as_bytes());
    let r = koosign(&["verify", "v2", "--key", KEY, "--url", &v2_url(), "--body", &nl, "--explain"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("first step that differs: body bytes") && r.stdout.contains("without its trailing newline"), "{}", r.stdout);
    // Re-serialised JSON.
    let v: serde_json::Value = serde_json::from_str(V2_BODY).unwrap();
    let pretty = file(&dir, "pretty.json", &serde_json::to_vec_pretty(&v).unwrap());
    let r = koosign(&["verify", "v2", "--key", KEY, "--url", &v2_url(), "--body", &pretty, "--explain"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("re-serialised as compact JSON"), "{}", r.stdout);
    // The kit formula presented as V2.
    let url = v2_url().replace(V2_SIG, KIT_SIG);
    let r = koosign(&["verify", "v2", "--key", KEY, "--url", &url, "--body", &body, "--explain"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("first step that differs: inner hash") && r.stdout.contains("kit formula"), "{}", r.stdout);
    // Nonce and timestamp swapped by the sender.
    let swapped = koosign::sign_v2(koosign::V2Scheme::Query, V2_BODY.as_bytes(), KEY, "1680508066618", V2_NONCE).unwrap();
    let url = v2_url().replace(V2_SIG, swapped.as_str());
    let r = koosign(&["verify", "v2", "--key", KEY, "--url", &url, "--body", &body, "--explain"]);
    assert!(r.stdout.contains("swapped"), "{}", r.stdout);

    // Bad input.
    let r = koosign(&["verify", "v2", "--key", KEY, "--url", "https://m/p?signature=AB&timestamp=1", "--body", &body]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("missing parameter `nonce`"), "{}", r.stderr);
    let r = koosign(&["verify", "v2", "--key", KEY, "--url", &v2_url(), "--body", "/nonexistent/body"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("cannot read body file"));
    let r = koosign(&["verify", "v2", "--key", KEY, "--url", &v2_url()]);
    assert_eq!(r.code, 2);
}

#[test]
fn verify_kit() {
    let dir = tempfile::tempdir().unwrap();
    let body = file(&dir, "body.json", V2_BODY.as_bytes());
    let hs = ["-H", &format!("x-sign: {KIT_SIG}"), "-H", "X-Timestamp: 1680508066618", "-H", &format!("x-nonce: {V2_NONCE}")].map(String::from);
    let mut args: Vec<&str> = vec!["verify", "kit", "--key", KEY, "--body", &body, "--explain"];
    args.extend(hs.iter().map(String::as_str));
    let r = koosign(&args);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("S2b") && r.stdout.contains(KIT_SIG));
    // The basic signature in x-sign.
    let wrong: Vec<String> = hs.iter().map(|h| h.replace(KIT_SIG, V2_SIG)).collect();
    let mut args: Vec<&str> = vec!["verify", "kit", "--key", KEY, "--body", &body, "--explain"];
    args.extend(wrong.iter().map(String::as_str));
    let r = koosign(&args);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("basic formula"), "{}", r.stdout);
    // Missing header, malformed header.
    let r = koosign(&["verify", "kit", "--key", KEY, "--body", &body, "-H", &format!("x-sign: {KIT_SIG}")]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("x-timestamp"), "{}", r.stderr);
    let r = koosign(&["verify", "kit", "--key", KEY, "--body", &body, "-H", "no colon here"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("Name: value"));
}

// ------------------------------------------------------------------ verify response

#[test]
fn verify_response_checks() {
    let dir = tempfile::tempdir().unwrap();
    let body = file(&dir, "resp.json", RESP_BODY.as_bytes());
    let good = format!("Body-Sign: sign_type=\"HMAC-SHA256\", signature=\"{RESP_SIG}\"");
    let r = koosign(&["verify", "response", "--key", KEY, "--body", &body, "-H", &good, "--explain"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("valid") && r.stdout.contains("alone"));
    // Field variants (no space after the comma, space after `=`) are accepted.
    let v = format!("Body-Sign: sign_type=\"HMAC-SHA256\",signature= \"{RESP_SIG}\"");
    assert_eq!(koosign(&["verify", "response", "--key", KEY, "--body", &body, "-H", &v]).code, 0);
    // The header name in another case.
    let r = koosign(&["verify", "response", "--key", KEY, "--body", &body, "-H", &good.replace("Body-Sign", "Body-sign")]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("case-sensitively"), "{}", r.stdout);
    // Signed with key + timeStamp.
    let ts = "20200727073711903";
    let sig = koosign::body_signature(RESP_BODY.as_bytes(), &format!("{KEY}{ts}"));
    let h = format!("Body-Sign: sign_type=\"HMAC-SHA256\", signature=\"{}\"", sig.as_str());
    let r = koosign(&["verify", "response", "--key", KEY, "--body", &body, "-H", &h, "--timestamp", ts]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("access key + timeStamp"), "{}", r.stdout);
    // Unquoted value.
    let r = koosign(&["verify", "response", "--key", KEY, "--body", &body, "-H", &format!("Body-Sign: sign_type=HMAC-SHA256, signature={RESP_SIG}")]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("malformed"), "{}", r.stdout);
    // AES-128 ciphertext labelled encryptType 1 (SCHEMES.md S4 vector), correctly signed.
    let body128 = r#"{"resultCode":"000000","resultMsg":"success.","instanceId":"i","encryptType":"1","appInfo":{"userName":"abcdefgh123456787ffgxbG9iCNmPHfS/KXEkA==","password":"abcdefgh12345678cEmxy4I8pTd8cQfzOXtUKw=="}}"#;
    let f = file(&dir, "r128.json", body128.as_bytes());
    let h = format!("Body-Sign: {}", koosign::body_sign(body128.as_bytes(), KEY).unwrap().as_str());
    let r = koosign(&["verify", "response", "--key", KEY, "--body", &f, "-H", &h, "--explain"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("userName is AES-128 ciphertext but encryptType is \"1\""), "{}", r.stdout);
    // No Body-Sign header at all.
    let r = koosign(&["verify", "response", "--key", KEY, "--body", &body, "-H", "Content-Type: application/json"]);
    assert_eq!(r.code, 2);
}

// ------------------------------------------------------------------ sign-body

#[test]
fn sign_body() {
    let dir = tempfile::tempdir().unwrap();
    let body = file(&dir, "resp.json", RESP_BODY.as_bytes());
    let r = koosign(&["sign-body", "--key", KEY, &body]);
    assert_eq!(r.code, 0);
    assert_eq!(r.stdout, format!("Body-Sign: sign_type=\"HMAC-SHA256\", signature=\"{RESP_SIG}\"\n"));
    let mut c = bin();
    c.args(["sign-body", "--explain", "-"]).env("KOOSIGN_ACCESS_KEY", KEY);
    let r = run_stdin(c, RESP_BODY.as_bytes());
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains(RESP_SIG));
    assert!(r.stderr.contains("<access key, 16 chars> alone"), "{}", r.stderr);
    assert_no_secret(&r, KEY);
    let key_file = file(&dir, "key", format!("{KEY}\n").as_bytes());
    let r = koosign(&["sign-body", "--key-file", &key_file, &body]);
    assert!(r.stdout.contains(RESP_SIG), "{}", r.all());
    let r = koosign(&["sign-body", "--key", KEY, "/nonexistent"]);
    assert_eq!(r.code, 2);
    let r = koosign(&["sign-body", "--key", "", &body]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("empty"));
}

// ------------------------------------------------------------------ encrypt / decrypt

#[test]
fn encrypt_and_decrypt() {
    let r = koosign(&["encrypt", "--key", KEY, "--type", "1", "--iv", "abcdefgh12345678", "admin"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "abcdefgh12345678cEmxy4I8pTd8cQfzOXtUKw==\n"));
    let r = koosign(&["encrypt", "--key", KEY, "--type", "2", "--iv", "abcdefgh12345678", "admin", "--explain"]);
    assert_eq!(r.stdout, "abcdefgh123456787ffgxbG9iCNmPHfS/KXEkA==\n");
    assert!(r.stderr.contains("AES-128") && r.stderr.contains("SHA1PRNG"));
    let r = koosign(&["encrypt", "--key", KEY, "--type", "1", "--iv", "ABCDEFGHijklmn01", "中文用户"]);
    assert_eq!(r.stdout, "ABCDEFGHijklmn01MpvuA8sUFJisvKp+uf0qIg==\n");
    // Random IV, round trip through decrypt.
    let r = with_env(&["encrypt", "--type", "1", "s3cret-pass"]);
    let wire = r.stdout.trim().to_string();
    assert_eq!(wire.len(), 16 + 24);
    let r = with_env(&["decrypt", "--type", "1", &wire]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "s3cret-pass\n"));
    let r = with_env(&["decrypt", "--type", "auto", "ABCDEFGHijklmn01MpvuA8sUFJisvKp uf0qIg=="]);
    assert_eq!(r.stdout, "中文用户\n");
    // AES-128 ciphertext read as encryptType 1.
    let r = koosign(&["decrypt", "--key", KEY, "--type", "1", "abcdefgh123456787ffgxbG9iCNmPHfS/KXEkA==", "--explain"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("the ciphertext is AES-128 (encryptType \"2\")"), "{}", r.stderr);
    let r = koosign(&["decrypt", "--key", KEY, "--type", "2", "abcdefgh123456787ffgxbG9iCNmPHfS/KXEkA=="]);
    assert_eq!(r.stdout, "admin\n");
    // Garbage, wrong key.
    let r = koosign(&["decrypt", "--key", KEY, "--type", "auto", "not a ciphertext"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("cannot decrypt"));
    let r = koosign(&["decrypt", "--key", "other", "--type", "auto", "abcdefgh12345678cEmxy4I8pTd8cQfzOXtUKw=="]);
    assert_eq!(r.code, 1);
    // Bad input.
    let long = "x".repeat(100);
    let r = koosign(&["encrypt", "--key", KEY, "--type", "1", &long]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("128"), "{}", r.stderr);
    let r = koosign(&["encrypt", "--key", KEY, "--type", "1", "--iv", "short", "admin"]);
    assert_eq!(r.code, 2);
    let r = koosign(&["encrypt", "--key", KEY, "--type", "1", "--iv", "abcdefgh1234567!", "admin"]);
    assert_eq!(r.code, 2);
    let r = koosign(&["encrypt", "--key", KEY, "--type", "3", "admin"]);
    assert_eq!(r.code, 2);
    let r = koosign(&["decrypt", "--key", KEY, "--type", "4", "x"]);
    assert_eq!(r.code, 2);
}

// ------------------------------------------------------------------ apig sign

#[test]
fn apig_sign_vectors_and_errors() {
    let url = "https://service.endpoint.myhuaweicloud.com/resources?size=1";
    let r = koosign(&["apig", "sign", "--ak", "AccessKey", "--sk", "SecretKey", "--date", "20200608T023900Z", url, "--explain"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("Authorization: SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=host;x-sdk-date, Signature=cfb4171acec81de07d50e53d57eb77edd537414d66ddb1d7d780f128e12cd842"), "{}", r.stdout);
    assert!(r.stdout.contains("Host: service.endpoint.myhuaweicloud.com"));
    assert!(r.stderr.contains("GET\n") || r.stderr.contains(" GET"), "{}", r.stderr);
    assert!(r.stderr.contains("<secret key, 9 chars>"));
    assert!(!r.all().contains("SecretKey"));
    // POST with a body, SK from a file.
    let dir = tempfile::tempdir().unwrap();
    let body = file(&dir, "b.json", br#"{"name":"test","id":1}"#);
    let sk = file(&dir, "sk", b"SecretKey\n");
    let r = koosign(&["apig", "sign", "--ak", "AccessKey", "--sk-file", &sk, "-X", "POST", "--date", "20200608T023900Z", "--body", &body, url]);
    assert!(r.stdout.contains("Signature=436b1ac0a1ae03705934bb70ef2f2e09f7bfed2117d731a38235053199323a1f"), "{}", r.all());
    assert!(!r.all().contains("SecretKey"));
    // --expect.
    let r = koosign(&["apig", "sign", "--ak", "AccessKey", "--sk", "SecretKey", "--date", "20200608T023900Z", url, "--expect", "cfb4171acec81de07d50e53d57eb77edd537414d66ddb1d7d780f128e12cd842"]);
    assert_eq!(r.code, 0);
    let r = koosign(&["apig", "sign", "--ak", "AccessKey", "--sk", "SecretKey", "--date", "20200608T023900Z", url, "--expect", "00"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("canonical request"));
    // Without --date, X-Sdk-Date is added from the clock.
    let mut c = bin();
    c.args(["apig", "sign", "--ak", "AccessKey", url]).env("KOOSIGN_APIG_SK", "SecretKey");
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("X-Sdk-Date: 20"));
    assert!(!r.all().contains("SecretKey"));
    // Errors.
    let r = koosign(&["apig", "sign", "--ak", "AccessKey", url]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no secret key"));
    let r = koosign(&["apig", "sign", "--ak", "AccessKey", "--sk", "SecretKey", "/no/host"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no host"), "{}", r.stderr);
    let r = koosign(&["apig", "sign", "--ak", "AccessKey", "--sk", "SecretKey", "--date", "yesterday", url]);
    assert_eq!(r.code, 2);
    assert!(!r.all().contains("SecretKey"));
}

// ------------------------------------------------------------------ misc

#[test]
fn help_usage_and_conformance() {
    let r = koosign(&["--help"]);
    assert_eq!(r.code, 0);
    for sub in ["verify", "sign-body", "encrypt", "decrypt", "apig", "serve", "simulate", "demo", "conformance"] {
        assert!(r.stdout.contains(sub), "{sub} missing from help");
    }
    assert_eq!(koosign(&["verify"]).code, 2);
    assert_eq!(koosign(&["no-such-command"]).code, 2);
    let r = koosign(&["conformance", "/nonexistent.jsonl"]);
    assert_eq!(r.code, 1);
}

/// The repository's vectors (or `$KOOSIGN_VECTORS`): absent files fail the
/// test, they are never skipped.
fn vectors_dir() -> std::path::PathBuf {
    match std::env::var_os("KOOSIGN_VECTORS") {
        Some(d) if !d.is_empty() => d.into(),
        _ => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors"),
    }
}

#[test]
fn conformance_on_the_repository_vectors() {
    let dir = vectors_dir();
    let files: Vec<String> = ["notifications.jsonl", "apig.jsonl"]
        .iter()
        .map(|f| {
            let p = dir.join(f);
            assert!(p.is_file(), "conformance vectors missing: {} (the repository's vectors/ or $KOOSIGN_VECTORS)", p.display());
            p.to_str().unwrap().to_string()
        })
        .collect();
    let total: usize =
        files.iter().map(|f| std::fs::read_to_string(f).unwrap().lines().filter(|l| !l.trim().is_empty()).count()).sum();
    assert!(total >= 190, "{total} cases");
    let r = koosign(&["conformance", &files[0], &files[1]]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.stdout.lines().last(), Some(format!("{total} passed, 0 failed").as_str()), "{}", r.stdout);
    for kind in ["v1_query", "body_sign", "aes_cbc", "v2_basic", "v2_kit", "apig"] {
        assert!(r.stdout.lines().any(|l| l.starts_with(&format!("{kind}: ")) && !l.starts_with(&format!("{kind}: 0 passed"))), "{kind}");
    }
    // Without files: every file of the vectors folder, the new kinds included.
    let every: usize = ["notifications.jsonl", "apig.jsonl", "stages.jsonl", "invalid.jsonl", "published.jsonl"]
        .iter()
        .map(|f| {
            let p = dir.join(f);
            assert!(p.is_file(), "vectors missing: {}", p.display());
            std::fs::read_to_string(p).unwrap().lines().filter(|l| !l.trim().is_empty()).count()
        })
        .sum();
    let r = koosign(&["conformance"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(r.stdout.lines().last(), Some(format!("{every} passed, 0 failed").as_str()), "{}", r.stdout);
    for kind in ["v1_stages", "v2_stages", "apig_stages", "s4_key", "v1_invalid", "aes_cbc_raw"] {
        assert!(r.stdout.lines().any(|l| l.starts_with(&format!("{kind}: ")) && !l.starts_with(&format!("{kind}: 0 passed"))), "{kind}");
    }
    // A vectors folder without them is a failure, not a skip.
    let empty = tempfile::tempdir().unwrap();
    let mut c = bin();
    c.args(["conformance"]).env("KOOSIGN_VECTORS", empty.path());
    let r = run(c);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("notifications.jsonl") && r.stderr.contains("not found"), "{}", r.stderr);
    let mut c = bin();
    c.args(["conformance"]).env("KOOSIGN_VECTORS", empty.path().join("nope"));
    let r = run(c);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.stderr.contains("vectors folder") && r.stderr.contains("not found"), "{}", r.stderr);
}
