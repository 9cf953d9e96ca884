//! `mogr`: a COS-compatible object store with imageMogr2 image processing.

mod alloc;
mod assets;
mod batch;
mod cache;
mod cli;
mod config;
mod credentials;
mod logging;
mod open_files;
mod process;
mod style;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => config::serve(args),
        Command::Process(args) => process::run(args),
        Command::Info(args) => process::info(args),
        Command::Batch(args) => batch::run(args),
        Command::Style(args) => style::run(args),
        Command::Cache(cmd) => cache::run(cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mogr: {e}");
            ExitCode::from(1)
        }
    }
}
