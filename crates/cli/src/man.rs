//! Man pages from the clap definitions the binary parses with, so they can never disagree
//! with `--help`. `scripts/package` runs the hidden `pushmail-cli man-pages DIR` and installs
//! the result: `pushmail-cli.1` plus one page per subcommand (`pushmail-cli-account-add.1`),
//! the layout of git's and cargo's pages.

use std::path::Path;

use anyhow::{Context, Result};

/// Writes `NAME.1` for `cmd` and, recursively, `NAME-SUB.1` for each visible subcommand.
pub fn write_all(cmd: clap::Command, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("Cannot create {}", dir.display()))?;
    write_page(cmd.version(env!("CARGO_PKG_VERSION")), dir)
}

fn write_page(cmd: clap::Command, dir: &Path) -> Result<()> {
    let name = cmd.get_display_name().unwrap_or(cmd.get_name()).to_owned();
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut page)
        .context("Cannot render a man page")?;
    let path = dir.join(format!("{name}.1"));
    std::fs::write(&path, page).with_context(|| format!("Cannot write {}", path.display()))?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        if sub.get_name() == "help" {
            continue;
        }
        let sub = sub
            .clone()
            .display_name(format!("{name}-{}", sub.get_name()))
            .version(env!("CARGO_PKG_VERSION"));
        write_page(sub, dir)?;
    }
    Ok(())
}
