//! The `bedrock-ledger` binary: parses arguments, dispatches to a subcommand and maps the
//! outcome to an exit code. Everything else lives in the library.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
