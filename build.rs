//! Rebuilds when a migration changes: `embed_migrations!` reads `migrations/` at compile time,
//! and cargo does not know about it otherwise (diesel_migrations' documented build script).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
