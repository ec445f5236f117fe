//! One module per command: each turns a core plan/report into output, and core errors into
//! [`CommandError`]s. New commands (status, check, prune) plug in here the same way.

pub mod info;
pub mod reset;

use cluster_api_key_core::ops::Session;

use crate::error::CommandError;

/// Maps a core error with the session's CLI name.
pub fn core_err(session: &Session) -> impl Fn(cluster_api_key_core::Error) -> CommandError + '_ {
    move |e| CommandError::from_core(&e, &session.ctx.cli_name)
}
