//! `cluster-api-key-emulator`: the emulator as a standalone server, for manual checks and for
//! clients other than ours.

use std::net::SocketAddr;
use std::process::ExitCode;

use cluster_api_key_emulator::{Emulator, Knobs, World};

const USAGE: &str = "Usage: cluster-api-key-emulator [--listen 127.0.0.1:PORT] [--world FILE | --world-scale REGIONSxGROUPS [--uneven | --accounts N] [--seed N]] [--latency MS] [--rate-limit] [--tls [--write-ca]]";

fn main() -> ExitCode {
    let mut listen: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 0));
    let mut world_file = None;
    let mut scale: Option<(usize, usize)> = None;
    let mut seed: u64 = 1;
    let mut uneven = false;
    let mut accounts: usize = 1;
    let mut knobs = Knobs::default();
    let mut tls = false;
    let mut write_ca = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        let r: Result<(), String> = match arg.as_str() {
            "--listen" => {
                value("--listen").and_then(|v| v.parse().map(|a| listen = a).map_err(|e| format!("--listen: {e}")))
            }
            "--world" => value("--world").map(|v| world_file = Some(v)),
            "--world-scale" => value("--world-scale").and_then(|v| {
                let parsed = v.split_once('x').and_then(|(r, g)| Some((r.parse().ok()?, g.parse().ok()?)));
                match parsed {
                    Some((r, g)) if (1..=13).contains(&r) && (1..=100).contains(&g) => {
                        scale = Some((r, g));
                        Ok(())
                    }
                    _ => Err(format!("--world-scale: '{v}' is not REGIONSxGROUPS (1-13 regions, 1-100 groups)")),
                }
            }),
            "--uneven" => {
                uneven = true;
                Ok(())
            }
            "--accounts" => value("--accounts").and_then(|v| match v.parse() {
                Ok(n) if (1..=1000).contains(&n) => {
                    accounts = n;
                    Ok(())
                }
                _ => Err(format!("--accounts: '{v}' is not a number of accounts (1-1000)")),
            }),
            "--seed" => value("--seed").and_then(|v| v.parse().map(|n| seed = n).map_err(|e| format!("--seed: {e}"))),
            "--latency" => value("--latency")
                .and_then(|v| v.parse().map(|ms| knobs.latency_ms = ms).map_err(|e| format!("--latency: {e}"))),
            "--rate-limit" => {
                knobs.rate_limit = true;
                Ok(())
            }
            "--tls" => {
                tls = true;
                Ok(())
            }
            "--write-ca" => {
                write_ca = true;
                Ok(())
            }
            "-h" | "--help" => {
                #[allow(clippy::print_stdout)]
                {
                    println!("{USAGE}");
                }
                return ExitCode::SUCCESS;
            }
            other => Err(format!("unknown argument '{other}'")),
        };
        if let Err(e) = r {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("FAILED\n{e}\n{USAGE}");
            }
            return ExitCode::from(2);
        }
    }
    if write_ca && !tls {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("FAILED\n--write-ca needs --tls\n{USAGE}");
        }
        return ExitCode::from(2);
    }
    // The CA goes next to the world file (`world.json` → `world.json.ca.pem`), else here.
    let ca_path = world_file.as_ref().map_or_else(
        || std::path::PathBuf::from("emulator-ca.pem"),
        |w| std::path::PathBuf::from(format!("{w}.ca.pem")),
    );
    let world = match world_file {
        None => match scale {
            Some((r, g)) if uneven => World::uneven(r, g, seed),
            Some((r, g)) if accounts > 1 => World::enterprise_scaled(accounts, r, g, seed),
            Some((r, g)) => World::scaled(r, g, seed),
            None => World::default_world(),
        },
        Some(f) => match std::fs::read(&f)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        {
            Ok(w) => w,
            Err(e) => {
                #[allow(clippy::print_stderr)]
                {
                    eprintln!("FAILED\nCould not load the world '{f}': {e}");
                }
                return ExitCode::FAILURE;
            }
        },
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("FAILED\n{e}");
            }
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        match Emulator::start_with(listen, world, knobs, tls).await {
            Ok(emu) => {
                if write_ca && let Err(e) = std::fs::write(&ca_path, emu.handle.ca_pem()) {
                    #[allow(clippy::print_stderr)]
                    {
                        eprintln!("FAILED\nCould not write the CA to '{}': {e}", ca_path.display());
                    }
                    return ExitCode::FAILURE;
                }
                #[allow(clippy::print_stdout)]
                {
                    use std::io::Write as _;
                    println!("listening on {}", emu.base_url);
                    if write_ca {
                        println!("CA certificate in {} (for SSL_CERT_FILE)", ca_path.display());
                    }
                    let _ = std::io::stdout().flush();
                }
                let _ = tokio::signal::ctrl_c().await;
                ExitCode::SUCCESS
            }
            Err(e) => {
                #[allow(clippy::print_stderr)]
                {
                    eprintln!("FAILED\nCould not listen on {listen}: {e}");
                }
                ExitCode::FAILURE
            }
        }
    })
}
