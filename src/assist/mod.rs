//! The IPS Assist merchant protocol: check values, request signatures and response codes.

pub mod checkvalue;
pub mod codes;
pub mod signature;
