//! The strict notification JSON rules (docs/SCHEMES.md §Answers: not UTF-8,
//! not JSON, not an object, a repeated name, nested past the limit, too
//! large), through `walk_json` and `Notification::parse`; the events are
//! checked against serde_json's reading of the same bytes.

use koosign::*;
use serde_json::Value;

/// Rebuilds a serde_json Value from the walker's events (what a binding
/// does for its dict/object).
#[derive(Default)]
struct Build {
    stack: Vec<(Value, Option<String>)>,
    key: Option<String>,
    done: Option<Value>,
    events: usize,
}

impl Build {
    fn put(&mut self, v: Value) {
        self.events += 1;
        match self.stack.last_mut() {
            None => self.done = Some(v),
            Some((Value::Array(a), _)) => a.push(v),
            Some((Value::Object(o), _)) => {
                let k = self.key.take().expect("a key before a member value");
                assert!(o.insert(k, v).is_none(), "walker let a duplicate through");
            }
            _ => unreachable!(),
        }
    }
}

impl<'b> JsonVisitor<'b> for Build {
    fn begin_object(&mut self) -> Result<()> {
        self.events += 1;
        let k = self.key.take();
        self.stack.push((Value::Object(Default::default()), k));
        Ok(())
    }
    fn begin_array(&mut self) -> Result<()> {
        self.events += 1;
        let k = self.key.take();
        self.stack.push((Value::Array(vec![]), k));
        Ok(())
    }
    fn end_object(&mut self) -> Result<()> {
        let (v, k) = self.stack.pop().unwrap();
        self.key = k;
        self.put(v);
        Ok(())
    }
    fn end_array(&mut self) -> Result<()> {
        self.end_object()
    }
    fn key(&mut self, key: JsonStr<'b>) -> Result<()> {
        let mut buf = vec![0u8; key.raw().len()];
        self.key = Some(key.decode_into(&mut buf)?.to_string());
        assert_eq!(key.chars().collect::<String>(), *self.key.as_ref().unwrap());
        Ok(())
    }
    fn string(&mut self, s: JsonStr<'b>) -> Result<()> {
        if let Some(b) = s.borrowed() {
            assert_eq!(b, s.raw());
        }
        self.put(Value::String(s.chars().collect()));
        Ok(())
    }
    fn number(&mut self, raw: &'b str) -> Result<()> {
        self.put(serde_json::from_str(raw).unwrap());
        Ok(())
    }
    fn bool(&mut self, v: bool) -> Result<()> {
        self.put(Value::Bool(v));
        Ok(())
    }
    fn null(&mut self) -> Result<()> {
        self.put(Value::Null);
        Ok(())
    }
}

fn walk(body: &[u8]) -> Result<Value> {
    let mut b = Build::default();
    match walk_json(body, &mut b) {
        Ok(()) => Ok(b.done.unwrap()),
        Err(e) => {
            assert_eq!(b.events, 0, "events before a refusal");
            Err(e)
        }
    }
}

const BAD_N: Error = Error::MalformedEncoding("body is not a valid notification JSON object");

#[test]
fn walker_builds_what_serde_json_reads() {
    for body in [
        r#"{"activity":"newInstance","orderId":"CS1","n":-12.5e3,"t":true,"f":false,"z":null}"#,
        r#" {"a":{"b":[1,2,{"c":"\u00e9\ud83d\ude00\n\"\\\/"}],"d":{}},"e":[],"f":[[],[{}]]} "#,
        r#"{"same":{"x":1},"other":{"x":2},"list":[{"x":1},{"x":1}]}"#,
        r#"{}"#,
        "{\"客户\":\"名\"}",
    ] {
        let reference: Value = serde_json::from_str(body).unwrap();
        assert_eq!(walk(body.as_bytes()), Ok(reference), "{body}");
    }
}

#[test]
fn hostile_bodies_are_refused_with_their_reason() {
    let m = Error::MalformedEncoding;
    let dup = m("JSON body repeats a member name");
    let cases: Vec<(Vec<u8>, Error)> = vec![
        (b"{\"a\":\"\xff\"}".to_vec(), m("JSON body is not UTF-8")),
        (b"[1,2]".to_vec(), m("JSON body is not an object")),
        (b"\"text\"".to_vec(), m("JSON body is not an object")),
        (b"12".to_vec(), m("JSON body is not an object")),
        (b"".to_vec(), m("JSON body is not strict JSON")),
        (b"[1,".to_vec(), m("JSON body is not strict JSON")),
        (b"{\"a\":1} {}".to_vec(), m("JSON body is not strict JSON")),
        (b"{\"a\":01}".to_vec(), m("JSON body is not strict JSON")),
        (b"{\"a\":\"\\ud800\"}".to_vec(), m("JSON body is not strict JSON")),
        (b"{\"a\":\"x\ty\"}".to_vec(), m("JSON body is not strict JSON")),
        (b"{'a':1}".to_vec(), m("JSON body is not strict JSON")),
        (br#"{"activity":"a","activity":"b"}"#.to_vec(), dup),
        (br#"{"activity":"a","\u0061ctivity":"b"}"#.to_vec(), dup),
        (br#"{"x":{"k":1,"k":2}}"#.to_vec(), dup),
        (br#"{"x":[{"a":1},{"b":1,"c":{"d":1,"d":2}}]}"#.to_vec(), dup),
        (br#"{"e":1,"x":{"e":1},"e":2}"#.to_vec(), dup),
        (br#"{"\ud83d\ude00":1,"\uD83D\uDE00":2}"#.to_vec(), dup),
    ];
    for (body, e) in cases {
        assert_eq!(walk(&body), Err(e), "{}", String::from_utf8_lossy(&body));
        assert_eq!(Notification::parse(&body).err(), Some(BAD_N), "{}", String::from_utf8_lossy(&body));
    }
    // Names that differ only after decoding are different.
    assert!(walk(br#"{"a":1,"\u0062":2,"A":3}"#).is_ok());
}

#[test]
fn depth_limit_and_no_recursion() {
    let nested = |d: usize| {
        let mut b = b"{\"a\":".to_vec();
        b.extend(std::iter::repeat_n(b'[', d));
        b.extend(std::iter::repeat_n(b']', d));
        b.push(b'}');
        b
    };
    assert!(walk(&nested(MAX_DEPTH - 1)).is_ok());
    let deep = Error::MalformedEncoding("JSON body is nested deeper than 64");
    assert_eq!(walk(&nested(MAX_DEPTH)), Err(deep));
    // 5,000 deep (the issue's body), objects this time, on a small stack.
    let h = std::thread::Builder::new()
        .stack_size(64 * 1024)
        .spawn(move || {
            let mut b = Vec::new();
            for _ in 0..5000 {
                b.extend_from_slice(b"{\"a\":");
            }
            b.push(b'1');
            b.extend(std::iter::repeat_n(b'}', 5000));
            (walk_json(&b, &mut Nothing), Notification::parse(&b).err())
        })
        .unwrap();
    assert_eq!(h.join().expect("no stack overflow"), (Err(deep), Some(BAD_N)));
}

struct Nothing;
impl JsonVisitor<'_> for Nothing {}

#[test]
fn size_and_member_limits() {
    // Just over 1 MiB of a valid object: refused unread.
    let mut big = b"{\"a\":\"".to_vec();
    big.resize(MAX_NOTIFICATION_BODY - 1, b'x');
    big.extend_from_slice(b"\"}");
    assert_eq!(big.len(), MAX_NOTIFICATION_BODY + 1);
    let too_large = Error::InputTooLarge { limit: MAX_NOTIFICATION_BODY };
    assert_eq!(walk_json(&big, &mut Nothing), Err(too_large));
    assert_eq!(Notification::parse(&big).err(), Some(too_large));
    big.remove(10);
    assert_eq!(walk_json(&big, &mut Nothing), Ok(()));
    // MAX_OPEN_MEMBERS names open at once are fine, one more is not.
    let obj = |n: usize| {
        let members: Vec<String> = (0..n).map(|i| format!("\"k{i}\":{i}")).collect();
        format!("{{{}}}", members.join(","))
    };
    assert_eq!(walk_json(obj(MAX_OPEN_MEMBERS).as_bytes(), &mut Nothing), Ok(()));
    assert_eq!(
        walk_json(obj(MAX_OPEN_MEMBERS + 1).as_bytes(), &mut Nothing),
        Err(Error::InputTooLarge { limit: MAX_OPEN_MEMBERS })
    );
    // Closed objects give their names back: many small objects are fine.
    let many = format!("{{\"l\":[{}]}}", vec![obj(10); 1000].join(","));
    assert_eq!(walk_json(many.as_bytes(), &mut Nothing), Ok(()));
}

#[test]
fn a_visitor_error_stops_the_walk() {
    struct Stop(usize);
    impl JsonVisitor<'_> for Stop {
        fn key(&mut self, _: JsonStr<'_>) -> Result<()> {
            self.0 += 1;
            if self.0 == 2 {
                return Err(Error::BufferTooSmall { needed: 7 });
            }
            Ok(())
        }
    }
    let mut s = Stop(0);
    assert_eq!(walk_json(br#"{"a":1,"b":2,"c":3}"#, &mut s), Err(Error::BufferTooSmall { needed: 7 }));
    assert_eq!(s.0, 2);
}

#[test]
fn json_text_is_opaque_and_borrows_when_it_can() {
    let body = br#"{"activity":"newInstance","orderId":"C\u0053 1"}"#;
    let n = Notification::parse(body).unwrap();
    let a = n.activity.as_ref().unwrap();
    assert_eq!(a.borrowed(), Some("newInstance"));
    let o = n.order_id.as_ref().unwrap();
    assert_eq!((o.as_str(), o.borrowed()), ("CS 1", None));
    let s = JsonStr::eq(
        &{
            let mut first = None;
            struct First<'x, 'b>(&'x mut Option<JsonStr<'b>>);
            impl<'b> JsonVisitor<'b> for First<'_, 'b> {
                fn string(&mut self, v: JsonStr<'b>) -> Result<()> {
                    self.0.get_or_insert(v);
                    Ok(())
                }
            }
            walk_json(br#"{"x":"\u0041b"}"#, &mut First(&mut first)).unwrap();
            first.unwrap()
        },
        "Ab",
    );
    assert!(s);
}

mod generated {
    use super::*;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            (-1e12f64..1e12).prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            "\\PC{0,12}".prop_map(Value::String),
            any::<String>().prop_map(Value::String),
        ];
        leaf.prop_recursive(6, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map(any::<String>(), inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Any object serde_json writes (unique names, escapes of every
        /// kind) is read back by the walker to the same value.
        #[test]
        fn walker_reads_back_what_serde_json_writes(
            m in prop::collection::btree_map(any::<String>(), value(), 0..8),
            ascii in any::<bool>(),
        ) {
            let v = Value::Object(m.into_iter().collect());
            let text: String = if ascii {
                // Non-ASCII as \u escapes (surrogate pairs included).
                let s = serde_json::to_string(&v).unwrap();
                s.chars().map(|c| if c.is_ascii() { c.to_string() } else {
                    let mut b = [0u16; 2];
                    c.encode_utf16(&mut b).iter().map(|u| format!("\\u{u:04x}")).collect()
                }).collect()
            } else {
                serde_json::to_string_pretty(&v).unwrap()
            };
            // serde_json's reading of the same text (its float parsing is
            // not exactly round-trip, so not `v` itself).
            let reference: Value = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(walk(text.as_bytes()), Ok(reference));
        }

        /// Arbitrary bytes: the walker never panics, and whatever it accepts
        /// serde_json reads as an object.
        #[test]
        fn walker_accepts_only_json_objects(b in prop::collection::vec(any::<u8>(), 0..64), s in "\\PC{0,40}") {
            for input in [b.as_slice(), s.as_bytes()] {
                if walk_json(input, &mut Nothing).is_ok() {
                    prop_assert!(serde_json::from_slice::<Value>(input).map(|v| v.is_object()).unwrap_or(false));
                }
            }
        }
    }
}
