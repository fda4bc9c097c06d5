//! Roles: what an identity may do. `read` queries, `write` ingests (remote_write, import, Loki push), `admin`
//! runs lifecycle and destructive endpoints and implies both others. `write` does not imply `read`, so a
//! shipper's credentials cannot read the data back.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One role, as written in the `auth:` section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Queries, metadata, status, UI, `/metrics`.
    Read,
    /// remote_write, import, Loki push.
    Write,
    /// Reload, quit, deletes; implies read and write.
    Admin,
}

impl Role {
    /// The name used in configuration and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Write => "write",
            Role::Admin => "admin",
        }
    }

    fn bit(self) -> u8 {
        match self {
            Role::Read => 1,
            Role::Write => 2,
            Role::Admin => 4,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The roles one identity holds.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RoleSet(u8);

impl RoleSet {
    /// No role at all: authenticated, allowed nothing.
    pub const NONE: RoleSet = RoleSet(0);
    /// Everything (what a request gets when authentication is off).
    pub const ALL: RoleSet = RoleSet(7);

    /// The set of `roles`.
    pub fn of(roles: &[Role]) -> RoleSet {
        RoleSet(roles.iter().fold(0, |acc, r| acc | r.bit()))
    }

    /// Whether a request needing `needed` is allowed: admin allows everything, other roles only themselves.
    pub fn allows(self, needed: Role) -> bool {
        self.0 & Role::Admin.bit() != 0 || self.0 & needed.bit() != 0
    }

    /// True when no role is held.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The roles held, in order read, write, admin.
    pub fn roles(self) -> Vec<Role> {
        [Role::Read, Role::Write, Role::Admin]
            .into_iter()
            .filter(|r| self.0 & r.bit() != 0)
            .collect()
    }
}

impl fmt::Debug for RoleSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.roles()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_implies_everything_write_does_not_imply_read() {
        let admin = RoleSet::of(&[Role::Admin]);
        assert!(admin.allows(Role::Read) && admin.allows(Role::Write) && admin.allows(Role::Admin));
        let write = RoleSet::of(&[Role::Write]);
        assert!(write.allows(Role::Write));
        assert!(!write.allows(Role::Read));
        assert!(!write.allows(Role::Admin));
        let read = RoleSet::of(&[Role::Read]);
        assert!(read.allows(Role::Read) && !read.allows(Role::Write));
        assert!(!RoleSet::NONE.allows(Role::Read));
        assert_eq!(
            RoleSet::of(&[Role::Write, Role::Read]).roles(),
            vec![Role::Read, Role::Write]
        );
        let parsed: Vec<Role> = serde_yaml_ng::from_str("[read, write, admin]").unwrap();
        assert_eq!(parsed, vec![Role::Read, Role::Write, Role::Admin]);
        assert!(serde_yaml_ng::from_str::<Role>("Reader").is_err());
    }
}
