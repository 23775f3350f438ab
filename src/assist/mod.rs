//! The IPS Assist merchant protocol: check values and response codes.

pub mod checkvalue;
pub mod codes;
