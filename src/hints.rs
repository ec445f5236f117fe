//! Recovery hints: what the user should do after an error, in the host's words. They live in
//! the binary, not in core, because they name commands of the CLI the user runs (`ibmcloud
//! login`, `cluster-api-key info`) and are part of the user interface.

use cluster_api_key_core::Error as CoreError;

/// The fix for IBM error codes whose own text does not say what to do (the missing role behind
/// `A0656` is the most asked-about in IBM's public issue trackers).
fn known_code_hint(code: Option<&str>, cli: &str) -> Option<String> {
    Some(match code? {
        "A0656" => format!(
            "A service ID also needs the Operator role on IAM Identity: '{cli} iam service-policy-create SERVICE_ID --roles Operator --service-name iam-identity'."
        ),
        "A03e9b" | "BXNIM0151E" => format!(
            "The account may have reached its API key limit. List old containers-kubernetes-key keys with '{cli} iam api-keys --all' and delete the obsolete ones."
        ),
        "BXNIM0407E" | "BXNIM0408E" | "BXNIM0439E" => format!("Log in again with '{cli} login'."),
        _ => return None,
    })
}

/// The recovery lines to print after a core error's message: `cli` is the host's name
/// (`ibmcloud`), `me` how this tool's commands are spelled (`ibmcloud cluster-api-key` under the
/// host, `cluster-api-key` standalone).
#[must_use]
pub fn for_core(e: &CoreError, cli: &str, me: &str) -> Vec<String> {
    match e {
        CoreError::NoConfig { .. } | CoreError::NotLoggedIn | CoreError::CannotRefresh => {
            vec![format!("Log in with '{cli} login', or set IBMCLOUD_API_KEY to log in with an API key.")]
        }
        CoreError::SessionExpired { .. } | CoreError::BadToken(_) => vec![format!("Log in again with '{cli} login'.")],
        CoreError::RefreshFailed { spent: false, .. } => vec![format!(
            "The stored session was not changed: try again in a moment. If this keeps failing, log in again with '{cli} login'."
        )],
        CoreError::RefreshFailed { spent: true, .. } => vec![format!(
            "IAM may already have replaced the refresh token, so the stored session may no longer work: run the command again, and if it says the session has expired, log in again with '{cli} login'."
        )],
        CoreError::InvalidApiKey(_) => {
            vec![String::from("Check the API key in IBMCLOUD_API_KEY; create one with 'ibmcloud iam api-key-create'.")]
        }
        CoreError::MalformedConfig { .. } => {
            vec![format!("Fix the file or log in again with '{cli} login' to rewrite it.")]
        }
        CoreError::NoAccount => vec![format!("Target an account with '{cli} target -c ACCOUNT_ID'.")],
        CoreError::NoRegion => vec![format!("Specify one with --region, or target one with '{cli} target -r REGION'.")],
        CoreError::ResourceGroupAmbiguous(_) => {
            vec![format!("List the resource groups with '{cli} resource groups'.")]
        }
        CoreError::LockTimeout { .. } => {
            vec![String::from("Another ibmcloud process may be stuck; try again when it ends.")]
        }
        CoreError::Api(api) => {
            let mut hints: Vec<String> = api.recovery.iter().cloned().collect();
            if let Some(h) = known_code_hint(api.code.as_deref(), cli) {
                hints.push(h);
            } else if api.recovery.is_none() && api.status == 401 {
                hints.push(format!("Log in again with '{cli} login'."));
            } else if api.recovery.is_none() && api.status == 403 {
                hints.push(format!(
                        "Check your access in the IBM Cloud console, or ask an account administrator for the Administrator role on the Kubernetes Service ('{cli} iam user-policy-create USER --roles Administrator --service-name containers-kubernetes')."
                    ));
            }
            hints
        }
        CoreError::Transport { timeout, .. } => {
            if *timeout {
                vec![String::from("The request timed out. Raise IBMCLOUD_HTTP_TIMEOUT or try again later.")]
            } else {
                vec![String::from("Check your network connection and try again.")]
            }
        }
        CoreError::NoKeyForTarget { region, group } => vec![format!(
            "Create one with '{me} reset --region {region} -g {group}', or see the whole account with '{me} status'."
        )],
        CoreError::BadSetting { name, .. } => vec![format!("Unset {name} or give it a value in range.")],
        CoreError::ResetOutcomeUnknown { region, group, .. } => vec![format!(
            "Check the key owner with '{me} info --region {region} -g {group}' and your keys with '{cli} iam api-keys' before resetting again."
        )],
        _ => Vec::new(),
    }
}
