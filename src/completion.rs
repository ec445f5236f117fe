//! Shell completion: scripts for the standalone binary (`completion SHELL`, generated from the
//! clap tree by `clap_complete`), and the candidates the `ibmcloud` host asks for when the
//! metadata says `DelegateBashCompletion` (`SendCompletion [NAMESPACE] [COMMAND] [ARGS]...`,
//! one candidate per line).

use clap::CommandFactory as _;

use crate::cli::Cli;
use crate::metadata::PLUGIN_NAME;

/// The completion script of `shell` for the standalone binary.
#[must_use]
pub fn script(shell: clap_complete::Shell) -> String {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), PLUGIN_NAME, &mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    if shell == clap_complete::Shell::Fish {
        // clap_complete's fish script offers no values for a positional argument: `completion
        // <TAB>` listed files. The shells, as `completion` takes them.
        return format!(
            "{text}complete -c {PLUGIN_NAME} -n \"__fish_{}_using_subcommand completion\" -f -a \"bash zsh fish powershell\"\n",
            PLUGIN_NAME.replace('-', "_")
        );
    }
    if shell != clap_complete::Shell::Bash {
        return text;
    }
    // clap_complete's bash script escapes a hyphenated program name one way where it builds
    // the command path (`cluster__api__key__subcmd__reset`) and another in the `case` labels
    // that use it (`cluster__subcmd__api__subcmd__key__subcmd__reset`), so nothing after the
    // command name completed. One spelling makes them match; `tests/it/completion.rs` runs
    // the script in bash to prove it.
    text.replace("cluster__subcmd__api__subcmd__key", "cluster__api__key")
}

/// Candidates for the words typed after `ibmcloud cluster-api-key`: command names, then the
/// flags of the command, filtered by the word being typed (the last one).
#[must_use]
pub fn candidates(words: &[String]) -> String {
    let mut root = Cli::command();
    root.build();
    let words: Vec<&str> = words.iter().map(String::as_str).skip_while(|w| *w == PLUGIN_NAME).collect();
    let typed = words.last().copied().unwrap_or_default();
    let command = words.iter().find_map(|w| crate::help::find(&root, w));
    let mut out: Vec<String> = match command {
        None => crate::help::visible_subcommands(&root)
            .filter(|c| !crate::metadata::STANDALONE_ONLY.contains(&c.get_name()))
            .map(|c| c.get_name().to_owned())
            .collect(),
        Some(c) => crate::help::visible_args(c).iter().filter_map(|a| a.get_long().map(|l| format!("--{l}"))).collect(),
    };
    // The last word is being completed, unless it is the command itself (then its flags).
    let prefix = match command {
        Some(c) if typed == c.get_name() => "",
        _ => typed,
    };
    out.retain(|c| c.starts_with(prefix));
    out.iter().fold(String::new(), |mut s, c| {
        s.push_str(c);
        s.push('\n');
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_host_gets_commands_then_flags() {
        let all = candidates(&words(&[PLUGIN_NAME]));
        assert!(all.contains("status\n") && all.contains("reset\n") && !all.contains("completion"), "{all}");
        assert_eq!(candidates(&words(&[PLUGIN_NAME, "res"])), "reset\nrestart-addons\n");
        assert_eq!(candidates(&words(&[PLUGIN_NAME, "rese"])), "reset\n");
        let flags = candidates(&words(&[PLUGIN_NAME, "reset", "--re"]));
        assert!(
            flags.contains("--region\n") && flags.contains("--resource-group\n") && !flags.contains("--force"),
            "{flags}"
        );
    }

    #[test]
    fn scripts_are_generated_for_every_shell() {
        for shell in [
            clap_complete::Shell::Bash,
            clap_complete::Shell::Zsh,
            clap_complete::Shell::Fish,
            clap_complete::Shell::PowerShell,
        ] {
            assert!(script(shell).contains("status"), "{shell}");
        }
    }
}
