//! The bundled sample month (`sample/`), as the README's first command runs it: a realistic
//! October of a small company. What a newcomer sees must stay what the README and
//! sample/README.md say: the chargeback, the HTML report's path, the spike the anomalies query
//! flags, the two budgets that are over, and a reconciliation with the sample bill.

use std::path::PathBuf;

use crate::util::{Workspace, assert_snapshot};

fn sample(relative: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("sample")
        .join(relative)
        .display()
        .to_string()
}

#[test]
fn the_sample_month_runs_as_the_readme_says() {
    let work = Workspace::new();
    let data = work.data().display().to_string();
    let attribution = [
        "--teams",
        &sample("teams.csv"),
        "--profiles",
        &sample("profiles.csv"),
    ];
    let output = work.run(&[&["run", &sample("logs"), "--data", &data][..], &attribution].concat());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{output:?}");
    let report = format!("HTML report 2026-10: {data}/reports/chargeback-2026-10.html");
    assert!(
        stdout.contains(&report),
        "run says where the report is: {stdout}"
    );
    assert!(
        work.data()
            .join("reports/chargeback-2026-10.html")
            .is_file()
    );
    assert!(stdout.contains("0 rejected"), "{stdout}");
    let chargeback =
        std::fs::read_to_string(work.data().join("reports/chargeback-2026-10.csv")).unwrap();
    assert_snapshot("expected/sample-chargeback-2026-10.csv", &chargeback);

    let anomalies = work.ok(&[
        &[
            "query",
            "anomalies",
            "--data",
            &data,
            "--month",
            "2026-10",
            "--format",
            "csv",
        ][..],
        &attribution,
    ]
    .concat());
    let flagged: Vec<&str> = anomalies.lines().skip(1).collect();
    assert_eq!(flagged.len(), 3, "{anomalies}");
    assert!(
        flagged
            .iter()
            .all(|line| line.starts_with("arn:aws:iam::111122223333:role/ci-deploy,2026-10-2")),
        "only the CI role's spike: {anomalies}"
    );

    let budgets = work.run(
        &[
            &[
                "check",
                "budgets",
                "--data",
                &data,
                "--budgets",
                &sample("budgets.csv"),
                "--month",
                "2026-10",
            ][..],
            &attribution,
        ]
        .concat(),
    );
    let stderr = String::from_utf8_lossy(&budgets.stderr);
    assert_eq!(budgets.status.code(), Some(5), "{stderr}");
    let over: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("over budget:"))
        .collect();
    assert_eq!(over.len(), 2, "{stderr}");
    assert!(
        over[0].contains("team platform") && over[1].contains("ci-deploy"),
        "{stderr}"
    );

    let reconcile = work.ok(&[
        &[
            "report",
            "reconcile",
            "--month",
            "2026-10",
            "--data",
            &data,
            "--cur",
            &sample("cur/2026-10"),
        ][..],
        &attribution,
    ]
    .concat());
    assert!(
        reconcile
            .lines()
            .skip(1)
            .any(|l| l.starts_with("2026-10,compared,")),
        "{reconcile}"
    );
}
