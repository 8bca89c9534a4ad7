//! Caller identity normalization: from `identity.arn` to the principal that usage is charged to.
//!
//! Machine sessions are not people, so an assumed role collapses to its role ARN; IAM Identity
//! Center (SSO) roles are the exception, because their session name *is* the person. Pure.

use crate::rows::{Principal, PrincipalType};

const API_KEY_USER_PREFIX: &str = "BedrockAPIKey-";
const SSO_ROLE_PREFIX: &str = "AWSReservedSSO_";

/// Normalizes a raw `identity.arn` (absent → an unknown principal with no identity).
pub fn resolve_principal(arn: Option<&str>) -> Principal {
    let Some(arn) = arn.map(str::trim).filter(|a| !a.is_empty()) else {
        return Principal {
            identity: None,
            principal_type: PrincipalType::Unknown,
            principal_name: None,
            session_name: None,
        };
    };
    parse_known_arn(arn).unwrap_or_else(|| Principal {
        identity: Some(arn.to_owned()),
        principal_type: PrincipalType::Unknown,
        principal_name: None,
        session_name: None,
    })
}

fn parse_known_arn(arn: &str) -> Option<Principal> {
    // arn:<partition>:<service>:<region>:<account>:<resource>
    let mut fields = arn.splitn(6, ':');
    let (prefix, partition, service, _region, account, resource) = (
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
    );
    if prefix != "arn" {
        return None;
    }
    let keep = |principal_type, name: &str| Principal {
        identity: Some(arn.to_owned()),
        principal_type,
        principal_name: Some(name.to_owned()),
        session_name: None,
    };
    match (service, resource.split_once('/')) {
        ("iam", None) if resource == "root" => Some(keep(PrincipalType::Root, "root")),
        ("iam", Some(("user", path_and_name))) => {
            let name = path_and_name.rsplit('/').next().unwrap_or(path_and_name);
            let principal_type = if name.starts_with(API_KEY_USER_PREFIX) {
                PrincipalType::ApiKey
            } else {
                PrincipalType::User
            };
            Some(keep(principal_type, name))
        }
        ("sts", Some(("federated-user", name))) => Some(keep(PrincipalType::FederatedUser, name)),
        ("sts", Some(("assumed-role", role_and_session))) => {
            let (role, session) = role_and_session.split_once('/')?;
            if role.starts_with(SSO_ROLE_PREFIX) {
                return Some(Principal {
                    identity: Some(arn.to_owned()),
                    principal_type: PrincipalType::SsoUser,
                    principal_name: Some(session.to_owned()),
                    session_name: Some(session.to_owned()),
                });
            }
            Some(Principal {
                identity: Some(format!("arn:{partition}:iam::{account}:role/{role}")),
                principal_type: PrincipalType::Role,
                principal_name: Some(role.to_owned()),
                session_name: Some(session.to_owned()),
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PrincipalType::*;

    #[test]
    fn resolves_every_identity_shape() {
        // (arn, identity, type, principal_name, session_name)
        type Case<'a> = (
            Option<&'a str>,
            Option<&'a str>,
            PrincipalType,
            Option<&'a str>,
            Option<&'a str>,
        );
        let cases: &[Case] = &[
            (
                Some("arn:aws:iam::111122223333:user/alice"),
                Some("arn:aws:iam::111122223333:user/alice"),
                User,
                Some("alice"),
                None,
            ),
            (
                Some("arn:aws:iam::111122223333:user/eng/bob"),
                Some("arn:aws:iam::111122223333:user/eng/bob"),
                User,
                Some("bob"),
                None,
            ),
            (
                Some("arn:aws:iam::111122223333:user/BedrockAPIKey-x7qa"),
                Some("arn:aws:iam::111122223333:user/BedrockAPIKey-x7qa"),
                ApiKey,
                Some("BedrockAPIKey-x7qa"),
                None,
            ),
            (
                Some(
                    "arn:aws:sts::111122223333:assumed-role/ci-runner/botocore-session-1694000000",
                ),
                Some("arn:aws:iam::111122223333:role/ci-runner"),
                Role,
                Some("ci-runner"),
                Some("botocore-session-1694000000"),
            ),
            (
                Some("arn:aws-us-gov:sts::111122223333:assumed-role/etl/i-0abc"),
                Some("arn:aws-us-gov:iam::111122223333:role/etl"),
                Role,
                Some("etl"),
                Some("i-0abc"),
            ),
            (
                Some(
                    "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Developer_0a1b2c3d4e5f6a7b/jane@example.com",
                ),
                Some(
                    "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Developer_0a1b2c3d4e5f6a7b/jane@example.com",
                ),
                SsoUser,
                Some("jane@example.com"),
                Some("jane@example.com"),
            ),
            (
                Some("arn:aws:sts::111122223333:federated-user/carol"),
                Some("arn:aws:sts::111122223333:federated-user/carol"),
                FederatedUser,
                Some("carol"),
                None,
            ),
            (
                Some("arn:aws:iam::111122223333:root"),
                Some("arn:aws:iam::111122223333:root"),
                Root,
                Some("root"),
                None,
            ),
            (
                Some("arn:aws:sts::111122223333:assumed-role/no-session"),
                Some("arn:aws:sts::111122223333:assumed-role/no-session"),
                Unknown,
                None,
                None,
            ),
            (Some("not an arn"), Some("not an arn"), Unknown, None, None),
            (Some("  "), None, Unknown, None, None),
            (None, None, Unknown, None, None),
        ];
        for (arn, identity, principal_type, name, session) in cases {
            let got = resolve_principal(*arn);
            assert_eq!(got.identity.as_deref(), *identity, "identity of {arn:?}");
            assert_eq!(got.principal_type, *principal_type, "type of {arn:?}");
            assert_eq!(got.principal_name.as_deref(), *name, "name of {arn:?}");
            assert_eq!(got.session_name.as_deref(), *session, "session of {arn:?}");
        }
    }
}
