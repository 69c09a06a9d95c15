//! Who may do what to whom: every permission rule of the relying-party API,
//! in one place, as pure functions over [`User`]s.
//!
//! Why one module: the rules are the contract with the brokers (only a
//! customer's broker may change the customer's mobile number, since
//! 2023-08-01 on the real platform), and a rule restated in several handlers
//! drifts. Routes resolve the acting user (the `Ident-Actor` header, see
//! `docs/protocol.md`) and the target, then ask here; nothing in this module
//! touches the database, so the whole table is unit-tested below.
//!
//! `actor` is `None` in the portal's own administrative context (a call with
//! the API key and no `Ident-Actor`): it may do everything.
//!
//! The relations that grant rights:
//! - **self**: the actor is the target.
//! - **customer manager**: the target is a customer, and the actor is the
//!   customer's broker or an employee of that broker.
//! - **staff owner**: the target is an employee or sub-broker, and the actor is
//!   their broker.
//!
//! Sub-brokers (Untervermittler) work under a broker but manage nobody: they
//! may read and change only their own user (phone, interval). In this data
//! model customers belong to brokers, never to sub-brokers, and a sub-broker
//! is not the broker's staff in the sense of handling the broker's customers.
//! Employees manage the broker's customers but not the broker's other staff.
//!
//! | operation | admin | self | customer manager | staff owner |
//! |---|---|---|---|---|
//! | view a user, read their audit log | yes | yes | yes | yes |
//! | set or remove the mobile number | yes | yes, **except customers** | yes | yes |
//! | set one user's 2FA interval | yes | yes | yes | yes |
//! | unlock push | yes | no | yes | yes |
//! | list / bulk-change a broker's customers | yes | the broker | employees of the broker | — |
//! | create a customer of broker B | yes | — | B and B's employees | — |
//! | create an employee or sub-broker of B | yes | — | B only | — |
//! | create a broker | yes | — | — | — |
//! | create or show an enrollment QR code | yes | yes | no | no |
//! | list a user's devices | yes | yes | yes | yes |
//! | remove a user's device (lost phone) | yes | yes | yes | yes |
//! | change the display name or e-mail address | yes | yes | yes | yes |
//! | change the role (not to or from broker) | yes | no | the broker only | yes |
//! | change the password | yes | yes, with the current one | no | no |
//! | delete the user (brokers: admin only) | yes | no | yes | yes |
//!
//! Nobody but the user knows their password: a broker who could set a
//! customer's password could log in as the customer (with the customer's
//! second factor still in the way, but one factor down). Resetting a
//! forgotten password is the platform's back office, the administrative
//! context.
//! Enrollment is for the user alone: a broker who could show a customer's
//! QR code could enroll their own phone as that customer's second factor.

use thiserror::Error;

use crate::domain::Role;
use crate::store::User;

/// Why an action was refused. The text is safe to show to the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Denied {
    /// Someone other than the user tried to create or show their enrollment code.
    #[error("only the user themself can enroll a device for their login")]
    NotSelf,
    /// A customer tried to set or remove their own mobile number.
    #[error(
        "a customer's mobile number can only be set or changed by the customer's broker or the broker's employees"
    )]
    CustomerPhone,
    /// The actor is neither the user nor responsible for them.
    #[error("the acting user is not responsible for this user")]
    NotResponsible,
    /// Push locks are lifted by the broker or an administrator, not by the locked user.
    #[error(
        "a push lock can only be lifted by the user's broker, the broker's employees or an administrator"
    )]
    SelfUnlock,
    /// The actor does not manage this broker's customers.
    #[error("the acting user does not manage this broker's customers")]
    NotTheirCustomers,
    /// The user named as broker is not a broker.
    #[error("the user named as broker is not a broker")]
    NotABroker,
    /// The actor may not create a user of that role for that broker.
    #[error("the acting user may not create this kind of user for this broker")]
    CannotCreate,
    /// Someone other than the user's broker (or an administrator) tried to change a role.
    #[error("only the user's broker or an administrator can change a role")]
    RoleNotTheBroker,
    /// A role change to or from broker: brokers own customers and the SMS bill.
    #[error("the broker role can be neither given nor taken away; create a new user instead")]
    BrokerRole,
    /// Someone tried to set another user's password.
    #[error("a password can only be changed by the user themself or an administrator")]
    NotOwnPassword,
    /// A user tried to delete their own login.
    #[error("a user cannot delete their own login; their broker or an administrator can")]
    SelfDelete,
}

/// What a password change needs, by who asks ([`can_change_password`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordChange {
    /// The user themself: the current password must be given and right.
    WithCurrent,
    /// The administrative context (back office): a reset, no current password.
    Reset,
}

/// Whether `actor` is the broker of the customer `target`, or an employee of that broker.
fn manages_customer(actor: &User, target: &User) -> bool {
    if target.role != Role::Customer {
        return false;
    }
    match actor.role {
        Role::Broker => target.broker_id == Some(actor.id),
        Role::Employee => actor.broker_id.is_some() && actor.broker_id == target.broker_id,
        Role::SubBroker | Role::Customer => false,
    }
}

/// Whether `actor` is the broker of the employee or sub-broker `target`.
fn owns_staff(actor: &User, target: &User) -> bool {
    actor.role == Role::Broker
        && matches!(target.role, Role::Employee | Role::SubBroker)
        && target.broker_id == Some(actor.id)
}

fn responsible_for(actor: &User, target: &User) -> bool {
    manages_customer(actor, target) || owns_staff(actor, target)
}

fn is_self(actor: &User, target: &User) -> bool {
    actor.id == target.id
}

/// May `actor` see `target` (`GET /users/{login}`)?
pub fn can_view_user(actor: Option<&User>, target: &User) -> Result<(), Denied> {
    match actor {
        None => Ok(()),
        Some(a) if is_self(a, target) || responsible_for(a, target) => Ok(()),
        Some(_) => Err(Denied::NotResponsible),
    }
}

/// May `actor` read `target`'s audit entries? The same people who may see the user.
pub fn can_view_audit(actor: Option<&User>, target: &User) -> Result<(), Denied> {
    can_view_user(actor, target)
}

/// May `actor` set, change or remove `target`'s mobile number? Never the
/// customer themself; for customers only their broker and the broker's employees.
pub fn can_set_phone(actor: Option<&User>, target: &User) -> Result<(), Denied> {
    match actor {
        None => Ok(()),
        Some(a) if is_self(a, target) => {
            if target.role == Role::Customer {
                Err(Denied::CustomerPhone)
            } else {
                Ok(())
            }
        }
        Some(a) if responsible_for(a, target) => Ok(()),
        Some(_) if target.role == Role::Customer => Err(Denied::CustomerPhone),
        Some(_) => Err(Denied::NotResponsible),
    }
}

/// May `actor` set `target`'s 2FA interval? Every user their own; brokers
/// (and for customers the broker's employees) for the users they are responsible for.
pub fn can_set_interval(actor: Option<&User>, target: &User) -> Result<(), Denied> {
    match actor {
        None => Ok(()),
        Some(a) if is_self(a, target) || responsible_for(a, target) => Ok(()),
        Some(_) => Err(Denied::NotResponsible),
    }
}

/// May `actor` create or show an enrollment QR code for `target`? Only the
/// user themself (or the administrative context).
pub fn can_enroll(actor: Option<&User>, target: &User) -> Result<(), Denied> {
    match actor {
        None => Ok(()),
        Some(a) if is_self(a, target) => Ok(()),
        Some(_) => Err(Denied::NotSelf),
    }
}

/// May `actor` list or remove `target`'s devices? The user and whoever is
/// responsible for them, so a lost phone can be removed by the broker too.
pub fn can_manage_devices(actor: Option<&User>, target: &User) -> Result<(), Denied> {
    match actor {
        None => Ok(()),
        Some(a) if is_self(a, target) || responsible_for(a, target) => Ok(()),
        Some(_) => Err(Denied::NotResponsible),
    }
}

/// May `actor` lift `target`'s push lock? Not the locked user (that would
/// defeat the lock); their broker, for customers the broker's employees, or an administrator.
pub fn can_unlock_push(actor: Option<&User>, target: &User) -> Result<(), Denied> {
    match actor {
        None => Ok(()),
        Some(a) if responsible_for(a, target) => Ok(()),
        Some(a) if is_self(a, target) => Err(Denied::SelfUnlock),
        Some(_) => Err(Denied::NotResponsible),
    }
}

/// May `actor` list `broker`'s customers and set their interval all at once?
/// The broker and the broker's employees; sub-brokers may not.
pub fn can_manage_customers_of(actor: Option<&User>, broker: &User) -> Result<(), Denied> {
    if broker.role != Role::Broker {
        return Err(Denied::NotABroker);
    }
    match actor {
        None => Ok(()),
        Some(a) if a.role == Role::Broker && a.id == broker.id => Ok(()),
        Some(a) if a.role == Role::Employee && a.broker_id == Some(broker.id) => Ok(()),
        Some(_) => Err(Denied::NotTheirCustomers),
    }
}

/// May `actor` change `target`'s display name or e-mail address? Whoever may
/// set the user's interval: the user and whoever is responsible for them.
pub fn can_edit_profile(actor: Option<&User>, target: &User) -> Result<(), Denied> {
    can_set_interval(actor, target)
}

/// May `actor` give `target` the role `new`? Only between employee,
/// sub-broker and customer (a broker's role is tied to its customers and its
/// SMS bill), and only by the user's broker or the administrative context.
pub fn can_change_role(actor: Option<&User>, target: &User, new: Role) -> Result<(), Denied> {
    if target.role == Role::Broker || new == Role::Broker {
        return Err(Denied::BrokerRole);
    }
    match actor {
        None => Ok(()),
        Some(a) if a.role == Role::Broker && target.broker_id == Some(a.id) => Ok(()),
        Some(_) => Err(Denied::RoleNotTheBroker),
    }
}

/// May `actor` change `target`'s password, and what must they show? The
/// user with their current password; the administrative context as a reset.
pub fn can_change_password(actor: Option<&User>, target: &User) -> Result<PasswordChange, Denied> {
    match actor {
        None => Ok(PasswordChange::Reset),
        Some(a) if is_self(a, target) => Ok(PasswordChange::WithCurrent),
        Some(_) => Err(Denied::NotOwnPassword),
    }
}

/// May `actor` delete `target`? Whoever is responsible for the user (so a
/// broker removes a departed employee, an employee a customer who left);
/// a broker only in the administrative context; nobody their own login.
pub fn can_delete_user(actor: Option<&User>, target: &User) -> Result<(), Denied> {
    match actor {
        None => Ok(()),
        Some(a) if responsible_for(a, target) => Ok(()),
        Some(a) if is_self(a, target) => Err(Denied::SelfDelete),
        Some(_) => Err(Denied::NotResponsible),
    }
}

/// May `actor` create a user with `role` belonging to `broker` (`None` for a
/// new broker)? Brokers create their own customers, employees and
/// sub-brokers; employees create their broker's customers; only the
/// administrative context creates brokers.
pub fn can_create_user(
    actor: Option<&User>,
    role: Role,
    broker: Option<&User>,
) -> Result<(), Denied> {
    if let Some(b) = broker {
        if b.role != Role::Broker {
            return Err(Denied::NotABroker);
        }
    }
    if role.needs_broker() != broker.is_some() {
        return Err(Denied::CannotCreate);
    }
    let Some(a) = actor else {
        return Ok(());
    };
    let Some(b) = broker else {
        return Err(Denied::CannotCreate);
    };
    let allowed = match (a.role, role) {
        (_, Role::Broker) => false,
        (Role::Broker, _) => a.id == b.id,
        (Role::Employee, Role::Customer) => a.broker_id == Some(b.id),
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(Denied::CannotCreate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{LoginName, TwoFactorInterval};
    use crate::store::UserId;

    fn user(id: i64, role: Role, broker: Option<i64>) -> User {
        User {
            id: UserId(id),
            login: LoginName::parse(&format!("{id}")).unwrap(),
            display_name: format!("user {id}"),
            role,
            broker_id: broker.map(UserId),
            email: None,
            phone: None,
            interval: TwoFactorInterval::ALWAYS,
            push_locked_at: None,
            push_lock_reason: None,
            created_at: 0,
        }
    }

    /// Two brokers, A (1) and B (10), each with an employee, a sub-broker and
    /// customers. Order = the columns and rows of the tables below.
    fn cast() -> Vec<(&'static str, User)> {
        vec![
            ("BA", user(1, Role::Broker, None)),
            ("EA", user(2, Role::Employee, Some(1))),
            ("SA", user(3, Role::SubBroker, Some(1))),
            ("CA", user(4, Role::Customer, Some(1))),
            ("CA2", user(5, Role::Customer, Some(1))),
            ("BB", user(10, Role::Broker, None)),
            ("EB", user(11, Role::Employee, Some(10))),
            ("SB", user(12, Role::SubBroker, Some(10))),
            ("CB", user(13, Role::Customer, Some(10))),
        ]
    }

    type Rule = fn(Option<&User>, &User) -> Result<(), Denied>;

    /// Checks `rule` against `table`: one row per actor ("admin" first, then
    /// the cast in order), one column per target in cast order; `Y` allowed, `-` refused.
    fn check(name: &str, rule: Rule, table: &[(&str, &str)]) {
        let cast = cast();
        assert_eq!(table.len(), cast.len() + 1, "{name}: one row per actor");
        for (row, (actor_name, expected)) in table.iter().enumerate() {
            let actor = if row == 0 {
                assert_eq!(*actor_name, "admin");
                None
            } else {
                assert_eq!(*actor_name, cast[row - 1].0);
                Some(&cast[row - 1].1)
            };
            let expected: Vec<&str> = expected.split_whitespace().collect();
            assert_eq!(expected.len(), cast.len(), "{name}: row {actor_name}");
            for ((target_name, target), want) in cast.iter().zip(expected) {
                let got = rule(actor, target);
                assert_eq!(
                    got.is_ok(),
                    want == "Y",
                    "{name}: actor {actor_name} on {target_name}: {got:?}"
                );
            }
        }
    }

    #[test]
    fn view_user_and_audit() {
        //               BA EA SA CA CA2 BB EB SB CB
        let table = [
            ("admin", "Y  Y  Y  Y  Y   Y  Y  Y  Y"),
            ("BA", "    Y  Y  Y  Y  Y   -  -  -  -"),
            ("EA", "    -  Y  -  Y  Y   -  -  -  -"),
            ("SA", "    -  -  Y  -  -   -  -  -  -"),
            ("CA", "    -  -  -  Y  -   -  -  -  -"),
            ("CA2", "   -  -  -  -  Y   -  -  -  -"),
            ("BB", "    -  -  -  -  -   Y  Y  Y  Y"),
            ("EB", "    -  -  -  -  -   -  Y  -  Y"),
            ("SB", "    -  -  -  -  -   -  -  Y  -"),
            ("CB", "    -  -  -  -  -   -  -  -  Y"),
        ];
        check("view", can_view_user, &table);
        check("audit", can_view_audit, &table);
    }

    #[test]
    fn set_phone() {
        //               BA EA SA CA CA2 BB EB SB CB
        let table = [
            ("admin", "Y  Y  Y  Y  Y   Y  Y  Y  Y"),
            ("BA", "    Y  Y  Y  Y  Y   -  -  -  -"),
            ("EA", "    -  Y  -  Y  Y   -  -  -  -"),
            ("SA", "    -  -  Y  -  -   -  -  -  -"),
            ("CA", "    -  -  -  -  -   -  -  -  -"),
            ("CA2", "   -  -  -  -  -   -  -  -  -"),
            ("BB", "    -  -  -  -  -   Y  Y  Y  Y"),
            ("EB", "    -  -  -  -  -   -  Y  -  Y"),
            ("SB", "    -  -  -  -  -   -  -  Y  -"),
            ("CB", "    -  -  -  -  -   -  -  -  -"),
        ];
        check("phone", can_set_phone, &table);
        let cast = cast();
        let customer = &cast[3].1;
        assert_eq!(
            can_set_phone(Some(customer), customer),
            Err(Denied::CustomerPhone)
        );
    }

    #[test]
    fn set_interval() {
        //               BA EA SA CA CA2 BB EB SB CB
        let table = [
            ("admin", "Y  Y  Y  Y  Y   Y  Y  Y  Y"),
            ("BA", "    Y  Y  Y  Y  Y   -  -  -  -"),
            ("EA", "    -  Y  -  Y  Y   -  -  -  -"),
            ("SA", "    -  -  Y  -  -   -  -  -  -"),
            ("CA", "    -  -  -  Y  -   -  -  -  -"),
            ("CA2", "   -  -  -  -  Y   -  -  -  -"),
            ("BB", "    -  -  -  -  -   Y  Y  Y  Y"),
            ("EB", "    -  -  -  -  -   -  Y  -  Y"),
            ("SB", "    -  -  -  -  -   -  -  Y  -"),
            ("CB", "    -  -  -  -  -   -  -  -  Y"),
        ];
        check("interval", can_set_interval, &table);
        check("devices", can_manage_devices, &table);
        check("profile", can_edit_profile, &table);
    }

    #[test]
    fn enroll_only_self() {
        //               BA EA SA CA CA2 BB EB SB CB
        let table = [
            ("admin", "Y  Y  Y  Y  Y   Y  Y  Y  Y"),
            ("BA", "    Y  -  -  -  -   -  -  -  -"),
            ("EA", "    -  Y  -  -  -   -  -  -  -"),
            ("SA", "    -  -  Y  -  -   -  -  -  -"),
            ("CA", "    -  -  -  Y  -   -  -  -  -"),
            ("CA2", "   -  -  -  -  Y   -  -  -  -"),
            ("BB", "    -  -  -  -  -   Y  -  -  -"),
            ("EB", "    -  -  -  -  -   -  Y  -  -"),
            ("SB", "    -  -  -  -  -   -  -  Y  -"),
            ("CB", "    -  -  -  -  -   -  -  -  Y"),
        ];
        check("enroll", can_enroll, &table);
    }

    #[test]
    fn unlock_push() {
        //               BA EA SA CA CA2 BB EB SB CB
        let table = [
            ("admin", "Y  Y  Y  Y  Y   Y  Y  Y  Y"),
            ("BA", "    -  Y  Y  Y  Y   -  -  -  -"),
            ("EA", "    -  -  -  Y  Y   -  -  -  -"),
            ("SA", "    -  -  -  -  -   -  -  -  -"),
            ("CA", "    -  -  -  -  -   -  -  -  -"),
            ("CA2", "   -  -  -  -  -   -  -  -  -"),
            ("BB", "    -  -  -  -  -   -  Y  Y  Y"),
            ("EB", "    -  -  -  -  -   -  -  -  Y"),
            ("SB", "    -  -  -  -  -   -  -  -  -"),
            ("CB", "    -  -  -  -  -   -  -  -  -"),
        ];
        check("unlock", can_unlock_push, &table);
        let cast = cast();
        assert_eq!(
            can_unlock_push(Some(&cast[3].1), &cast[3].1),
            Err(Denied::SelfUnlock)
        );
    }

    #[test]
    fn delete_user() {
        //               BA EA SA CA CA2 BB EB SB CB
        let table = [
            ("admin", "Y  Y  Y  Y  Y   Y  Y  Y  Y"),
            ("BA", "    -  Y  Y  Y  Y   -  -  -  -"),
            ("EA", "    -  -  -  Y  Y   -  -  -  -"),
            ("SA", "    -  -  -  -  -   -  -  -  -"),
            ("CA", "    -  -  -  -  -   -  -  -  -"),
            ("CA2", "   -  -  -  -  -   -  -  -  -"),
            ("BB", "    -  -  -  -  -   -  Y  Y  Y"),
            ("EB", "    -  -  -  -  -   -  -  -  Y"),
            ("SB", "    -  -  -  -  -   -  -  -  -"),
            ("CB", "    -  -  -  -  -   -  -  -  -"),
        ];
        check("delete", can_delete_user, &table);
        let cast = cast();
        assert_eq!(
            can_delete_user(Some(&cast[1].1), &cast[1].1),
            Err(Denied::SelfDelete)
        );
    }

    #[test]
    fn change_password_only_self_or_reset() {
        //               BA EA SA CA CA2 BB EB SB CB
        let table = [
            ("admin", "Y  Y  Y  Y  Y   Y  Y  Y  Y"),
            ("BA", "    Y  -  -  -  -   -  -  -  -"),
            ("EA", "    -  Y  -  -  -   -  -  -  -"),
            ("SA", "    -  -  Y  -  -   -  -  -  -"),
            ("CA", "    -  -  -  Y  -   -  -  -  -"),
            ("CA2", "   -  -  -  -  Y   -  -  -  -"),
            ("BB", "    -  -  -  -  -   Y  -  -  -"),
            ("EB", "    -  -  -  -  -   -  Y  -  -"),
            ("SB", "    -  -  -  -  -   -  -  Y  -"),
            ("CB", "    -  -  -  -  -   -  -  -  Y"),
        ];
        check(
            "password",
            |a, t| can_change_password(a, t).map(|_| ()),
            &table,
        );
        let cast = cast();
        let ca = &cast[3].1;
        assert_eq!(can_change_password(None, ca), Ok(PasswordChange::Reset));
        assert_eq!(
            can_change_password(Some(ca), ca),
            Ok(PasswordChange::WithCurrent)
        );
    }

    #[test]
    fn change_role() {
        let cast = cast();
        let roles = [
            Role::Broker,
            Role::Employee,
            Role::SubBroker,
            Role::Customer,
        ];
        // Whether `actor` may change roles of A's users (their targets here:
        // EA, SA, CA) and of B's (EB, SB, CB), to any non-broker role.
        let table: [(&str, bool, bool); 10] = [
            ("admin", true, true),
            ("BA", true, false),
            ("EA", false, false),
            ("SA", false, false),
            ("CA", false, false),
            ("CA2", false, false),
            ("BB", false, true),
            ("EB", false, false),
            ("SB", false, false),
            ("CB", false, false),
        ];
        for (row, (name, of_a, of_b)) in table.iter().enumerate() {
            let actor = if row == 0 {
                None
            } else {
                Some(&cast[row - 1].1)
            };
            for (target_name, target) in &cast {
                for new in roles {
                    let got = can_change_role(actor, target, new);
                    let want = target.role != Role::Broker
                        && new != Role::Broker
                        && match target.broker_id {
                            Some(UserId(1)) => *of_a,
                            Some(UserId(10)) => *of_b,
                            _ => false,
                        };
                    assert_eq!(
                        got.is_ok(),
                        want,
                        "{name} making {target_name} {new:?}: {got:?}"
                    );
                }
            }
        }
        assert_eq!(
            can_change_role(None, &cast[0].1, Role::Customer),
            Err(Denied::BrokerRole)
        );
        assert_eq!(
            can_change_role(None, &cast[3].1, Role::Broker),
            Err(Denied::BrokerRole)
        );
        assert_eq!(
            can_change_role(Some(&cast[1].1), &cast[3].1, Role::Employee),
            Err(Denied::RoleNotTheBroker)
        );
    }

    #[test]
    fn manage_customers_of() {
        // Targets that are not brokers are refused for everyone, admin included.
        //               BA EA SA CA CA2 BB EB SB CB
        let table = [
            ("admin", "Y  -  -  -  -   Y  -  -  -"),
            ("BA", "    Y  -  -  -  -   -  -  -  -"),
            ("EA", "    Y  -  -  -  -   -  -  -  -"),
            ("SA", "    -  -  -  -  -   -  -  -  -"),
            ("CA", "    -  -  -  -  -   -  -  -  -"),
            ("CA2", "   -  -  -  -  -   -  -  -  -"),
            ("BB", "    -  -  -  -  -   Y  -  -  -"),
            ("EB", "    -  -  -  -  -   Y  -  -  -"),
            ("SB", "    -  -  -  -  -   -  -  -  -"),
            ("CB", "    -  -  -  -  -   -  -  -  -"),
        ];
        check("customers", can_manage_customers_of, &table);
        let cast = cast();
        assert_eq!(
            can_manage_customers_of(None, &cast[3].1),
            Err(Denied::NotABroker)
        );
    }

    #[test]
    fn create_user() {
        let cast = cast();
        let (ba, bb) = (&cast[0].1, &cast[5].1);
        let roles = [
            Role::Broker,
            Role::Employee,
            Role::SubBroker,
            Role::Customer,
        ];
        // For each actor: which roles it may create under broker A, under broker B.
        // Letters: b(roker) e(mployee) s(ub-broker) c(ustomer).
        let table: [(&str, &str, &str); 10] = [
            ("admin", "esc", "esc"),
            ("BA", "esc", ""),
            ("EA", "c", ""),
            ("SA", "", ""),
            ("CA", "", ""),
            ("CA2", "", ""),
            ("BB", "", "esc"),
            ("EB", "", "c"),
            ("SB", "", ""),
            ("CB", "", ""),
        ];
        let letter = |r: Role| match r {
            Role::Broker => 'b',
            Role::Employee => 'e',
            Role::SubBroker => 's',
            Role::Customer => 'c',
        };
        for (row, (name, under_a, under_b)) in table.iter().enumerate() {
            let actor = if row == 0 {
                None
            } else {
                Some(&cast[row - 1].1)
            };
            for role in roles {
                for (broker, allowed) in [(ba, under_a), (bb, under_b)] {
                    let got = can_create_user(actor, role, Some(broker));
                    assert_eq!(
                        got.is_ok(),
                        allowed.contains(letter(role)),
                        "{name} creating {role:?} under {:?}: {got:?}",
                        broker.id
                    );
                }
            }
            // A new broker (no broker of its own): only the administrative context.
            assert_eq!(
                can_create_user(actor, Role::Broker, None).is_ok(),
                row == 0,
                "{name}"
            );
        }
        // Naming a non-broker as broker is refused even for the admin context.
        assert_eq!(
            can_create_user(None, Role::Customer, Some(&cast[1].1)),
            Err(Denied::NotABroker)
        );
    }
}
