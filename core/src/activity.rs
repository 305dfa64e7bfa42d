//! The notification activities, their required fields and enumerations
//! (docs/SCHEMES.md §Notifications for V2, §S1 and §Notifications for V1),
//! checked in one place once a request is verified.
//!
//! A violation is found on an authenticated request: it answers `000002`
//! ([`crate::answer::result_code`] with [`crate::answer::Stage::Authenticated`]).
//! A field whose value is blank (empty or only whitespace) counts as
//! missing.

use crate::error::{Error, Result};
use crate::notification::{JsonText, Notification};

/// Which family of notifications an activity name is read in: V1 (S1
/// GET query, S1b JSON body) or V2 (S2, S2b JSON body).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// S1 and S1b.
    V1,
    /// S2 and S2b.
    V2,
}

/// A notification activity. The V1 variants carry a `V1` prefix: the two
/// families share names (`newInstance`) with different required fields.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Activity {
    /// V2 `newInstance`.
    NewInstance,
    /// V2 `queryInstance`.
    QueryInstance,
    /// V2 `refreshInstance`.
    RefreshInstance,
    /// V2 `updateInstanceStatus`.
    UpdateInstanceStatus,
    /// V2 `releaseInstance`.
    ReleaseInstance,
    /// V2 `upgradeInstance`.
    UpgradeInstance,
    /// V1 `newInstance`.
    V1NewInstance,
    /// V1 `refreshInstance`.
    V1RefreshInstance,
    /// V1 `expireInstance`.
    V1ExpireInstance,
    /// V1 `releaseInstance`.
    V1ReleaseInstance,
    /// V1 `upgrade`.
    V1Upgrade,
    /// V1 `instanceStatus`.
    V1InstanceStatus,
    /// V1 `getLicense`.
    V1GetLicense,
    /// V1 `releaseLicense`.
    V1ReleaseLicense,
}

/// `refreshInstance` `scene` values (docs/SCHEMES.md §Notifications).
pub const SCENES: [&str; 4] = ["TRIAL_TO_FORMAL", "RENEWAL", "UNSUBSCRIBE_RENEWAL_PERIOD", "RENEWAL_CHANGE"];
/// `updateInstanceStatus` `status` values (docs/SCHEMES.md §Notifications).
pub const STATUSES: [&str; 2] = ["FREEZE", "UNFREEZE"];
/// Most instance IDs in one `queryInstance` (docs/SCHEMES.md §Notifications).
pub const MAX_QUERY_IDS: usize = 100;

const E_UNKNOWN: Error = Error::MalformedEncoding("unknown activity");
const E_SCENE: Error = Error::MalformedEncoding(
    "scene is not one of TRIAL_TO_FORMAL, RENEWAL, UNSUBSCRIBE_RENEWAL_PERIOD, RENEWAL_CHANGE",
);
const E_STATUS: Error = Error::MalformedEncoding("status is not one of FREEZE, UNFREEZE");

impl Activity {
    /// Every activity: the six of V2, then the eight of V1.
    pub const ALL: [Activity; 14] = [
        Activity::NewInstance,
        Activity::QueryInstance,
        Activity::RefreshInstance,
        Activity::UpdateInstanceStatus,
        Activity::ReleaseInstance,
        Activity::UpgradeInstance,
        Activity::V1NewInstance,
        Activity::V1RefreshInstance,
        Activity::V1ExpireInstance,
        Activity::V1ReleaseInstance,
        Activity::V1Upgrade,
        Activity::V1InstanceStatus,
        Activity::V1GetLicense,
        Activity::V1ReleaseLicense,
    ];

    /// Reads an activity name in its family (exact, case-sensitive; the
    /// value as received, not trimmed). Errors: `MissingParameter("activity")`
    /// for a blank name, `MalformedEncoding("unknown activity")` for a name
    /// that is not one of the family's.
    pub fn parse(name: &str, family: Family) -> Result<Self> {
        if name.trim().is_empty() {
            return Err(Error::MissingParameter("activity"));
        }
        Self::ALL.iter().copied().find(|a| a.family() == family && a.as_str() == name).ok_or(E_UNKNOWN)
    }

    /// The wire name, e.g. `"newInstance"`, `"upgrade"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Activity::NewInstance | Activity::V1NewInstance => "newInstance",
            Activity::QueryInstance => "queryInstance",
            Activity::RefreshInstance | Activity::V1RefreshInstance => "refreshInstance",
            Activity::UpdateInstanceStatus => "updateInstanceStatus",
            Activity::ReleaseInstance | Activity::V1ReleaseInstance => "releaseInstance",
            Activity::UpgradeInstance => "upgradeInstance",
            Activity::V1ExpireInstance => "expireInstance",
            Activity::V1Upgrade => "upgrade",
            Activity::V1InstanceStatus => "instanceStatus",
            Activity::V1GetLicense => "getLicense",
            Activity::V1ReleaseLicense => "releaseLicense",
        }
    }

    /// The family the activity belongs to.
    pub const fn family(self) -> Family {
        match self {
            Activity::NewInstance
            | Activity::QueryInstance
            | Activity::RefreshInstance
            | Activity::UpdateInstanceStatus
            | Activity::ReleaseInstance
            | Activity::UpgradeInstance => Family::V2,
            _ => Family::V1,
        }
    }

    /// The fields that must be present and not blank (docs/SCHEMES.md
    /// §Notifications, decision: the fields that name what the operation
    /// acts on; the other listed fields are optional).
    pub const fn required(self) -> &'static [&'static str] {
        match self {
            Activity::NewInstance => &["orderId", "orderLineId"],
            Activity::UpdateInstanceStatus => &["instanceId", "status"],
            Activity::QueryInstance
            | Activity::RefreshInstance
            | Activity::ReleaseInstance
            | Activity::UpgradeInstance
            | Activity::V1RefreshInstance
            | Activity::V1ExpireInstance
            | Activity::V1ReleaseInstance
            | Activity::V1Upgrade
            | Activity::V1InstanceStatus => &["instanceId"],
            Activity::V1NewInstance | Activity::V1GetLicense | Activity::V1ReleaseLicense => &["orderId"],
        }
    }
}

fn present(v: Option<&str>) -> Option<&str> {
    v.filter(|s| !s.trim().is_empty())
}

/// The checks shared by both families, over a field lookup.
fn validate<'a>(activity: Option<&str>, family: Family, get: impl Fn(&str) -> Option<&'a str>) -> Result<Activity> {
    let a = Activity::parse(activity.unwrap_or(""), family)?;
    for &name in a.required() {
        if present(get(name)).is_none() {
            return Err(Error::MissingParameter(name));
        }
    }
    match a {
        Activity::RefreshInstance => {
            if let Some(scene) = present(get("scene")) {
                if !SCENES.contains(&scene) {
                    return Err(E_SCENE);
                }
            }
        }
        Activity::UpdateInstanceStatus if !present(get("status")).is_some_and(|s| STATUSES.contains(&s)) => {
            return Err(E_STATUS);
        }
        Activity::QueryInstance => {
            let ids = get("instanceId").unwrap_or("").split(',').filter(|s| !s.trim().is_empty());
            match ids.count() {
                0 => return Err(Error::MissingParameter("instanceId")),
                n if n > MAX_QUERY_IDS => return Err(Error::InputTooLarge { limit: MAX_QUERY_IDS }),
                _ => {}
            }
        }
        _ => {}
    }
    Ok(a)
}

/// Validates a verified V2 notification (docs/SCHEMES.md §Notifications):
/// a known activity, its required fields present and not blank, `scene` (when
/// given) and `status` from their enumerations ([`SCENES`], [`STATUSES`]),
/// `queryInstance` naming 1 to [`MAX_QUERY_IDS`] instance IDs.
///
/// Errors (each answers `000002`): `MissingParameter(name)` (the activity
/// or a required field absent or blank), `MalformedEncoding` (an unknown
/// activity, a value outside its enumeration), `InputTooLarge { limit: 100 }`
/// (too many instance IDs).
pub fn validate_v2(n: &Notification<'_>) -> Result<Activity> {
    validate(Notification::text(&n.activity), Family::V2, |name| v2_field(n, name))
}

/// The V2 fields the checks read.
fn v2_field<'n>(n: &'n Notification<'_>, name: &str) -> Option<&'n str> {
    let f: &'n Option<JsonText<'_>> = match name {
        "orderId" => &n.order_id,
        "orderLineId" => &n.order_line_id,
        "instanceId" => &n.instance_id,
        "status" => &n.status,
        "scene" => &n.scene,
        _ => return None,
    };
    f.as_ref().map(JsonText::as_str)
}

/// Validates the parameters of a verified V1 notification (S1 query or
/// S1b body, docs/SCHEMES.md §S1 and §Notifications), as the name/value
/// pairs the verifier returned (the first occurrence of a name counts, §S1
/// item 3): a known V1 activity and its required fields present and not
/// blank.
///
/// Errors (each answers `000002`): `MissingParameter(name)`,
/// `MalformedEncoding("unknown activity")`.
pub fn validate_v1(params: &[(&str, &str)]) -> Result<Activity> {
    let get = |name: &str| params.iter().find(|(n, _)| *n == name).map(|&(_, v)| v);
    validate(get("activity"), Family::V1, get)
}
