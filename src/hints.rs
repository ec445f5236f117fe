//! Recovery hints: what the user should do after an error, in the host's words. They live in
//! the binary, not in core, because they name commands of the CLI the user runs (`ibmcloud
//! login`, `cluster-api-key info`) and are part of the user interface.

use cluster_api_key_core::Error as CoreError;

use crate::ui::Text;

/// The fix for IBM error codes whose own text does not say what to do (the missing role behind
/// `A0656` is the most asked-about in IBM's public issue trackers).
fn known_code_hint(code: Option<&str>, cli: &str) -> Option<Text> {
    Some(match code? {
        "A0656" => Text::from("A service ID also needs the Operator role on IAM Identity: ")
            .cmd(format!("{cli} iam service-policy-create SERVICE_ID --roles Operator --service-name iam-identity"))
            .plain("."),
        "A03e9b" | "BXNIM0151E" => {
            Text::from("The account may have reached its API key limit. List old containers-kubernetes-key keys with ")
                .cmd(format!("{cli} iam api-keys --all"))
                .plain(" and delete the obsolete ones.")
        }
        "BXNIM0407E" | "BXNIM0408E" | "BXNIM0439E" => login_again(cli),
        _ => return None,
    })
}

/// `Log in again with 'ibmcloud login'.`
fn login_again(cli: &str) -> Text {
    Text::from("Log in again with ").cmd(format!("{cli} login")).plain(".")
}

/// The recovery lines to print after a core error's message: `cli` is the host's name
/// (`ibmcloud`), `me` how this tool's commands are spelled (`ibmcloud cluster-api-key` under the
/// host, `cluster-api-key` standalone).
#[must_use]
pub fn for_core(e: &CoreError, cli: &str, me: &str) -> Vec<Text> {
    match e {
        CoreError::NoConfig { .. } | CoreError::NotLoggedIn | CoreError::CannotRefresh => vec![
            Text::from("Log in with ")
                .cmd(format!("{cli} login"))
                .plain(", or set IBMCLOUD_API_KEY to log in with an API key."),
        ],
        CoreError::SessionExpired { .. } | CoreError::BadToken(_) => vec![login_again(cli)],
        CoreError::RefreshFailed { spent: false, .. } => vec![
            Text::from(
                "The stored session was not changed: try again in a moment. If this keeps failing, log in again with ",
            )
            .cmd(format!("{cli} login"))
            .plain("."),
        ],
        CoreError::RefreshFailed { spent: true, .. } => vec![
            Text::from(
                "IAM may already have replaced the refresh token, so the stored session may no longer work: run the command again, and if it says the session has expired, log in again with ",
            )
            .cmd(format!("{cli} login"))
            .plain("."),
        ],
        CoreError::InvalidApiKey(_) => vec![
            Text::from("Check the API key in IBMCLOUD_API_KEY; create one with ")
                .cmd("ibmcloud iam api-key-create")
                .plain("."),
        ],
        CoreError::MalformedConfig { .. } => {
            vec![Text::from("Fix the file or log in again with ").cmd(format!("{cli} login")).plain(" to rewrite it.")]
        }
        CoreError::NoAccount => {
            vec![Text::from("Target an account with ").cmd(format!("{cli} target -c ACCOUNT_ID")).plain(".")]
        }
        CoreError::NoRegion => vec![
            Text::from("Specify one with --region, or target one with ").cmd(format!("{cli} target -r REGION")).plain("."),
        ],
        CoreError::ResourceGroupAmbiguous(_) => {
            vec![Text::from("List the resource groups with ").cmd(format!("{cli} resource groups")).plain(".")]
        }
        CoreError::LockTimeout { .. } => {
            vec![Text::from("Another ibmcloud process may be stuck; try again when it ends.")]
        }
        CoreError::Api(api) => {
            // IBM's own recovery text: words, whatever they hold.
            let mut hints: Vec<Text> = api.recovery.iter().map(Text::from).collect();
            if let Some(h) = known_code_hint(api.code.as_deref(), cli) {
                hints.push(h);
            } else if api.recovery.is_none() && api.status == 401 {
                hints.push(login_again(cli));
            } else if api.recovery.is_none() && api.status == 403 {
                hints.push(
                    Text::from("Check your access in the IBM Cloud console, or ask an account administrator for the Administrator role on the Kubernetes Service (")
                        .cmd(format!("{cli} iam user-policy-create USER --roles Administrator --service-name containers-kubernetes"))
                        .plain(")."),
                );
            }
            hints
        }
        CoreError::Transport { timeout, .. } => {
            if *timeout {
                vec![Text::from("The request timed out. Raise IBMCLOUD_HTTP_TIMEOUT or try again later.")]
            } else {
                vec![Text::from("Check your network connection and try again.")]
            }
        }
        CoreError::NoKeyForTarget { region, group } => vec![
            Text::from("Create one with ")
                .cmd(format!("{me} reset --region {region} -g {group}"))
                .plain(", or see the whole account with ")
                .cmd(format!("{me} status"))
                .plain("."),
        ],
        CoreError::BadSetting { name, .. } => vec![Text::from(format!("Unset {name} or correct its value."))],
        CoreError::ResetOutcomeUnknown { region, group, .. } => vec![
            Text::from("Check the key owner with ")
                .cmd(format!("{me} info --region {region} -g {group}"))
                .plain(" and your keys with ")
                .cmd(format!("{cli} iam api-keys"))
                .plain(" before resetting again."),
        ],
        _ => Vec::new(),
    }
}
