//! Issue #32: `status -o markdown`, rendered by a real CommonMark/GFM renderer (comrak, with
//! GitHub's extensions: tables, autolinks, strikethrough, math; raw HTML let through, so that
//! any HTML a name smuggled in would show): the tables keep their cells, and no name becomes a
//! link, an image, HTML or markup.

use cluster_api_key_emulator::World;
use cluster_api_key_emulator::world::{self, keys};

use crate::common::{Run, TestEnv};

fn functional() -> TestEnv {
    let env = TestEnv::new();
    env.login(keys::FUNCTIONAL, Some("us-south"));
    env
}

/// `md` as GitHub would render it.
fn render(md: &str) -> String {
    let mut o = comrak::Options::default();
    o.extension.table = true;
    o.extension.autolink = true;
    o.extension.strikethrough = true;
    o.extension.math_dollars = true;
    o.render.r#unsafe = true;
    comrak::markdown_to_html(md, &o)
}

/// The HTML elements a document may render to: anything else came from a name.
const ELEMENTS: &[&str] =
    &["h2", "h3", "p", "code", "strong", "table", "thead", "tbody", "tr", "th", "td", "details", "summary", "ul", "li"];

/// The rendered document, checked: only [`ELEMENTS`], and every table row six cells.
#[track_caller]
pub(crate) fn rendered(md: &str) -> String {
    let html = render(md);
    let tags = regex::Regex::new(r"<(/?)([A-Za-z][A-Za-z0-9-]*)").unwrap();
    for c in tags.captures_iter(&html) {
        assert!(ELEMENTS.contains(&&c[2]), "an element no report makes: <{}> in {html}", &c[2]);
    }
    for row in html.split("<tr>").skip(1) {
        let row = &row[..row.find("</tr>").unwrap()];
        assert_eq!(row.matches("<td").count() + row.matches("<th").count(), 6, "a row of six cells: {row}");
    }
    html
}

/// `status -o markdown ARGS`, rendered.
#[track_caller]
fn markdown(env: &TestEnv, args: &[&str]) -> (Run, String) {
    let mut all = vec!["status", "-o", "markdown"];
    all.extend_from_slice(args);
    let r = env.run(&all);
    assert!(r.code == 0 || r.code == 3, "{r:?}");
    let html = rendered(&r.stdout);
    (r, html)
}

#[test]
fn the_sandbox_status_as_markdown() {
    let home = tempfile::tempdir().unwrap();
    let r = crate::common::sandbox_run(home.path(), &["status", "-o", "markdown"]);
    r.exits(3);
    assert!(r.stderr.is_empty(), "{r:?}");
    rendered(&r.stdout);
    crate::assert_run!(crate::common::Sandbox(home.path()), "markdown-sandbox-status", r);
}

#[test]
fn counts_a_table_of_the_targets_with_findings_and_collapsed_details() {
    let env = functional();
    let (r, html) = markdown(&env, &[]);
    r.exits(3);
    crate::assert_run!(env, "markdown-status", r);
    assert!(
        html.starts_with("<h2><code>cluster-api-key</code> status: fails at <code>--fail-on warning</code></h2>"),
        "{html}"
    );
    let v: serde_json::Value = serde_json::from_str(&env.run(&["status", "-o", "json"]).stdout).unwrap();
    let with: Vec<&serde_json::Value> =
        v["targets"].as_array().unwrap().iter().filter(|t| !t["findings"].as_array().unwrap().is_empty()).collect();
    assert_eq!(html.matches("<tr>").count(), with.len() + 1, "a row per target with findings, and the header");
    assert_eq!(html.matches("<details>").count(), with.len());
    // The commands are code spans, whole.
    assert!(html.contains("<code>cluster-api-key reset --region us-south -g Default</code>"), "{html}");
    // --fail-on never passes, as the exit code.
    let (r, html) = markdown(&env, &["--fail-on", "never"]);
    r.exits(0);
    assert!(html.contains("status: passes at <code>--fail-on never</code>"), "{html}");
}

#[test]
fn hostile_names_keep_the_table_and_inject_nothing() {
    let env = functional();
    let hostile = "De|fa`u``lt *x* _y_ [l](http://evil.example) <img src=x onerror=alert(1)> <b>b</b> www.evil.example a@b.example $x$ :smile: ~~s~~ &amp; ]]> # h\r\n| --- |\t\u{202e}\u{0}";
    let huge = "x|`".repeat(10_000);
    {
        let mut w = env.handle().world();
        let g = w.resource_groups.iter_mut().find(|g| g.id == world::RG_DEFAULT).unwrap();
        g.name = format!("{hostile}{huge}");
        let dave = w.identities.iter_mut().find(|i| i.iam_id == world::DEPARTED).unwrap();
        dave.name = hostile.to_owned();
    }
    let (_, html) = markdown(&env, &["-r", "us-south"]);
    // The name as the terminal shows it, in a code span in the table: every character there.
    let shown = "De|fa`u``lt *x* _y_ [l](http://evil.example) &lt;img src=x onerror=alert(1)&gt; &lt;b&gt;b&lt;/b&gt; www.evil.example a@b.example $x$ :smile: ~~s~~ &amp;amp; ]]&gt; # h\\r\\n| --- |\\t\\u{202e}\\u{0}";
    assert!(html.contains(&format!("<td><code>{shown}x|`")), "{html}");
    // In prose (the findings' details), the same words, literal.
    assert!(html.contains(&format!("(critical): {shown} is IAMID_INVALID")), "{html}");
    assert!(
        !html.contains("<a ") && !html.contains("<img") && !html.contains("<em>") && !html.contains("<del>"),
        "{html}"
    );
    // The <summary> line, HTML: escaped, one line.
    let summary = html.split("<summary>").nth(1).unwrap();
    let summary = &summary[..summary.find("</summary>").unwrap()];
    assert!(summary.starts_with("us-south / De|fa`u``lt *x* _y_ [l](http://evil.example) &lt;img"), "{summary}");
}

#[test]
fn an_unread_account_is_said_never_left_out() {
    let env = TestEnv::with_world(World::default_world().with_enterprise());
    env.login(keys::FUNCTIONAL, Some("us-south"));
    let (r, html) = markdown(&env, &["--all-accounts"]);
    r.exits(3);
    assert!(html.contains("3 accounts: 1 could not be read"), "{html}");
    let finance = html.split("<h3>").find(|s| s.contains("Example Corp Finance")).unwrap();
    assert!(finance.contains("<strong>Could not be read</strong> (unknown, not fine): no access"), "{finance}");
    assert!(html.contains(&format!("<code>{}</code>", world::STAGING_ACCOUNT)), "{html}");
}

#[test]
fn markdown_is_only_for_status() {
    let env = functional();
    let r = env.run(&["check", "-o", "markdown"]);
    r.exits(2);
    assert!(r.stdout.is_empty() && r.stderr.contains("check does not print Markdown (only status does)"), "{r:?}");
}
