//! Notification JSON parsing (`Notification::parse`), differential against
//! `serde_json`, and the S1b top-level field reader on the same bytes.

use koosign::{verify_v1_json, Error, Notification, MAX_UNESCAPED};
use koosign::{Freshness, Replay};
use serde_json::Value;

/// The `notification` target (input: the body). `Ok` when it parsed.
pub fn check(body: &[u8]) -> Result<(), &'static str> {
    let parsed = Notification::parse(body);
    let reference = serde_json::from_slice::<Value>(body);
    // serde_json refuses numbers beyond f64 (`1e999`), which RFC 8259
    // allows and koosign skips in fields it does not read; no comparison then.
    if let Err(e) = &reference {
        if e.to_string().starts_with("number out of range") {
            return parsed.map(|_| ()).map_err(|e| e.code());
        }
    }
    let reference = reference.ok();
    let r = match parsed {
        Ok(n) => {
            let obj = reference
                .as_ref()
                .and_then(Value::as_object)
                .unwrap_or_else(|| panic!("parsed a notification that serde_json does not read as an object"));
            let fields = [
                ("activity", &n.activity),
                ("orderId", &n.order_id),
                ("orderLineId", &n.order_line_id),
                ("businessId", &n.business_id),
                ("testFlag", &n.test_flag),
                ("instanceId", &n.instance_id),
                ("scene", &n.scene),
                ("status", &n.status),
                ("productId", &n.product_id),
                ("expireTime", &n.expire_time),
                ("trialFlag", &n.trial_flag),
                ("customerId", &n.customer_id),
                ("customerName", &n.customer_name),
                ("chargingMode", &n.charging_mode),
                ("skuCode", &n.sku_code),
            ];
            for (name, f) in fields {
                let reference = obj.get(name);
                let Some(t) = f else {
                    assert!(matches!(reference, None | Some(Value::Null)), "{name} lost: {reference:?}");
                    continue;
                };
                match reference {
                    Some(Value::String(s)) => assert_eq!(t.as_str(), s, "{name} differs from serde_json"),
                    Some(Value::Bool(b)) => assert_eq!(t.as_str(), if *b { "true" } else { "false" }),
                    Some(Value::Number(_)) => {}
                    other => panic!("{name}: parsed {t:?}, serde_json has {other:?}"),
                }
                match t {
                    t if t.borrowed().is_some() => {
                        let s = t.as_str();
                        let (b, p) = (body.as_ptr() as usize, s.as_ptr() as usize);
                        assert!(p >= b && p + s.len() <= b + body.len(), "borrowed text outside the body");
                    }
                    t => assert!(t.as_str().len() <= MAX_UNESCAPED),
                }
            }
            Ok(())
        }
        Err(e) => {
            assert!(matches!(e, Error::MalformedEncoding(_)), "Notification::parse: {e:?}");
            Err(e.code())
        }
    };
    // The S1b reader of top-level fields (it fails at the signature at best).
    let mut scratch = vec![0u8; body.len() + 10];
    if let Ok(v) = verify_v1_json("t", body, &["k"], Freshness::Unchecked, Replay::Unchecked, &mut scratch) {
        panic!("forged S1b request verified: {v:?}");
    }
    r
}
