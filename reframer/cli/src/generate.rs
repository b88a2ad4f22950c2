//! `reframer generate man DIR` and `reframer generate completions DIR` (hidden): the man
//! pages and the bash/zsh/fish completions, generated from the clap definitions so they never
//! drift from `--help`. The Debian package (reframer/cli/pkg/build-deb.sh) ships their output.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use clap_complete::Shell;

/// Options of `reframer generate`.
#[derive(Debug, Clone, Args)]
pub(crate) struct GenerateArgs {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, Clone, Subcommand)]
enum What {
    /// Write reframer.1 and one page per visible subcommand (reframer-demo.1) into DIR.
    Man {
        /// Output folder (created if missing).
        dir: PathBuf,
    },
    /// Write reframer.bash, _reframer (zsh) and reframer.fish into DIR.
    Completions {
        /// Output folder (created if missing).
        dir: PathBuf,
    },
}

/// Writes the files; every error names the file.
pub(crate) fn run(a: &GenerateArgs, cmd: clap::Command) -> anyhow::Result<()> {
    let dir = match &a.what {
        What::Man { dir } | What::Completions { dir } => dir,
    };
    std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
    match &a.what {
        What::Man { .. } => man_pages(cmd, dir),
        What::Completions { .. } => completions(cmd, dir),
    }
}

fn man_pages(cmd: clap::Command, dir: &Path) -> anyhow::Result<()> {
    let cmd = cmd.name("reframer");
    let write = |name: &str, page: clap::Command| -> anyhow::Result<()> {
        let path = dir.join(format!("{name}.1"));
        let mut out = Vec::new();
        clap_mangen::Man::new(page).render(&mut out)?;
        std::fs::write(&path, out).with_context(|| format!("{}", path.display()))?;
        reframer_io::outln!("{}", path.display());
        Ok(())
    };
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        // clap takes 'static names; one short string per subcommand, once per run.
        let name: &'static str = Box::leak(format!("reframer-{}", sub.get_name()).into_boxed_str());
        write(name, sub.clone().name(name))?;
    }
    write("reframer", cmd)
}

fn completions(mut cmd: clap::Command, dir: &Path) -> anyhow::Result<()> {
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let path = clap_complete::generate_to(shell, &mut cmd, "reframer", dir)
            .with_context(|| format!("{}: {shell} completions", dir.display()))?;
        reframer_io::outln!("{}", path.display());
    }
    Ok(())
}
