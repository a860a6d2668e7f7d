//! Every generated operation: its request builds from the spec's examples, its answer (the
//! spec's example, else a schema-valid instance) decodes into its type, and every schema
//! example of the spec decodes. The built requests are one reviewed snapshot table per tag.
#![cfg(all(feature = "full", feature = "sim"))]

use std::collections::BTreeMap;

use wxcc_api::api::samples;

#[test]
fn every_operation_builds_its_request_and_decodes_its_answer() {
    let all = samples::operations();
    assert_eq!(all.len(), 422, "every operation of the spec is typed");
    let mut problems = Vec::new();
    for sample in &all {
        let key = sample.info.key();
        match (sample.request)() {
            Ok(parts) => assert!(!parts.path().contains('{'), "{key}: {}", parts.path()),
            Err(e) => problems.push(format!("{key}: request: {e}")),
        }
        if !sample.response.is_empty()
            && let Err(e) = (sample.decode)(sample.response.as_bytes())
        {
            problems.push(format!("{key}: answer: {e}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {} operations fail:\n{}",
        problems.len(),
        all.len(),
        problems.join("\n")
    );
}

#[test]
fn every_schema_example_of_the_spec_decodes() {
    let all = samples::type_examples();
    assert!(!all.is_empty(), "the spec has schema-level examples");
    let problems: Vec<String> = all
        .iter()
        .filter_map(|e| (e.decode)(e.json.as_bytes()).err().map(|err| format!("{}: {err}", e.name)))
        .collect();
    assert!(
        problems.is_empty(),
        "{} of {} examples fail:\n{}",
        problems.len(),
        all.len(),
        problems.join("\n")
    );
}

/// One line per operation: method, path and query, headers, body.
fn line(sample: &wxcc_api::api::Sample) -> String {
    let parts = match (sample.request)() {
        Ok(parts) => parts,
        Err(e) => return format!("{} -> error: {e}", sample.info.key()),
    };
    let mut text = format!("{} {}", sample.info.method.as_str(), parts.path_and_query());
    for (name, value) in &parts.headers {
        text.push_str(&format!("\n    {name}: {value}"));
    }
    match &parts.body {
        None => {}
        Some((content_type, bytes)) if content_type.starts_with("multipart/form-data") => {
            // The boundary is random: show the parts' headers only.
            let body = String::from_utf8_lossy(bytes);
            text.push_str("\n    multipart/form-data");
            for disposition in body.lines().filter(|l| l.starts_with("Content-Disposition")) {
                text.push_str(&format!("\n      {disposition}"));
            }
        }
        Some((content_type, bytes)) => {
            text.push_str(&format!("\n    {content_type} {}", String::from_utf8_lossy(bytes)));
        }
    }
    text
}

#[test]
fn built_requests_per_tag() {
    let mut tables: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for sample in samples::operations() {
        tables.entry(sample.info.tag).or_default().push(line(&sample));
    }
    assert_eq!(tables.len(), 52, "every tag");
    for (tag, lines) in tables {
        let name: String = tag
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
            .collect();
        insta::assert_snapshot!(format!("requests__{name}"), lines.join("\n"));
    }
}
