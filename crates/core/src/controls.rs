//! The compliance controls that findings evidence: ONE table, mapping each control (its ID,
//! title and source) to the finding codes that evidence it. Every output tags findings from
//! here (JSON `controls`, the CSV column, the text report, SARIF's rule tags), `status
//! --control` filters by it, and the README's controls table is tested against it.
//!
//! A finding maps to a control only where the control's own text says what the finding says;
//! none is stretched to fit. CIS 1.2 (keys unused for 180 days) is listed with no finding:
//! the tool does not judge a key's last use.

use crate::model::{Code, StatusReport};

/// One control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Control {
    /// As `status --control` takes it and the outputs name it (`CIS-1.3`).
    pub id: &'static str,
    /// What it requires.
    pub title: &'static str,
    /// Where it comes from.
    pub source: &'static str,
    /// The findings that evidence it (none: the tool does not check it).
    pub codes: &'static [Code],
}

/// The CIS benchmark the `CIS-` controls come from.
const CIS: &str = "CIS IBM Cloud Foundations Benchmark";

/// Every control the tool knows, in the benchmark's order.
pub const CONTROLS: &[Control] = &[
    Control {
        id: "CIS-1.2",
        title: "API keys unused for 180 days are detected and optionally disabled",
        source: CIS,
        codes: &[],
    },
    Control { id: "CIS-1.3", title: "API keys are rotated every 90 days", source: CIS, codes: &[Code::KeyTooOld] },
    Control {
        id: "CIS-1.5",
        title: "No API key is owned by the account owner",
        source: CIS,
        codes: &[Code::OwnerIsAccountOwner],
    },
];

/// The controls `code` evidences, in the table's order.
pub fn of(code: Code) -> impl Iterator<Item = &'static Control> {
    CONTROLS.iter().filter(move |c| c.codes.contains(&code))
}

/// The control named `id` (any case), when it is one that a finding evidences.
#[must_use]
pub fn find(id: &str) -> Option<&'static Control> {
    checkable().find(|c| c.id.eq_ignore_ascii_case(id.trim()))
}

/// The controls that some finding evidences: the ones `status --control` takes.
pub fn checkable() -> impl Iterator<Item = &'static Control> {
    CONTROLS.iter().filter(|c| !c.codes.is_empty())
}

/// Limits `report` to the findings that evidence one of `controls` (`status --control`): the
/// others, and what could not be judged of the others, are left out, and the counts (and so the
/// exit code) cover only what is kept. Targets stay, with their facts.
pub fn limit(report: &mut StatusReport, controls: &[&Control]) {
    let wanted = |code: &Code| controls.iter().any(|c| c.codes.contains(code));
    for t in &mut report.targets {
        t.findings.retain(|f| wanted(&f.code));
        for u in &mut t.unchecked {
            u.findings.retain(wanted);
        }
        t.unchecked.retain(|u| !u.findings.is_empty());
    }
    report.recount();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mapped_code_is_a_code_and_ids_are_unique() {
        for (i, c) in CONTROLS.iter().enumerate() {
            assert!(CONTROLS[..i].iter().all(|o| o.id != c.id), "{} twice", c.id);
            for code in c.codes {
                assert!(Code::ALL.contains(code));
            }
        }
        assert_eq!(of(Code::KeyTooOld).map(|c| c.id).collect::<Vec<_>>(), ["CIS-1.3"]);
        assert_eq!(of(Code::NoKey).count(), 0);
        assert_eq!(find("cis-1.5").map(|c| c.id), Some("CIS-1.5"));
        assert!(find("CIS-1.2").is_none(), "no finding evidences it");
        assert!(find("CIS-9").is_none());
    }
}
