//! Kassa: a self-hosted payment gateway that speaks the IPS Assist merchant protocol.
//!
//! Layers, from the inside out: [`domain`] (pure rules), [`money`] and [`card`] (values),
//! [`db`] (storage on SQLite or PostgreSQL), [`processing`] (the processing center),
//! [`gateway`] (the use cases), [`web`] and [`worker`] (what runs them), [`startup`] (wiring).

pub mod assist;
pub mod card;
pub mod check;
pub mod config;
pub mod db;
pub mod domain;
pub mod gateway;
pub mod money;
pub mod processing;
pub mod seed;
pub mod startup;
pub mod web;
pub mod worker;
