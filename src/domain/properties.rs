//! Property tests: any sequence of pay / confirm / cancel / settle keeps the money rules, and
//! every state change is an allowed transition.

use proptest::prelude::*;

use super::*;

#[derive(Debug, Clone)]
enum Command {
    /// Confirm this share (per mille) of what is held, or everything.
    Confirm(Option<u16>),
    /// Cancel this share (per mille) of what is left, or everything.
    Cancel(Option<u16>),
    /// Send everything unsettled in a batch (acknowledged at the next `Settle`).
    Settle,
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        proptest::option::of(0u16..=1000).prop_map(Command::Confirm),
        proptest::option::of(0u16..=1100).prop_map(Command::Cancel),
        Just(Command::Settle),
    ]
}

fn share(total: i64, per_mille: u16) -> i64 {
    total * i64::from(per_mille) / 1000
}

proptest! {
    #[test]
    fn any_sequence_keeps_the_rules(
        amount in 1i64..10_000_000,
        two_stage: bool,
        amex: bool,
        commands in proptest::collection::vec(command(), 0..25),
    ) {
        let mut money = OrderMoney::authorize(amount, two_stage);
        let mut state = money.paid_state();
        prop_assert_eq!(state, if two_stage { OrderState::Delayed } else { OrderState::Approved });
        let mut in_settlement = 0i64;
        for cmd in commands {
            let before = state;
            match cmd {
                Command::Confirm(part) => {
                    let asked = part.map(|p| share(money.held(), p));
                    match plan_confirm(&money, state, two_stage, asked) {
                        Ok(after) => money = after,
                        Err(_) => continue,
                    }
                }
                Command::Cancel(part) => {
                    let asked = part.map(|p| share(money.remaining(), p));
                    match plan_cancel(&money, state, in_settlement, amex, asked) {
                        Ok(plan) => {
                            prop_assert_eq!(plan.release + plan.void + plan.refund, plan.amount);
                            prop_assert!(plan.refund_now <= plan.refund);
                            if amex {
                                prop_assert_eq!(plan.reverse(), 0);
                            }
                            money = plan.money_after;
                        }
                        Err(CancelError::ExceedsRemaining { remaining }) => {
                            prop_assert_eq!(remaining, money.remaining());
                            continue;
                        }
                        Err(_) => continue,
                    }
                }
                Command::Settle => {
                    money.settled += in_settlement;
                    in_settlement = money.unsettled();
                    prop_assert!(in_settlement >= 0);
                    continue;
                }
            }
            prop_assert!(money.holds(), "{:?}", money);
            state = money.paid_state();
            prop_assert!(state == before || before.can_become(state), "{:?} -> {:?}", before, state);
        }
        prop_assert!(money.holds());
        prop_assert!(money.returned() <= money.authorized);
    }
}
