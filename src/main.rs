use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use kassa::config::Config;
use kassa::gateway::setup;
use kassa::startup::{Application, open_gateway};

/// Kassa, a self-hosted payment gateway that speaks the IPS Assist merchant protocol.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// TOML configuration file; `KASSA_*` environment variables override it.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server and the background jobs (the default).
    Serve,
    /// Run only the background jobs (expiry, settlement), e.g. beside several web processes on
    /// PostgreSQL.
    Worker,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create the demo enterprise, test merchant and users if missing, print their
    /// credentials, then serve.
    Demo,
    /// Run one settlement now (send batches, apply acknowledgements) and print the result.
    Settle,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref(), std::env::vars()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kassa: {e}");
            std::process::exit(2);
        }
    };
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::new(&config.log)).init();
    if let Err(e) = run(cli.command.unwrap_or(Command::Serve), config).await {
        eprintln!("kassa: {e:#}");
        std::process::exit(1);
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    let gateway = open_gateway(&config)?;
    let interval = Duration::from_secs(config.worker_interval_secs);
    match command {
        Command::Migrate => {
            println!("migrations applied to {:?}", gateway.store.backend());
            Ok(())
        }
        Command::Settle => {
            println!("{:?}", gateway.settle().await?);
            Ok(())
        }
        Command::Worker => {
            kassa::worker::run(gateway, interval).await;
            Ok(())
        }
        Command::Serve => serve(config, gateway, interval).await,
        Command::Demo => {
            let demo = setup::demo(&gateway.store).await?;
            println!("url: {}", config.public_url());
            println!("demo_shop: {}/demo-shop", config.public_url());
            println!("merchant_id: {}", demo.merchant.merchant_number);
            println!("secret_word: {}", demo.secret);
            for (login, password) in &demo.users {
                println!("login: {login}");
                println!("password: {password}");
            }
            serve(config, gateway, interval).await
        }
    }
}

async fn serve(config: Config, gateway: kassa::gateway::Gateway, interval: Duration) -> anyhow::Result<()> {
    let app = Application::build(config, gateway.clone())?;
    tokio::spawn(kassa::worker::run(gateway, interval));
    app.run_until_stopped().await?;
    Ok(())
}
