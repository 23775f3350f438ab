//! The bare server of `bench/run`: actix-web answering "hello" with nothing behind it, built
//! like Kassa (release, two workers), so that "Kassa / bare server" shows what the gateway's
//! own work costs over the framework and the machine.
//!
//! `bench_hello <listen address>`

use actix_web::{App, HttpResponse, HttpServer, web};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let listen = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:18090".into());
    HttpServer::new(|| {
        App::new().default_service(web::to(|| async { HttpResponse::Ok().content_type("text/plain").body("hello") }))
    })
    .workers(2)
    .bind(listen)?
    .run()
    .await
}
