use std::path::PathBuf;

use clap::{Parser, Subcommand};
use kassa::config::Config;
use kassa::gateway::settlement_report::ReportScope;
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
    /// Run only the background jobs (notifications, webhooks, e-mail, settlement, expiry,
    /// recovery), e.g. beside several web processes on PostgreSQL.
    Worker,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create the demo enterprise, test merchant and users if missing, print their
    /// credentials, then serve.
    Demo,
    /// Run one settlement now (send batches, apply acknowledgements) and print the result.
    Settle,
    /// Check the rules of the money over the database; exits non-zero if any is broken.
    Check,
    /// Bulk-load realistic orders (states, operations, settlement) for the demo enterprise,
    /// creating the demo data if missing; for benchmarks and trying the Order Monitor.
    Seed {
        /// How many orders.
        #[arg(long)]
        orders: usize,
        /// Only this merchant (its Assist `Merchant_ID`); otherwise spread over the demo
        /// enterprise's shops.
        #[arg(long)]
        merchant: Option<i64>,
    },
    /// Manage users: `kassa user add LOGIN --admin` creates a platform admin (the password is
    /// read from the first line of standard input).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Print the settlement report of a day (UTC) as CSV: every item, or totals per currency.
    SettlementReport {
        /// The day, `YYYY-MM-DD`; today when omitted.
        #[arg(long)]
        date: Option<String>,
        /// Only this merchant's orders (its Assist `Merchant_ID`).
        #[arg(long)]
        merchant: Option<i64>,
        /// Totals per currency instead of items.
        #[arg(long)]
        totals: bool,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user: a platform admin with `--admin`, else a manager of `--enterprise`.
    Add {
        login: String,
        /// A platform admin of `/admin` (two-factor enrolment at the first sign-in).
        #[arg(long)]
        admin: bool,
        /// The enterprise id of a merchant-account manager.
        #[arg(long, conflicts_with = "admin")]
        enterprise: Option<String>,
    },
}

/// The new user's password: the first line of standard input (so it stays out of the process
/// list, the shell history and the environment). `KASSA_*` variables are settings only.
fn read_new_password() -> anyhow::Result<String> {
    eprintln!("password (at least 12 characters), then Enter:");
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
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
    let code = match run(cli.command.unwrap_or(Command::Serve), config).await {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("kassa: {e:#}");
            1
        }
    };
    leave(code)
}

/// Ends the process without running the C library's exit handlers. OpenSSL (under libpq) frees
/// its state in such a handler while r2d2's pool threads may still be opening or closing TLS
/// connections to PostgreSQL; that crashed about one `kassa settle` in eight with SIGSEGV, after
/// all its work was committed. Everything Kassa writes is committed before this point.
fn leave(code: i32) -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: `_exit` only ends the process; the buffers that matter were flushed above.
    unsafe { libc::_exit(code) }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    let gateway = open_gateway(&config)?;
    match command {
        Command::Migrate => {
            println!("migrations applied to {:?}", gateway.store.backend());
            Ok(())
        }
        Command::Settle => {
            println!("{:?}", gateway.settle().await?);
            Ok(())
        }
        Command::SettlementReport { date, merchant, totals } => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            let day = match date {
                Some(d) => time::Date::parse(&d, &format).map_err(|e| anyhow::anyhow!("--date {d}: {e}"))?,
                None => time::OffsetDateTime::now_utc().date(),
            };
            let scope = match merchant {
                Some(n) => ReportScope::Merchant(gateway.merchant_by_number(n).await?.id),
                None => ReportScope::All,
            };
            let report = gateway.settlement_report(day, scope).await?;
            print!("{}", if totals { report.totals_csv() } else { report.items_csv() });
            Ok(())
        }
        Command::Check => {
            let store = gateway.store.clone();
            let findings = store.read(kassa::check::run).await?;
            let broken = findings.iter().filter(|f| f.violations > 0).count();
            for f in &findings {
                println!("{} {}: {}", if f.violations == 0 { "ok  " } else { "FAIL" }, f.rule, f.violations);
                for e in &f.examples {
                    println!("       {e}");
                }
            }
            if broken > 0 {
                anyhow::bail!("{broken} rule(s) broken");
            }
            Ok(())
        }
        Command::Seed { orders, merchant } => {
            let started = std::time::Instant::now();
            let report = kassa::seed::seed(&gateway.store, kassa::seed::SeedOptions { orders, merchant }).await?;
            let secs = started.elapsed().as_secs_f64();
            println!(
                "seeded {} orders, {} operations, {} transactions, {} settlement batches in {secs:.1} s",
                report.orders, report.operations, report.transactions, report.batches
            );
            for (state, n) in &report.states {
                println!("  {state}: {n}");
            }
            Ok(())
        }
        Command::Worker => {
            kassa::worker::Worker::new(gateway, config)?.run().await;
            Ok(())
        }
        Command::Serve => serve(config, gateway).await,
        Command::User { command: UserCommand::Add { login, admin, enterprise } } => {
            let password = read_new_password()?;
            let enterprise = enterprise.map(kassa::db::models::EnterpriseId);
            let id =
                setup::add_user(&gateway.store, setup::AddUser { login: login.clone(), password, admin, enterprise })
                    .await?;
            let kind = if admin { "admin" } else { "manager" };
            println!("created {kind} {login} ({})", id.0);
            if admin {
                println!("sign in at {}/admin/login and set up two-factor sign-in", config.public_url());
            }
            Ok(())
        }
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
            serve(config, gateway).await
        }
    }
}

async fn serve(config: Config, gateway: kassa::gateway::Gateway) -> anyhow::Result<()> {
    kassa::worker::spawn(gateway.clone(), config.clone())?;
    let app = Application::build(config, gateway)?;
    app.run_until_stopped().await?;
    Ok(())
}
