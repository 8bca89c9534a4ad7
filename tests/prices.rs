//! `prices import` and `prices check`: the price book kept current, and usage it leaves unpriced
//! found before finance sees a report.

use crate::util::{Workspace, fixtures};

/// Runs `prices import` on the fixture offers, against `current` (or the shipped book).
fn import(work: &Workspace, current: Option<&str>, out: &str) -> std::process::Output {
    let [bedrock, foundation] = ["AmazonBedrock.json", "AmazonBedrockFoundationModels.json"]
        .map(|name| fixtures().join("offers").join(name).display().to_string());
    let mut args = vec![
        "prices",
        "import",
        "--offer",
        &bedrock,
        "--offer",
        &foundation,
        "--out",
        out,
    ];
    if let Some(current) = current {
        args.extend(["--prices", current]);
    }
    work.run(&args)
}

#[test]
fn importing_the_offers_reproduces_the_shipped_rows_they_cover() {
    let work = Workspace::new();
    let out = work.path("prices.csv").display().to_string();
    let output = import(&work, None, &out);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    // Every covered row equals the shipped one, so the written book is the shipped book.
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("pipeline/pricing/prices.csv")
        )
        .unwrap()
    );
    assert!(
        stderr.contains("0 added, 0 changed, 10 unchanged, 4 not in the offers"),
        "{stderr}"
    );
    // What cannot be imported is listed, never dropped silently.
    for line in [
        "not imported: AmazonBedrock \"Nova 2.0 Lite\" USE1-Nova2.0Lite-output-tokens-cross-region-global-batch: batch inference",
        "not imported: AmazonBedrock \"Nova Lite\" USE1-NovaLite-ProvisionedThroughput-1month: provisioned",
        "not imported: AmazonBedrockFoundationModels \"Claude Mythos 5\" USE1-MP:USE1_InputTokenCount-Units: no model id for this name in the model map",
        "not imported: AmazonBedrockFoundationModels \"Claude Opus 4.7\" USE1-MP:USE1_InputTokenCount_Global_Batch-Units: batch inference",
        "gone     anthropic.claude-haiku-4-5-20251001-v1:0 * us-gov-west-1 standard: not in the offers",
    ] {
        assert!(stderr.contains(line), "missing {line:?} in\n{stderr}");
    }
}

#[test]
fn importing_shows_a_price_change_against_the_current_book() {
    let work = Workspace::new();
    let current = work.path("current.csv");
    std::fs::write(
        &current,
        "model,scope,region,effective_from,input,output,cache_read,cache_write_5m,cache_write_1h,long_context_threshold,lc_input,lc_output,lc_cache_read,lc_cache_write_5m,lc_cache_write_1h,source\n\
         meta.llama3-3-70b-instruct-v1:0,*,*,2024-06-01,0.99,0.99,,,,,,,,,,old list\n",
    )
    .unwrap();
    let out = work.path("new.csv").display().to_string();
    let output = import(&work, Some(&current.display().to_string()), &out);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "changed  meta.llama3-3-70b-instruct-v1:0 * * standard from 2024-12-19: in 0.72 / out 0.72 / read - / write - / 1h -  (was in 0.99 / out 0.99 / read - / write - / 1h - from 2024-06-01)"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("9 added, 1 changed, 0 unchanged"),
        "{stderr}"
    );
    let written = std::fs::read_to_string(&out).unwrap();
    // The old rate stays for the requests of its dates.
    assert!(written.contains("meta.llama3-3-70b-instruct-v1:0,*,*,standard,2024-06-01,0.99,0.99"));
    assert!(written.contains("meta.llama3-3-70b-instruct-v1:0,*,*,standard,2024-12-19,0.72,0.72"));
}

#[test]
fn logs_of_2026_models_are_priced_and_an_unknown_model_is_named() {
    let work = Workspace::new();
    work.ingest(&[&fixtures().join("prices/2026-models.jsonl")]);
    let data = work.data().display().to_string();
    // Hand-computed from the book's rates (see fixtures/README.md).
    assert_eq!(
        work.sql_csv("SELECT count(*) AS priced, sum(cost_usd) AS cost FROM invocations WHERE price_status = 'priced'"),
        "priced,cost\n12,0.237565000000\n"
    );
    let output = work.run(&["prices", "check", "--data", &data, "--format", "csv"]);
    assert_eq!(output.status.code(), Some(5));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "month,model,scope,region,tier,requests,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,why\n\
         2026-09,anthropic.claude-mythos-5,geo,us-east-1,standard,1,800,200,0,0,the price book has no row for this model\n"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("1 of 13 request(s) with usage are not priced by built-in"),
        "{stderr}"
    );
    // The latency-optimized request is priced at its tier's rate: 1000 × 1.00 + 1000 × 4.00.
    assert_eq!(
        work.sql_csv("SELECT service_tier, cost_usd, price_ref FROM invocations WHERE model = 'amazon.nova-pro-v1:0'"),
        "service_tier,cost_usd,price_ref\noptimized,0.005000000000,amazon.nova-pro-v1:0|*|*|2024-12-03|optimized\n"
    );
    // A month without the unknown model is fully priced: exit 0.
    let output = work.run(&["prices", "check", "--data", &data, "--month", "2026-08"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("every one of 6 request(s) with usage is priced")
    );
}
