//! The `koosign` command-line tool.

mod conformance;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "koosign", version, about = "KooGallery merchant-interface signing, verification and testing")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run JSON Lines conformance vectors (the format of shared/vectors/) through the core.
    Conformance {
        /// Vector files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Print every failure, not just the first five per kind.
        #[arg(long)]
        verbose: bool,
    },
}

fn main() {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Conformance { files, verbose } => conformance::run(&files, verbose),
    };
    std::process::exit(code);
}
