//! Who a user is on the platform, which decides what they may do.

use serde::{Deserialize, Serialize};

/// A user's role. Brokers own customers; employees and sub-brokers work for a
/// broker; customers belong to a broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A broker (Makler): pays for SMS, manages customers.
    Broker,
    /// An employee (Mitarbeiter) of a broker: may manage the broker's customers.
    Employee,
    /// A sub-broker (Untervermittler) working under a broker.
    SubBroker,
    /// An end customer (Endkunde) of a broker.
    Customer,
}

impl Role {
    /// The name used in the database and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Broker => "broker",
            Role::Employee => "employee",
            Role::SubBroker => "sub_broker",
            Role::Customer => "customer",
        }
    }

    /// Parses the name used in the database and the API.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "broker" => Some(Role::Broker),
            "employee" => Some(Role::Employee),
            "sub_broker" => Some(Role::SubBroker),
            "customer" => Some(Role::Customer),
            _ => None,
        }
    }

    /// Whether a user of this role must belong to a broker.
    pub fn needs_broker(self) -> bool {
        !matches!(self, Role::Broker)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for r in [
            Role::Broker,
            Role::Employee,
            Role::SubBroker,
            Role::Customer,
        ] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(json, format!("\"{}\"", r.as_str()));
        }
        assert_eq!(Role::parse("admin"), None);
        assert!(!Role::Broker.needs_broker());
        assert!(Role::Customer.needs_broker());
    }
}
