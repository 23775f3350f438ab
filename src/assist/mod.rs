//! The IPS Assist merchant protocol: check values, request signatures, Kassa's own signing key,
//! the seal of answers and notifications, and response codes.

pub mod checkvalue;
pub mod codes;
pub mod gateway_key;
pub mod seal;
pub mod signature;
