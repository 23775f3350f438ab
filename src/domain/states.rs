use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown state {0:?}")]
pub struct UnknownState(pub String);

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }
        }

        impl FromStr for $name {
            type Err = UnknownState;
            fn from_str(s: &str) -> Result<Self, UnknownState> {
                match s {
                    $($text => Ok($name::$variant),)*
                    other => Err(UnknownState(other.to_owned())),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum! {
    /// Order states, with the exact Assist strings (note the space in `In Process`).
    OrderState {
        InProcess => "In Process",
        Delayed => "Delayed",
        Approved => "Approved",
        PartialDelayed => "PartialDelayed",
        Canceled => "Canceled",
        PartialCanceled => "PartialCanceled",
        Declined => "Declined",
        Timeout => "Timeout",
    }
}

impl OrderState {
    /// Every transition Kassa makes, and nothing else.
    pub fn can_become(self, to: OrderState) -> bool {
        use OrderState::*;
        matches!(
            (self, to),
            (InProcess, Delayed | Approved | Declined | Timeout)
                | (Delayed, Approved | PartialDelayed | Canceled)
                | (Approved | PartialDelayed | PartialCanceled, PartialCanceled | Canceled)
        )
    }

    /// A successful payment happened (the money is or was authorized).
    pub fn is_paid(self) -> bool {
        use OrderState::*;
        matches!(self, Delayed | Approved | PartialDelayed | Canceled | PartialCanceled)
    }

    /// No further payment attempt can happen on this billnumber.
    pub fn is_final_failure(self) -> bool {
        matches!(self, OrderState::Declined | OrderState::Timeout)
    }
}

string_enum! {
    /// What an operation does. Assist numbers them: 100 payment, 200 confirmation, 300 cancel.
    OperationKind {
        Payment => "payment",
        Confirmation => "confirmation",
        Cancel => "cancel",
    }
}

impl OperationKind {
    pub fn assist_type(self) -> u16 {
        match self {
            OperationKind::Payment => 100,
            OperationKind::Confirmation => 200,
            OperationKind::Cancel => 300,
        }
    }
}

string_enum! {
    OperationState {
        InProcess => "In Process",
        Success => "Success",
        Declined => "Declined",
    }
}

string_enum! {
    TransactionKind {
        Authorization => "authorization",
        Financial => "financial",
        Reversal => "reversal",
        Refund => "refund",
    }
}

string_enum! {
    /// `new` (financial, waiting for a batch), `waiting` (a refund waiting for its money to be
    /// settled first), `sent`, `challenge` (3-D Secure pending), then the processor's answer;
    /// financial transactions end `settled`, `rejected` or `dropped` (cancelled before sending).
    TransactionState {
        New => "new",
        Waiting => "waiting",
        Sent => "sent",
        Challenge => "challenge",
        Approved => "approved",
        Declined => "declined",
        Timeout => "timeout",
        Settled => "settled",
        Rejected => "rejected",
        Dropped => "dropped",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip() {
        for s in OrderState::ALL {
            assert_eq!(s.as_str().parse::<OrderState>().unwrap(), *s);
        }
        assert_eq!(OrderState::InProcess.as_str(), "In Process");
        assert!("in process".parse::<OrderState>().is_err());
    }

    #[test]
    fn failed_and_timed_out_orders_are_terminal() {
        for to in OrderState::ALL {
            assert!(!OrderState::Declined.can_become(*to));
            assert!(!OrderState::Timeout.can_become(*to));
            assert!(!OrderState::Canceled.can_become(*to));
        }
        assert!(!OrderState::Approved.can_become(OrderState::Delayed));
        assert!(!OrderState::InProcess.can_become(OrderState::Canceled));
    }
}
